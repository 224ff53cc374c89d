/* Turning a Lua table of librdkafka properties into an rd_kafka_conf_t. */
#include <stdio.h>
#include <string.h>
#include "private.h"

const char *const rdk_callback_names[RDK_CB_COUNT] = {
    "on_delivery", "on_error", "on_log",    "on_stats",
    "on_assign",   "on_revoke", "on_lost", "on_commit", "on_throttle"};

/* Values of these keys never appear in an error message. */
static int is_secret(const char *key) {
    return strstr(key, "password") || strstr(key, "secret") || strstr(key, ".pem") ||
           strstr(key, "sasl.oauthbearer.config") || strstr(key, "ssl.key");
}

static int callback_index(const char *key) {
    int i;
    for (i = 0; i < RDK_CB_COUNT; i++)
        if (strcmp(key, rdk_callback_names[i]) == 0)
            return i;
    return -1;
}

/* The value at idx as librdkafka wants a property: a string (NULL for a
 * value that is not a string, number or boolean). Also for admin configs. */
const char *rdk_config_string(lua_State *L, int idx, char *buf, size_t size) {
    switch (lua_type(L, idx)) {
    case LUA_TSTRING:
        return lua_tostring(L, idx);
    case LUA_TBOOLEAN:
        return lua_toboolean(L, idx) ? "true" : "false";
    case LUA_TNUMBER:
        if (rdk_isinteger(L, idx))
            snprintf(buf, size, "%lld", (long long)lua_tointeger(L, idx));
        else
            snprintf(buf, size, "%.14g", (double)lua_tonumber(L, idx));
        return buf;
    default:
        return NULL;
    }
}

static const char *value_string(lua_State *L, const char *key, char *buf, size_t size) {
    const char *value = rdk_config_string(L, -1, buf, size);
    if (value == NULL)
        luaL_error(L, "config key '%s': string, number or boolean expected, got %s", key,
                   luaL_typename(L, -1));
    return value;
}

static void set_property(lua_State *L, rd_kafka_conf_t *conf, const char *key) {
    char buf[64], errstr[512];
    const char *value = value_string(L, key, buf, sizeof buf);
    if (rd_kafka_conf_set(conf, key, value, errstr, sizeof errstr) == RD_KAFKA_CONF_OK)
        return;
    if (is_secret(key))
        luaL_error(L, "config key '%s': invalid value (not shown: secret)", key);
    luaL_error(L, "config key '%s': %s", key, errstr);
}

/* delivery.report.fields (a producer's, the module's own): which optional
 * fields a successful delivery's message gets: a comma-separated list of
 * key, value, headers, timestamp, or "all", or "none" (or ""). */
static void set_report_fields(lua_State *L, rdk_client *c, const char *key) {
    static const char *const names[] = {"key", "value", "headers", "timestamp"};
    const char *value, *p;
    char buf[64];
    int fields = 0;
    value = value_string(L, key, buf, sizeof buf);
    if (strcmp(value, "all") == 0 || strcmp(value, "none") == 0 || *value == '\0') {
        c->report_fields = strcmp(value, "all") == 0 ? RDK_FIELDS_ALL : 0;
        return;
    }
    for (p = value;; p++) {
        size_t len = strcspn(p, ","), i;
        for (i = 0; i < 4; i++)
            if (strlen(names[i]) == len && strncmp(p, names[i], len) == 0)
                break;
        if (i == 4) {
            lua_pushlstring(L, p, len);
            luaL_error(L, "config key '%s': %s '%s' (a comma-separated list of key, value, headers, "
                          "timestamp; or all, or none, alone)", key,
                       len == 0 ? "empty field in" : "unknown field", len == 0 ? value : lua_tostring(L, -1));
        }
        fields |= 1 << i;
        p += len;
        if (*p == '\0')
            break;
    }
    c->report_fields = fields;
}

/* Reads the table at idx; librdkafka properties go into a new conf, callback
 * functions (the keys in rdk_callback_names whose bit is in allowed_callbacks)
 * into the callback table at env. Raises on anything else, naming the key.
 * While it reads, a guard owns the conf, so an error frees it. */
rd_kafka_conf_t *rdk_conf_from_table(lua_State *L, int idx, rdk_client *c, int env,
                                     int allowed_callbacks) {
    rd_kafka_conf_t *conf;
    void **guard;
    int top = lua_gettop(L);
    idx = idx < 0 ? top + idx + 1 : idx;
    env = env < 0 ? top + env + 1 : env;
    luaL_checktype(L, idx, LUA_TTABLE);
    guard = rdk_guard(L, rdk_destroy_conf);
    *guard = conf = rd_kafka_conf_new();

    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        const char *key;
        int cb;
        if (lua_type(L, -2) != LUA_TSTRING)
            luaL_error(L, "config keys must be strings, got %s", luaL_typename(L, -2));
        key = lua_tostring(L, -2);
        cb = callback_index(key);
        if (cb >= 0 && (allowed_callbacks & (1 << cb))) {
            if (lua_type(L, -1) != LUA_TFUNCTION)
                luaL_error(L, "config key '%s': function expected, got %s", key,
                           luaL_typename(L, -1));
            lua_rawseti(L, env, cb + 1); /* pops the value */
            c->callbacks |= 1 << cb;
            continue;
        }
        if (cb >= 0 || lua_type(L, -1) == LUA_TFUNCTION)
            luaL_error(L, "config key '%s': not a callback a %s takes", key, c->mt);
        if (strcmp(key, "delivery.report.fields") == 0 && strcmp(c->mt, RDK_PRODUCER_MT) == 0)
            set_report_fields(L, c, key);
        else
            set_property(L, conf, key);
        lua_pop(L, 1);
    }
    /* librdkafka 2.0.2 has no throttle event: its callback only takes a
     * note, and on_throttle is served from that (client.c). */
    if (RDK_HAS(c, RDK_ON_THROTTLE))
        rd_kafka_conf_set_throttle_cb(conf, rdk_note_throttle);
    if (RDK_HAS(c, RDK_ON_LOG)) { /* log lines as events, served by the caller */
        char errstr[128];
        rd_kafka_conf_set(conf, "log.queue", "true", errstr, sizeof errstr);
    }
    *guard = NULL; /* the caller owns the conf now */
    lua_settop(L, top);
    return conf;
}

/* The events a client's callbacks need besides its own (log, stats). */
int rdk_callback_events(const rdk_client *c) {
    return (RDK_HAS(c, RDK_ON_LOG) ? RD_KAFKA_EVENT_LOG : 0) |
           (RDK_HAS(c, RDK_ON_STATS) ? RD_KAFKA_EVENT_STATS : 0);
}

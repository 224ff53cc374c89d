/* Turning a Lua table of librdkafka properties into an rd_kafka_conf_t. */
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "private.h"

const char *const rdk_callback_names[RDK_CB_COUNT] = {
    "on_delivery", "on_error", "on_log",    "on_stats",
    "on_assign",   "on_revoke", "on_lost", "on_commit", "on_throttle"};

/* Values of these keys never appear in an error message. */
static int is_secret(const char *key) {
    return strstr(key, "password") || strstr(key, "secret") || strstr(key, ".pem") ||
           strstr(key, "sasl.oauthbearer.config") || strstr(key, "ssl.key");
}

/* Values of these keys are secrets: hidden wherever librdkafka's text
 * reaches Lua (log lines, error messages) and refused inside client.id.
 * librdkafka 2.0.2 logs sasl.oauthbearer.client.secret at debug=conf (it
 * does not mark it sensitive). sasl.oauthbearer.config is read apart
 * (remember_oauthbearer_config): most of it is not secret. */
static int is_redacted(const char *key) {
    return strstr(key, "password") || strstr(key, "secret") || strcmp(key, "ssl.key.pem") == 0;
}

#define REDACTED "[redacted]"
/* At most this many secrets per handle (rdk_push_redacted keeps them in an
 * array on the C stack); of them at most MAX_PIECES pieces of
 * sasl.oauthbearer.config, so whole values (a handful of keys) always fit.
 * More raises an error: a secret that could not be hidden would leak. */
#define MAX_SECRETS 32
#define MAX_PIECES 24
/* Pieces of sasl.oauthbearer.config shorter than this are not hidden (they
 * would hide common words); a whole value of a secret key always is. */
#define MIN_PIECE 4

/* Adds s[0..len) to the handle's secrets: the table at env[RDK_SECRETS]
 * lists them (1..n) and maps each one to the key it came from. */
static void add_secret(lua_State *L, int env, const char *key, const char *s, size_t len, int piece) {
    size_t n;
    if (len == 0)
        return;
    lua_rawgeti(L, env, RDK_SECRETS);
    if (lua_type(L, -1) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_createtable(L, 4, 4);
        lua_pushvalue(L, -1);
        lua_rawseti(L, env, RDK_SECRETS);
        lua_pushinteger(L, 0);
        lua_rawseti(L, -2, 0); /* how many are pieces (a number key: no string collides) */
    }
    lua_pushlstring(L, s, len);
    lua_pushvalue(L, -1);
    lua_rawget(L, -3);
    if (!lua_isnil(L, -1)) { /* known already */
        lua_pop(L, 3);
        return;
    }
    lua_pop(L, 1);
    n = lua_rawlen(L, -2);
    lua_rawgeti(L, -2, 0);
    if (piece && lua_tointeger(L, -1) >= MAX_PIECES)
        luaL_error(L, "config key '%s': more than %d values to keep hidden", key, MAX_PIECES);
    if (n >= MAX_SECRETS)
        luaL_error(L, "config key '%s': more than %d secret values in one config", key, MAX_SECRETS);
    if (piece) {
        lua_pushinteger(L, lua_tointeger(L, -1) + 1);
        lua_rawseti(L, -4, 0);
    }
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_rawseti(L, -3, (int)n + 1);
    lua_pushstring(L, key);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

/* Whether a piece is worth hiding: long enough, and not a number or a JSON
 * word, which would hide unrelated text. */
static int is_hideable_piece(const char *p, size_t len) {
    static const char *const words[] = {"true", "false", "null"};
    size_t i;
    if (len < MIN_PIECE)
        return 0;
    if (strspn(p, "0123456789.+-") >= len)
        return 0;
    for (i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strlen(words[i]) == len && strncasecmp(p, words[i], len) == 0)
            return 0;
    return 1;
}

/* sasl.oauthbearer.config holds space-separated name=value words. The
 * principal, its claim name, the scope, its claim name and the token's
 * lifetime are not secret (they go into the unsecured token as they are);
 * an extension_<name>'s value and anything librdkafka does not recognise
 * are: librdkafka 2.0.2 quotes the rest of the config from an unrecognised
 * word on in its error ("... beginning at: ..."). */
static void remember_oauthbearer_config(lua_State *L, int env, const char *key, const char *value) {
    static const char *const plain[] = {"principalClaimName=", "principal=", "scopeClaimName=", "scope=",
                                        "lifeSeconds="};
    const char *p;
    for (p = value + strspn(value, " "); *p != '\0'; p += strspn(p, " ")) {
        size_t len = strcspn(p, " "), eq = strcspn(p, "="), i;
        for (i = 0; i < sizeof plain / sizeof plain[0]; i++)
            if (strncmp(p, plain[i], strlen(plain[i])) == 0 && strlen(plain[i]) <= len)
                break;
        if (i == sizeof plain / sizeof plain[0]) {
            const char *piece = eq < len ? p + eq + 1 : p; /* a name=value word: its value */
            size_t size = eq < len ? len - eq - 1 : len;
            if (is_hideable_piece(piece, size))
                add_secret(L, env, key, piece, size, 1);
        }
        p += len;
    }
}

/* Remembers the secret in the value on top of the stack (key at -2). */
static void remember_secret(lua_State *L, int env, const char *key) {
    char buf[64];
    const char *value = rdk_config_string(L, -1, buf, sizeof buf);
    if (value == NULL)
        return;
    if (strcmp(key, "sasl.oauthbearer.config") == 0)
        remember_oauthbearer_config(L, env, key, value);
    else if (is_redacted(key))
        add_secret(L, env, key, value, strlen(value), 0);
}

/* librdkafka puts client.id in the stats, in log lines and in the handle's
 * name, which all reach Lua as they are: a client.id the config sets must
 * not contain a secret of the same config. */
static void check_client_id(lua_State *L, int idx, int env) {
    char buf[64];
    const char *client_id;
    size_t i, n;
    lua_rawgeti(L, env, RDK_SECRETS);
    if (lua_type(L, -1) != LUA_TTABLE) {
        lua_pop(L, 1);
        return;
    }
    lua_pushliteral(L, "client.id");
    lua_rawget(L, idx);
    client_id = rdk_config_string(L, -1, buf, sizeof buf);
    n = lua_rawlen(L, -2);
    for (i = 1; client_id != NULL && i <= n; i++) {
        lua_rawgeti(L, -2, (int)i);
        if (strstr(client_id, lua_tostring(L, -1)) != NULL) {
            lua_rawget(L, -3);
            luaL_error(L, "config key 'client.id': must not contain the value of '%s' (librdkafka shows "
                          "client.id in stats, log lines and the handle's name)", lua_tostring(L, -1));
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 2);
}

/* The length of the longest beginning of secret, MIN_PIECE characters or
 * more but not all of it, that s[0..len) ends with: a text cut short at a
 * fixed size (librdkafka's 512-byte buffers) may end inside a secret. */
static size_t cut_secret_at_end(const char *s, size_t len, const char *secret, size_t size) {
    size_t piece = size - 1 < len ? size - 1 : len;
    for (; piece >= MIN_PIECE; piece--)
        if (memcmp(s + len - piece, secret, piece) == 0)
            return piece;
    return 0;
}

void rdk_push_redacted(lua_State *L, int env, const char *s) {
    const char *secret[MAX_SECRETS];
    size_t size[MAX_SECRETS], n = 0, len, i, k;
    unsigned char *hidden;
    luaL_Buffer b;
    if (s == NULL) {
        lua_pushnil(L);
        return;
    }
    if (lua_type(L, env) != LUA_TTABLE) { /* no callback table: nothing known to hide */
        lua_pushstring(L, s);
        return;
    }
    len = strlen(s);
    lua_rawgeti(L, env, RDK_SECRETS);
    if (lua_type(L, -1) == LUA_TTABLE) {
        size_t count = lua_rawlen(L, -1);
        for (i = 1; i <= count && n < MAX_SECRETS; i++) {
            lua_rawgeti(L, -1, (int)i);
            secret[n] = lua_tolstring(L, -1, &size[n]); /* the list keeps it alive */
            lua_pop(L, 1);
            if (secret[n] != NULL && size[n] > 0 &&
                (strstr(s, secret[n]) != NULL || cut_secret_at_end(s, len, secret[n], size[n]) > 0))
                n++;
        }
    }
    if (n == 0) { /* the common case: nothing to hide */
        lua_pop(L, 1);
        lua_pushstring(L, s);
        return;
    }
    /* Marks every byte inside some secret first: secrets may overlap, and
     * one that begins inside another must not leak its end. */
    hidden = (unsigned char *)lua_newuserdata(L, len);
    memset(hidden, 0, len);
    for (k = 0; k < n; k++) {
        const char *at;
        size_t cut = cut_secret_at_end(s, len, secret[k], size[k]);
        for (at = strstr(s, secret[k]); at != NULL; at = strstr(at + 1, secret[k]))
            memset(hidden + (at - s), 1, size[k]);
        memset(hidden + len - cut, 1, cut);
    }
    luaL_buffinit(L, &b);
    for (i = 0; i < len;) {
        size_t run = i;
        if (hidden[i]) {
            while (i < len && hidden[i])
                i++;
            luaL_addstring(&b, REDACTED);
        } else {
            while (i < len && !hidden[i])
                i++;
            luaL_addlstring(&b, s + run, i - run);
        }
    }
    luaL_pushresult(&b);
    lua_replace(L, -3); /* over the list */
    lua_pop(L, 1);      /* the marks */
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
    /* librdkafka reads C strings: a NUL byte would cut the value short, silently. */
    if (lua_type(L, -1) == LUA_TSTRING && strlen(value) != lua_rawlen(L, -1))
        luaL_error(L, "config key '%s': the value contains a NUL byte", key);
    /* These go to the broker as protocol strings, with a 16-bit length:
     * librdkafka 2.0.2 sends a longer one cut short, and the broker reads
     * the rest as the request (the mock cluster aborts the process). */
    if (lua_type(L, -1) == LUA_TSTRING && lua_rawlen(L, -1) > INT16_MAX &&
        (strcmp(key, "client.id") == 0 || strcmp(key, "group.id") == 0 ||
         strcmp(key, "group.instance.id") == 0 || strcmp(key, "transactional.id") == 0 ||
         strcmp(key, "client.rack") == 0))
        luaL_error(L, "config key '%s': the value is longer than %d bytes", key, INT16_MAX);
    /* "nan" would pass librdkafka's range checks. */
    if (lua_type(L, -1) == LUA_TNUMBER && !isfinite((double)lua_tonumber(L, -1)))
        luaL_error(L, "config key '%s': number must be finite", key);
    return value;
}

/* What is wrong with the extension_KEY=VALUE pairs of a
 * sasl.oauthbearer.config value (space-separated pairs), or NULL: the rules
 * of RFC 7628 that librdkafka checks only when it makes its token, on its
 * own thread, where 2.0.2 crashes on a bad one. KEY: letters, not "auth";
 * VALUE: visible ASCII, tab, CR, LF. Says nothing of the (secret) value. */
static const char *bad_oauthbearer_extension(const char *config) {
    static const char prefix[] = "extension_";
    const char *p = config;
    while (*p) {
        size_t len = strcspn(p, " ");
        if (len > sizeof prefix - 1 && strncmp(p, prefix, sizeof prefix - 1) == 0) {
            const char *key = p + sizeof prefix - 1, *end = p + len, *eq = key, *c;
            while (eq < end && *eq != '=')
                eq++;
            if (eq == key || eq == end)
                return "an extension_ pair must be extension_KEY=VALUE";
            if (eq - key == 4 && strncmp(key, "auth", 4) == 0)
                return "the extension key 'auth' is reserved";
            for (c = key; c < eq; c++)
                if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z')))
                    return "an extension key must consist of letters A-Z and a-z only";
            for (c = eq + 1; c < end; c++)
                if (!((*c >= 0x21 && *c <= 0x7e) || *c == '\t' || *c == '\r' || *c == '\n'))
                    return "an extension value must consist of visible ASCII characters, tab, CR and LF only";
        }
        p += len;
        while (*p == ' ')
            p++;
    }
    return NULL;
}

/* A fraction given to an integer property: librdkafka keeps the integer
 * part, silently. Read back, the value differs. */
static void check_fraction(lua_State *L, rd_kafka_conf_t *conf, const char *key) {
    char back[64];
    size_t size = sizeof back;
    double given, got;
    if (lua_type(L, -1) != LUA_TNUMBER || rdk_isinteger(L, -1) || is_secret(key))
        return;
    given = (double)lua_tonumber(L, -1);
    if (rd_kafka_conf_get(conf, key, back, &size) != RD_KAFKA_CONF_OK)
        return;
    got = strtod(back, NULL);
    if (fabs(got - given) > 1e-5 * fabs(given))
        luaL_error(L, "config key '%s': an integer is expected, got %f", key, given);
}

static void set_property(lua_State *L, rd_kafka_conf_t *conf, const char *key) {
    char buf[64], errstr[512];
    const char *value = value_string(L, key, buf, sizeof buf), *problem;
    if (strcmp(key, "sasl.oauthbearer.config") == 0 && (problem = bad_oauthbearer_extension(value)) != NULL)
        luaL_error(L, "config key '%s': %s", key, problem);
    if (rd_kafka_conf_set(conf, key, value, errstr, sizeof errstr) == RD_KAFKA_CONF_OK) {
        check_fraction(L, conf, key);
        return;
    }
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
        if (strlen(key) != lua_rawlen(L, -2))
            luaL_error(L, "config key '%s...': a key must not contain a NUL byte", key);
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
        remember_secret(L, env, key);
        lua_pop(L, 1);
    }
    check_client_id(L, idx, env);
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

/* rdkafka.Admin: topic and broker configs. librdkafka 2.0.2 has only the
 * AlterConfigs request, which replaces a resource's whole set of dynamic
 * configs: the Lua layer (admin.lua) reads, merges and writes with it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "private.h"

/***
 * @submodule rdkafka.Admin
 */

static void destroy_resource(void *p) { rd_kafka_ConfigResource_destroy((rd_kafka_ConfigResource_t *)p); }

static const char *const type_names[] = {"topic", "broker", NULL};
static const rd_kafka_ResourceType_t type_values[] = {RD_KAFKA_RESOURCE_TOPIC, RD_KAFKA_RESOURCE_BROKER};

static const char *type_name(rd_kafka_ResourceType_t t) {
    return t == RD_KAFKA_RESOURCE_TOPIC ? "topic" : t == RD_KAFKA_RESOURCE_BROKER ? "broker" : "unknown";
}

/* The entry on top as a new resource: {type="topic"|"broker", name=}; a
 * broker's name is its id, a number or a string of digits (librdkafka 2.0.2
 * cannot address the cluster-wide default, "", whose AlterConfigs it
 * refuses). */
static rd_kafka_ConfigResource_t *check_resource(lua_State *L, int idx, size_t i) {
    rd_kafka_ConfigResource_t *res;
    const char *type, *name = NULL;
    char buf[32];
    size_t len = 0;
    int k, broker;
    type = rdk_admin_string_field(L, idx, i, "type", 0);
    for (k = 0; type_names[k] != NULL && strcmp(type, type_names[k]) != 0; k++)
        ;
    if (type_names[k] == NULL)
        luaL_argerror(L, idx, lua_pushfstring(L, "entry #%d: field 'type' must be \"topic\" or \"broker\"", (int)i));
    broker = type_values[k] == RD_KAFKA_RESOURCE_BROKER;
    lua_pushliteral(L, "name");
    lua_rawget(L, -2);
    if (broker) {
        if (rdk_isinteger(L, -1) && lua_tointeger(L, -1) >= 0 && lua_tointeger(L, -1) <= INT32_MAX) {
            snprintf(buf, sizeof buf, "%lld", (long long)lua_tointeger(L, -1));
            name = buf;
        } else if (lua_type(L, -1) == LUA_TSTRING) {
            const char *s = lua_tolstring(L, -1, &len);
            if (len > 0 && len <= 10 && strspn(s, "0123456789") == len && strtoll(s, NULL, 10) <= INT32_MAX)
                name = s;
        }
        if (name == NULL)
            luaL_argerror(L, idx, lua_pushfstring(L, "entry #%d: field 'name' must be a broker id "
                                                     "(an integer from 0 to 2147483647)", (int)i));
    } else {
        lua_pop(L, 1);
        name = rdk_admin_string_field(L, idx, i, "name", 0);
        lua_pushnil(L);
    }
    res = rd_kafka_ConfigResource_new(type_values[k], name);
    lua_pop(L, 1);
    if (res == NULL)
        luaL_error(L, "not enough memory");
    return res;
}

static void send_describe(rdk_admin_req *r) {
    rd_kafka_DescribeConfigs(r->client->rk, (rd_kafka_ConfigResource_t **)r->items, r->count, r->options,
                             r->queue);
}

static void push_resource_head(lua_State *L, const rd_kafka_ConfigResource_t *res) {
    lua_pushstring(L, type_name(rd_kafka_ConfigResource_type(res)));
    lua_setfield(L, -2, "type");
    lua_pushstring(L, rd_kafka_ConfigResource_name(res));
    lua_setfield(L, -2, "name");
    rdk_admin_push_error(L, rd_kafka_ConfigResource_error(res), rd_kafka_ConfigResource_error_string(res));
    lua_setfield(L, -2, "error");
}

/***
 * Reads the configs of topics or brokers (one broker per call).
 * @function describe_configs
 * @tparam table resources `{{type="topic"|"broker", name=}, ...}`; a
 *   broker's name is its id (a number or a string of digits); the
 *   cluster-wide default of dynamic broker configs (Kafka's `""`) cannot be
 *   addressed with librdkafka 2.0.2, and `""` is refused
 * @tparam[opt] number|table opts a timeout in seconds, or `{timeout=}`
 * @treturn[1] table `{{type=, name=, error=, configs=}, ...}`, `configs` a
 *   table `{[key]={value=, default=, read_only=, sensitive=, source=}}`; a
 *   sensitive value is nil
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err
 */
static int admin_describe_configs(lua_State *L) {
    size_t n, i, cnt;
    rdk_admin_req *r;
    rd_kafka_event_t *ev;
    const rd_kafka_ConfigResource_t **res;
    lua_settop(L, 3);
    n = rdk_admin_list(L, 2, "{type=, name=} tables");
    r = rdk_admin_request(L, 3, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, 0);
    rdk_admin_items(L, r, n, destroy_resource);
    for (i = 1; i <= n; i++) {
        rdk_admin_entry(L, 2, i, 0);
        r->items[i - 1] = check_resource(L, 2, i);
        lua_pop(L, 1);
    }
    if ((ev = rdk_admin_run(L, r, send_describe, "describe_configs")) == NULL)
        return 2;
    res = rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &cnt);
    lua_createtable(L, (int)cnt, 0);
    for (i = 0; i < cnt; i++) {
        const rd_kafka_ConfigEntry_t **entries;
        size_t ecnt, k;
        if (res[i] == NULL) /* a resource the broker left out */
            continue;
        lua_createtable(L, 0, 4);
        push_resource_head(L, res[i]);
        entries = rd_kafka_ConfigResource_configs(res[i], &ecnt);
        lua_createtable(L, 0, (int)ecnt);
        for (k = 0; k < ecnt; k++) {
            const rd_kafka_ConfigEntry_t *e = entries[k];
            lua_createtable(L, 0, 5);
            lua_pushstring(L, rd_kafka_ConfigEntry_value(e)); /* nil when none or sensitive */
            lua_setfield(L, -2, "value");
            lua_pushboolean(L, rd_kafka_ConfigEntry_is_default(e));
            lua_setfield(L, -2, "default");
            lua_pushboolean(L, rd_kafka_ConfigEntry_is_read_only(e));
            lua_setfield(L, -2, "read_only");
            lua_pushboolean(L, rd_kafka_ConfigEntry_is_sensitive(e));
            lua_setfield(L, -2, "sensitive");
            lua_pushstring(L, rd_kafka_ConfigSource_name(rd_kafka_ConfigEntry_source(e)));
            lua_setfield(L, -2, "source");
            lua_setfield(L, -2, rd_kafka_ConfigEntry_name(e));
        }
        lua_setfield(L, -2, "configs");
        lua_rawseti(L, -2, (int)lua_rawlen(L, -2) + 1);
    }
    return 1;
}

static void send_alter(rdk_admin_req *r) {
    rd_kafka_AlterConfigs(r->client->rk, (rd_kafka_ConfigResource_t **)r->items, r->count, r->options,
                          r->queue);
}

/***
 * Kafka's AlterConfigs as it is: each resource's dynamic configs become
 * exactly `configs`, and every other one goes back to its default.
 * `alter_configs` is the safe form.
 * @function replace_configs
 * @tparam table resources `{{type=, name=, configs={[key]=value}}, ...}`
 * @tparam[opt] number|table opts a timeout in seconds, or
 *   `{timeout=, validate_only=}`
 * @treturn[1] table `{{type=, name=, error=}, ...}`
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err
 */
static int admin_replace_configs(lua_State *L) {
    size_t n, i, cnt;
    rdk_admin_req *r;
    rd_kafka_event_t *ev;
    const rd_kafka_ConfigResource_t **res;
    lua_settop(L, 3);
    n = rdk_admin_list(L, 2, "{type=, name=, configs=} tables");
    r = rdk_admin_request(L, 3, RD_KAFKA_ADMIN_OP_ALTERCONFIGS, RDK_ADMIN_VALIDATE_ONLY);
    rdk_admin_items(L, r, n, destroy_resource);
    for (i = 1; i <= n; i++) {
        rd_kafka_ConfigResource_t *resource;
        int cfg;
        char buf[64];
        rdk_admin_entry(L, 2, i, 0);
        resource = r->items[i - 1] = check_resource(L, 2, i);
        lua_pushliteral(L, "configs");
        lua_rawget(L, -2);
        cfg = lua_gettop(L);
        if (lua_type(L, cfg) != LUA_TTABLE)
            luaL_argerror(L, 2, lua_pushfstring(L, "entry #%d: field 'configs' must be a table, got %s", (int)i,
                                                luaL_typename(L, cfg)));
        lua_pushnil(L);
        while (lua_next(L, cfg) != 0) {
            const char *value = rdk_admin_config_value(L, 2, i, buf, sizeof buf);
            rd_kafka_resp_err_t err = rd_kafka_ConfigResource_set_config(resource, lua_tostring(L, -2), value);
            if (err)
                luaL_argerror(L, 2, lua_pushfstring(L, "entry #%d: config '%s': %s", (int)i, lua_tostring(L, -2),
                                                    rd_kafka_err2str(err)));
            lua_pop(L, 1);
        }
        lua_pop(L, 2);
    }
    if ((ev = rdk_admin_run(L, r, send_alter, "alter_configs")) == NULL)
        return 2;
    res = rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &cnt);
    lua_createtable(L, (int)cnt, 0);
    for (i = 0; i < cnt; i++) {
        if (res[i] == NULL) /* a resource the broker left out */
            continue;
        lua_createtable(L, 0, 3);
        push_resource_head(L, res[i]);
        lua_rawseti(L, -2, (int)lua_rawlen(L, -2) + 1);
    }
    return 1;
}

/***
 * Changes the configs it is given and keeps the others (written in Lua, in
 * lua/rdkafka/admin.lua): reads each resource's set (`describe_configs`),
 * merges `configs` into it, drops the names in `reset` (back to their
 * defaults) and writes the result (`replace_configs`). Not atomic: a change
 * another client makes between the read and the write is lost. A sensitive
 * config set on the resource cannot be read back: unless `configs` or `reset`
 * names it, that resource is left alone and gets an `INVALID_CONFIG` error
 * that says so.
 * @function alter_configs
 * @tparam table resources `{{type=, name=, configs={[key]=value}, reset={key, ...}}, ...}`,
 *   `type` and `name` as for `describe_configs`
 * @tparam[opt] number|table opts a timeout in seconds for both requests
 *   together (default: 30 for each), or `{timeout=, validate_only=}`
 * @treturn[1] table `{{type=, name=, error=}, ...}`
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err
 */

const luaL_Reg rdk_admin_config_methods[] = {
    {"describe_configs", admin_describe_configs}, {"replace_configs", admin_replace_configs}, {NULL, NULL}};

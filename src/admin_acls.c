/* rdkafka.Admin: ACLs (create, describe, delete). A binding is a table of
 * lowercase names: {resource_type=, resource_name=, pattern_type=,
 * principal=, host=, operation=, permission_type=}; a filter has the same
 * fields, each of which may be left out to match anything. */
#include <stdio.h>
#include <string.h>
#include "private.h"

/***
 * @submodule rdkafka.Admin
 */

/* A name and its librdkafka value. In each table, the names a binding may
 * have come first; the last ones ("any", "match") only a filter has. */
typedef struct {
    const char *name;
    int value;
} acl_name;

/* "cluster" is Kafka's resource type 4, which librdkafka 2.0.2 calls BROKER
 * (the same number serves its configs API). */
static const acl_name resource_types[] = {
    {"topic", RD_KAFKA_RESOURCE_TOPIC}, {"group", RD_KAFKA_RESOURCE_GROUP},
    {"cluster", RD_KAFKA_RESOURCE_BROKER}, {"any", RD_KAFKA_RESOURCE_ANY}, {NULL, 0}};
static const acl_name pattern_types[] = {
    {"literal", RD_KAFKA_RESOURCE_PATTERN_LITERAL}, {"prefixed", RD_KAFKA_RESOURCE_PATTERN_PREFIXED},
    {"match", RD_KAFKA_RESOURCE_PATTERN_MATCH}, {"any", RD_KAFKA_RESOURCE_PATTERN_ANY}, {NULL, 0}};
static const acl_name operations[] = {
    {"all", RD_KAFKA_ACL_OPERATION_ALL},
    {"read", RD_KAFKA_ACL_OPERATION_READ},
    {"write", RD_KAFKA_ACL_OPERATION_WRITE},
    {"create", RD_KAFKA_ACL_OPERATION_CREATE},
    {"delete", RD_KAFKA_ACL_OPERATION_DELETE},
    {"alter", RD_KAFKA_ACL_OPERATION_ALTER},
    {"describe", RD_KAFKA_ACL_OPERATION_DESCRIBE},
    {"cluster_action", RD_KAFKA_ACL_OPERATION_CLUSTER_ACTION},
    {"describe_configs", RD_KAFKA_ACL_OPERATION_DESCRIBE_CONFIGS},
    {"alter_configs", RD_KAFKA_ACL_OPERATION_ALTER_CONFIGS},
    {"idempotent_write", RD_KAFKA_ACL_OPERATION_IDEMPOTENT_WRITE},
    {"any", RD_KAFKA_ACL_OPERATION_ANY},
    {NULL, 0}};
static const acl_name permission_types[] = {
    {"allow", RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW}, {"deny", RD_KAFKA_ACL_PERMISSION_TYPE_DENY},
    {"any", RD_KAFKA_ACL_PERMISSION_TYPE_ANY}, {NULL, 0}};

static const char *const fields[] = {"resource_type", "resource_name", "pattern_type", "principal",
                                     "host", "operation", "permission_type", NULL};

/* How many names of each table a binding may have, and a filter. */
enum { BINDING_RESOURCE_TYPES = 3, BINDING_PATTERN_TYPES = 2, BINDING_OPERATIONS = 11,
       BINDING_PERMISSION_TYPES = 2, FILTER_RESOURCE_TYPES = 4, FILTER_PATTERN_TYPES = 4,
       FILTER_OPERATIONS = 12, FILTER_PERMISSION_TYPES = 3 };

static const char *name_of(const acl_name *names, int value) {
    for (; names->name != NULL; names++)
        if (names->value == value)
            return names->name;
    return "unknown";
}

/* Raises for argument idx: "entry #i: " (when i > 0), then the message. */
static int entry_error(lua_State *L, int idx, size_t i, const char *msg) {
    if (i > 0)
        msg = lua_pushfstring(L, "entry #%d: %s", (int)i, msg);
    return luaL_argerror(L, idx, msg);
}

/* Field `field` of the table on top, one of the first `count` names (dflt
 * when nil and dflt >= 0, else it is required). */
static int enum_field(lua_State *L, int idx, size_t i, const char *field, const acl_name *names, int count,
                      int dflt) {
    char list[320];
    size_t len = 0;
    const char *s;
    int k;
    lua_pushstring(L, field);
    lua_rawget(L, -2); /* raw: no metamethod runs */
    if (lua_isnil(L, -1) && dflt >= 0) {
        lua_pop(L, 1);
        return dflt;
    }
    s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    for (k = 0; s != NULL && k < count; k++)
        if (strcmp(s, names[k].name) == 0) {
            lua_pop(L, 1);
            return names[k].value;
        }
    if (s != NULL && strcmp(field, "resource_type") == 0 && strcmp(s, "transactional_id") == 0)
        entry_error(L, idx, i, "resource type \"transactional_id\" is not in the ACL API of librdkafka 2.0.2 "
                               "(it has topic, group and cluster)");
    list[0] = '\0';
    for (k = 0; k < count && len < sizeof list; k++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s\"%s\"",
                                k == 0 ? "" : k == count - 1 ? " or " : ", ", names[k].name);
    if (s != NULL)
        return entry_error(L, idx, i, lua_pushfstring(L, "field '%s' must be %s, not \"%s\"", field, list, s));
    return entry_error(L, idx, i, lua_pushfstring(L, "field '%s' must be %s, got %s", field, list,
                                                  luaL_typename(L, -1)));
}

/* Field `field` of the table on top as a non-empty string, NULL when nil. */
static const char *string_field(lua_State *L, int idx, size_t i, const char *field) {
    size_t len;
    const char *s;
    lua_pushstring(L, field);
    lua_rawget(L, -2);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return NULL;
    }
    s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
    if (s == NULL || len == 0 || strlen(s) != len)
        entry_error(L, idx, i, lua_pushfstring(L, "field '%s' must be a non-empty string without NUL bytes, got %s",
                                               field, s == NULL ? luaL_typename(L, -1)
                                                                : len ? "NUL bytes" : "an empty one"));
    lua_pop(L, 1); /* the table keeps the string alive */
    return s;
}

static void check_fields(lua_State *L, int idx, size_t i) {
    int t = lua_gettop(L), k;
    lua_pushnil(L);
    while (lua_next(L, t) != 0) {
        const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        for (k = 0; key != NULL && fields[k] != NULL && strcmp(key, fields[k]) != 0; k++)
            ;
        if (key == NULL || fields[k] == NULL)
            entry_error(L, idx, i, lua_pushfstring(L, "unknown field '%s' (expected resource_type, resource_name, "
                                                      "pattern_type, principal, host, operation, permission_type)",
                                                   key ? key : luaL_typename(L, -2)));
        lua_pop(L, 1);
    }
}

/* The binding (filter = 0) or filter (filter = 1) in the table on top. A
 * binding needs resource_type, resource_name (a cluster's is
 * "kafka-cluster", its only name), principal, operation and
 * permission_type; its pattern is "literal" and its host "*" unless given.
 * A filter matches anything in a field left out. */
static rd_kafka_AclBinding_t *check_binding(lua_State *L, int idx, size_t i, int filter) {
    char errstr[256];
    rd_kafka_AclBinding_t *acl;
    int restype, pattern, operation, permission;
    const char *name, *principal, *host;
    check_fields(L, idx, i);
    if (filter) {
        restype = enum_field(L, idx, i, "resource_type", resource_types, FILTER_RESOURCE_TYPES,
                             RD_KAFKA_RESOURCE_ANY);
        pattern = enum_field(L, idx, i, "pattern_type", pattern_types, FILTER_PATTERN_TYPES,
                             RD_KAFKA_RESOURCE_PATTERN_ANY);
        operation = enum_field(L, idx, i, "operation", operations, FILTER_OPERATIONS, RD_KAFKA_ACL_OPERATION_ANY);
        permission = enum_field(L, idx, i, "permission_type", permission_types, FILTER_PERMISSION_TYPES,
                                RD_KAFKA_ACL_PERMISSION_TYPE_ANY);
    } else {
        restype = enum_field(L, idx, i, "resource_type", resource_types, BINDING_RESOURCE_TYPES, -1);
        pattern = enum_field(L, idx, i, "pattern_type", pattern_types, BINDING_PATTERN_TYPES,
                             RD_KAFKA_RESOURCE_PATTERN_LITERAL);
        operation = enum_field(L, idx, i, "operation", operations, BINDING_OPERATIONS, -1);
        permission = enum_field(L, idx, i, "permission_type", permission_types, BINDING_PERMISSION_TYPES, -1);
    }
    name = string_field(L, idx, i, "resource_name");
    principal = string_field(L, idx, i, "principal");
    host = string_field(L, idx, i, "host");
    if (!filter) {
        if (name == NULL && restype == RD_KAFKA_RESOURCE_BROKER)
            name = "kafka-cluster";
        if (name == NULL)
            entry_error(L, idx, i, "field 'resource_name' must be a non-empty string without NUL bytes, got nil");
        if (principal == NULL)
            entry_error(L, idx, i, "field 'principal' must be a non-empty string without NUL bytes "
                                   "(such as \"User:alice\"), got nil");
        if (host == NULL)
            host = "*";
        acl = rd_kafka_AclBinding_new((rd_kafka_ResourceType_t)restype, name,
                                      (rd_kafka_ResourcePatternType_t)pattern, principal, host,
                                      (rd_kafka_AclOperation_t)operation, (rd_kafka_AclPermissionType_t)permission,
                                      errstr, sizeof errstr);
    } else {
        acl = rd_kafka_AclBindingFilter_new((rd_kafka_ResourceType_t)restype, name,
                                            (rd_kafka_ResourcePatternType_t)pattern, principal, host,
                                            (rd_kafka_AclOperation_t)operation,
                                            (rd_kafka_AclPermissionType_t)permission, errstr, sizeof errstr);
    }
    if (acl == NULL) /* every field was checked: only memory is left */
        luaL_error(L, "%s", errstr);
    return acl;
}

static void destroy_binding(void *p) { rd_kafka_AclBinding_destroy((rd_kafka_AclBinding_t *)p); }

/* Pushes nil or an error object for an error librdkafka keeps (not
 * destroyed), its text redacted with the secrets of the handle at 1. */
static void push_error_ref(lua_State *L, const rd_kafka_error_t *e) {
    if (e == NULL || rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR_NO_ERROR)
        lua_pushnil(L);
    else
        rdk_push_client_error(L, 1, rd_kafka_error_code(e), rd_kafka_error_string(e), rd_kafka_error_is_fatal(e));
}

static void set_string(lua_State *L, const char *key, const char *value) {
    lua_pushstring(L, value);
    lua_setfield(L, -2, key);
}

static void push_binding(lua_State *L, const rd_kafka_AclBinding_t *acl) {
    lua_createtable(L, 0, 8);
    set_string(L, "resource_type", name_of(resource_types, rd_kafka_AclBinding_restype(acl)));
    set_string(L, "resource_name", rd_kafka_AclBinding_name(acl));
    set_string(L, "pattern_type", name_of(pattern_types, rd_kafka_AclBinding_resource_pattern_type(acl)));
    set_string(L, "principal", rd_kafka_AclBinding_principal(acl));
    set_string(L, "host", rd_kafka_AclBinding_host(acl));
    set_string(L, "operation", name_of(operations, rd_kafka_AclBinding_operation(acl)));
    set_string(L, "permission_type", name_of(permission_types, rd_kafka_AclBinding_permission_type(acl)));
    push_error_ref(L, rd_kafka_AclBinding_error(acl));
    lua_setfield(L, -2, "error");
}

static void push_bindings(lua_State *L, const rd_kafka_AclBinding_t **acls, size_t n) {
    size_t i;
    lua_createtable(L, (int)n, 0);
    for (i = 0; i < n; i++) {
        push_binding(L, acls[i]);
        lua_rawseti(L, -2, (int)i + 1);
    }
}

/* The list at 2 of bindings or filters into r->items. */
static void check_list(lua_State *L, rdk_admin_req *r, int filters) {
    size_t n = rdk_admin_list(L, 2, filters ? "ACL filter tables" : "ACL binding tables"), i;
    rdk_admin_items(L, r, n, destroy_binding);
    for (i = 1; i <= n; i++) {
        rdk_admin_entry(L, 2, i, 0);
        r->items[i - 1] = check_binding(L, 2, i, filters);
        lua_pop(L, 1);
    }
}

static void send_create(rdk_admin_req *r) {
    rd_kafka_CreateAcls(r->client->rk, (rd_kafka_AclBinding_t **)r->items, r->count, r->options, r->queue);
}

/***
 * Creates ACL bindings. A binding is a table
 * `{resource_type=, resource_name=, pattern_type=, principal=, host=, operation=, permission_type=}`:
 * `resource_type` `"topic"`, `"group"` or `"cluster"` (whose only name,
 * `"kafka-cluster"`, is the default there); `pattern_type` `"literal"`
 * (the default) or `"prefixed"`; `principal` such as `"User:alice"`; `host`
 * `"*"` (the default: any host) or an address; `operation` `"all"`,
 * `"read"`, `"write"`, `"create"`, `"delete"`, `"alter"`, `"describe"`,
 * `"cluster_action"`, `"describe_configs"`, `"alter_configs"` or
 * `"idempotent_write"`; `permission_type` `"allow"` or `"deny"`.
 * @function create_acls
 * @tparam table bindings `{binding, ...}`
 * @tparam[opt] number|table opts a timeout in seconds, or `{timeout=}`
 * @treturn[1] table `{{error=}, ...}`, one per binding, in their order
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err
 */
static int admin_create_acls(lua_State *L) {
    rdk_admin_req *r;
    rd_kafka_event_t *ev;
    const rd_kafka_acl_result_t **res;
    size_t n, i;
    lua_settop(L, 3);
    rdk_admin_list(L, 2, "ACL binding tables");
    r = rdk_admin_request(L, 3, RD_KAFKA_ADMIN_OP_CREATEACLS, 0);
    check_list(L, r, 0);
    if ((ev = rdk_admin_run(L, r, send_create, "create_acls")) == NULL)
        return 2;
    res = rd_kafka_CreateAcls_result_acls(rd_kafka_event_CreateAcls_result(ev), &n);
    lua_createtable(L, (int)n, 0);
    for (i = 0; i < n; i++) {
        lua_createtable(L, 0, 1);
        push_error_ref(L, rd_kafka_acl_result_error(res[i]));
        lua_setfield(L, -2, "error");
        lua_rawseti(L, -2, (int)i + 1);
    }
    return 1;
}

static void send_describe(rdk_admin_req *r) {
    rd_kafka_DescribeAcls(r->client->rk, (rd_kafka_AclBindingFilter_t *)r->items[0], r->options, r->queue);
}

/***
 * Lists the ACL bindings a filter matches. A filter has the fields of a
 * binding (see `create_acls`), each of which matches anything when left
 * out; its names may also be `"any"`, and its `pattern_type` `"match"`:
 * every binding that applies to `resource_name` (literal, prefixed or `"*"`).
 * @function describe_acls
 * @tparam[opt] table filter (default: every binding)
 * @tparam[opt] number|table opts a timeout in seconds, or `{timeout=}`
 * @treturn[1] table `{binding, ...}`, in the shape `create_acls` takes
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err (librdkafka 2.0.2 drops the error of the
 *   answer itself: without the right to describe the cluster, or without an
 *   authorizer, the list is empty)
 */
static int admin_describe_acls(lua_State *L) {
    rdk_admin_req *r;
    rd_kafka_event_t *ev;
    const rd_kafka_AclBinding_t **acls;
    size_t n;
    lua_settop(L, 3);
    rdk_check_client(L, 1, RDK_ADMIN_MT); /* a closed handle first */
    if (lua_isnil(L, 2)) {
        lua_newtable(L);
        lua_replace(L, 2);
    } else if (lua_type(L, 2) != LUA_TTABLE) {
        luaL_argerror(L, 2, lua_pushfstring(L, "ACL filter table expected, got %s", luaL_typename(L, 2)));
    }
    r = rdk_admin_request(L, 3, RD_KAFKA_ADMIN_OP_DESCRIBEACLS, 0);
    rdk_admin_items(L, r, 1, destroy_binding);
    lua_pushvalue(L, 2);
    r->items[0] = check_binding(L, 2, 0, 1);
    lua_pop(L, 1);
    if ((ev = rdk_admin_run(L, r, send_describe, "describe_acls")) == NULL)
        return 2;
    acls = rd_kafka_DescribeAcls_result_acls(rd_kafka_event_DescribeAcls_result(ev), &n);
    push_bindings(L, acls, n);
    return 1;
}

static void send_delete(rdk_admin_req *r) {
    rd_kafka_DeleteAcls(r->client->rk, (rd_kafka_AclBindingFilter_t **)r->items, r->count, r->options, r->queue);
}

/***
 * Deletes the ACL bindings each filter matches (filters as for
 * `describe_acls`, but `resource_type` is required: `"any"` says so when a
 * filter is to match every type).
 * @function delete_acls
 * @tparam table filters `{filter, ...}`
 * @tparam[opt] number|table opts a timeout in seconds, or `{timeout=}`
 * @treturn[1] table `{{error=, matching={binding, ...}}, ...}`, one per
 *   filter, `matching` the bindings it deleted (each with its own `error`
 *   when that one could not be deleted)
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err
 */
static int admin_delete_acls(lua_State *L) {
    rdk_admin_req *r;
    rd_kafka_event_t *ev;
    const rd_kafka_DeleteAcls_result_response_t **res;
    size_t n, i;
    lua_settop(L, 3);
    n = rdk_admin_list(L, 2, "ACL filter tables");
    for (i = 1; i <= n; i++) { /* a filter that matches everything must say so */
        lua_rawgeti(L, 2, (int)i);
        if (lua_type(L, -1) == LUA_TTABLE) {
            lua_pushliteral(L, "resource_type");
            lua_rawget(L, -2);
            if (lua_isnil(L, -1))
                entry_error(L, 2, i, "field 'resource_type' is required to delete (\"any\" for every type)");
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    r = rdk_admin_request(L, 3, RD_KAFKA_ADMIN_OP_DELETEACLS, 0);
    check_list(L, r, 1);
    if ((ev = rdk_admin_run(L, r, send_delete, "delete_acls")) == NULL)
        return 2;
    res = rd_kafka_DeleteAcls_result_responses(rd_kafka_event_DeleteAcls_result(ev), &n);
    lua_createtable(L, (int)n, 0);
    for (i = 0; i < n; i++) {
        const rd_kafka_AclBinding_t **acls;
        size_t m;
        lua_createtable(L, 0, 2);
        push_error_ref(L, rd_kafka_DeleteAcls_result_response_error(res[i]));
        lua_setfield(L, -2, "error");
        acls = rd_kafka_DeleteAcls_result_response_matching_acls(res[i], &m);
        push_bindings(L, acls, m);
        lua_setfield(L, -2, "matching");
        lua_rawseti(L, -2, (int)i + 1);
    }
    return 1;
}

const luaL_Reg rdk_admin_acl_methods[] = {{"create_acls", admin_create_acls},
                                          {"describe_acls", admin_describe_acls},
                                          {"delete_acls", admin_delete_acls},
                                          {NULL, NULL}};

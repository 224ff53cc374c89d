/* metadata([topic] [, timeout]) for producers, consumers and admin handles:
 * brokers, the controller, topics with their partitions, leaders, replicas
 * and in-sync replicas, as plain tables. */
#include <string.h>
#include "private.h"

#define METADATA_TIMEOUT_MS 10000

/***
 * @submodule rdkafka.Admin
 */

static void push_ids(lua_State *L, const int32_t *ids, int n) {
    int i;
    lua_createtable(L, n, 0);
    for (i = 0; i < n; i++) {
        lua_pushinteger(L, ids[i]);
        lua_rawseti(L, -2, i + 1);
    }
}

static void push_topic(lua_State *L, const rd_kafka_metadata_topic_t *t) {
    int i;
    lua_createtable(L, 0, 3);
    lua_pushstring(L, t->topic);
    lua_setfield(L, -2, "name");
    rdk_admin_push_error(L, t->err, NULL);
    lua_setfield(L, -2, "error");
    lua_createtable(L, t->partition_cnt, 0);
    for (i = 0; i < t->partition_cnt; i++) {
        const rd_kafka_metadata_partition_t *p = &t->partitions[i];
        lua_createtable(L, 0, 5);
        lua_pushinteger(L, p->id);
        lua_setfield(L, -2, "id");
        lua_pushinteger(L, p->leader);
        lua_setfield(L, -2, "leader");
        push_ids(L, p->replicas, p->replica_cnt);
        lua_setfield(L, -2, "replicas");
        push_ids(L, p->isrs, p->isr_cnt);
        lua_setfield(L, -2, "isrs");
        rdk_admin_push_error(L, p->err, NULL);
        lua_setfield(L, -2, "error");
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "partitions");
}

static void destroy_metadata(void *md) { rd_kafka_metadata_destroy((const rd_kafka_metadata_t *)md); }

/***
 * Cluster metadata: the brokers, the controller, and the topics with their
 * partitions, leaders, replicas and in-sync replicas. Callbacks are not
 * served while it waits. Also a method of `rdkafka.Producer` and
 * `rdkafka.Consumer`.
 * @function metadata
 * @tparam[opt] string topic only this topic (default: every topic)
 * @tparam[opt=10] number timeout seconds (also alone: `h:metadata(5)`)
 * @treturn[1] table `{brokers=, controller_id=, topics=}`: `brokers` a list
 *   of `{id=, host=, port=}`, `controller_id` nil when unknown, `topics` a
 *   list of `{name=, error=, partitions=}`, `partitions` a list of
 *   `{id=, leader=, replicas=, isrs=, error=}` (`replicas` and `isrs` lists
 *   of broker ids)
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err
 */
static int metadata(lua_State *L) {
    rdk_client *c = rdk_check_any_client(L, 1);
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_topic_t *rkt = NULL;
    rd_kafka_resp_err_t err;
    void **md_guard;
    int timeout_ms, i, topic_arg = lua_type(L, 2) == LUA_TSTRING;
    long long start;
    if (!topic_arg && !lua_isnoneornil(L, 2) && lua_type(L, 2) != LUA_TNUMBER)
        luaL_argerror(L, 2, lua_pushfstring(L, "topic name or timeout expected, got %s", luaL_typename(L, 2)));
    if (topic_arg && (lua_rawlen(L, 2) == 0 || strlen(lua_tostring(L, 2)) != lua_rawlen(L, 2)))
        luaL_argerror(L, 2, "topic name must be a non-empty string without NUL bytes");
    timeout_ms = rdk_check_timeout_ms(L, topic_arg || lua_isnil(L, 2) ? 3 : 2, METADATA_TIMEOUT_MS);
    lua_settop(L, 3);
    md_guard = rdk_guard(L, destroy_metadata);
    /* The topic handle goes at once: it must not outlive the client. */
    if (topic_arg && (rkt = rd_kafka_topic_new(c->rk, lua_tostring(L, 2), NULL)) == NULL)
        return rdk_return_error(L, rd_kafka_last_error(), "invalid topic");
    start = rdk_now_ms();
    err = rd_kafka_metadata(c->rk, rkt == NULL, rkt, &md, timeout_ms);
    if (rkt != NULL)
        rd_kafka_topic_destroy(rkt);
    if (err)
        return rdk_return_error(L, err, NULL);
    *md_guard = (void *)md;
    lua_createtable(L, 0, 3);
    lua_createtable(L, md->broker_cnt, 0);
    for (i = 0; i < md->broker_cnt; i++) {
        lua_createtable(L, 0, 3);
        lua_pushinteger(L, md->brokers[i].id);
        lua_setfield(L, -2, "id");
        lua_pushstring(L, md->brokers[i].host);
        lua_setfield(L, -2, "host");
        lua_pushinteger(L, md->brokers[i].port);
        lua_setfield(L, -2, "port");
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "brokers");
    lua_createtable(L, md->topic_cnt, 0);
    for (i = 0; i < md->topic_cnt; i++) {
        push_topic(L, &md->topics[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "topics");
    {
        /* From the metadata just fetched; waits only if there is none. */
        long long left = timeout_ms - (rdk_now_ms() - start);
        int32_t id = rd_kafka_controllerid(c->rk, left > 0 ? (int)left : 0);
        if (id >= 0) {
            lua_pushinteger(L, id);
            lua_setfield(L, -2, "controller_id");
        }
    }
    return 1;
}

void rdk_open_metadata(lua_State *L) {
    static const luaL_Reg methods[] = {{"metadata", metadata}, {NULL, NULL}};
    rdk_add_methods(L, RDK_PRODUCER_MT, methods);
    rdk_add_methods(L, RDK_CONSUMER_MT, methods);
    rdk_add_methods(L, RDK_ADMIN_MT, methods);
}

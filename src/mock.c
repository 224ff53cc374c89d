/* rdkafka.MockCluster: librdkafka's in-process mock brokers, listening on
 * 127.0.0.1, for demos and error-injection tests with no real Kafka. */
#include <string.h>
#include "private.h"
#include <librdkafka/rdkafka_mock.h>

/***
 * librdkafka's mock cluster: Kafka brokers inside this process, listening on
 * 127.0.0.1, for demos and tests with no real Kafka. Made by
 * `rdkafka.mock_cluster{brokers = 1}` (1 to 32 brokers, with ids from 1).
 * Misuse (a closed cluster, one used in another process) raises.
 * @classmod rdkafka.MockCluster
 */

typedef struct rdk_mock {
    rd_kafka_t *rk; /* the mock cluster runs on this handle's threads */
    rd_kafka_mock_cluster_t *cluster;
    pid_t pid;
    int brokers;
} rdk_mock;

static rdk_mock *check_mock(lua_State *L, int idx) {
    rdk_mock *m = (rdk_mock *)luaL_checkudata(L, idx, RDK_MOCK_MT);
    if (m->cluster == NULL)
        luaL_error(L, "attempt to use a closed %s", RDK_MOCK_MT);
    if (m->pid != rdk_pid)
        luaL_error(L, "%s was created in process %d and used in process %d: create it per process",
                   RDK_MOCK_MT, (int)m->pid, (int)rdk_pid);
    return m;
}

/* core.mock_cluster(brokers) */
static int mock_new(lua_State *L) {
    char errstr[512];
    lua_Integer brokers = luaL_checkinteger(L, 1);
    rd_kafka_conf_t *conf;
    sigset_t saved;
    rdk_mock *m;
    luaL_argcheck(L, brokers >= 1 && brokers <= 32, 1, "brokers must be between 1 and 32");
    m = (rdk_mock *)lua_newuserdata(L, sizeof *m);
    memset(m, 0, sizeof *m);
    m->pid = rdk_pid;
    m->brokers = (int)brokers;
    luaL_getmetatable(L, RDK_MOCK_MT);
    lua_setmetatable(L, -2);
    conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
    rdk_signals_block(&saved);
    m->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (m->rk == NULL) {
        rdk_signals_restore(&saved);
        rd_kafka_conf_destroy(conf);
        return luaL_error(L, "rdkafka.mock_cluster: %s", errstr);
    }
    m->cluster = rd_kafka_mock_cluster_new(m->rk, (int)brokers);
    rdk_signals_restore(&saved);
    if (m->cluster == NULL) {
        rd_kafka_destroy(m->rk);
        m->rk = NULL;
        return luaL_error(L, "rdkafka.mock_cluster: could not start %d mock brokers", (int)brokers);
    }
    return 1;
}

/***
 * Creates a topic.
 * @function create_topic
 * @tparam string name the topic name
 * @tparam[opt=1] integer partitions 1 to 100000
 * @tparam[opt=1] integer replication 1 to the number of brokers
 * @treturn[1] boolean `true`
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err
 */
static int mock_create_topic(lua_State *L) {
    rdk_mock *m = check_mock(L, 1);
    size_t len;
    const char *name = luaL_checklstring(L, 2, &len);
    lua_Integer partitions = luaL_optinteger(L, 3, 1);
    lua_Integer replication = luaL_optinteger(L, 4, 1);
    rd_kafka_resp_err_t err;
    luaL_argcheck(L, len > 0 && strlen(name) == len, 2, "topic name must be a non-empty string");
    luaL_argcheck(L, partitions >= 1 && partitions <= 100000, 3, "partitions must be between 1 and 100000");
    luaL_argcheck(L, replication >= 1 && replication <= m->brokers, 4,
                  "replication must be between 1 and the number of brokers");
    err = rd_kafka_mock_topic_create(m->cluster, name, (int)partitions, (int)replication);
    if (err)
        return rdk_return_error(L, err, NULL);
    lua_pushboolean(L, 1);
    return 1;
}

static int set_broker(lua_State *L, int up) {
    rdk_mock *m = check_mock(L, 1);
    lua_Integer id = luaL_checkinteger(L, 2);
    rd_kafka_resp_err_t err;
    luaL_argcheck(L, id >= 1 && id <= m->brokers, 2, "no broker with that id");
    err = up ? rd_kafka_mock_broker_set_up(m->cluster, (int32_t)id)
             : rd_kafka_mock_broker_set_down(m->cluster, (int32_t)id);
    if (err)
        return rdk_return_error(L, err, NULL);
    lua_pushboolean(L, 1);
    return 1;
}

/***
 * Takes a broker down: its connections drop and new ones are refused.
 * @function broker_down
 * @tparam integer id 1 to the number of brokers
 * @treturn[1] boolean `true`
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err
 */
static int mock_broker_down(lua_State *L) { return set_broker(L, 0); }

/***
 * Brings a broker back up.
 * @function broker_up
 * @tparam integer id 1 to the number of brokers
 * @treturn[1] boolean `true`
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err
 */
static int mock_broker_up(lua_State *L) { return set_broker(L, 1); }

/***
 * Stops the cluster. Closing a closed cluster does nothing; also runs on
 * `<close>` and on garbage collection.
 * @function close
 */

static int mock_close(lua_State *L) {
    rdk_mock *m = (rdk_mock *)luaL_checkudata(L, 1, RDK_MOCK_MT);
    if (m->cluster != NULL && m->pid == rdk_pid) {
        rd_kafka_mock_cluster_destroy(m->cluster);
        rd_kafka_destroy(m->rk);
    }
    m->cluster = NULL;
    m->rk = NULL;
    return 0;
}

/***
 * The brokers' addresses, `host:port,...`: the clients' `bootstrap.servers`.
 * @tfield string bootstrap_servers
 */

/***
 * The number of brokers.
 * @tfield integer brokers
 */

/* Methods first; `bootstrap_servers` and `brokers` read like fields. */
static int mock_index(lua_State *L) {
    const char *key;
    luaL_checkudata(L, 1, RDK_MOCK_MT);
    key = luaL_checkstring(L, 2);
    lua_getmetatable(L, 1);
    lua_getfield(L, -1, "methods");
    lua_getfield(L, -1, key);
    if (!lua_isnil(L, -1))
        return 1;
    if (strcmp(key, "bootstrap_servers") == 0) {
        rdk_mock *m = check_mock(L, 1);
        lua_pushstring(L, rd_kafka_mock_cluster_bootstraps(m->cluster));
        return 1;
    }
    if (strcmp(key, "brokers") == 0) {
        rdk_mock *m = check_mock(L, 1);
        lua_pushinteger(L, m->brokers);
        return 1;
    }
    lua_pushnil(L);
    return 1;
}

static int mock_tostring(lua_State *L) {
    rdk_mock *m = (rdk_mock *)luaL_checkudata(L, 1, RDK_MOCK_MT);
    if (m->cluster == NULL)
        lua_pushfstring(L, "%s (closed)", RDK_MOCK_MT);
    else
        lua_pushfstring(L, "%s (%s)", RDK_MOCK_MT, rd_kafka_mock_cluster_bootstraps(m->cluster));
    return 1;
}

void rdk_open_mock(lua_State *L) {
    static const luaL_Reg methods[] = {
        {"create_topic", mock_create_topic}, {"broker_down", mock_broker_down},
        {"broker_up", mock_broker_up},       {"close", mock_close},
        {NULL, NULL}};
    static const luaL_Reg metamethods[] = {
        {"__gc", mock_close}, {"__close", mock_close}, {"__index", mock_index},
        {"__tostring", mock_tostring}, {NULL, NULL}};
    luaL_newmetatable(L, RDK_MOCK_MT);
    luaL_setfuncs(L, metamethods, 0);
    lua_pushstring(L, RDK_MOCK_MT);
    lua_setfield(L, -2, "__name");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "methods");
    lua_pop(L, 1);
    lua_pushcfunction(L, mock_new);
    lua_setfield(L, -2, "mock_cluster");
}

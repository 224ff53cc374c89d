/* rdkafka.MockCluster: librdkafka's in-process mock brokers, listening on
 * 127.0.0.1, for demos and error-injection tests with no real Kafka. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

/* The addresses of the mock clusters running in this process, so that an
 * admin handle can tell it talks to one (rdk_mock_bootstrap). */
typedef struct live_mock {
    struct live_mock *next;
    const rdk_mock *m;
    char *bootstraps;
} live_mock;
static live_mock *live;
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;

static void live_add(const rdk_mock *m) {
    live_mock *l = (live_mock *)malloc(sizeof *l);
    if (l == NULL)
        return; /* not known as a mock: its requests go out as to any broker */
    l->bootstraps = strdup(rd_kafka_mock_cluster_bootstraps(m->cluster));
    if (l->bootstraps == NULL) {
        free(l);
        return;
    }
    l->m = m;
    pthread_mutex_lock(&live_lock);
    l->next = live;
    live = l;
    pthread_mutex_unlock(&live_lock);
}

static void live_remove(const rdk_mock *m) {
    live_mock **at, *gone = NULL;
    pthread_mutex_lock(&live_lock);
    for (at = &live; *at != NULL; at = &(*at)->next)
        if ((*at)->m == m) {
            gone = *at;
            *at = gone->next;
            break;
        }
    pthread_mutex_unlock(&live_lock);
    if (gone != NULL) {
        free(gone->bootstraps);
        free(gone);
    }
}

/* The port of a "[scheme://]host:port" entry of len bytes at s (NULL when
 * it has none), with its length in *port_len; whether its host is this
 * machine's loopback in *loopback. */
static const char *entry_port(const char *s, size_t len, size_t *port_len, int *loopback) {
    static const char *const local[] = {"127.0.0.1", "localhost", "::1", "[::1]", "localhost.localdomain"};
    const char *end = s + len, *colon = NULL, *p, *scheme;
    size_t i, host_len;
    for (scheme = s; scheme + 3 <= end; scheme++)
        if (memcmp(scheme, "://", 3) == 0) {
            s = scheme + 3;
            break;
        }
    for (p = s; p < end; p++)
        if (*p == ':')
            colon = p;
    if (colon == NULL || colon + 1 == end)
        return NULL;
    host_len = (size_t)(colon - s);
    *loopback = 0;
    for (i = 0; i < sizeof local / sizeof local[0]; i++)
        if (strlen(local[i]) == host_len && strncasecmp(s, local[i], host_len) == 0)
            *loopback = 1;
    *port_len = (size_t)(end - colon - 1);
    return colon + 1;
}

/* Whether some entry of list is this machine's loopback at the port of the
 * mock broker entry of len bytes at s. */
static int listed(const char *list, const char *s, size_t len) {
    size_t mock_port_len, port_len;
    int loopback;
    const char *mock_port = entry_port(s, len, &mock_port_len, &loopback), *p = list;
    if (mock_port == NULL)
        return 0;
    while (*p) {
        size_t n = strcspn(p, ",");
        const char *port;
        while (n > 0 && *p == ' ') /* librdkafka takes "a, b" */
            p++, n--;
        port = entry_port(p, n, &port_len, &loopback);
        if (port != NULL && loopback && port_len == mock_port_len && memcmp(port, mock_port, port_len) == 0)
            return 1;
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

/* In a child the parent's mock clusters do not run (their threads are not
 * there); the list is forgotten, and its lock made anew. */
void rdk_mock_after_fork(void) {
    pthread_mutex_init(&live_lock, NULL);
    live = NULL;
}

int rdk_mock_bootstrap(const char *servers) {
    live_mock *l;
    int found = 0;
    pthread_mutex_lock(&live_lock);
    for (l = live; l != NULL && !found; l = l->next) {
        const char *p = l->bootstraps;
        while (*p && !found) {
            size_t n = strcspn(p, ",");
            found = listed(servers, p, n);
            p += n;
            if (*p == ',')
                p++;
        }
    }
    pthread_mutex_unlock(&live_lock);
    return found;
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
    live_add(m);
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

/* Kafka's request types by name (the protocol's API keys). */
static const char *const api_names[] = {
    "Produce", "Fetch", "ListOffsets", "Metadata", "LeaderAndIsr", "StopReplica",
    "UpdateMetadata", "ControlledShutdown", "OffsetCommit", "OffsetFetch", "FindCoordinator",
    "JoinGroup", "Heartbeat", "LeaveGroup", "SyncGroup", "DescribeGroups", "ListGroups",
    "SaslHandshake", "ApiVersions", "CreateTopics", "DeleteTopics", "DeleteRecords",
    "InitProducerId", "OffsetForLeaderEpoch", "AddPartitionsToTxn", "AddOffsetsToTxn", "EndTxn",
    "WriteTxnMarkers", "TxnOffsetCommit", "DescribeAcls", "CreateAcls", "DeleteAcls",
    "DescribeConfigs", "AlterConfigs", "AlterReplicaLogDirs", "DescribeLogDirs",
    "SaslAuthenticate", "CreatePartitions", "CreateDelegationToken", "RenewDelegationToken",
    "ExpireDelegationToken", "DescribeDelegationToken", "DeleteGroups", "ElectLeaders",
    "IncrementalAlterConfigs", "AlterPartitionReassignments", "ListPartitionReassignments",
    "OffsetDelete", "DescribeClientQuotas", "AlterClientQuotas", "DescribeUserScramCredentials",
    "AlterUserScramCredentials"};
#define API_COUNT ((int)(sizeof api_names / sizeof api_names[0]))

/* An API key: a name of api_names or its number. */
static int16_t check_api(lua_State *L, int idx) {
    int i;
    if (lua_type(L, idx) == LUA_TSTRING) {
        size_t len;
        const char *name = lua_tolstring(L, idx, &len);
        for (i = 0; i < API_COUNT; i++)
            if (strlen(api_names[i]) == len && strcmp(api_names[i], name) == 0)
                return (int16_t)i;
        luaL_argerror(L, idx, lua_pushfstring(L, "unknown Kafka request type '%s'", name));
    }
    if (lua_type(L, idx) != LUA_TNUMBER)
        luaL_argerror(L, idx, lua_pushfstring(L, "request type name or number expected, got %s",
                                              luaL_typename(L, idx)));
    luaL_argcheck(L, rdk_isinteger(L, idx) && lua_tonumber(L, idx) >= 0 &&
                         lua_tonumber(L, idx) < API_COUNT,
                  idx, lua_pushfstring(L, "request type must be between 0 and %d", API_COUNT - 1));
    return (int16_t)lua_tointeger(L, idx);
}

/* The code librdkafka names `name`, or 0 with *found == 0. */
static int error_code_of(const char *name, size_t len, int *found) {
    const struct rd_kafka_err_desc *descs;
    size_t n, i;
    rd_kafka_get_err_descs(&descs, &n);
    for (i = 0; i < n; i++)
        if (descs[i].name != NULL && strlen(descs[i].name) == len && strcmp(descs[i].name, name) == 0) {
            *found = 1;
            return descs[i].code;
        }
    *found = 0;
    return 0;
}

static int is_known_code(lua_Number code) {
    const struct rd_kafka_err_desc *descs;
    size_t n, i;
    rd_kafka_get_err_descs(&descs, &n);
    for (i = 0; i < n; i++)
        if (descs[i].name != NULL && descs[i].code == code)
            return 1;
    return 0;
}

/* An error a mock broker can answer with: a Kafka error code (by name, as in
 * rdkafka.errors, or number), NO_ERROR with `allow_none`, or _TRANSPORT
 * (the broker drops the connection). librdkafka's other local codes (those
 * below 0) never come from a broker. */
static rd_kafka_resp_err_t check_broker_error(lua_State *L, int idx, int allow_none) {
    lua_Number code;
    if (lua_type(L, idx) == LUA_TSTRING) {
        size_t len;
        const char *name = lua_tolstring(L, idx, &len);
        int found;
        code = error_code_of(name, len, &found);
        if (!found)
            luaL_argerror(L, idx, lua_pushfstring(L, "unknown error name '%s'", name));
    } else if (lua_type(L, idx) == LUA_TNUMBER) {
        code = lua_tonumber(L, idx);
        if (!rdk_isinteger(L, idx) || !is_known_code(code))
            luaL_argerror(L, idx, "unknown error code");
    } else {
        luaL_argerror(L, idx, lua_pushfstring(L, "error name or code expected, got %s",
                                              luaL_typename(L, idx)));
        return RD_KAFKA_RESP_ERR_NO_ERROR;
    }
    if (code == RD_KAFKA_RESP_ERR__TRANSPORT || code > 0 || (code == 0 && allow_none))
        return (rd_kafka_resp_err_t)code;
    luaL_argerror(L, idx, lua_pushfstring(L, "%s is not an error a broker answers with (a Kafka "
                                             "error%s, or _TRANSPORT)",
                                          rd_kafka_err2name((rd_kafka_resp_err_t)code),
                                          allow_none ? ", NO_ERROR" : ""));
    return RD_KAFKA_RESP_ERR_NO_ERROR;
}

static int32_t check_broker_id(lua_State *L, int idx, rdk_mock *m) {
    lua_Integer id = luaL_checkinteger(L, idx);
    luaL_argcheck(L, id >= 1 && id <= m->brokers, idx, "no broker with that id");
    return (int32_t)id;
}

/* A delay in seconds, as whole milliseconds for librdkafka. */
#define MAX_DELAY_S 3600
static int check_delay_ms(lua_State *L, int idx) {
    lua_Number s = luaL_checknumber(L, idx);
    luaL_argcheck(L, s >= 0 && s <= MAX_DELAY_S, idx,
                  "seconds must be a number between 0 and 3600");
    return (int)(s * 1000 + 0.5);
}

static void check_topic(lua_State *L, int idx) {
    size_t len;
    const char *name = luaL_checklstring(L, idx, &len);
    luaL_argcheck(L, len > 0 && strlen(name) == len, idx, "topic name must be a non-empty string");
}

/***
 * Delays every answer of a broker: its round-trip time, 0 for none.
 * @function set_rtt
 * @tparam integer id 1 to the number of brokers
 * @tparam number seconds 0 to 3600
 * @treturn[1] boolean `true`
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err
 */
static int mock_set_rtt(lua_State *L) {
    rdk_mock *m = check_mock(L, 1);
    int32_t id = check_broker_id(L, 2, m);
    int ms = check_delay_ms(L, 3);
    rd_kafka_resp_err_t err = rd_kafka_mock_broker_set_rtt(m->cluster, id, ms);
    if (err)
        return rdk_return_error(L, err, NULL);
    lua_pushboolean(L, 1);
    return 1;
}

/***
 * Makes the next requests of a type fail, whichever broker they go to: the
 * first such request with the first error, the next with the second, and so
 * on. `_TRANSPORT` makes the broker drop the connection instead of answering.
 * @function push_request_errors
 * @tparam string|integer api the request type: `"Produce"`, `"Fetch"`,
 *   `"Metadata"`, `"OffsetCommit"`, `"FindCoordinator"`, `"JoinGroup"`,
 *   `"InitProducerId"`, ... (Kafka's names), or its API key
 * @tparam string|integer ... the errors, by name (`"NOT_LEADER_FOR_PARTITION"`)
 *   or code (`rdkafka.errors.NAME`); at least one
 * @treturn boolean `true`
 */
static int mock_push_request_errors(lua_State *L) {
    rdk_mock *m = check_mock(L, 1);
    int16_t api = check_api(L, 2);
    int n = lua_gettop(L) - 2, i;
    rd_kafka_resp_err_t *errors;
    luaL_argcheck(L, n >= 1, 3, "at least one error expected");
    luaL_argcheck(L, n <= 10000, 3, "at most 10000 errors at a time");
    errors = (rd_kafka_resp_err_t *)lua_newuserdata(L, (size_t)n * sizeof *errors);
    for (i = 0; i < n; i++)
        errors[i] = check_broker_error(L, 3 + i, 0);
    rd_kafka_mock_push_request_errors_array(m->cluster, api, (size_t)n, errors);
    lua_pushboolean(L, 1);
    return 1;
}

/***
 * Like `push_request_errors`, for one broker only (these come before the
 * cluster's), each answer also delayed: `m:push_broker_request_errors(1,
 * "Produce", {"NOT_LEADER_FOR_PARTITION", 0.1}, {"NO_ERROR", 2})`.
 * @function push_broker_request_errors
 * @tparam integer id 1 to the number of brokers
 * @tparam string|integer api the request type, as for `push_request_errors`
 * @tparam table ... `{error, seconds}` pairs, in order: the error (a name,
 *   a code, or `"NO_ERROR"` for a delay alone) and the delay (0 to 3600)
 * @treturn[1] boolean `true`
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err
 */
static int mock_push_broker_request_errors(lua_State *L) {
    rdk_mock *m = check_mock(L, 1);
    int32_t id = check_broker_id(L, 2, m);
    int16_t api = check_api(L, 3);
    int n = lua_gettop(L) - 3, i;
    struct pair { rd_kafka_resp_err_t err; int ms; } *pairs;
    luaL_argcheck(L, n >= 1, 4, "at least one {error, seconds} pair expected");
    luaL_argcheck(L, n <= 10000, 4, "at most 10000 errors at a time");
    pairs = (struct pair *)lua_newuserdata(L, (size_t)n * sizeof *pairs);
    for (i = 0; i < n; i++) {
        int arg = 4 + i, top;
        luaL_argcheck(L, lua_type(L, arg) == LUA_TTABLE, arg, "{error, seconds} pair expected");
        top = lua_gettop(L);
        lua_rawgeti(L, arg, 1);
        lua_rawgeti(L, arg, 2);
        if (lua_isnil(L, top + 1))
            luaL_argerror(L, arg, "{error, seconds}: the error is missing");
        lua_replace(L, arg); /* the pair's own values, checked as the argument */
        pairs[i].ms = lua_isnil(L, arg) ? 0 : check_delay_ms(L, arg);
        lua_pushvalue(L, top + 1);
        lua_replace(L, arg);
        pairs[i].err = check_broker_error(L, arg, 1);
        lua_settop(L, top);
    }
    for (i = 0; i < n; i++) {
        /* One at a time (librdkafka takes only varargs): each goes to the
         * end of the broker's list, so the order holds. */
        rd_kafka_resp_err_t err = rd_kafka_mock_broker_push_request_error_rtts(
            m->cluster, id, api, 1, pairs[i].err, pairs[i].ms);
        if (err)
            return rdk_return_error(L, err, NULL);
    }
    lua_pushboolean(L, 1);
    return 1;
}

/***
 * Forgets the errors still waiting for requests of a type (those pushed by
 * `push_request_errors`; a broker's own stay).
 * @function clear_request_errors
 * @tparam string|integer api the request type
 * @treturn boolean `true`
 */
static int mock_clear_request_errors(lua_State *L) {
    rdk_mock *m = check_mock(L, 1);
    rd_kafka_mock_clear_request_errors(m->cluster, check_api(L, 2));
    lua_pushboolean(L, 1);
    return 1;
}

/***
 * Makes a partition's leader another broker, or none (-1): clients learn of
 * it with their next metadata request. The topic is created if it does not
 * exist.
 * @function set_partition_leader
 * @tparam string topic
 * @tparam integer partition 0 to 99999
 * @tparam integer id 1 to the number of brokers, or -1 for no leader
 * @treturn[1] boolean `true`
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err (`UNKNOWN_TOPIC_OR_PART` past the topic's partitions)
 */
static int mock_set_partition_leader(lua_State *L) {
    rdk_mock *m = check_mock(L, 1);
    lua_Integer partition, id;
    rd_kafka_resp_err_t err;
    check_topic(L, 2);
    partition = luaL_checkinteger(L, 3);
    id = luaL_checkinteger(L, 4);
    /* librdkafka would index its array with a negative partition. */
    luaL_argcheck(L, partition >= 0 && partition < 100000, 3, "partition must be between 0 and 99999");
    luaL_argcheck(L, id == -1 || (id >= 1 && id <= m->brokers), 4,
                  "no broker with that id (-1: no leader)");
    err = rd_kafka_mock_partition_set_leader(m->cluster, lua_tostring(L, 2), (int32_t)partition,
                                             (int32_t)id);
    if (err)
        return rdk_return_error(L, err, NULL);
    lua_pushboolean(L, 1);
    return 1;
}

/***
 * Makes the brokers answer a topic's metadata (and a transaction's adding
 * of its partitions) with an error, until set back to `"NO_ERROR"`. The topic
 * is created if it does not exist.
 * @function set_topic_error
 * @tparam string topic
 * @tparam string|integer err a Kafka error name or code, or `"NO_ERROR"`
 * @treturn boolean `true`
 */
static int mock_set_topic_error(lua_State *L) {
    rdk_mock *m = check_mock(L, 1);
    rd_kafka_resp_err_t err;
    check_topic(L, 2);
    err = check_broker_error(L, 3, 1);
    luaL_argcheck(L, err != RD_KAFKA_RESP_ERR__TRANSPORT, 3, "_TRANSPORT is not a topic's error");
    rd_kafka_mock_topic_set_error(m->cluster, lua_tostring(L, 2), err);
    lua_pushboolean(L, 1);
    return 1;
}

/***
 * Stops the cluster. Closing a closed cluster does nothing; also runs on
 * `<close>` and on garbage collection.
 * @function close
 */

static int mock_close(lua_State *L) {
    rdk_mock *m = (rdk_mock *)luaL_checkudata(L, 1, RDK_MOCK_MT);
    if (m->cluster != NULL && m->pid == rdk_pid) {
        live_remove(m);
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
        {"set_rtt", mock_set_rtt},           {"push_request_errors", mock_push_request_errors},
        {"push_broker_request_errors", mock_push_broker_request_errors},
        {"clear_request_errors", mock_clear_request_errors},
        {"set_partition_leader", mock_set_partition_leader},
        {"set_topic_error", mock_set_topic_error},
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

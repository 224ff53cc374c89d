/* rdkafka.Admin: consumer groups (list, describe, delete) and their
 * committed offsets (list, alter, delete). */
#include <string.h>
#include "private.h"
#include <librdkafka/rdkafka_mock.h>

/***
 * @submodule rdkafka.Admin
 */

/* Pushes nil or an error object for an error librdkafka keeps (not
 * destroyed), its text redacted with the secrets of the handle at 1. */
static void push_error_ref(lua_State *L, const rd_kafka_error_t *e) {
    if (e == NULL || rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR_NO_ERROR)
        lua_pushnil(L);
    else
        rdk_push_client_error(L, 1, rd_kafka_error_code(e), rd_kafka_error_string(e), rd_kafka_error_is_fatal(e));
}

static void push_state(lua_State *L, rd_kafka_consumer_group_state_t state) {
    lua_pushstring(L, rd_kafka_consumer_group_state_name(state));
    lua_setfield(L, -2, "state");
}

static void send_list(rdk_admin_req *r) { rd_kafka_ListConsumerGroups(r->client->rk, r->options, r->queue); }

/***
 * Lists the cluster's consumer groups.
 * @function list_consumer_groups
 * @tparam[opt] number|table opts a timeout in seconds, or `{timeout=}`
 * @treturn[1] table `{{group_id=, state=, simple=}, ...}`
 * @treturn[1] ?table the brokers' errors, when only some of them answered
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err (also when every broker failed)
 */
static int admin_list_groups(lua_State *L) {
    rdk_admin_req *r;
    rd_kafka_event_t *ev;
    const rd_kafka_ListConsumerGroups_result_t *res;
    const rd_kafka_ConsumerGroupListing_t **valid;
    const rd_kafka_error_t **errors;
    size_t n, nerr, i;
    lua_settop(L, 2);
    r = rdk_admin_request(L, 2, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS, 0);
    if ((ev = rdk_admin_run(L, r, send_list, "list_consumer_groups")) == NULL)
        return 2;
    res = rd_kafka_event_ListConsumerGroups_result(ev);
    valid = rd_kafka_ListConsumerGroups_result_valid(res, &n);
    errors = rd_kafka_ListConsumerGroups_result_errors(res, &nerr);
    if (n == 0 && nerr > 0) { /* nothing but failures: the call failed */
        lua_pushnil(L);
        push_error_ref(L, errors[0]);
        return 2;
    }
    lua_createtable(L, (int)n, 0);
    for (i = 0; i < n; i++) {
        lua_createtable(L, 0, 3);
        lua_pushstring(L, rd_kafka_ConsumerGroupListing_group_id(valid[i]));
        lua_setfield(L, -2, "group_id");
        push_state(L, rd_kafka_ConsumerGroupListing_state(valid[i]));
        lua_pushboolean(L, rd_kafka_ConsumerGroupListing_is_simple_consumer_group(valid[i]));
        lua_setfield(L, -2, "simple");
        lua_rawseti(L, -2, (int)i + 1);
    }
    if (nerr == 0)
        return 1;
    lua_createtable(L, (int)nerr, 0);
    for (i = 0; i < nerr; i++) {
        push_error_ref(L, errors[i]);
        lua_rawseti(L, -2, (int)i + 1);
    }
    return 2;
}

/* The list of group ids at 2 into r->items (strings the list keeps alive;
 * librdkafka copies them when the request is sent). */
static void check_groups(lua_State *L, rdk_admin_req *r, void (*destroy)(void *),
                         void *(*make)(const char *)) {
    size_t n = rdk_admin_list(L, 2, "group ids"), i;
    rdk_admin_items(L, r, n, destroy);
    for (i = 1; i <= n; i++) {
        rdk_admin_entry(L, 2, i, 1);
        r->items[i - 1] = make ? make(lua_tostring(L, -1)) : (void *)lua_tostring(L, -1);
        lua_pop(L, 1);
        if (r->items[i - 1] == NULL)
            luaL_error(L, "not enough memory");
    }
}

/* When no answer came within the caller's timeout (kept by the module for
 * group requests, see rdk_admin_request), replaces the nil, err on top with
 * one entry per group id of the list at 2, each with that error, as
 * librdkafka gives for groups it timed out on. */
static int timed_out_groups(lua_State *L, int describe) {
    size_t n = lua_rawlen(L, 2), i;
    lua_createtable(L, (int)n, 0);
    for (i = 1; i <= n; i++) {
        lua_createtable(L, 0, describe ? 5 : 2);
        lua_rawgeti(L, 2, (int)i);
        lua_setfield(L, -2, "group_id");
        lua_pushvalue(L, -3); /* the error */
        lua_setfield(L, -2, "error");
        if (describe) {
            push_state(L, RD_KAFKA_CONSUMER_GROUP_STATE_UNKNOWN);
            lua_pushboolean(L, 0);
            lua_setfield(L, -2, "simple");
            lua_newtable(L);
            lua_setfield(L, -2, "members");
        }
        lua_rawseti(L, -2, (int)i);
    }
    return 1;
}

static void send_describe(rdk_admin_req *r) {
    rd_kafka_DescribeConsumerGroups(r->client->rk, (const char **)r->items, r->count, r->options, r->queue);
}

static void push_node(lua_State *L, const rd_kafka_Node_t *node) {
    if (node == NULL) {
        lua_pushnil(L);
        return;
    }
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, rd_kafka_Node_id(node));
    lua_setfield(L, -2, "id");
    lua_pushstring(L, rd_kafka_Node_host(node));
    lua_setfield(L, -2, "host");
    lua_pushinteger(L, rd_kafka_Node_port(node));
    lua_setfield(L, -2, "port");
}

static void push_member(lua_State *L, const rd_kafka_MemberDescription_t *m) {
    const rd_kafka_MemberAssignment_t *a = rd_kafka_MemberDescription_assignment(m);
    lua_createtable(L, 0, 5);
    lua_pushstring(L, rd_kafka_MemberDescription_consumer_id(m));
    lua_setfield(L, -2, "member_id");
    lua_pushstring(L, rd_kafka_MemberDescription_client_id(m));
    lua_setfield(L, -2, "client_id");
    lua_pushstring(L, rd_kafka_MemberDescription_host(m));
    lua_setfield(L, -2, "host");
    lua_pushstring(L, rd_kafka_MemberDescription_group_instance_id(m)); /* nil unless static */
    lua_setfield(L, -2, "group_instance_id");
    rdk_push_partitions(L, a ? rd_kafka_MemberAssignment_partitions(a) : NULL);
    lua_setfield(L, -2, "assignment");
}

/***
 * Describes consumer groups: state, coordinator, members and their
 * assignments. Kafka 4 describes a group that does not exist as state
 * `Dead`, with no members and no error.
 * @function describe_consumer_groups
 * @tparam {string,...} groups the group ids
 * @tparam[opt] number|table opts a timeout in seconds, or `{timeout=}`
 * @treturn[1] table `{{group_id=, state=, error=, simple=, assignor=, coordinator=, members=}, ...}`,
 *   `coordinator` a table `{id=, host=, port=}`, `members` a list of
 *   `{member_id=, client_id=, host=, group_instance_id=, assignment=}`,
 *   `assignment` a partition list; when no answer came within the timeout,
 *   each group with the error `_TIMED_OUT` and state `Unknown`
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err
 */
static int admin_describe_groups(lua_State *L) {
    rdk_admin_req *r;
    rd_kafka_event_t *ev;
    const rd_kafka_ConsumerGroupDescription_t **groups;
    size_t n, i, k;
    lua_settop(L, 3);
    r = rdk_admin_request(L, 3, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, 0);
    check_groups(L, r, NULL, NULL);
    if ((ev = rdk_admin_run(L, r, send_describe, "describe_consumer_groups")) == NULL)
        return r->timed_out ? timed_out_groups(L, 1) : 2;
    groups = rd_kafka_DescribeConsumerGroups_result_groups(rd_kafka_event_DescribeConsumerGroups_result(ev), &n);
    lua_createtable(L, (int)n, 0);
    for (i = 0; i < n; i++) {
        const rd_kafka_ConsumerGroupDescription_t *g = groups[i];
        size_t members = rd_kafka_ConsumerGroupDescription_member_count(g);
        lua_createtable(L, 0, 7);
        lua_pushstring(L, rd_kafka_ConsumerGroupDescription_group_id(g));
        lua_setfield(L, -2, "group_id");
        push_error_ref(L, rd_kafka_ConsumerGroupDescription_error(g));
        lua_setfield(L, -2, "error");
        push_state(L, rd_kafka_ConsumerGroupDescription_state(g));
        lua_pushboolean(L, rd_kafka_ConsumerGroupDescription_is_simple_consumer_group(g));
        lua_setfield(L, -2, "simple");
        lua_pushstring(L, rd_kafka_ConsumerGroupDescription_partition_assignor(g));
        lua_setfield(L, -2, "assignor");
        push_node(L, rd_kafka_ConsumerGroupDescription_coordinator(g));
        lua_setfield(L, -2, "coordinator");
        lua_createtable(L, (int)members, 0);
        for (k = 0; k < members; k++) {
            push_member(L, rd_kafka_ConsumerGroupDescription_member(g, k));
            lua_rawseti(L, -2, (int)k + 1);
        }
        lua_setfield(L, -2, "members");
        lua_rawseti(L, -2, (int)i + 1);
    }
    return 1;
}

static void destroy_delete_group(void *p) { rd_kafka_DeleteGroup_destroy((rd_kafka_DeleteGroup_t *)p); }
static void *make_delete_group(const char *group) { return rd_kafka_DeleteGroup_new(group); }
static void send_delete(rdk_admin_req *r) {
    rd_kafka_DeleteGroups(r->client->rk, (rd_kafka_DeleteGroup_t **)r->items, r->count, r->options, r->queue);
}

/***
 * Deletes consumer groups (with their committed offsets).
 * @function delete_consumer_groups
 * @tparam {string,...} groups the group ids
 * @tparam[opt] number|table opts a timeout in seconds, or `{timeout=}`
 * @treturn[1] table `{{group_id=, error=}, ...}`; when no answer came within
 *   the timeout, each with the error `_TIMED_OUT` (the deletion may still
 *   happen afterwards)
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err
 */
static int admin_delete_groups(lua_State *L) {
    rdk_admin_req *r;
    rd_kafka_event_t *ev;
    const rd_kafka_group_result_t **groups;
    size_t n, i;
    lua_settop(L, 3);
    r = rdk_admin_request(L, 3, RD_KAFKA_ADMIN_OP_DELETEGROUPS, 0);
    check_groups(L, r, destroy_delete_group, make_delete_group);
    if ((ev = rdk_admin_run(L, r, send_delete, "delete_consumer_groups")) == NULL)
        return r->timed_out ? timed_out_groups(L, 0) : 2;
    groups = rd_kafka_DeleteGroups_result_groups(rd_kafka_event_DeleteGroups_result(ev), &n);
    lua_createtable(L, (int)n, 0);
    for (i = 0; i < n; i++) {
        lua_createtable(L, 0, 2);
        lua_pushstring(L, rd_kafka_group_result_name(groups[i]));
        lua_setfield(L, -2, "group_id");
        push_error_ref(L, rd_kafka_group_result_error(groups[i]));
        lua_setfield(L, -2, "error");
        lua_rawseti(L, -2, (int)i + 1);
    }
    return 1;
}

/* The group id at 2 (a non-empty string). */
static const char *check_group(lua_State *L) {
    size_t len;
    rdk_check_client(L, 1, RDK_ADMIN_MT);
    const char *group = lua_type(L, 2) == LUA_TSTRING ? lua_tolstring(L, 2, &len) : NULL;
    if (group == NULL || len == 0 || strlen(group) != len)
        luaL_argerror(L, 2, lua_pushfstring(L, "group id must be a non-empty string, got %s",
                                            lua_type(L, 2) == LUA_TSTRING ? "an empty one" : luaL_typename(L, 2)));
    if (len > INT16_MAX) /* a protocol string: its length has 16 bits */
        luaL_argerror(L, 2, lua_pushfstring(L, "group id is longer than %d bytes", INT16_MAX));
    return group;
}

/* The one group's partitions of a group offsets result; nil, err when the
 * group itself failed. */
static int push_group_offsets(lua_State *L, const rd_kafka_group_result_t **groups, size_t n,
                              const rd_kafka_topic_partition_list_t *asked) {
    const rd_kafka_error_t *e;
    if (n < 1) {
        rdk_return_error(L, RD_KAFKA_RESP_ERR__BAD_MSG, "no result for the group");
        return 2;
    }
    e = rd_kafka_group_result_error(groups[0]);
    if (e != NULL && rd_kafka_error_code(e) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        lua_pushnil(L);
        push_error_ref(L, e);
        return 2;
    }
    rdk_admin_push_in_order(L, asked, rd_kafka_group_result_partitions(groups[0]));
    return 1;
}

/* A consumer read_committed made: destroyed on a thread of its own (it may
 * wait for its connections), or in place when no thread can start. */
static void destroy_reader(rd_kafka_t *rk) {
    rdk_shutdown *s = rdk_shutdown_new();
    if (s == NULL) {
        rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
        return;
    }
    rdk_shutdown_prepare(s);
    rdk_shutdown_begin(s, rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE, NULL);
    rdk_shutdown_finish(s, 0, NULL, 0);
}

static int ms_left(long long deadline) {
    long long left = deadline - rdk_now_ms();
    return left > 0 ? (int)left : 0;
}

/* Every partition of every topic the cluster has, or NULL (*err set). */
static rd_kafka_topic_partition_list_t *every_partition(rd_kafka_t *rk, int timeout_ms, rd_kafka_resp_err_t *err) {
    const rd_kafka_metadata_t *md;
    rd_kafka_topic_partition_list_t *list;
    int t, p, n = 0;
    if ((*err = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms)) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return NULL;
    for (t = 0; t < md->topic_cnt; t++)
        n += md->topics[t].partition_cnt;
    list = rd_kafka_topic_partition_list_new(n > 0 ? n : 1);
    for (t = 0; t < md->topic_cnt; t++)
        for (p = 0; p < md->topics[t].partition_cnt; p++) /* a topic-level error may still list some */
            rd_kafka_topic_partition_list_add(list, md->topics[t].topic, md->topics[t].partitions[p].id);
    rd_kafka_metadata_destroy(md);
    return list;
}

/* The admin handle's config is made a consumer's: librdkafka checks rules
 * there that only consumers have (fetch.max.bytes within
 * receive.message.max.bytes, max.poll.interval.ms over
 * session.timeout.ms), which an admin config met or not. This consumer
 * never fetches nor joins: those take values that always pass. A
 * test.mock.num.brokers config would give it a mock cluster of its own: it
 * reads the admin handle's instead. */
static int reader_conf(rdk_client *c, rd_kafka_conf_t *conf, char *errstr, size_t size) {
    rd_kafka_mock_cluster_t *mock = rd_kafka_handle_mock_cluster(c->rk);
    /* fetch.max.bytes at the largest message.max.bytes, and
     * receive.message.max.bytes at its own largest: both always pass. */
    if (rd_kafka_conf_set(conf, "fetch.max.bytes", "1000000000", errstr, size) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "receive.message.max.bytes", "2147483647", errstr, size) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "max.poll.interval.ms", "86400000", errstr, size) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "session.timeout.ms", "45000", errstr, size) != RD_KAFKA_CONF_OK)
        return 0;
    if (mock != NULL &&
        (rd_kafka_conf_set(conf, "test.mock.num.brokers", "0", errstr, size) != RD_KAFKA_CONF_OK ||
         /* what librdkafka gives a handle it makes a mock cluster for */
         rd_kafka_conf_set(conf, "security.protocol", "plaintext", errstr, size) != RD_KAFKA_CONF_OK ||
         rd_kafka_conf_set(conf, "bootstrap.servers", rd_kafka_mock_cluster_bootstraps(mock), errstr, size) !=
             RD_KAFKA_CONF_OK))
        return 0;
    return 1;
}

/* A group's committed offsets, read through a consumer of the group that
 * never joins it (as consumer:committed reads them), not through
 * librdkafka 2.0.2's ListConsumerGroupOffsets: that crashes the process
 * when the coordinator answers NOT_COORDINATOR or the like (a broker that
 * just started, a coordinator that moved): rd_kafka_handle_OffsetFetch then
 * asks the handle's consumer group for a new coordinator, and an admin
 * handle has none (rdkafka_request.c). The offsets go into list, or, when it
 * is NULL, into *all: every partition of every topic. No Lua call here. */
static rd_kafka_resp_err_t read_committed(rdk_client *c, const char *group, int timeout_ms, int stable,
                                          rd_kafka_topic_partition_list_t *list,
                                          rd_kafka_topic_partition_list_t **all, char *errstr, size_t size) {
    long long deadline = rdk_now_ms() + timeout_ms;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    rd_kafka_conf_t *conf = c->spare_conf ? rd_kafka_conf_dup(c->spare_conf) : NULL;
    sigset_t saved;
    rd_kafka_t *rk;
    if (conf == NULL) {
        snprintf(errstr, size, "not enough memory");
        return RD_KAFKA_RESP_ERR__FAIL;
    }
    rd_kafka_conf_set_events(conf, 0);
    if (rd_kafka_conf_set(conf, "group.id", group, errstr, size) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, size) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "isolation.level", stable ? "read_committed" : "read_uncommitted", errstr, size) !=
            RD_KAFKA_CONF_OK ||
        !reader_conf(c, conf, errstr, size)) {
        rd_kafka_conf_destroy(conf);
        return RD_KAFKA_RESP_ERR__INVALID_ARG;
    }
    rdk_signals_block(&saved);
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, size);
    rdk_signals_restore(&saved);
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);
        return RD_KAFKA_RESP_ERR__FAIL;
    }
    /* With no broker up yet librdkafka fails the metadata request at once
     * (_TRANSPORT): asked again until the timeout, as other requests wait. */
    while (list == NULL) {
        list = *all = every_partition(rk, ms_left(deadline), &err);
        if (list != NULL || err != RD_KAFKA_RESP_ERR__TRANSPORT)
            break;
        if (ms_left(deadline) == 0) {
            err = RD_KAFKA_RESP_ERR__TIMED_OUT;
            break;
        }
        rd_kafka_poll(rk, ms_left(deadline) > 100 ? 100 : ms_left(deadline));
    }
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR && list->cnt > 0)
        err = rd_kafka_committed(rk, list, ms_left(deadline));
    destroy_reader(rk);
    if (err)
        snprintf(errstr, size, "%s", rd_kafka_err2str(err));
    return err;
}

/***
 * A group's committed offsets: of every partition it committed, or of those
 * asked for.
 * @function list_consumer_group_offsets
 * @tparam string group the group id
 * @tparam[opt] table partitions `{{topic=, partition=}, ...}`
 * @tparam[opt] number|table opts a timeout in seconds, or
 *   `{timeout=, require_stable=}`
 * @treturn[1] table `{{topic=, partition=, offset=, error=}, ...}`, no
 *   `offset` where nothing is committed
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err (also the group's own error; `NOT_COORDINATOR`
 *   is retriable). Read through a consumer of the group that never joins it
 *   (librdkafka 2.0.2's own request crashes on `NOT_COORDINATOR`); the
 *   callbacks are not served while it waits.
 */
static int admin_list_offsets(lua_State *L) {
    const char *group = check_group(L);
    rd_kafka_topic_partition_list_t *list = NULL, *all = NULL, *got;
    rd_kafka_resp_err_t err;
    rdk_admin_req *r;
    rdk_client *c;
    char errstr[512];
    void **guard, **all_guard, **got_guard;
    int i;
    /* (group, partitions, opts) with four arguments or a list at 3 (nil
     * partitions: every committed one); else (group, opts). */
    int opts = lua_gettop(L) >= 4 || (lua_type(L, 3) == LUA_TTABLE && lua_rawlen(L, 3) > 0) ? 4 : 3;
    lua_settop(L, opts);
    if (opts == 4 && !lua_isnil(L, 3))
        list = rdk_check_partitions(L, 3, 3, RDK_OFFSET_NONE, 0, &guard);
    r = rdk_admin_request(L, opts, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, RDK_ADMIN_REQUIRE_STABLE);
    all_guard = rdk_guard(L, rdk_destroy_partitions);
    got_guard = rdk_guard(L, rdk_destroy_partitions);
    c = rdk_check_client(L, 1, RDK_ADMIN_MT); /* not closed by a finalizer meanwhile */
    err = read_committed(c, group, r->timeout_ms, r->flags & RDK_ADMIN_REQUIRE_STABLE, list, &all, errstr,
                         sizeof errstr);
    *all_guard = all;
    if (err) {
        lua_pushnil(L);
        rdk_push_client_error(L, 1, err, errstr, 0);
        return 2;
    }
    if (list != NULL) {
        rdk_admin_push_in_order(L, list, list);
        return 1;
    }
    /* Of every partition, those the group committed (or that failed). */
    if ((got = rd_kafka_topic_partition_list_new(all->cnt > 0 ? all->cnt : 1)) == NULL)
        luaL_error(L, "not enough memory");
    *got_guard = got;
    for (i = 0; i < all->cnt; i++)
        if (all->elems[i].offset >= 0 || all->elems[i].err) {
            rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_add(got, all->elems[i].topic,
                                                                               all->elems[i].partition);
            tp->offset = all->elems[i].offset;
            tp->err = all->elems[i].err;
        }
    rdk_admin_push_in_order(L, NULL, got);
    return 1;
}

static void destroy_alter_offsets(void *p) {
    rd_kafka_AlterConsumerGroupOffsets_destroy((rd_kafka_AlterConsumerGroupOffsets_t *)p);
}
static void send_alter_offsets(rdk_admin_req *r) {
    rd_kafka_AlterConsumerGroupOffsets(r->client->rk, (rd_kafka_AlterConsumerGroupOffsets_t **)r->items, 1,
                                       r->options, r->queue);
}

/***
 * Sets a group's committed offsets; Kafka refuses it while the group has
 * members.
 * @function alter_consumer_group_offsets
 * @tparam string group the group id
 * @tparam table offsets `{{topic=, partition=, offset=}, ...}`, each `offset`
 *   the next to read
 * @tparam[opt] number|table opts a timeout in seconds, or `{timeout=}`
 * @treturn[1] table the list, with `error` where a partition failed
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err (also the group's own error)
 */
static int admin_alter_offsets(lua_State *L) {
    const char *group = check_group(L);
    rd_kafka_topic_partition_list_t *list;
    rdk_admin_req *r;
    rd_kafka_event_t *ev;
    const rd_kafka_group_result_t **groups;
    size_t n;
    void **guard;
    lua_settop(L, 4);
    list = rdk_check_partitions(L, 3, 3, RDK_OFFSET_REQUIRED, 0, &guard);
    r = rdk_admin_request(L, 4, RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS, 0);
    rdk_admin_items(L, r, 1, destroy_alter_offsets);
    if ((r->items[0] = rd_kafka_AlterConsumerGroupOffsets_new(group, list)) == NULL)
        luaL_error(L, "not enough memory");
    if ((ev = rdk_admin_run(L, r, send_alter_offsets, "alter_consumer_group_offsets")) == NULL)
        return 2;
    groups = rd_kafka_AlterConsumerGroupOffsets_result_groups(rd_kafka_event_AlterConsumerGroupOffsets_result(ev), &n);
    return push_group_offsets(L, groups, n, list);
}

static void destroy_delete_offsets(void *p) {
    rd_kafka_DeleteConsumerGroupOffsets_destroy((rd_kafka_DeleteConsumerGroupOffsets_t *)p);
}
static void send_delete_offsets(rdk_admin_req *r) {
    rd_kafka_DeleteConsumerGroupOffsets(r->client->rk, (rd_kafka_DeleteConsumerGroupOffsets_t **)r->items, 1,
                                        r->options, r->queue);
}

/***
 * Deletes a group's committed offsets of some partitions; Kafka refuses a
 * partition of a topic the group's members are subscribed to.
 * @function delete_consumer_group_offsets
 * @tparam string group the group id
 * @tparam table partitions `{{topic=, partition=}, ...}`
 * @tparam[opt] number|table opts a timeout in seconds, or `{timeout=}`
 * @treturn[1] table `{{topic=, partition=, error=}, ...}`, in the order asked
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err (also the group's own error)
 */
static int admin_delete_offsets(lua_State *L) {
    const char *group = check_group(L);
    rd_kafka_topic_partition_list_t *list;
    rdk_admin_req *r;
    rd_kafka_event_t *ev;
    const rd_kafka_group_result_t **groups;
    size_t n;
    void **guard;
    lua_settop(L, 4);
    list = rdk_check_partitions(L, 3, 3, RDK_OFFSET_NONE, 0, &guard);
    r = rdk_admin_request(L, 4, RD_KAFKA_ADMIN_OP_DELETECONSUMERGROUPOFFSETS, 0);
    rdk_admin_items(L, r, 1, destroy_delete_offsets);
    if ((r->items[0] = rd_kafka_DeleteConsumerGroupOffsets_new(group, list)) == NULL)
        luaL_error(L, "not enough memory");
    if ((ev = rdk_admin_run(L, r, send_delete_offsets, "delete_consumer_group_offsets")) == NULL)
        return 2;
    groups = rd_kafka_DeleteConsumerGroupOffsets_result_groups(
        rd_kafka_event_DeleteConsumerGroupOffsets_result(ev), &n);
    return push_group_offsets(L, groups, n, list);
}

const luaL_Reg rdk_admin_group_methods[] = {
    {"list_consumer_groups", admin_list_groups},
    {"describe_consumer_groups", admin_describe_groups},
    {"delete_consumer_groups", admin_delete_groups},
    {"list_consumer_group_offsets", admin_list_offsets},
    {"alter_consumer_group_offsets", admin_alter_offsets},
    {"delete_consumer_group_offsets", admin_delete_offsets},
    {NULL, NULL}};

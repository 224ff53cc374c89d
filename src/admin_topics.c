/* rdkafka.Admin: topics (create, delete), partitions (create) and records
 * (delete). */
#include "private.h"

/***
 * @submodule rdkafka.Admin
 */

/* {{<key>=, error=}, ...} from topic results. */
static void push_topic_results(lua_State *L, const rd_kafka_topic_result_t **res, size_t n, const char *key) {
    size_t i;
    lua_createtable(L, (int)n, 0);
    for (i = 0; i < n; i++) {
        lua_createtable(L, 0, 2);
        lua_pushstring(L, rd_kafka_topic_result_name(res[i]));
        lua_setfield(L, -2, key);
        rdk_admin_push_error(L, rd_kafka_topic_result_error(res[i]), rd_kafka_topic_result_error_string(res[i]));
        lua_setfield(L, -2, "error");
        lua_rawseti(L, -2, (int)i + 1);
    }
}

/* ---- topics ---- */

static void destroy_new_topic(void *p) { rd_kafka_NewTopic_destroy((rd_kafka_NewTopic_t *)p); }
static void send_create_topics(rdk_admin_req *r) {
    rd_kafka_CreateTopics(r->client->rk, (rd_kafka_NewTopic_t **)r->items, r->count, r->options, r->queue);
}

/* The string value of a config table entry (key at -2, value at -1). */
const char *rdk_admin_config_value(lua_State *L, int idx, size_t i, char *buf, size_t size) {
    const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
    if (key == NULL || *key == '\0')
        luaL_argerror(L, idx, lua_pushfstring(L, "entry #%d: config keys must be non-empty strings", (int)i));
    const char *value = rdk_config_string(L, -1, buf, size);
    if (value == NULL)
        luaL_argerror(L, idx, lua_pushfstring(L, "entry #%d: config '%s' must be a string, number or boolean, got %s",
                                              (int)i, key, luaL_typename(L, -1)));
    return value;
}

/***
 * Creates topics.
 * @function create_topics
 * @tparam table topics `{{name=, partitions=, replication_factor=, config={[key]=value}}, ...}`;
 *   `partitions` and `replication_factor` default to the broker's
 * @tparam[opt] number|table opts a timeout in seconds, or
 *   `{timeout=, validate_only=}`
 * @treturn[1] table `{{name=, error=}, ...}`
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err
 */
static int admin_create_topics(lua_State *L) {
    lua_settop(L, 3);
    size_t n = rdk_admin_list(L, 2, "topic tables");
    rdk_admin_req *r = rdk_admin_request(L, 3, RD_KAFKA_ADMIN_OP_CREATETOPICS, RDK_ADMIN_VALIDATE_ONLY);
    const rd_kafka_CreateTopics_result_t *res;
    const rd_kafka_topic_result_t **topics;
    rd_kafka_event_t *ev;
    size_t i, cnt;
    rdk_admin_items(L, r, n, destroy_new_topic);
    for (i = 1; i <= n; i++) {
        char errstr[512], buf[64];
        const char *name;
        lua_Integer partitions, rf;
        rd_kafka_NewTopic_t *nt;
        rdk_admin_entry(L, 2, i, 0);
        name = rdk_admin_string_field(L, 2, i, "name", 0);
        partitions = rdk_admin_int_field(L, 2, i, "partitions", -1, 100000, -1);
        rf = rdk_admin_int_field(L, 2, i, "replication_factor", -1, 32767, -1);
        nt = rd_kafka_NewTopic_new(name, (int)partitions, (int)rf, errstr, sizeof errstr);
        if (nt == NULL)
            luaL_argerror(L, 2, lua_pushfstring(L, "entry #%d: %s", (int)i, errstr));
        r->items[i - 1] = nt;
        lua_pushliteral(L, "config");
        lua_rawget(L, -2);
        if (!lua_isnil(L, -1)) {
            int cfg = lua_gettop(L);
            if (lua_type(L, cfg) != LUA_TTABLE)
                luaL_argerror(L, 2, lua_pushfstring(L, "entry #%d: field 'config' must be a table, got %s",
                                                    (int)i, luaL_typename(L, cfg)));
            lua_pushnil(L);
            while (lua_next(L, cfg) != 0) {
                const char *value = rdk_admin_config_value(L, 2, i, buf, sizeof buf);
                rd_kafka_resp_err_t err = rd_kafka_NewTopic_set_config(nt, lua_tostring(L, -2), value);
                if (err)
                    luaL_argerror(L, 2, lua_pushfstring(L, "entry #%d: config '%s': %s", (int)i,
                                                        lua_tostring(L, -2), rd_kafka_err2str(err)));
                lua_pop(L, 1);
            }
        }
        lua_pop(L, 2);
    }
    if ((ev = rdk_admin_run(L, r, send_create_topics, "create_topics")) == NULL)
        return 2;
    res = rd_kafka_event_CreateTopics_result(ev);
    topics = rd_kafka_CreateTopics_result_topics(res, &cnt);
    push_topic_results(L, topics, cnt, "name");
    return 1;
}

static void destroy_delete_topic(void *p) { rd_kafka_DeleteTopic_destroy((rd_kafka_DeleteTopic_t *)p); }
static void send_delete_topics(rdk_admin_req *r) {
    rd_kafka_DeleteTopics(r->client->rk, (rd_kafka_DeleteTopic_t **)r->items, r->count, r->options, r->queue);
}

/***
 * Deletes topics.
 * @function delete_topics
 * @tparam {string,...} names the topic names
 * @tparam[opt] number|table opts a timeout in seconds, or `{timeout=}`
 * @treturn[1] table `{{name=, error=}, ...}`
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err
 */
static int admin_delete_topics(lua_State *L) {
    lua_settop(L, 3);
    size_t n = rdk_admin_list(L, 2, "topic names");
    rdk_admin_req *r = rdk_admin_request(L, 3, RD_KAFKA_ADMIN_OP_DELETETOPICS, 0);
    const rd_kafka_topic_result_t **topics;
    rd_kafka_event_t *ev;
    size_t i, cnt;
    rdk_admin_items(L, r, n, destroy_delete_topic);
    for (i = 1; i <= n; i++) {
        rdk_admin_entry(L, 2, i, 1);
        if ((r->items[i - 1] = rd_kafka_DeleteTopic_new(lua_tostring(L, -1))) == NULL)
            luaL_error(L, "not enough memory");
        lua_pop(L, 1);
    }
    if ((ev = rdk_admin_run(L, r, send_delete_topics, "delete_topics")) == NULL)
        return 2;
    topics = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &cnt);
    push_topic_results(L, topics, cnt, "name");
    return 1;
}

static void destroy_new_partitions(void *p) { rd_kafka_NewPartitions_destroy((rd_kafka_NewPartitions_t *)p); }
static void send_create_partitions(rdk_admin_req *r) {
    rd_kafka_CreatePartitions(r->client->rk, (rd_kafka_NewPartitions_t **)r->items, r->count, r->options,
                              r->queue);
}

/***
 * Adds partitions to topics. Fewer than the topic has is its
 * `INVALID_PARTITIONS` error.
 * @function create_partitions
 * @tparam table topics `{{topic=, count=}, ...}`, `count` the new total
 * @tparam[opt] number|table opts a timeout in seconds, or
 *   `{timeout=, validate_only=}`
 * @treturn[1] table `{{topic=, error=}, ...}`
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err
 */
static int admin_create_partitions(lua_State *L) {
    lua_settop(L, 3);
    size_t n = rdk_admin_list(L, 2, "{topic=, count=} tables");
    rdk_admin_req *r = rdk_admin_request(L, 3, RD_KAFKA_ADMIN_OP_CREATEPARTITIONS, RDK_ADMIN_VALIDATE_ONLY);
    const rd_kafka_topic_result_t **topics;
    rd_kafka_event_t *ev;
    size_t i, cnt;
    rdk_admin_items(L, r, n, destroy_new_partitions);
    for (i = 1; i <= n; i++) {
        char errstr[512];
        const char *topic;
        lua_Integer count;
        rdk_admin_entry(L, 2, i, 0);
        topic = rdk_admin_string_field(L, 2, i, "topic", 0);
        count = rdk_admin_int_field(L, 2, i, "count", 1, 100000, 0);
        r->items[i - 1] = rd_kafka_NewPartitions_new(topic, (size_t)count, errstr, sizeof errstr);
        if (r->items[i - 1] == NULL)
            luaL_argerror(L, 2, lua_pushfstring(L, "entry #%d: %s", (int)i, errstr));
        lua_pop(L, 1);
    }
    if ((ev = rdk_admin_run(L, r, send_create_partitions, "create_partitions")) == NULL)
        return 2;
    topics = rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(ev), &cnt);
    push_topic_results(L, topics, cnt, "topic");
    return 1;
}

/* Pushes {{topic=, partition=, offset=, error=}, ...} for the partitions
 * asked, in their order, from the result (which librdkafka may have sorted);
 * an entry with an error has no offset. */
void rdk_admin_push_in_order(lua_State *L, const rd_kafka_topic_partition_list_t *asked,
                             const rd_kafka_topic_partition_list_t *got) {
    int i;
    if (asked == NULL)
        asked = got;
    lua_createtable(L, asked ? asked->cnt : 0, 0);
    for (i = 0; asked && i < asked->cnt; i++) {
        const rd_kafka_topic_partition_t *want = &asked->elems[i];
        const rd_kafka_topic_partition_t *tp =
            got ? rd_kafka_topic_partition_list_find(got, want->topic, want->partition) : NULL;
        lua_createtable(L, 0, 4);
        if (tp == NULL) {
            rdk_set_position(L, want->topic, want->partition, -1);
            rdk_push_error(L, RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION, "no result for this partition", 0);
            lua_setfield(L, -2, "error");
        } else {
            rdk_set_position(L, want->topic, want->partition, tp->err ? -1 : tp->offset);
            if (tp->err) {
                rdk_push_error(L, tp->err, NULL, 0);
                lua_setfield(L, -2, "error");
            }
        }
        lua_rawseti(L, -2, i + 1);
    }
}

/* ---- records ---- */

static void send_delete_records(rdk_admin_req *r) {
    rd_kafka_DeleteRecords(r->client->rk, (rd_kafka_DeleteRecords_t **)r->items, r->count, r->options,
                           r->queue);
}
static void destroy_delete_records(void *p) { rd_kafka_DeleteRecords_destroy((rd_kafka_DeleteRecords_t *)p); }

/***
 * Deletes every record before `offset` in each partition.
 * @function delete_records
 * @tparam table list `{{topic=, partition=, offset=}, ...}`, `offset` an
 *   integer, or `"end"` for all of them
 * @tparam[opt] number|table opts a timeout in seconds, or `{timeout=}`
 * @treturn[1] table `{{topic=, partition=, offset=, error=}, ...}`, `offset`
 *   the partition's new low watermark
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err
 */
static int admin_delete_records(lua_State *L) {
    rdk_admin_req *r;
    rd_kafka_topic_partition_list_t *list;
    const rd_kafka_topic_partition_list_t *done;
    rd_kafka_event_t *ev;
    void **guard;
    int i;
    lua_settop(L, 3);
    rdk_check_client(L, 1, RDK_ADMIN_MT);
    list = rdk_check_partitions(L, 2, 2, RDK_OFFSET_NAMED, 0, &guard);
    for (i = 0; i < list->cnt; i++) /* "end" is the only name Kafka takes here */
        if (list->elems[i].offset < 0 && list->elems[i].offset != RD_KAFKA_OFFSET_END)
            luaL_argerror(L, 2, lua_pushfstring(L, "entry #%d: field 'offset' must be a non-negative "
                                                   "integer or \"end\"", i + 1));
    r = rdk_admin_request(L, 3, RD_KAFKA_ADMIN_OP_DELETERECORDS, 0);
    rdk_admin_items(L, r, 1, destroy_delete_records);
    if ((r->items[0] = rd_kafka_DeleteRecords_new(list)) == NULL)
        luaL_error(L, "not enough memory");
    if ((ev = rdk_admin_run(L, r, send_delete_records, "delete_records")) == NULL)
        return 2;
    done = rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(ev));
    rdk_admin_push_in_order(L, list, done);
    return 1;
}

const luaL_Reg rdk_admin_topic_methods[] = {
    {"create_topics", admin_create_topics},
    {"delete_topics", admin_delete_topics},
    {"create_partitions", admin_create_partitions},
    {"delete_records", admin_delete_records},
    {NULL, NULL}};

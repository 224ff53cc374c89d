/* The C peer of bench/consume.lua: a group consumer that polls one message
 * at a time straight on librdkafka, with the same settings and broker.
 * Prints the messages per second from the first message to the last.
 * usage: consume_c BOOTSTRAP TOPIC GROUP COUNT [key=value ...] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <librdkafka/rdkafka.h>
#include "bench.h"

int main(int argc, char **argv) {
    char errstr[512];
    long count, got = 0;
    size_t bytes = 0;
    double start = 0, deadline;
    int i;
    if (argc < 5) {
        fprintf(stderr, "usage: %s BOOTSTRAP TOPIC GROUP COUNT [key=value ...]\n", argv[0]);
        return 2;
    }
    count = atol(argv[4]);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", argv[1]);
    set(conf, "group.id", argv[3]);
    set(conf, "auto.offset.reset", "earliest");
    set(conf, "enable.auto.commit", "false");
    for (i = 5; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (eq == NULL) {
            fprintf(stderr, "expected key=value, got %s\n", argv[i]);
            return 2;
        }
        *eq = '\0';
        set(conf, argv[i], eq + 1);
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (rk == NULL) {
        fprintf(stderr, "%s\n", errstr);
        return 1;
    }
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, argv[2], RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    deadline = now() + 120;
    while (got < count && now() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (m == NULL)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (got++ == 0)
                start = now();
            bytes += m->len;
        }
        rd_kafka_message_destroy(m);
    }
    double elapsed = now() - start;
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    if (got < count) {
        fprintf(stderr, "consume_c: %ld of %ld messages\n", got, count);
        return 1;
    }
    printf("%.0f\n", (count - 1) / elapsed);
    return bytes > 0 ? 0 : 1;
}

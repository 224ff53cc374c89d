/* The C peer of bench/produce.lua: the same produce loop straight on
 * librdkafka, same settings, same broker. Prints messages per second.
 * usage: produce_c BOOTSTRAP TOPIC COUNT SIZE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <librdkafka/rdkafka.h>

static long delivered, failed;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    (void)opaque;
    if (m->err)
        failed++;
    else
        delivered++;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    char errstr[512];
    if (argc != 5) {
        fprintf(stderr, "usage: %s BOOTSTRAP TOPIC COUNT SIZE\n", argv[0]);
        return 2;
    }
    const char *topic = argv[2];
    long count = atol(argv[3]), i;
    size_t size = (size_t)atol(argv[4]);
    char *value = malloc(size);
    memset(value, 'x', size);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "linger.ms", "5", errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "enable.idempotence", "true", errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "partitioner", "murmur2_random", errstr, sizeof errstr);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "%s\n", errstr);
        return 1;
    }
    double t0 = now();
    for (i = 0; i < count; i++) {
        rd_kafka_resp_err_t err;
        while ((err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(value, size),
                                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 1);
        if (err) {
            fprintf(stderr, "produce: %s\n", rd_kafka_err2str(err));
            return 1;
        }
        if ((i & 1023) == 0)
            rd_kafka_poll(rk, 0);
    }
    rd_kafka_flush(rk, 60000);
    double secs = now() - t0;
    fprintf(stderr, "c: %ld delivered, %ld failed in %.2fs\n", delivered, failed, secs);
    rd_kafka_destroy(rk);
    free(value);
    return failed || delivered != count;
}

/* The C peer of bench/produce.lua and bench/produce.py: the same produce loop
 * straight on librdkafka (rd_kafka_producev, a delivery report callback,
 * poll(0) every 1024 messages, flush at the end), same settings, same broker.
 * Prints messages per second, first produce to the end of flush.
 * usage: produce_c BOOTSTRAP TOPIC COUNT SIZE [keyed|unkeyed] [key=value ...] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <librdkafka/rdkafka.h>
#include "bench.h"

#define NKEYS 1000

static long delivered, failed;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    (void)opaque;
    if (m->err)
        failed++;
    else
        delivered++;
}

int main(int argc, char **argv) {
    char errstr[512], keys[NKEYS][16];
    int keyed, i;
    if (argc < 5) {
        fprintf(stderr, "usage: %s BOOTSTRAP TOPIC COUNT SIZE [keyed|unkeyed] [key=value ...]\n", argv[0]);
        return 2;
    }
    const char *topic = argv[2];
    long count = atol(argv[3]), n;
    size_t size = (size_t)atol(argv[4]);
    keyed = argc > 5 && strcmp(argv[5], "keyed") == 0;
    char *value = malloc(size);
    memset(value, 'x', size);
    for (i = 0; i < NKEYS; i++)
        snprintf(keys[i], sizeof keys[i], "key-%d", i);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", argv[1]);
    set(conf, "linger.ms", "5");
    set(conf, "enable.idempotence", "true");
    set(conf, "partitioner", "murmur2_random");
    for (i = 6; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (eq == NULL) {
            fprintf(stderr, "expected key=value, got %s\n", argv[i]);
            return 2;
        }
        *eq = '\0';
        set(conf, argv[i], eq + 1);
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "%s\n", errstr);
        return 1;
    }
    double t0 = now();
    for (n = 0; n < count; n++) {
        rd_kafka_resp_err_t err;
        const char *key = keyed ? keys[n % NKEYS] : NULL;
        while ((err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(value, size),
                                        RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
                                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 1);
        if (err) {
            fprintf(stderr, "produce: %s\n", rd_kafka_err2str(err));
            return 1;
        }
        if ((n & 1023) == 0)
            rd_kafka_poll(rk, 0);
    }
    rd_kafka_flush(rk, 120000);
    double secs = now() - t0;
    rd_kafka_destroy(rk);
    free(value);
    if (failed || delivered != count) {
        fprintf(stderr, "produce_c: %ld delivered, %ld failed of %ld\n", delivered, failed, count);
        return 1;
    }
    printf("%.0f\n", count / secs);
    return 0;
}

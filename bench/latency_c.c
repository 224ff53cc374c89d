/* End-to-end latency, the C peer of bench/latency.lua and bench/latency.py:
 * one process produces COUNT messages at RATE messages/s (linger.ms=0) to
 * partition 0 of TOPIC and consumes them from the same partition (assigned
 * at its end), each value carrying its send time; between sends it polls the
 * consumer. Prints "p50 p99" in milliseconds, produce to consume.
 * usage: latency_c BOOTSTRAP TOPIC COUNT RATE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <librdkafka/rdkafka.h>
#include "bench.h"

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static rd_kafka_t *client(rd_kafka_type_t type, rd_kafka_conf_t *conf) {
    char errstr[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "%s\n", errstr);
        exit(1);
    }
    return rk;
}

static void send_stamped(rd_kafka_t *p, const char *topic, double stamp) {
    char value[32];
    int n = snprintf(value, sizeof value, "%.9f", stamp);
    if (rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0), RD_KAFKA_V_VALUE(value, (size_t)n),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) {
        fprintf(stderr, "produce failed\n");
        exit(1);
    }
}

/* Polls the consumer up to `ms`; a message's latency goes to lat[(*got)++]
 * unless it is the warm-up message (value "warm-up"). */
static int receive(rd_kafka_t *c, int ms, double *lat, long *got) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(c, ms);
    int warm = 0;
    if (m == NULL)
        return 0;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        double t = now();
        if (m->len == 7 && memcmp(m->payload, "warm-up", 7) == 0)
            warm = 1;
        else
            lat[(*got)++] = t - strtod(m->payload, NULL);
    }
    rd_kafka_message_destroy(m);
    return warm;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s BOOTSTRAP TOPIC COUNT RATE\n", argv[0]);
        return 2;
    }
    const char *topic = argv[2];
    long count = atol(argv[3]), got = 0, sent = 0;
    double rate = atof(argv[4]), *lat = calloc((size_t)count + 1, sizeof *lat), t0, deadline;
    rd_kafka_conf_t *pconf = rd_kafka_conf_new(), *cconf = rd_kafka_conf_new();
    set(pconf, "bootstrap.servers", argv[1]);
    set(pconf, "linger.ms", "0");
    set(pconf, "enable.idempotence", "true");
    set(cconf, "bootstrap.servers", argv[1]);
    set(cconf, "group.id", "bench-latency-c");
    set(cconf, "enable.auto.commit", "false");
    rd_kafka_t *p = client(RD_KAFKA_PRODUCER, pconf), *c = client(RD_KAFKA_CONSUMER, cconf);
    rd_kafka_poll_set_consumer(c);
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, topic, 0)->offset = RD_KAFKA_OFFSET_END;
    rd_kafka_assign(c, list);
    rd_kafka_topic_partition_list_destroy(list);
    /* Warm-up: one message through, so that both ends are connected. */
    deadline = now() + 60;
    do {
        rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0), RD_KAFKA_V_VALUE("warm-up", 7),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        double until = now() + 1;
        int warm = 0;
        while (!warm && now() < until) {
            rd_kafka_poll(p, 0);
            warm = receive(c, 10, lat, &got);
        }
        if (warm)
            break;
    } while (now() < deadline);
    got = 0;
    t0 = now();
    deadline = t0 + count / rate + 30;
    while (got < count && now() < deadline) {
        double t = now(), next = t0 + sent / rate;
        if (sent < count && t >= next) {
            send_stamped(p, topic, t);
            sent++;
            rd_kafka_poll(p, 0);
            continue;
        }
        int ms = sent < count ? (int)((next - t) * 1000) : 10;
        receive(c, ms, lat, &got);
        rd_kafka_poll(p, 0);
    }
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    rd_kafka_flush(p, 10000);
    rd_kafka_destroy(p);
    if (got < count) {
        fprintf(stderr, "latency_c: %ld of %ld messages\n", got, count);
        return 1;
    }
    qsort(lat, (size_t)count, sizeof *lat, cmp);
    printf("%.3f %.3f\n", lat[count / 2] * 1000, lat[(count * 99) / 100] * 1000);
    free(lat);
    return 0;
}

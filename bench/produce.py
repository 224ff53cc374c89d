"""The confluent-kafka-python peer of bench/produce_c.c: the same loop
(produce with a delivery callback, poll(0) every 1024 messages, flush at the
end), same settings, same broker. Prints messages per second, first produce
to the end of flush.
usage: python3 produce.py BOOTSTRAP TOPIC COUNT SIZE [keyed|unkeyed]"""
import sys
import time

from confluent_kafka import Producer

bootstrap, topic, count, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
keyed = len(sys.argv) > 5 and sys.argv[5] == "keyed"
value = b"x" * size
keys = [b"key-%d" % i for i in range(1000)]
counts = {"delivered": 0, "failed": 0}


def on_delivery(err, msg):
    counts["failed" if err else "delivered"] += 1


p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "enable.idempotence": True,
              "partitioner": "murmur2_random", "on_delivery": on_delivery})
produce, poll = p.produce, p.poll
start = time.monotonic()
for i in range(1, count + 1):
    while True:
        try:
            if keyed:
                produce(topic, value, keys[i % 1000])
            else:
                produce(topic, value)
            break
        except BufferError:
            poll(0.001)
    if i % 1024 == 0:
        poll(0)
left = p.flush(120)
elapsed = time.monotonic() - start
if left or counts["delivered"] != count or counts["failed"]:
    sys.exit("produce.py: %(delivered)d delivered, %(failed)d failed" % counts + ", %d left of %d" % (left, count))
print("%.0f" % (count / elapsed))

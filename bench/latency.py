"""End-to-end latency, the confluent-kafka-python peer of bench/latency_c.c:
produce COUNT messages at RATE messages/s (linger.ms=0) to partition 0 of
TOPIC, consume them from the same partition (assigned at its end) in the same
process, each value carrying its send time. Prints "p50 p99" in milliseconds.
usage: python3 latency.py BOOTSTRAP TOPIC COUNT RATE"""
import sys
import time

from confluent_kafka import OFFSET_END, Consumer, Producer, TopicPartition

bootstrap, topic, count, rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
now = time.monotonic
p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "enable.idempotence": True})
c = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-latency-py", "enable.auto.commit": False})
c.assign([TopicPartition(topic, 0, OFFSET_END)])
lat = []


def receive(timeout):
    msg = c.poll(timeout)
    if msg is None or msg.error():
        return False
    t = now()
    if msg.value() == b"warm-up":
        return True
    lat.append(t - float(msg.value()))
    return False


deadline, warm = now() + 60, False
while not warm and now() < deadline:
    p.produce(topic, b"warm-up", partition=0)
    until = now() + 1
    while not warm and now() < until:
        p.poll(0)
        warm = receive(0.01)
lat.clear()
t0, sent = now(), 0
deadline = t0 + count / rate + 30
while len(lat) < count and now() < deadline:
    t = now()
    nxt = t0 + sent / rate
    if sent < count and t >= nxt:
        p.produce(topic, b"%.9f" % t, partition=0)
        sent += 1
        p.poll(0)
    else:
        receive(int((nxt - t) * 1000) / 1000 if sent < count else 0.01)
        p.poll(0)
c.close()
p.flush(10)
if len(lat) < count:
    sys.exit("latency.py: %d of %d messages" % (len(lat), count))
lat.sort()
print("%.3f %.3f" % (lat[count // 2] * 1000, lat[count * 99 // 100] * 1000))

"""The confluent-kafka-python peer of bench/consume_c.c: a group consumer
reading COUNT messages with poll() per message or consume(1000) batches,
touching each value, same settings, same broker. Prints messages per second
from the first message to the last.
usage: python3 consume.py BOOTSTRAP TOPIC GROUP COUNT poll|consume [key=value ...]"""
import sys
import time

from confluent_kafka import Consumer

bootstrap, topic, group, count, mode = sys.argv[1:6]
count = int(count)
conf = {"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
        "enable.auto.commit": False}
for arg in sys.argv[6:]:
    key, _, value = arg.partition("=")
    conf[key] = value
c = Consumer(conf)
c.subscribe([topic])
got, nbytes, start = 0, 0, None
deadline = time.monotonic() + 120
while got < count and time.monotonic() < deadline:
    if mode == "poll":
        msg = c.poll(0.1)
        msgs = [msg] if msg is not None else []
    else:
        msgs = c.consume(1000, 0.1)
    for msg in msgs:
        if msg.error():
            continue
        got += 1
        if got == 1:
            start = time.monotonic()
        nbytes += len(msg.value())
elapsed = time.monotonic() - start
c.close()
if got < count or nbytes == 0:
    sys.exit("consume.py: %d of %d messages" % (got, count))
print("%.0f" % ((count - 1) / elapsed))

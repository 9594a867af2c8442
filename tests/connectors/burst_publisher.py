"""Publishes a steady QoS 1 burst, riding out broker restarts: `python -m ... PORT TOPIC N RATE`.

Each message is ``{"value": i, "ts": T0_MS + i}``, so the receiver can count exactly which
arrived. paho keeps unacknowledged QoS 1 messages and sends them again after reconnecting.
Prints ``acked N`` and exits 0 once the broker acknowledged every message.
"""

from __future__ import annotations

import json
import sys
import time

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

T0_MS = 1_780_000_000_000


def main() -> int:
    port, topic, count, rate = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    client = paho.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=f"burst-{topic.replace('/', '-')}",
        clean_session=False,
    )
    acked: set[int] = set()
    # A message published while disconnected reports "not connected" but stays queued and is
    # sent after the reconnect; its PUBACK is what counts.
    client.on_publish = lambda c, u, mid, rc, p: acked.add(mid)
    client.reconnect_delay_set(1, 1)
    client.max_inflight_messages_set(100)
    client.connect("127.0.0.1", port)
    client.loop_start()
    start = time.monotonic()
    mids: set[int] = set()
    for i in range(count):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        mids.add(client.publish(topic, json.dumps({"value": i, "ts": T0_MS + i}), qos=1).mid)
    deadline = time.monotonic() + 60
    while not mids <= acked:
        if time.monotonic() > deadline:
            print(f"acked {len(mids & acked)} of {count}", flush=True)
            return 1
        time.sleep(0.01)
    print(f"acked {count}", flush=True)
    client.disconnect()
    client.loop_stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

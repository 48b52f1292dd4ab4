"""Publishes OpenStack notifications the way the services do: oslo.messaging's Notifier with
driver messagingv2, one transport per control_exchange (nova, neutron, ...).

Reads one JSON object per line on stdin:
  {"exchange": "nova", "publisher_id": "nova-compute:compute-1",
   "event_type": "instance.create.end", "payload": {...}}
and answers each with a line "sent <event_type>" once the notifier returned (the message is in
the broker). Usage: notify.py TRANSPORT_URL [TOPIC]   (topic default vitrage_notifications)
"""
import json
import sys

from oslo_config import cfg
import oslo_messaging


def main():
    url = sys.argv[1]
    topic = sys.argv[2] if len(sys.argv) > 2 else "vitrage_notifications"
    notifiers = {}
    for line in sys.stdin:
        if not line.strip():
            continue
        msg = json.loads(line)
        exchange = msg.get("exchange", "nova")
        if exchange not in notifiers:
            conf = cfg.ConfigOpts()
            conf([], project="causeway-test")
            oslo_messaging.set_transport_defaults(exchange)
            transport = oslo_messaging.get_notification_transport(conf, url=url)
            notifiers[exchange] = transport
        notifier = oslo_messaging.Notifier(
            notifiers[exchange],
            publisher_id=msg["publisher_id"],
            driver="messagingv2",
            topics=[topic],
        )
        notifier.info({}, msg["event_type"], msg["payload"])
        print("sent " + msg["event_type"], flush=True)


if __name__ == "__main__":
    main()

"""Prometheus metrics for ``GET /metrics`` (one registry per app, so several apps can live in a process).

Exposed families (all read from the node's published views or the API's own counters):

- ``tradewire_engine_events_total`` / ``tradewire_engine_events_per_second``: market data processed.
- ``tradewire_order_ack_latency_seconds{quantile}``: ``OrderSubmitted`` to ``OrderAccepted``, engine clock,
  nearest-rank quantiles over the last 2,000 orders.
- ``tradewire_command_latency_seconds``: histogram of API command round trips (request to engine result).
- ``tradewire_queue_depth{queue}``: engine command queue, hub inbox, longest WebSocket client queue.
- ``tradewire_data_age_seconds{instrument_id,data_type}``: time since the last message per subscription.
- ``tradewire_websocket_clients``, ``tradewire_websocket_messages_sent_total``,
  ``tradewire_websocket_coalesced_total`` (book ladders superseded before sending),
  ``tradewire_websocket_book_send_lag_seconds{quantile}`` (ladder socket write minus its ``ts_init``),
  ``tradewire_websocket_snapshots_sent_total``.
"""

from __future__ import annotations

import math
from typing import Any

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily


class NodeCollector:
    """Collect node and hub figures at scrape time."""

    def __init__(self, node: Any, hub: Any) -> None:
        self.node = node
        self.hub = hub

    def collect(self):
        eng = self.node.view("engine") or {}
        counters = eng.get("counters", {})
        yield CounterMetricFamily(
            "tradewire_engine_events", "Market data messages processed", value=counters.get("events_processed", 0)
        )
        yield GaugeMetricFamily(
            "tradewire_engine_events_per_second",
            "Market data messages per second",
            value=counters.get("events_per_s", 0),
        )
        lat = sorted(self.node.view("ack_latency_ns") or ())  # sorted here, per scrape, not per engine snapshot
        g = GaugeMetricFamily(
            "tradewire_order_ack_latency_seconds", "Order submitted to accepted (engine clock)", labels=["quantile"]
        )
        for q in (0.5, 0.99):
            if lat:
                g.add_metric([str(q)], lat[max(0, math.ceil(q * len(lat)) - 1)] / 1e9)  # nearest rank
        yield g
        depth = GaugeMetricFamily("tradewire_queue_depth", "Queue depths", labels=["queue"])
        depth.add_metric(["engine_commands"], counters.get("pending_commands", 0))
        depth.add_metric(["hub_inbox"], self.hub.inbox_depth)
        depth.add_metric(["websocket_client_max"], self.hub.max_client_queue())
        yield depth
        age = GaugeMetricFamily(
            "tradewire_data_age_seconds",
            "Seconds since the last message per subscription",
            labels=["instrument_id", "data_type"],
        )
        dq = (self.node.view("data_quality") or {}).get("subscriptions", {})
        for row in dq.values():
            if row.get("age_ns") is not None:
                age.add_metric([row["instrument_id"], row["data_type"]], row["age_ns"] / 1e9)
        yield age
        yield GaugeMetricFamily(
            "tradewire_websocket_clients", "Connected WebSocket clients", value=len(self.hub.clients)
        )
        yield CounterMetricFamily(
            "tradewire_websocket_messages_sent", "WebSocket messages sent", value=self.hub.messages_sent
        )
        lag = sorted(getattr(self.hub, "book_send_lag_ns", ()))
        g = GaugeMetricFamily(
            "tradewire_websocket_book_send_lag_seconds",
            "Book ladder written to a client socket minus its ts_init (when its data arrived), last 20,000 sends",
            labels=["quantile"],
        )
        for q in (0.5, 0.99):
            if lag:
                g.add_metric([str(q)], lag[max(0, math.ceil(q * len(lag)) - 1)] / 1e9)  # nearest rank
        yield g
        yield CounterMetricFamily(
            "tradewire_websocket_coalesced",
            "Book ladders replaced by a newer one before they were sent (per client)",
            value=getattr(self.hub, "coalesced", 0),
        )
        yield CounterMetricFamily(
            "tradewire_websocket_snapshots_sent",
            "WebSocket snapshots sent (subscribe, resync)",
            value=self.hub.snapshots_sent,
        )


def build_registry(node: Any, hub: Any) -> tuple[CollectorRegistry, Histogram]:
    """A registry with :class:`NodeCollector` and the command-latency histogram."""
    reg = CollectorRegistry(auto_describe=True)
    reg.register(NodeCollector(node, hub))
    hist = Histogram(
        "tradewire_command_latency_seconds",
        "API command round trip to the engine thread",
        registry=reg,
        buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
    )
    return reg, hist

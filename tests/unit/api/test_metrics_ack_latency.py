"""The order acknowledgement quantiles of ``/metrics`` are taken from the node's latencies in any order."""

from __future__ import annotations

from types import SimpleNamespace

from tradewire.api.metrics import NodeCollector


class _Node:
    def __init__(self, views: dict) -> None:
        self.views = views

    def view(self, topic: str):
        return self.views.get(topic)


def _quantiles(latencies_ns):
    hub = SimpleNamespace(inbox_depth=0, max_client_queue=lambda: 0, clients=(), messages_sent=0, snapshots_sent=0)
    collector = NodeCollector(_Node({"ack_latency_ns": latencies_ns}), hub)
    fam = next(f for f in collector.collect() if f.name == "tradewire_order_ack_latency_seconds")
    return {s.labels["quantile"]: s.value for s in fam.samples}


def test_quantiles_are_nearest_rank_over_unsorted_latencies():
    # newest last, as the node publishes them: 100 samples of 1..100 us in a scrambled order
    lat = [((i * 37) % 100 + 1) * 1000 for i in range(100)]
    assert sorted(lat) != lat
    q = _quantiles(lat)
    assert q == {"0.5": 50e-6, "0.99": 99e-6}  # ranks ceil(0.5*100)=50 and ceil(0.99*100)=99


def test_no_latencies_no_quantiles():
    assert _quantiles([]) == {}
    assert _quantiles(None) == {}

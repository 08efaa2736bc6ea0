"""``tradewire run`` settings: the event store's synchronous mode and closed-order retention of the node."""

from __future__ import annotations

import pytest

from tradewire.cli.run import ORDER_MAX_AGE_S, enable_order_retention, paper_db_synchronous
from tradewire.core.bus import MessageBus
from tradewire.core.cache import Cache
from tradewire.persistence.engine import SYNC_ENV_VAR, DatabaseConfigError


def test_paper_node_defaults_to_normal_and_exports_it():
    env: dict[str, str] = {}
    assert paper_db_synchronous(env=env) == "NORMAL"
    assert env == {SYNC_ENV_VAR: "NORMAL"}


def test_option_overrides_environment_and_environment_overrides_default():
    env = {SYNC_ENV_VAR: "full"}
    assert paper_db_synchronous(env=env) == "FULL" and env[SYNC_ENV_VAR] == "FULL"
    assert paper_db_synchronous("normal", env=env) == "NORMAL" and env[SYNC_ENV_VAR] == "NORMAL"


def test_bad_mode_is_refused():
    with pytest.raises(DatabaseConfigError, match="FULL or NORMAL"):
        paper_db_synchronous("off", env={})


class _Kernel:
    def __init__(self) -> None:
        self.cache, self.bus = Cache(), MessageBus()


class _Node:
    def __init__(self) -> None:
        self.kernel = _Kernel()


def test_retention_is_enabled_with_the_given_limits():
    node = _Node()
    enable_order_retention(node, 50, 3600.0)
    cache = node.kernel.cache
    assert cache.max_closed_per_strategy == 50 and cache.max_closed_age_ns == 3600 * 10**9
    assert cache.on_order_event in node.kernel.bus.handlers("events.order.s-1")


def test_zero_keeps_every_order_unless_an_age_limit_is_set():
    node = _Node()
    enable_order_retention(node, 0, None)
    assert node.kernel.cache.max_closed_per_strategy is None and not node.kernel.bus.handlers("events.order.x")
    enable_order_retention(node, 0, ORDER_MAX_AGE_S)
    assert node.kernel.cache.max_closed_per_strategy is None
    assert node.kernel.cache.max_closed_age_ns == int(ORDER_MAX_AGE_S * 10**9)

from __future__ import annotations

import threading
from datetime import date

import pytest

from tradewire.model.identifiers import InstrumentId
from tradewire.signals.config import FuturesRollConfig, SourceConfig
from tradewire.signals.idempotency import SqlIdempotencyStore
from tradewire.signals.mapping import SymbolMapper, front_contract, subtract_business_days, third_friday
from tradewire.signals.schema import AlertError


def test_claim_is_exclusive_then_replays_stored_result(tmp_path):
    st = SqlIdempotencyStore(tmp_path / "a.sqlite")
    assert st.claim("k", "tv", 1, 100) is None
    pending = st.claim("k", "tv", 2, 100)
    assert pending is not None and pending.pending
    st.complete("k", 202, {"client_order_ids": ["A"]})
    done = st.claim("k", "tv", 3, 100)
    assert done.status_code == 202 and done.response == {"client_order_ids": ["A"]}


def test_expired_key_can_be_claimed_again_and_release_frees_a_pending_claim(tmp_path):
    st = SqlIdempotencyStore(tmp_path / "a.sqlite")
    assert st.claim("k", "tv", 1, 10) is None
    st.complete("k", 202, {})
    assert st.claim("k", "tv", 9, 20) is not None
    assert st.claim("k", "tv", 10, 20) is None  # expired at 10
    st.release("k")
    assert st.get("k") is None
    assert st.claim("k", "tv", 11, 20) is None
    st.complete("k", 202, {})
    assert st.purge(20) == 1 and st.get("k") is None


def test_keys_survive_a_restart(tmp_path):
    path = tmp_path / "d" / "w.sqlite"
    st = SqlIdempotencyStore(path)
    st.claim("k", "tv", 1, 10**18)
    st.complete("k", 202, {"x": 1})
    st.close()
    again = SqlIdempotencyStore(path)
    assert again.claim("k", "tv", 2, 10**18).response == {"x": 1}


@pytest.mark.parametrize("where", ["file", "memory"])
def test_concurrent_claims_have_exactly_one_winner(tmp_path, where):
    st = SqlIdempotencyStore(tmp_path / "c.sqlite" if where == "file" else ":memory:")
    winners = []
    barrier = threading.Barrier(50)

    def worker():
        barrier.wait()
        if st.claim("same", "tv", 1, 10**18) is None:
            winners.append(1)

    threads = [threading.Thread(target=worker) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1


def test_third_friday_and_business_days():
    assert third_friday(2024, 12) == date(2024, 12, 20)
    assert third_friday(2025, 3) == date(2025, 3, 21)
    assert third_friday(2024, 3) == date(2024, 3, 15)  # March 2024 starts on a Friday
    assert subtract_business_days(date(2024, 12, 20), 8) == date(2024, 12, 10)
    assert subtract_business_days(date(2024, 12, 20), 8, frozenset({date(2024, 12, 16)})) == date(2024, 12, 9)


@pytest.mark.parametrize(
    ("today", "nth", "expected"),
    [
        (date(2024, 12, 9), 1, "ESZ4"),  # the day before the roll (Dec 10 = 8 business days before Dec 20)
        (date(2024, 12, 10), 1, "ESH5"),  # roll day: next contract
        (date(2024, 12, 9), 2, "ESH5"),
        (date(2024, 10, 1), 1, "ESZ4"),  # between listed months
        (date(2024, 12, 31), 1, "ESH5"),
        (date(2025, 3, 10), 1, "ESH5"),  # expiry Mar 21 2025; 8 business days earlier is Mar 11
        (date(2025, 3, 11), 1, "ESM5"),
    ],
)
def test_front_contract_roll_rule(today, nth, expected):
    sym, _ = front_contract(FuturesRollConfig(), "ES", today, nth)
    assert sym == expected


def test_explicit_expiry_and_two_digit_years():
    cfg = FuturesRollConfig(expiries={"ESZ24": "2024-12-13"}, year_digits=2, roll_business_days=0)
    assert front_contract(cfg, "ES", date(2024, 12, 12))[0] == "ESZ24"
    assert front_contract(cfg, "ES", date(2024, 12, 13))[0] == "ESH25"


def test_month_codes_validated():
    with pytest.raises(ValueError, match="month codes"):
        FuturesRollConfig(months="ZH")


def test_symbol_mapper_resolution_order():
    cfg = SourceConfig(
        secret="x" * 16, default_venue="PAPER", symbols={"BINANCE:BTCUSDT": "BTCUSDT.BINANCE"},
        venue_aliases={"CME_MINI": "CME", "COINBASE": "PAPER"}, futures={"ES": FuturesRollConfig()},
    )  # fmt: skip
    m = SymbolMapper(cfg)
    d = date(2024, 12, 1)
    assert m.resolve("binance:btcusdt", d) == InstrumentId("BTCUSDT.BINANCE")
    assert m.resolve("BYBIT:ETHUSDT", d) == InstrumentId("ETHUSDT.BYBIT")
    assert m.resolve("COINBASE:ETHUSD", d) == InstrumentId("ETHUSD.PAPER")
    assert m.resolve("AAPL", d) == InstrumentId("AAPL.PAPER")
    assert m.resolve("CME_MINI:ES1!", d) == InstrumentId("ESZ4.CME")
    assert m.resolve("ES2!", d) == InstrumentId("ESH5.CME")
    with pytest.raises(AlertError, match="no roll rule configured for continuous future root 'NQ'"):
        m.resolve("CME_MINI:NQ1!", d)
    with pytest.raises(AlertError, match="no default_venue"):
        SymbolMapper(SourceConfig(secret="x" * 16)).resolve("AAPL", d)

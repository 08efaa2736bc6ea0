"""ParquetDataCatalog: exact round trips, partitioning, time-range queries, idempotent writes and a merged,
lazily streamed replay."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tradewire.data.aggregation import aggregate
from tradewire.data.catalog import ParquetDataCatalog
from tradewire.model import (
    AggressorSide,
    BarAggregation,
    BarSpecification,
    BarType,
    BookAction,
    BookSide,
    InstrumentId,
    OrderBookDelta,
    Price,
    PriceType,
    Quantity,
    QuoteTick,
    TradeId,
    TradeTick,
)
from tradewire.model.data import _BAR_FIELDS, _ORDERBOOKDELTA_FIELDS, _QUOTETICK_FIELDS, _TRADETICK_FIELDS, Bar

FIXTURE = Path(__file__).parents[2] / "fixtures" / "tardis" / "tardis_binance-futures_BTCUSDT_trades.csv"
BTC = InstrumentId("BTCUSDT.BINANCE")
ETH = InstrumentId("ETH/USDT.BINANCE")  # a '/' must survive as a directory name
S = 1_000_000_000
DAY = 86_400 * S
D0 = 18_314 * DAY  # 2020-02-22 00:00 UTC


@pytest.fixture(scope="module")
def trades() -> list[TradeTick]:
    out = []
    with FIXTURE.open(newline="") as fh:
        for row in csv.DictReader(fh):
            ts = int(row["timestamp"]) * 1000
            side = AggressorSide.BUYER if row["side"] == "buy" else AggressorSide.SELLER
            out.append(
                TradeTick(BTC, Price(row["price"], 2), Quantity(row["amount"], 3), side, TradeId(row["id"]), ts, ts + 7)
            )
    return out


def quotes(iid, n, start, step, prec=2):
    return [
        QuoteTick(
            iid,
            Price.from_raw(100 * S + i * 10**7, prec),
            Price.from_raw(100 * S + (i + 1) * 10**7, prec),
            Quantity.from_raw(i * 1000 + 1, 9),
            Quantity(str(i % 7), 0),
            start + i * step,
            start + i * step + 1,
        )
        for i in range(n)
    ]


def synthetic_trades(iid, n, start, step):
    sides = list(AggressorSide)
    return [
        TradeTick(
            iid,
            Price(f"{2000 + i % 13}.5", 1),
            Quantity(f"0.00{i % 9 + 1}", 3),
            sides[i % 3],
            TradeId(f"t{i}"),
            start + i * step,
            start + i * step,
        )
        for i in range(n)
    ]


def deltas(n_batches, start):
    out = []
    for b in range(n_batches):
        ts = start + b * S
        if b == 0:
            out.append(OrderBookDelta(BTC, BookAction.CLEAR, BookSide.BID, Price(0, 0), Quantity(0, 0), 2, 0, ts, ts))
        for j in range(3):
            side = BookSide.BID if j % 2 == 0 else BookSide.ASK
            act = [BookAction.ADD, BookAction.UPDATE, BookAction.DELETE][(b + j) % 3]
            flags = OrderBookDelta.F_LAST if j == 2 else 0
            size = Quantity("0", 3) if act is BookAction.DELETE else Quantity(f"{j + 1}.25{b % 10}", 3)
            out.append(
                OrderBookDelta(BTC, act, side, Price(f"{100 + j}.0{b % 10}", 2), size, flags, 50_000 + b, ts, ts)
            )
    return out


# the attributes of each data type (read from the module: a compiled class has no __slots__ to list them)
_SLOTS = {QuoteTick: _QUOTETICK_FIELDS, TradeTick: _TRADETICK_FIELDS, Bar: _BAR_FIELDS,
          OrderBookDelta: _ORDERBOOKDELTA_FIELDS}  # fmt: skip


def same(a, b) -> bool:
    """Equality including display precision of every value."""

    def sig(o):
        vals = []
        for s in _SLOTS[type(o)]:
            v = getattr(o, s)
            vals.append((v.raw, v.precision) if hasattr(v, "precision") and hasattr(v, "raw") else v)
        return (type(o), vals)

    return [sig(x) for x in a] == [sig(x) for x in b]


def test_round_trip_each_type_is_exact(tmp_path, trades):
    cat = ParquetDataCatalog(tmp_path)
    qs = quotes(BTC, 500, D0, 10**6)
    bars = aggregate(trades, BarType(BTC, BarSpecification(1, BarAggregation.MINUTE, PriceType.LAST)))
    ds_ = deltas(50, D0)
    assert cat.write([*trades, *qs, *bars, *ds_]) == len(trades) + len(qs) + len(bars) + len(ds_)
    assert same(cat.trade_ticks([BTC]), trades)
    assert same(cat.quote_ticks([BTC]), qs)
    assert same(cat.bars([bars[0].bar_type]), bars)
    assert same(cat.order_book_deltas([BTC]), ds_)  # batch order and flags kept


def test_partitioned_by_type_key_and_utc_day(tmp_path):
    cat = ParquetDataCatalog(tmp_path)
    qs = quotes(ETH, 30, D0 + DAY - 10 * S, S)  # crosses midnight UTC
    cat.write(qs)
    files = cat.partitions("quotes", str(ETH))
    assert [f.name for f in files] == ["2020-02-22.parquet", "2020-02-23.parquet"]
    assert files[0].parent.name == "ETH%2FUSDT.BINANCE"
    assert [pq.read_metadata(f).num_rows for f in files] == [10, 20]
    assert cat.keys("quotes") == [str(ETH)]
    (entry,) = cat.list()
    assert (entry.data_type, entry.key, entry.rows, entry.partitions) == ("quotes", str(ETH), 30, 2)
    assert (entry.first_ts, entry.last_ts) == (qs[0].ts_event, qs[-1].ts_event)
    d = entry.to_dict()
    assert d["first_utc"] == "2020-02-22T23:59:50.000000000Z"
    json.dumps(d)


def test_time_range_query_is_half_open_and_skips_row_groups(tmp_path, trades, monkeypatch):
    cat = ParquetDataCatalog(tmp_path, row_group_size=1000, batch_size=500)
    cat.write(trades)
    start, end = trades[4000].ts_event, trades[4200].ts_event
    expected = [t for t in trades if start <= t.ts_event < end]
    read_groups = []
    orig = pq.ParquetFile.iter_batches

    def spy(self, *a, **kw):
        read_groups.append(list(kw["row_groups"]))
        return orig(self, *a, **kw)

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", spy)
    got = cat.trade_ticks([BTC], start, end)
    assert same(got, expected) and len(got) > 150
    assert (
        read_groups
        and len(read_groups[0]) <= 2 < pq.read_metadata(cat.partitions("trades", str(BTC))[0]).num_row_groups
    )
    assert cat.trade_ticks([BTC], end=trades[0].ts_event) == []
    assert len(cat.trade_ticks([BTC], start=trades[-1].ts_event)) == sum(
        t.ts_event == trades[-1].ts_event for t in trades
    )
    tbl = cat.query_table("trades", [str(BTC)], start, end)
    assert tbl.num_rows == len(expected) and tbl.column("price").to_pylist() == [t.price.raw for t in expected]


def test_writing_twice_does_not_duplicate_and_keeps_genuine_repeats(tmp_path, trades):
    cat = ParquetDataCatalog(tmp_path)
    cat.write(trades[:6000])
    cat.write(trades[:6000])
    assert cat.list()[0].rows == 6000
    cat.write(trades[3000:])  # overlapping append
    assert same(cat.trade_ticks(), trades)
    q = quotes(BTC, 1, D0, 1)[0]
    rep = [q, q, q]  # three identical quotes in one nanosecond are three messages
    cat.write(rep)
    cat.write(rep)
    cat.write(rep[:1])
    assert len(cat.quote_ticks()) == 3


def test_write_in_chunks_equals_single_write(tmp_path, trades):
    a, b = ParquetDataCatalog(tmp_path / "a"), ParquetDataCatalog(tmp_path / "b")
    a.write(trades)
    b.write(iter(trades), chunk_rows=777)
    assert same(a.trade_ticks(), b.trade_ticks())
    assert not (tmp_path / "b" / ".staging").exists()


def build_two_by_two(tmp_path):
    cat = ParquetDataCatalog(tmp_path, batch_size=64)
    data = [
        *quotes(BTC, 400, D0, 517 * S // 1000),
        *quotes(ETH, 300, D0 + 3, 701 * S // 1000),
        *synthetic_trades(BTC, 350, D0 + 5, 1999 * S // 1000),
        *synthetic_trades(ETH, 250, D0, 1013 * S // 1000),
    ]
    # spread over three days so each stream has several partitions
    data += [*quotes(BTC, 50, D0 + DAY, S), *synthetic_trades(ETH, 40, D0 + 2 * DAY, S)]
    cat.write(data)
    return cat, data


def test_merged_replay_is_ordered_and_complete(tmp_path):
    cat, data = build_two_by_two(tmp_path)
    out = list(cat.replay(["quotes", "trades"], [BTC, ETH]))
    assert len(out) == len(data)
    keys = [(o.ts_event, o.ts_init) for o in out]
    assert keys == sorted(keys)

    def ident(o):
        return (type(o).__name__, str(o.instrument_id), o.ts_event, o.ts_init, repr(o))

    assert sorted(map(ident, out)) == sorted(map(ident, data))
    only_eth_trades = list(cat.replay(["trades"], [ETH], start=D0 + DAY))
    assert len(only_eth_trades) == 40


def test_replay_streams_lazily(tmp_path):
    cat, data = build_two_by_two(tmp_path)
    total = sum(len(cat.partitions(dt, str(k))) for dt in ("quotes", "trades") for k in (BTC, ETH))
    assert total == 6
    opened = []
    real_open = cat._open_partition

    def counting(path):
        opened.append(path)
        return real_open(path)

    cat._open_partition = counting  # type: ignore[method-assign]
    it = cat.replay(["quotes", "trades"])
    assert opened == []  # nothing read before the first object is asked for
    first = next(it)
    assert first.ts_event == D0
    assert len(opened) == 4 < total  # one file per stream, not the whole catalog
    rest = list(it)
    assert len(rest) + 1 == len(data) and len(opened) == total


def test_errors_name_the_problem(tmp_path):
    cat = ParquetDataCatalog(tmp_path)
    with pytest.raises(TypeError, match="object #1 is a str"):
        cat.write([quotes(BTC, 1, D0, 1)[0], "nope"])
    assert cat.list() == []
    with pytest.raises(ValueError, match="unknown data type"):
        list(cat.replay(["ticks"]))
    big = QuoteTick(BTC, Price.from_raw(2**63, 2), Price("1", 2), Quantity("1", 0), Quantity("1", 0), D0, D0)
    with pytest.raises(OverflowError, match="bid_price does not fit int64"):
        cat.write([big])
    bad = tmp_path / "trades" / "X.Y"
    bad.mkdir(parents=True)
    (bad / "2020-01-01.parquet").write_bytes(b"not parquet")
    with pytest.raises(ValueError, match=r"X\.Y/2020-01-01\.parquet: not a readable Parquet file"):
        cat.list()

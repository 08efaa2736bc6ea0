"""``tradewire backtest``: run a strategy over a recorded bar file and print the results."""

from __future__ import annotations

import csv
import json
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from tradewire.model.data import Bar, BarType
from tradewire.model.enums import AssetClass, InstrumentClass
from tradewire.model.instruments import Instrument
from tradewire.model.objects import FIXED_SCALAR, Currency, Money, Price, Quantity


def _parse_params(params: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for p in params:
        key, eq, value = p.partition("=")
        if not eq or not key:
            raise typer.BadParameter(f"--param must be key=value, got {p!r}")
        out[key.strip()] = value.strip()
    return out


def instrument_for_bars(bar_type: BarType, bars: list[Bar], currency: Currency, size_precision: int) -> Instrument:
    """A cash-settled instrument for a bar file: price precision from the bars, tick = 10**-precision.

    Equities for the ``SIM`` venue of Yahoo-style files; other sources are treated as crypto-like
    instruments quoted in ``currency``. No fees unless given on the command line.
    """
    prec = max(b.close.precision for b in bars[:1000]) if bars else 2
    iid = bar_type.instrument_id
    asset = AssetClass.EQUITY if bar_type.spec.aggregation.value == "day" else AssetClass.CRYPTO
    return Instrument(
        id=iid,
        asset_class=asset,
        instrument_class=InstrumentClass.SPOT,
        quote_currency=currency,
        settlement_currency=currency,
        price_precision=prec,
        tick_size=Price.from_raw(FIXED_SCALAR // 10**prec, prec),
        size_precision=size_precision,
        lot_size=Quantity.from_raw(FIXED_SCALAR // 10**size_precision, size_precision),
    )


def _iso(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).isoformat().replace("+00:00", "Z")


def write_trades_csv(trades, path: Path) -> None:
    """One row per closed trade: entry/exit ts, side, quantity, entry/exit price, P&L, fees, net P&L."""
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["entry_ts", "exit_ts", "instrument_id", "side", "quantity", "entry_price", "exit_price", "pnl",
                    "fees", "net_pnl", "currency"])  # fmt: skip
        for t in trades:
            w.writerow([_iso(t.entry_ts), _iso(t.exit_ts), t.instrument_id, t.side, t.quantity, t.entry_price,
                        t.exit_price, t.pnl, t.fees, t.net_pnl, t.currency])  # fmt: skip


def _iso_ns(text: str | None) -> int | None:
    if text is None:
        return None
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        raise ValueError(f"time {text!r} needs a timezone (e.g. 2024-01-01T00:00:00Z)")
    return int(dt.timestamp()) * 1_000_000_000 + dt.microsecond * 1000


def _catalog_bars(root: Path, bar_type: str | None, start: str | None, end: str | None) -> tuple[BarType, list[Bar]]:
    """Bars of ``bar_type`` from a Parquet catalog (ValueError when missing or ambiguous)."""
    from tradewire.data.catalog import ParquetDataCatalog

    if not root.is_dir():
        raise ValueError(f"no catalog at {root}")
    cat = ParquetDataCatalog(root)
    if bar_type is None:
        types = cat.keys("bars")
        if len(types) != 1:
            raise ValueError(f"--bar-type is needed: the catalog holds bar types {types}")
        bar_type = types[0]
    bt = BarType.from_str(bar_type)
    bars = cat.bars([bt], _iso_ns(start), _iso_ns(end))
    return bt, bars


def backtest(
    data: Annotated[
        Path | None, typer.Option("--data", help="Recorded bar file (CSV, feather, JSON, zip ...).")
    ] = None,
    strategy: Annotated[str, typer.Option(help="Strategy name.")] = "sma_cross",
    param: Annotated[list[str] | None, typer.Option("--param", help="Strategy parameter key=value (repeat).")] = None,
    fill: Annotated[str, typer.Option(help="Market order fills: next-open or close.")] = "next-open",
    fmt: Annotated[str | None, typer.Option("--format", help="Data format (auto-detected if omitted).")] = None,
    cash: Annotated[str, typer.Option(help="Starting cash.")] = "100000",
    currency: Annotated[str, typer.Option(help="Account currency.")] = "USD",
    quantity: Annotated[str, typer.Option(help="Order size in units.")] = "1",
    taker_fee: Annotated[str, typer.Option(help="Taker fee rate, e.g. 0.001 = 10 bps.")] = "0",
    trades_out: Annotated[Path | None, typer.Option("--trades-out", help="Write closed trades to this CSV.")] = None,
    chart: Annotated[Path | None, typer.Option("--chart", help="Write the equity curve to this PNG.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as one JSON object.")] = False,
    catalog: Annotated[
        Path | None, typer.Option("--catalog", help="Read bars from this Parquet catalog instead of --data.")
    ] = None,
    bar_type_opt: Annotated[
        str | None, typer.Option("--bar-type", help="With --catalog: bars to read, e.g. ORCL.SIM-1-DAY-LAST.")
    ] = None,
    start: Annotated[str | None, typer.Option(help="With --catalog: first bar close (ISO UTC), inclusive.")] = None,
    end: Annotated[str | None, typer.Option(help="With --catalog: last bar close (ISO UTC), exclusive.")] = None,
) -> None:
    """Backtest a strategy on a bar file and print the results."""
    from dataclasses import replace

    from tradewire.analysis.charts import write_equity_chart
    from tradewire.data.loaders.bars import default_bar_type, load_bars
    from tradewire.data.loaders.errors import DataFormatError
    from tradewire.node.backtest import BacktestEngine
    from tradewire.node.kernel import VenueConfig
    from tradewire.strategy.examples import STRATEGIES
    from tradewire.venues.paper.config import BarFillMode, PaperVenueConfig

    err = Console(stderr=True)
    if strategy not in STRATEGIES:
        raise typer.BadParameter(f"unknown strategy {strategy!r}; known: {', '.join(sorted(STRATEGIES))}")
    fill_mode = {"next-open": BarFillMode.NEXT_OPEN, "close": BarFillMode.CLOSE}.get(fill)
    if fill_mode is None:
        raise typer.BadParameter("--fill must be next-open or close")
    if (data is None) == (catalog is None):
        raise typer.BadParameter("give exactly one of --data FILE or --catalog DIR --bar-type TYPE")
    try:
        if catalog is not None:
            bar_type, bars = _catalog_bars(catalog, bar_type_opt, start, end)
            data = catalog
        else:
            if not data.exists():
                raise typer.BadParameter(f"no such file: {data}")
            bar_type = default_bar_type(data, fmt)
            bars = load_bars(data, format=fmt, bar_type=bar_type)
    except (DataFormatError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if not bars:
        typer.echo(f"error: {data} holds no bars", err=True)
        raise typer.Exit(2)
    cur = Currency.from_str(currency)
    qty_prec = len(quantity.partition(".")[2])
    inst = instrument_for_bars(bar_type, bars, cur, qty_prec)
    if Decimal(taker_fee):
        inst = replace(inst, taker_fee=Decimal(taker_fee), maker_fee=Decimal(taker_fee))
    params = _parse_params(param or [])
    config = {**params, "bar_type": bar_type, "quantity": quantity}
    engine = BacktestEngine(periods_per_year=252 if inst.asset_class is AssetClass.EQUITY else 365)
    engine.add_venue(
        VenueConfig(
            str(bar_type.instrument_id.venue), [Money(cash, cur)], paper=PaperVenueConfig(bar_fill_mode=fill_mode)
        )
    )
    engine.add_instrument(inst)
    engine.add_data(bars)
    engine.add_strategy(STRATEGIES[strategy](f"{strategy}-001", config))
    with Progress(
        TextColumn("backtest"), BarColumn(), TextColumn("{task.completed:,}/{task.total:,} events"),
        TimeRemainingColumn(), console=err, transient=True, disable=not sys.stderr.isatty(),
    ) as prog:  # fmt: skip
        task = prog.add_task("run", total=len(bars))
        result = engine.run(progress=lambda done, total: prog.update(task, completed=done, total=total))
    if trades_out is not None:
        write_trades_csv(result.trades, trades_out)
    if chart is not None and result.equity_curve:
        write_equity_chart(result.equity_curve, chart, title=f"{strategy} on {bar_type}")
    summary = {"data": str(data), "bar_type": str(bar_type), "strategy": strategy, "params": params,
               "fill": fill, **result.summary}  # fmt: skip
    if as_json:
        typer.echo(json.dumps(summary, default=str))
        return
    table = Table(title=f"{strategy} on {bar_type} ({len(bars):,} bars, fills at {fill})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in ("starting_equity", "final_equity", "total_pnl", "total_return_pct", "max_drawdown_pct", "sharpe",
                "trades", "fills", "win_rate_pct", "profit_factor", "fees", "events_per_second"):  # fmt: skip
        v = summary.get(key)
        table.add_row(key, f"{v:,.2f}" if isinstance(v, float) else str(v))
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add ``backtest`` to the main app."""
    app.command("backtest")(backtest)

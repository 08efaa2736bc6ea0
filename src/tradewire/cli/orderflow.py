"""``tradewire orderflow``: order-flow metrics and signals for a recorded session.

Reads a Binance combined-stream capture (``<recv_ns> <json>`` lines, gzip or plain) or a Databento MBO
file (``.dbn`` / ``.dbn.zst``), replays it through the same ``DataEngine`` -> ``OrderFlowEngine`` path a
live node uses, and prints the session totals, the last footprint bar and the signals; ``--json`` prints
one JSON object; ``--plot`` draws price with VWAP bands, cumulative volume delta and the signals to a PNG
(or an HTML page holding the chart as inline SVG).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Annotated, Any

import typer

_SECOND = 1_000_000_000


def run_session(
    path: Path, symbol: str | None = None, venue: str | None = None, config: Any = None, sample_ns: int = _SECOND
) -> dict[str, Any]:
    """Replay a recorded session through a DataEngine and an OrderFlowEngine.

    Returns
    -------
    dict
        ``session`` (RecordedSession), ``engine`` (OrderFlowEngine), ``state`` (its InstrumentOrderFlow),
        ``signals`` (list of OrderFlowSignal in order) and ``series``: per ``sample_ns`` of event time,
        ``(ts, price, cvd_raw, vwap, vwap_std)`` with the mid (or last trade) price as float; VWAP and its
        standard deviation are the running session figures (None before the first trade).

    Raises
    ------
    DataFormatError, FileNotFoundError
        From :func:`tradewire.orderflow.sessions.load_session`.
    """
    from tradewire.core.bus import MessageBus
    from tradewire.core.cache import Cache
    from tradewire.core.clock import TestClock
    from tradewire.data.engine import DataEngine
    from tradewire.orderflow.engine import OrderFlowConfig, OrderFlowEngine
    from tradewire.orderflow.sessions import load_session

    session = load_session(path, symbol, venue)
    bus, cache, clock = MessageBus(), Cache(), TestClock(0)
    cache.add_instrument(session.instrument)
    de = DataEngine(bus, cache, clock)
    engine = OrderFlowEngine(bus, cache, clock, de, config or OrderFlowConfig(session_ns=None))
    st = engine.subscribe(session.instrument.id)
    signals: list[Any] = []
    bus.subscribe(f"events.orderflow.{session.instrument.id}", signals.append)
    series: list[tuple[int, float, int, float | None, float | None]] = []
    process = de.process
    next_sample = None
    for it in session.items:
        if type(it) is list:
            clock.set_time(max(clock.timestamp_ns(), it[-1].ts_event))
            for d in it:
                process(d)
        else:
            clock.set_time(max(clock.timestamp_ns(), it.ts_event))
            process(it)
        now = st.now
        if next_sample is None:
            next_sample = now - now % sample_ns + sample_ns
        if now >= next_sample:
            mid2 = st.book.mid2_raw
            px = mid2 / 2e9 if mid2 is not None else (st.last_price_raw or 0) / 1e9
            v = st.vwap.vwap
            series.append((now, px, st.cvd.session_raw, None if v is None else float(v), st.vwap.std))
            next_sample = now - now % sample_ns + sample_ns
    engine.flush()
    return {"session": session, "engine": engine, "state": st, "signals": signals, "series": series}


def write_plot(result: dict[str, Any], out: Path) -> None:
    """Draw price + VWAP bands, CVD and signals; PNG for ``*.png``, HTML with inline SVG for ``*.html``.

    Raises
    ------
    ValueError
        For another file extension, or a session without samples.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    suffix = out.suffix.lower()
    if suffix not in (".png", ".html", ".htm"):
        raise ValueError(f"--plot must end in .png or .html, got {out.name}")
    series = result["series"]
    if not series:
        raise ValueError("the session produced no samples to plot")
    st = result["state"]
    t0 = series[0][0]
    xs = [(s[0] - t0) / _SECOND for s in series]
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(11, 7), sharex=True, height_ratios=(3, 2))
    ax1.plot(xs, [s[1] for s in series], lw=0.9, color="black", label="mid / last")
    vw = [s[3] for s in series]
    ax1.plot(xs, vw, lw=0.9, color="tab:blue", label="VWAP")
    for k in (1, 2):
        for sgn in (1, -1):
            band = [s[3] + sgn * k * s[4] if s[3] is not None else None for s in series]
            ax1.plot(xs, band, lw=0.6, ls="--", color="tab:blue")
    colors = {"large_order": "tab:purple", "absorption": "tab:green", "exhaustion": "tab:red",
              "imbalance": "tab:orange", "iceberg": "tab:cyan"}  # fmt: skip
    for kind, color in colors.items():
        pts = [s for s in result["signals"] if str(s.kind) == kind and s.price is not None]
        if pts:
            ax1.scatter([(s.ts_event - t0) / _SECOND for s in pts], [float(s.price) for s in pts],
                        marker="^", s=14, color=color, label=kind, alpha=0.8)  # fmt: skip
    ax1.set_ylabel("price")
    ax1.legend(loc="upper left", fontsize=7, ncol=4)
    ax1.set_title(f"{st.instrument_id} order flow (VWAP with 1 and 2 sigma bands)")
    scale = 10.0**9
    ax2.plot(xs, [s[2] / scale for s in series], lw=0.9, color="tab:green")
    ax2.axhline(0, lw=0.5, color="grey")
    ax2.set_ylabel("cumulative volume delta")
    ax2.set_xlabel("seconds from session start")
    fig.tight_layout()
    if suffix == ".png":
        fig.savefig(out, dpi=110)
    else:
        buf = io.StringIO()
        fig.savefig(buf, format="svg")
        totals = json.dumps(st.totals(), indent=2)
        out.write_text(
            f"<!doctype html><html><head><meta charset='utf-8'><title>{st.instrument_id} order flow</title></head>"
            f"<body><h1>{st.instrument_id} order flow</h1>{buf.getvalue()}<h2>Totals</h2><pre>{totals}</pre>"
            "</body></html>",
            encoding="utf-8",
        )
    plt.close(fig)


def orderflow(
    data: Annotated[Path, typer.Option("--data", help="Binance capture (.gz / text) or Databento MBO (.dbn.zst).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the totals as one JSON object.")] = False,
    plot: Annotated[Path | None, typer.Option("--plot", help="Write a chart to out.png or out.html.")] = None,
    symbol: Annotated[str | None, typer.Option(help="Binance: symbol of the capture (default BTCUSDT).")] = None,
    venue: Annotated[str | None, typer.Option(help="Binance: venue code (default BINANCE).")] = None,
    bar_seconds: Annotated[int, typer.Option("--bar-seconds", help="Footprint bar length in seconds.")] = 60,
    row: Annotated[
        str | None, typer.Option(help="Footprint/profile row height as a price (default automatic).")
    ] = None,
) -> None:
    """Compute order-flow metrics and signals for a recorded session."""
    from rich.console import Console
    from rich.table import Table

    from tradewire.data.loaders.errors import DataFormatError
    from tradewire.model.objects import parse_raw
    from tradewire.orderflow.engine import OrderFlowConfig

    err = Console(stderr=True)
    if bar_seconds <= 0:
        raise typer.BadParameter("--bar-seconds must be positive")
    try:
        row_raw = parse_raw(row) if row else None
    except (ValueError, TypeError) as exc:
        raise typer.BadParameter(f"--row: {exc}") from None
    if row_raw is not None and row_raw <= 0:
        raise typer.BadParameter("--row must be positive")
    cfg = OrderFlowConfig(session_ns=None, footprint_interval_ns=bar_seconds * _SECOND, row_raw=row_raw)
    try:
        result = run_session(data, symbol, venue, cfg)
    except (DataFormatError, FileNotFoundError, ValueError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    st = result["state"]
    totals = {"data": str(data), "source": result["session"].source, **st.totals()}
    if plot is not None:
        try:
            write_plot(result, plot)
        except ValueError as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(totals))
        return
    con = Console()
    table = Table(title=f"order flow of {st.instrument_id} ({data.name})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for k, v in totals.items():
        if isinstance(v, dict):
            v = ", ".join(f"{a}={b}" for a, b in v.items())
        table.add_row(k, str(v))
    con.print(table)
    fp = st.footprint.bars[-1] if st.footprint is not None and st.footprint.bars else None
    if fp is not None:
        d = fp.to_dict(st.price_precision, st.size_precision, cfg.imbalance_ratio, cfg.stacked_rows)
        ft = Table(title=f"last footprint bar ({d['trades']} trades, volume {d['volume']}, delta {d['delta']})")
        for c in ("price", "bid (sells)", "ask (buys)", "imbalance"):
            ft.add_column(c, justify="right")
        for r in d["rows"][:30]:
            ft.add_row(r["price"], r["bid"], r["ask"], {1: "buy", -1: "sell"}.get(r["imbalance"], ""))
        con.print(ft)
    sigs = result["signals"][-10:]
    if sigs:
        stb = Table(title=f"last {len(sigs)} signals")
        for c in ("ts_event", "kind", "strength", "price"):
            stb.add_column(c)
        for s in sigs:
            stb.add_row(str(s.ts_event), str(s.kind), f"{s.strength:+.2f}", str(s.price or ""))
        con.print(stb)


def register(app: typer.Typer) -> None:
    """Add ``orderflow`` to the main app."""
    app.command("orderflow")(orderflow)

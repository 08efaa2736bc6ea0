"""``tradewire export trades|orders|fills``: the read models as CSV or Parquet, by time range."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from enum import Enum

import typer


class What(str, Enum):
    """What to export."""

    trades = "trades"
    orders = "orders"
    fills = "fills"


class Fmt(str, Enum):
    """Output format."""

    csv = "csv"
    parquet = "parquet"


_TABLE = {"trades": ("closed_trades", "ts_exit"), "orders": ("orders", "ts_init"), "fills": ("fills", "ts_event")}


def parse_ts(text: str | None, option: str) -> int | None:
    """Parse an ISO 8601 date or datetime (naive = UTC) into UTC ns.

    Raises
    ------
    typer.BadParameter
        Naming the option and the text when it is not ISO 8601.
    """
    if text is None:
        return None
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{option}: {text!r} is not an ISO 8601 date/time") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp()) * 1_000_000_000 + dt.microsecond * 1000


def export_rows(db_url: str | None, what: str, since_ns: int | None, until_ns: int | None) -> list[dict]:
    """Rebuild the read models and return the rows of ``what`` with ``since <= ts < until`` (UTC ns)."""
    from tradewire.persistence import open_store
    from tradewire.persistence.read_models import read_table, rebuild_read_models

    table, ts_col = _TABLE[what]
    with open_store(db_url) as store:
        rebuild_read_models(store)
        rows = read_table(store, table)
    return [
        r for r in rows if (since_ns is None or r[ts_col] >= since_ns) and (until_ns is None or r[ts_col] < until_ns)
    ]


def register(app: typer.Typer) -> None:
    """Attach the ``export`` command to ``app``."""

    @app.command("export")
    def export_cmd(
        what: What = typer.Argument(..., help="trades (closed round trips), orders or fills."),
        fmt: Fmt = typer.Option(Fmt.csv, "--format", help="csv or parquet."),
        since: str = typer.Option(None, help="ISO date/time (UTC if no offset), inclusive."),
        until: str = typer.Option(None, help="ISO date/time (UTC if no offset), exclusive."),
        out: str = typer.Option(None, help="Output file (default: stdout for csv; required for parquet)."),
        db_url: str = typer.Option(None, "--db", help="Database URL (default: TRADEWIRE_DATABASE_URL)."),
    ) -> None:  # fmt: skip
        """Export closed trades, orders or fills. Amounts are exact decimal strings."""
        import pyarrow as pa
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        rows = export_rows(db_url, what.value, parse_ts(since, "--since"), parse_ts(until, "--until"))
        from tradewire.persistence.read_models import _TABLES

        cols = [c.name for c in _TABLES[_TABLE[what.value][0]].columns]
        table = pa.Table.from_pylist(rows) if rows else pa.table({c: pa.array([], pa.string()) for c in cols})
        if fmt is Fmt.parquet:
            if not out:
                raise typer.BadParameter("--out is required for parquet")
            pq.write_table(table, out)
        elif out:
            pacsv.write_csv(table, out)
        else:
            sink = pa.BufferOutputStream()
            pacsv.write_csv(table, sink)
            sys.stdout.write(sink.getvalue().to_pybytes().decode())
        if out:
            typer.echo(f"{len(rows)} {what.value} -> {out}", err=True)

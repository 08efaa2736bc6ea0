"""Equity-curve chart written as PNG (matplotlib, headless Agg backend)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path


def write_equity_chart(
    curve: Sequence[tuple[int, Decimal]], path: str | Path, title: str = "Equity", max_points: int = 5000
) -> Path:
    """Plot ``curve`` ((ts_ns, equity) in time order) to a PNG file and return its path.

    At most ``max_points`` samples are drawn (evenly strided, always keeping the last one).

    Raises
    ------
    ValueError
        If ``curve`` is empty.
    """
    if not curve:
        raise ValueError("empty equity curve: nothing to plot")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    step = max(1, len(curve) // max_points)
    pts = list(curve[::step])
    if pts[-1] is not curve[-1]:
        pts.append(curve[-1])
    xs = [datetime.fromtimestamp(ts / 1e9, tz=UTC) for ts, _ in pts]
    ys = [float(e) for _, e in pts]
    fig, ax = plt.subplots(figsize=(10, 4), dpi=100)
    ax.plot(xs, ys, linewidth=1.0, color="#1f77b4")
    ax.set_title(title)
    ax.set_ylabel("equity")
    ax.grid(True, alpha=0.3)
    fig.autofmt_xdate()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out

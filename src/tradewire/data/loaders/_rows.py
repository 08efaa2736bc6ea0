"""Two-pass helper shared by the tick loaders: infer precisions from the text, then build objects."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from tradewire.model.objects import FIXED_PRECISION, Price, Quantity

from ._common import text_decimals, text_raw

#: A parsed row: (line, fields...) where the fields named by the caller's index lists are decimal texts.
Row = tuple[Any, ...]


def infer(rows: Iterable[Row], price_idx: tuple[int, ...], size_idx: tuple[int, ...]) -> tuple[int, int]:
    """Largest decimals written among the price fields and among the size fields of ``rows``."""
    p = s = 0
    for r in rows:
        for i in price_idx:
            v = r[i]
            if v:
                d = text_decimals(v)
                if d > p:
                    p = d
        for i in size_idx:
            v = r[i]
            if v:
                d = text_decimals(v)
                if d > s:
                    s = d
    return min(p, FIXED_PRECISION), min(s, FIXED_PRECISION)


def precisions(
    rows_fn: Callable[[], Iterator[Row]], price_idx: tuple[int, ...], size_idx: tuple[int, ...],
    price_precision: int | None, size_precision: int | None,
) -> tuple[int, int]:  # fmt: skip
    """The given precisions, or those inferred by one extra pass over ``rows_fn()``."""
    if price_precision is not None and size_precision is not None:
        return price_precision, size_precision
    p, s = infer(rows_fn(), price_idx, size_idx)
    return (p if price_precision is None else price_precision), (s if size_precision is None else size_precision)


class Maker:
    """Builds exact `Price`/`Quantity` values at fixed precisions, naming file and line on error."""

    __slots__ = ("path", "pp", "sp")

    def __init__(self, path: str | Path, pp: int, sp: int) -> None:
        self.path = path
        self.pp = pp
        self.sp = sp

    def price(self, text: str, line: int | None, what: str = "price", record: int | None = None) -> Price:
        return Price.from_raw(text_raw(text, self.pp, self.path, line, what, record=record), self.pp)

    def size(self, text: str, line: int | None, what: str = "size", record: int | None = None) -> Quantity:
        raw = text_raw(text, self.sp, self.path, line, what, record=record)
        if raw < 0:
            from .errors import DataFormatError

            raise DataFormatError(self.path, f"negative {what} {text}", line=line, record=record)
        return Quantity.from_raw(raw, self.sp)

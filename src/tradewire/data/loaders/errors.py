"""Errors raised by the file loaders."""

from __future__ import annotations

from pathlib import Path


class DataFormatError(ValueError):
    """A data file does not match the format it is read as.

    The message always names the file and where in it the problem is: a 1-based ``line`` for text
    formats, a byte ``offset`` for binary formats, or a record index where neither applies.

    Parameters
    ----------
    path : str | Path
        The file (for a member of an archive: ``archive.zip!member.csv``).
    message : str
        What was wrong.
    line : int | None
        1-based line number in the (decompressed) text.
    offset : int | None
        0-based byte offset in the (decompressed) binary payload.
    record : int | None
        0-based record index, for formats without lines (e.g. DBN, Parquet rows).
    """

    def __init__(
        self, path: str | Path, message: str, *, line: int | None = None, offset: int | None = None,
        record: int | None = None,
    ) -> None:  # fmt: skip
        self.path = str(path)
        self.line = line
        self.offset = offset
        self.record = record
        self.reason = message
        where = self.path
        if line is not None:
            where += f", line {line}"
        if offset is not None:
            where += f", byte offset {offset}"
        if record is not None:
            where += f", record {record}"
        super().__init__(f"{where}: {message}")

"""Persistence of the risk state (trading state, last breach, rule peaks) across restarts.

The engine talks to a :class:`RiskStateStore`; the default :class:`JsonFileRiskStateStore` writes one
small JSON document atomically (temp file in the same directory, ``fsync``, ``os.replace``, then
``fsync`` of the directory), so a crash leaves either the old or the new state, never a torn file.
The persistence layer can supply its own store (e.g. a database row) with the same two methods.

This module stays interpreted in the optional mypyc build: mypyc cannot build a ``@runtime_checkable``
``Protocol``, and the stores are file I/O, off the order path.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

STATE_VERSION = 1


class RiskStateError(RuntimeError):
    """The persisted risk state cannot be read; the message names the file."""


@runtime_checkable
class RiskStateStore(Protocol):
    """Load and save the risk engine's state document (a JSON-compatible dict)."""

    def load(self) -> dict[str, Any] | None:
        """Return the last saved state, or None if nothing was saved yet."""
        ...

    def save(self, state: dict[str, Any]) -> None:
        """Persist ``state`` durably before returning."""
        ...


class MemoryRiskStateStore:
    """In-process store (backtests, tests): keeps a deep copy of the last saved document."""

    def __init__(self) -> None:
        self._text: str | None = None
        self.save_count = 0

    def load(self) -> dict[str, Any] | None:
        """The last saved state or None."""
        return None if self._text is None else json.loads(self._text)

    def save(self, state: dict[str, Any]) -> None:
        """Keep a copy of ``state`` (serialized, so later mutation by the caller does not leak in)."""
        self._text = json.dumps(state, sort_keys=True)
        self.save_count += 1


class JsonFileRiskStateStore:
    """Atomic JSON file store.

    Parameters
    ----------
    path : str | Path
        The state file; its directory is created if missing.

    Raises
    ------
    RiskStateError
        From :meth:`load` if the file is not valid JSON or not a state document of a known version
        (a corrupt risk state must never be read as "no state", which would silently un-halt).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.save_count = 0

    def load(self) -> dict[str, Any] | None:
        """Read the state file; None if it does not exist."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            state = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RiskStateError(
                f"{self.path}: corrupt risk state at line {exc.lineno} column {exc.colno} (byte {exc.pos}): {exc.msg}"
            ) from None
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            raise RiskStateError(f"{self.path}: not a risk state document of version {STATE_VERSION}")
        return state

    def save(self, state: dict[str, Any]) -> None:
        """Write ``state`` atomically and durably."""
        directory = self.path.parent
        directory.mkdir(parents=True, exist_ok=True)
        data = json.dumps(state, sort_keys=True, indent=1).encode("utf-8")
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        if hasattr(os, "O_DIRECTORY"):
            dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        self.save_count += 1

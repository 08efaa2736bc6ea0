"""Small file-system helpers shared by the stores."""

from __future__ import annotations

import os


def fdatasync_path(path: str | None) -> bool:
    """Flush the data of the file at ``path`` to the disk (``fdatasync(2)``).

    Returns
    -------
    bool
        True once flushed; False when there is no such file (no path, an in-memory database, a URI filename) or
        the flush failed. Callers use it to make a later sync cheaper, never for durability itself, so a False
        only means that later sync does the work.
    """
    if not path or path == ":memory:":
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        os.fdatasync(fd)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


__all__ = ["fdatasync_path"]

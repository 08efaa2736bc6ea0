"""fdatasync_path (used before a WAL RESTART): flushes a file, and says so; no file is not an error."""

from __future__ import annotations

from tradewire.core.wal import fdatasync_path


def test_flushes_an_existing_file(tmp_path):
    p = tmp_path / "x.db"
    p.write_bytes(b"abc")
    assert fdatasync_path(str(p)) is True
    assert p.read_bytes() == b"abc"


def test_no_file_is_reported_not_raised(tmp_path):
    assert fdatasync_path(None) is False
    assert fdatasync_path(":memory:") is False
    assert fdatasync_path(str(tmp_path / "missing.db")) is False
    assert fdatasync_path("file:x.db?mode=memory&uri=true") is False

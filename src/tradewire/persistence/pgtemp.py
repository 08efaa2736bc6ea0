"""Start a throw-away local PostgreSQL server (for tests, benchmarks and trying tradewire on PostgreSQL).

Uses the server binaries of the system's PostgreSQL installation (``initdb``/``pg_ctl``, found under
``/usr/lib/postgresql/<version>/bin`` or on ``PATH``). The cluster lives in a new temporary directory,
listens on 127.0.0.1 only (no Unix socket) on a free port, trusts local connections, and is removed
by :meth:`TempPostgres.stop`. PostgreSQL refuses to run as root; when the current user is root the
server commands run as the ``postgres`` system user through ``runuser``.

By default durability settings stay at the server defaults (``fsync=on``, ``synchronous_commit=on``) so
figures measured against it are honest; ``TempPostgres(fsync=False)`` turns fsync off for functional
tests that do not test power-loss durability (creating databases is then ~10x faster on a busy disk).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries were found, or the server did not start (message says why)."""


def find_pg_bin() -> Path | None:
    """Directory holding ``initdb`` and ``pg_ctl`` (newest installed version), or None."""
    cands = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name.split(".")[0])
    )
    if cands:
        return Path(cands[-1]).parent
    which = shutil.which("initdb")
    return Path(which).parent if which else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TempPostgres:
    """A temporary PostgreSQL cluster.

    Examples
    --------
    >>> pg = TempPostgres()  # doctest: +SKIP
    >>> url = pg.start()  # 'postgresql+psycopg://postgres@127.0.0.1:54321/postgres'
    >>> url2 = pg.create_database()  # a fresh, empty database
    >>> pg.stop()

    Raises
    ------
    PostgresUnavailable
        From :meth:`start` when the binaries are missing or the server fails to start (with its log).
    """

    def __init__(self, fsync: bool = True) -> None:
        self.fsync = fsync
        self.bin_dir = find_pg_bin()
        self.base: Path | None = None
        self.port: int | None = None
        self._as_user: list[str] = []

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        assert self.bin_dir is not None
        cmd = [*self._as_user, str(self.bin_dir / args[0]), *args[1:]]
        return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=120)

    def start(self) -> str:
        """Create and start the cluster; return a SQLAlchemy URL of its ``postgres`` database."""
        if self.bin_dir is None:
            raise PostgresUnavailable(
                "PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin or on PATH; "
                "install the 'postgresql' package (make system-deps)"
            )
        self.base = Path(tempfile.mkdtemp(prefix="tradewire-pg-"))
        if os.geteuid() == 0:
            import pwd

            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable("running as root and there is no 'postgres' system user") from None
            os.chown(self.base, pw.pw_uid, pw.pw_gid)
            self._as_user = ["runuser", "-u", "postgres", "--"]
        data = self.base / "data"
        try:
            self._run("initdb", "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        except subprocess.CalledProcessError as exc:
            raise PostgresUnavailable(f"initdb failed: {exc.stderr.strip()}") from None
        self.port = _free_port()
        opts = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=100"
        if not self.fsync:
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        res = self._run("pg_ctl", "-D", str(data), "-o", opts, "-l", str(self.base / "server.log"), "-w", "start",
                        check=False)  # fmt: skip
        if res.returncode != 0:
            log = (self.base / "server.log").read_text(errors="replace")[-2000:]
            raise PostgresUnavailable(f"pg_ctl start failed: {res.stderr.strip()}\n{log}")
        return self.url("postgres")

    def url(self, database: str) -> str:
        """SQLAlchemy URL of ``database`` on this server."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """Create an empty database (default: a random name) and return its URL."""
        import psycopg

        name = name or f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """Stop the server (immediate mode: the cluster is thrown away) and delete its directory (idempotent)."""
        if self.base is None:
            return
        if (self.base / "data" / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.base / "data"), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.base, ignore_errors=True)
        self.base = None


__all__ = ["PostgresUnavailable", "TempPostgres", "find_pg_bin"]

"""A throwaway PostgreSQL cluster for tests and benchmarks: ``initdb`` and ``pg_ctl`` in a
temporary folder, listening on a Unix socket only, stopped and removed afterwards.

PostgreSQL refuses to run as root (as CI does): then the cluster runs as ``nobody``
(``runuser``), in folders it owns; the tests connect through the socket as the cluster's
superuser ``daybook`` (trust authentication, reachable only through that socket's folder).
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

SUPERUSER = "daybook"


def server_bin() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl``, if the server binaries are installed."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.access(os.path.join(folder, "initdb"), os.X_OK):
            return Path(folder)
    return None


def _as_owner(command: list[str]) -> list[str]:
    """The command as the cluster's owner: ``nobody`` when we are root."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "nobody", "--", *command]


class Cluster:
    """A running throwaway cluster: ``url(name)`` of a new database in it."""

    def __init__(self, root: Path, socket: Path) -> None:
        self.root = root
        self.socket = socket
        self._names = itertools.count(1)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@/{database}?host={self.socket}"

    def new_database(self, prefix: str = "t") -> str:
        """A new empty database's URL."""
        import psycopg

        name = f"{prefix}{next(self._names)}_{os.getpid()}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextlib.contextmanager
def cluster() -> Iterator[Cluster]:
    """Start a cluster (fsync off: it is thrown away), yield it, then stop and remove it."""
    folder = server_bin()
    if folder is None:
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    root = Path(tempfile.mkdtemp(prefix="daybook-pg-"))
    root.chmod(0o755)  # the owner (nobody) goes through it
    data, socket = root / "data", root / "socket"
    data.mkdir()
    socket.mkdir()
    if os.geteuid() == 0:
        shutil.chown(data, "nobody")
        shutil.chown(socket, "nobody")
    try:
        subprocess.run(
            _as_owner([str(folder / "initdb"), "-D", str(data), "-A", "trust", "-U", SUPERUSER,
                       "-E", "UTF8", "--no-locale", "--no-sync"]),
            check=True, capture_output=True,
        )  # fmt: skip
        options = (
            f"-k {socket} -c listen_addresses= -c fsync=off -c synchronous_commit=off -c max_connections=60"
        )
        subprocess.run(
            _as_owner([str(folder / "pg_ctl"), "-D", str(data), "-l", str(socket / "server.log"),
                       "-o", options, "-w", "start"]),
            check=True, capture_output=True,
        )  # fmt: skip
        try:
            yield Cluster(root, socket)
        finally:
            subprocess.run(
                _as_owner([str(folder / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                capture_output=True,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)

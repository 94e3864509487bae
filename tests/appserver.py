"""The app as production runs it, for tests that need a real server process: the Dockerfile's own CMD under gunicorn.

Used by the deployment, log-canary, two-node and fault tests, so all of them exercise the same start command.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dockerfile_command() -> list[str]:
    line = next(line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD "))
    return json.loads(line[4:])


def shared_database_url(name: str | None = None) -> str:
    """The URL of the database this test runs against (or of another database ``name`` on the same server)."""
    s = {**connection.settings_dict}
    if name:
        s["NAME"] = name
    user = quote(s["USER"] or "")
    password = f":{quote(s['PASSWORD'])}" if s["PASSWORD"] else ""
    host = s["HOST"] or ""
    if host.startswith("/"):
        return f"postgres://{user}{password}@:{s['PORT'] or 5432}/{s['NAME']}?host={host}"
    return f"postgres://{user}{password}@{host or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class AppServer:
    """Start on a free loopback port with ``env`` (production settings), wait for /health/, stop on exit."""

    def __init__(self, env: dict[str, str], log: Path, *, workers: int = 1, threads: int = 1) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {**env, "MAIS_BIND": f"127.0.0.1:{self.port}", "MAIS_WORKERS": str(workers), "MAIS_THREADS": str(threads)}
        command = dockerfile_command()
        assert command[0] == "gunicorn"
        with log.open("wb") as handle:
            self.process = subprocess.Popen(  # noqa: S603 (the Dockerfile's own CMD)
                [str(BIN / command[0]), *command[1:]], cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT
            )
        from tests.security.http import Browser

        probe, deadline = Browser(self.base), time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if probe.get("/health/").status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise AssertionError(f"the app did not answer /health/ within 30 s:\n{log.read_text()[-3000:]}")

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)

    def __enter__(self) -> AppServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


STRONG_KEY = secrets.token_urlsafe(64)


def production_env(**extra: str) -> dict[str, str]:
    """Production settings with a strong random key; the caller adds DATABASE_URL and anything else."""
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE for their own process; a deployment never has it.
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAIS_") and k not in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update(
        MAIS_PRODUCTION="1",
        MAIS_SECRET_KEY=STRONG_KEY,
        MAIS_ALLOWED_HOSTS="mais.example.nhs.uk,127.0.0.1",
        DATABASE_URL="postgres://check@127.0.0.1:1/unused",
        MAIS_BEHIND_PROXY="1",
    )
    env.update(extra)
    return env

"""A consistent logical backup of the MAIS database (pg_dump custom format), audit trail included."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from mais.pgtools import ToolMissing, libpq_env, tool_for_server


class Command(BaseCommand):
    help = "Write a pg_dump (custom format) of the database to --out; restore it with restore_database."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--out", required=True, type=Path)

    def handle(self, *args: Any, out: Path, **options: Any) -> None:
        try:
            pg_dump = tool_for_server("pg_dump")
        except ToolMissing as exc:
            raise CommandError(str(exc)) from None
        settings_dict = connection.settings_dict
        out.parent.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(  # noqa: S603
            [str(pg_dump), "--format=custom", "--no-owner", "--no-privileges", f"--file={out}", str(settings_dict["NAME"])],
            env=libpq_env(settings_dict),
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise CommandError(f"pg_dump failed: {result.stderr.strip()}")
        out.chmod(0o600)
        self.stdout.write(f"Backup written to {out} ({out.stat().st_size} bytes) with {pg_dump}")

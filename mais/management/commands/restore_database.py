"""Restore a backup into a new, empty database, then check it: row counts per table and the audit chain.

Never restores over the live database: the target must not exist yet. Point DATABASE_URL at the
restored database (or rename it) only after the checks pass.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import psycopg2
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from psycopg2 import sql

from mais.pgtools import ToolMissing, libpq_env, tool_for_server


def _connect(settings_dict: dict[str, Any], name: str) -> Any:
    return psycopg2.connect(
        dbname=name,
        user=settings_dict["USER"] or None,
        password=settings_dict["PASSWORD"] or None,
        host=settings_dict["HOST"] or None,
        port=settings_dict["PORT"] or None,
    )


def table_counts(conn: Any) -> dict[str, int]:
    with conn.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        tables = [r[0] for r in cursor.fetchall()]
        out = {}
        for table in tables:
            cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
            out[table] = int(cursor.fetchone()[0])
    return out


class Command(BaseCommand):
    help = "Restore a backup_database file into a new database (--into) and report row counts per table."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--from", dest="source", required=True, type=Path)
        parser.add_argument("--into", required=True, help="Name of a database that does not exist yet")

    def handle(self, *args: Any, source: Path, into: str, **options: Any) -> None:
        settings_dict = connection.settings_dict
        if into == settings_dict["NAME"]:
            raise CommandError("Restore into a new database, never over the one in use.")
        if not source.exists():
            raise CommandError(f"No backup file at {source}")
        try:
            pg_restore = tool_for_server("pg_restore")
        except ToolMissing as exc:
            raise CommandError(str(exc)) from None
        admin = _connect(settings_dict, "postgres")
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [into])
            if cursor.fetchone():
                raise CommandError(f"Database {into!r} already exists; choose a new name.")
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(into)))
        admin.close()
        result = subprocess.run(  # noqa: S603
            [str(pg_restore), "--no-owner", "--no-privileges", "--exit-on-error", f"--dbname={into}", str(source)],
            env=libpq_env(settings_dict),
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise CommandError(f"pg_restore failed: {result.stderr.strip()}")
        restored = _connect(settings_dict, into)
        try:
            counts = table_counts(restored)
        finally:
            restored.close()
        self.stdout.write(f"Restored into {into}: {len(counts)} tables, {sum(counts.values())} rows.")
        self.stdout.write(f"Check the audit chain there: DATABASE_URL=<same server>/{into} python manage.py verify_audit")

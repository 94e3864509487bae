"""Backups restore: a backup of a database with records and an audit trail restores into a fresh database with
the same row count in every table, and the audit chain verifies there (``manage.py verify_audit``)."""

from __future__ import annotations

import io
import subprocess
import sys
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from psycopg2 import sql

from access.disclosure import disclose_search, disclose_subject
from access.policy import principal_for
from audit.models import AuditEvent
from audit.services import Purpose, RequestContext
from mais.management.commands.restore_database import _connect, table_counts
from records.selectors import SearchCriteria
from tests.appserver import ROOT, production_env, shared_database_url
from tests.factories import make_subject

CTX = RequestContext("test-request", "127.0.0.1")


def test_a_backup_restores_with_equal_counts_and_a_verifying_chain(transactional_db, priya_police, cmht_team, tmp_path):
    people = [make_subject(team=cmht_team, family_name="Restorable") for _ in range(5)]
    who = principal_for(priya_police)
    disclose_search(principal=who, criteria=SearchCriteria(name="Restorable"), purpose=Purpose("custody_detention"), context=CTX)
    for person in people:
        disclose_subject(principal=who, subject_id=person.id, purpose=Purpose("custody_detention"), context=CTX)
    assert AuditEvent.objects.count() >= 6
    backup = tmp_path / "mais.dump"
    call_command("backup_database", out=backup, stdout=io.StringIO())
    assert backup.stat().st_mode & 0o077 == 0  # readable by its owner only
    target = f"{connection.settings_dict['NAME']}_restored_{uuid.uuid4().hex[:8]}"
    try:
        call_command("restore_database", source=backup, into=target, stdout=io.StringIO())
        live = _connect(connection.settings_dict, connection.settings_dict["NAME"])
        restored = _connect(connection.settings_dict, target)
        try:
            assert table_counts(restored) == table_counts(live)
        finally:
            live.close()
            restored.close()
        env = production_env(DATABASE_URL=shared_database_url(target), MAIS_PRODUCTION="0")
        result = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "verify_audit"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stdout + result.stderr
    finally:
        admin = _connect(connection.settings_dict, "postgres")
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(target)))
        admin.close()


def test_restore_never_overwrites_the_database_in_use(db, tmp_path):
    backup = tmp_path / "x.dump"
    backup.write_bytes(b"not used")
    with pytest.raises(CommandError, match="never over the one in use"):
        call_command("restore_database", source=backup, into=connection.settings_dict["NAME"])

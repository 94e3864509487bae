"""The audit trail: append-only in the database, tamper-evident, fail-closed."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from access.disclosure import disclose_subject
from access.policy import principal_for
from audit.models import AppendOnlyError, AuditEvent
from audit.services import AuditUnavailable, Purpose, RequestContext, audit_record
from audit.verify import verify_chain
from mais import prepared
from records.models import Subject
from tests.conftest import give_purpose


def _events(n: int = 3) -> list[AuditEvent]:
    return [audit_record(event="test.event", context=RequestContext(f"r{i}"), about=Subject, detail={"i": i}) for i in range(n)]


def test_pg_server_version_is_recorded(db):
    # The suite runs on the embedded PostgreSQL 18 and on the machine's 15 (see .ci/run).
    assert connection.pg_version >= 150000


@pytest.mark.parametrize("statement", ["UPDATE audit_auditevent SET event = 'x'", "DELETE FROM audit_auditevent"])
def test_triggers_reject_update_and_delete(statement, db):
    _events(1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)


def test_trigger_rejects_truncate(db):
    _events(1)
    with pytest.raises(DatabaseError, match="TRUNCATE is not allowed"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL mais.allow_audit_truncate = off")
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE audit_auditevent")


def test_model_refuses_save_on_existing_and_delete(db):
    event = _events(1)[0]
    event.event = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()


def test_chain_links_each_row_to_the_previous(db):
    a, b, c = _events(3)
    assert b.prev_hash == a.hash and c.prev_hash == b.hash
    assert verify_chain().ok


def test_hash_computed_in_the_database_matches_python_for_every_field_and_non_ascii_text(db):
    """The append computes the hash in PostgreSQL (one round trip); it must be exactly Python's compute_hash."""
    import uuid

    first = _events(1)[0]
    event = audit_record(
        event="record.view",
        context=RequestContext("r-ü", remote_addr="192.0.2.7"),
        about=Subject,
        actor_username="zoë",
        roles="Police officer — custody",
        agency="Ysbyty Gwynedd / Café",
        subject_id=uuid.uuid4(),
        items=["risk.violence_history", "core.name"],
        purpose=Purpose("custody_detention", "Detained at 03:10 — “urgent”, ☎ 101"),
        detail={"criteria": {"name": "Seán Ó Briain"}, "n": 3, "ok": True, "none": None},
        changes={"status": ["old", "néw"]},
        lawful_basis="vital_interests",
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.prev_hash == first.hash
    assert stored.hash == event.hash == stored.compute_hash(first.hash)
    assert stored.items == ["core.name", "risk.violence_history"] and stored.purpose_text.endswith("☎ 101")
    assert verify_chain().ok


def test_concurrent_writers_keep_one_unbroken_chain(transactional_db):
    """Each append reads the chain's tip only after taking the chain lock (audit_chain_tip).

    Writers hold their transaction open a moment after appending, so the others queue on the lock;
    a tip read with a snapshot taken before the lock was granted would link two rows to one parent.
    """
    import threading
    import time

    from django.db import connections

    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(8):
                with transaction.atomic():
                    audit_record(event="test.event", context=RequestContext(f"w{n}-{i}"), about=Subject, detail={"w": n, "i": i})
                    time.sleep(0.003)
        except BaseException as exc:  # noqa: BLE001 (reported by the main thread)
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    rows = list(AuditEvent.objects.filter(event="test.event").order_by("id").values_list("prev_hash", "hash"))
    assert len(rows) == 32
    assert len({prev for prev, _ in rows}) == 32  # no two rows share a parent: the chain never forked
    assert verify_chain().ok


def _tamper(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        # A database superuser can bypass triggers; the hash chain is what still catches them.
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        cursor.execute("SET session_replication_role = origin")


def test_verify_detects_an_edited_row(db, capsys):
    _, b, _ = _events(3)
    _tamper("UPDATE audit_auditevent SET purpose_code = 'edited' WHERE id = %s", [b.id])
    report = verify_chain()
    assert not report.ok and report.first_bad_id == b.id and "edited" in report.message
    with pytest.raises(SystemExit) as exc:
        call_command("verify_audit")
    assert exc.value.code == 1
    assert f"row {b.id}" in capsys.readouterr().err


def test_verify_detects_a_deleted_row(db):
    _, b, c = _events(3)
    _tamper("DELETE FROM audit_auditevent WHERE id = %s", [b.id])
    report = verify_chain()
    assert not report.ok and report.first_bad_id == c.id


def test_verify_detects_reordered_rows(db):
    a, b, c = _events(3)
    # Swap the contents of two rows by swapping their ids.
    _tamper("UPDATE audit_auditevent SET id = -1 WHERE id = %s", [b.id])
    _tamper("UPDATE audit_auditevent SET id = %s WHERE id = %s", [b.id, c.id])
    _tamper("UPDATE audit_auditevent SET id = %s WHERE id = -1", [c.id])
    report = verify_chain()
    assert not report.ok and report.first_bad_id == b.id


def test_verify_audit_command_passes_on_an_intact_chain(db, capsys):
    _events(2)
    call_command("verify_audit")
    assert "OK" in capsys.readouterr().out


def test_failed_audit_write_serves_nothing(priya_police, subject, client_for, monkeypatch):
    client = client_for(priya_police)
    give_purpose(client, subject.id)

    def broken(*args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(AuditEvent, "append", broken)  # every audit write goes through append
    response = client.get(f"/records/{subject.id}/")
    assert response.status_code == 503
    assert subject.family_name.encode() not in response.content
    assert b"cannot reach its database or write its audit trail" in response.content and response["Retry-After"] == "30"


def test_failed_audit_write_raises_in_the_choke_point(priya_police, subject, monkeypatch):
    monkeypatch.setattr(AuditEvent, "append", lambda *a, **k: (_ for _ in ()).throw(DatabaseError("down")))
    with pytest.raises(AuditUnavailable):
        disclose_subject(principal=principal_for(priya_police), subject_id=subject.id, purpose=Purpose("x"), context=RequestContext())


def test_denied_attempt_is_recorded_even_though_the_work_rolls_back(aud_auditor, subject):
    from access.disclosure import NotFound

    with pytest.raises(NotFound):
        disclose_subject(principal=principal_for(aud_auditor), subject_id=subject.id, purpose=Purpose("x"), context=RequestContext("deny"))
    assert AuditEvent.objects.filter(event="record.view", outcome="denied", request_id="deny").count() == 1


def test_sign_in_events_are_audited(priya_police, client_for, client):
    client.post("/login/", {"username": "priya", "password": "wrong password"})
    assert AuditEvent.objects.filter(event="login.failed", actor_username="priya").exists()
    client_for(priya_police)
    assert AuditEvent.objects.filter(event="login.password", actor=priya_police).exists()
    assert AuditEvent.objects.filter(event="login.second_factor", actor=priya_police).exists()


def test_a_record_view_or_search_appends_its_audit_row_outside_a_transaction_block(transactional_db, priya_police, subject):
    """The chain lock is held from the append until its transaction commits. A read's audit row is its only
    write, so Priya's record view and search append as statements of their own: inside a transaction block the
    lock stayed held while the thread finished the request, and under load every disclosure queued on it
    (issue 6). The row is still written before anything is returned, and is there afterwards."""
    from access.disclosure import disclose_search
    from records.selectors import SearchCriteria

    appends: list[bool] = []

    def spy(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        if "audit_chain_tip" in prepared.source(sql):
            appends.append(connection.in_atomic_block)
        return execute(sql, params, many, context)

    who = principal_for(priya_police)
    with connection.execute_wrapper(spy):
        disclose_subject(principal=who, subject_id=subject.id, purpose=Purpose("custody_detention"), context=RequestContext("v"))
        disclose_search(
            principal=who,
            criteria=SearchCriteria(name=subject.family_name),
            purpose=Purpose("custody_detention"),
            context=RequestContext("s"),
        )
    assert appends == [False, False]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
        assert cursor.fetchone()[0] == 0
    assert set(AuditEvent.objects.filter(request_id__in=["v", "s"]).values_list("event", flat=True)) == {"record.view", "search"}


def test_the_tip_is_read_through_the_primary_key_even_when_the_trail_was_analysed_empty(db):
    """Issue 6: a session that planned the tip read while statistics said the trail was empty kept a sequential scan
    of the whole trail, run on every append while holding the chain lock. ANALYZE of an (almost) empty trail makes
    this session plan the read again under those statistics; the read must still not scan the table."""
    audit_record(event="test.event", context=RequestContext("t0"), about=Subject)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE audit_auditevent")
        cursor.execute("SELECT pg_stat_get_xact_numscans('audit_auditevent'::regclass)")
        before = cursor.fetchone()[0]
        for n in range(3):
            audit_record(event="test.event", context=RequestContext(f"t{n + 1}"), about=Subject)
        cursor.execute("SELECT pg_stat_get_xact_numscans('audit_auditevent'::regclass)")
        assert cursor.fetchone()[0] == before  # no sequential scan of the audit table by the three appends

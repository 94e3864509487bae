"""Retention and disposal: the schedule, the daily command, retain-with-reason, legal holds, and erasure that leaves no value."""

from __future__ import annotations

import datetime as dt
import io
import uuid

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from access.disclosure import NotFound, disclose_retention_queue, disclose_subject
from access.policy import principal_for
from audit.models import AuditEvent
from audit.services import Purpose, RequestContext
from governance.models import DisposedRecord, LegalHold, RetentionDecision
from governance.selectors import retention_due
from governance.services import GovernanceRefused, legal_hold_lift, legal_hold_place, record_dispose, retention_retain
from records.models import ItemChange, Subject
from records.services import subject_update
from tests.factories import make_subject

CTX = RequestContext("test-request", "127.0.0.1")
PURPOSE = Purpose("care_planning", "test")
TODAY = timezone.localdate()


def aged(subject: Subject, *, years: float, release_years: float | None = None) -> Subject:
    """Make a subject look untouched for ``years`` and released ``release_years`` ago."""
    then = timezone.now() - dt.timedelta(days=int(years * 365.25))
    release = TODAY - dt.timedelta(days=int((release_years if release_years is not None else years) * 365.25))
    Subject.objects.filter(pk=subject.pk).update(updated_at=then, release_date=release)
    ItemChange.objects.filter(subject=subject).update(changed_at=then)
    return subject


@pytest.fixture
def old_record(cmht_team):
    return aged(make_subject(team=cmht_team, family_name="Oldfield", mappa_category=""), years=7)


def test_due_six_years_after_the_later_of_release_and_activity(cmht_team, old_record):
    recent_release = aged(make_subject(team=cmht_team, mappa_category=""), years=7, release_years=2)
    recent_activity = aged(make_subject(team=cmht_team, mappa_category=""), years=2, release_years=7)
    mappa = aged(make_subject(team=cmht_team, mappa_category="2"), years=7)
    due = {d.subject_id: d for d in retention_due(today=TODAY)}
    assert old_record.id in due and due[old_record.id].rule == "standard"
    assert recent_release.id not in due and recent_activity.id not in due
    assert mappa.id not in due  # MAPPA records: ten years by default
    assert mappa.id in {d.subject_id for d in retention_due(today=TODAY + dt.timedelta(days=int(3.5 * 365)))}


def test_schedule_is_configurable(cmht_team, settings):
    subject = aged(make_subject(team=cmht_team, mappa_category=""), years=4)
    assert subject.id not in {d.subject_id for d in retention_due(today=TODAY)}
    settings.RETENTION_YEARS = {"standard": 3, "mappa": 10}
    assert subject.id in {d.subject_id for d in retention_due(today=TODAY)}


def test_schedule_setting_fails_loudly_on_bad_values(monkeypatch):
    from mais.env import ConfigurationError, env_schedule

    monkeypatch.setenv("MAIS_RETENTION_SCHEDULE", "standard=six")
    with pytest.raises(ConfigurationError, match="not a whole number"):
        env_schedule("MAIS_RETENTION_SCHEDULE", {"standard": 6, "mappa": 10})
    monkeypatch.setenv("MAIS_RETENTION_SCHEDULE", "forever=1")
    with pytest.raises(ConfigurationError, match="each entry must be one of standard, mappa"):
        env_schedule("MAIS_RETENTION_SCHEDULE", {"standard": 6, "mappa": 10})
    monkeypatch.setenv("MAIS_RETENTION_SCHEDULE", "mappa=12")
    assert env_schedule("MAIS_RETENTION_SCHEDULE", {"standard": 6, "mappa": 10}) == {"standard": 6, "mappa": 12}


def test_daily_command_lists_due_records_and_is_safe_to_repeat(old_record):
    outputs = []
    for _ in range(2):
        out = io.StringIO()
        call_command("retention_review", stdout=out)
        outputs.append(out.getvalue())
    assert outputs[0] == outputs[1]
    assert str(old_record.id) in outputs[0] and "Oldfield" not in outputs[0]
    assert Subject.objects.filter(pk=old_record.pk).exists()
    assert AuditEvent.objects.filter(event="retention.listed").count() == 2


def test_retain_with_reason_defers_the_next_review(ada_admin, old_record):
    actor = principal_for(ada_admin)
    with pytest.raises(GovernanceRefused, match="must be in the future"):
        retention_retain(actor=actor, subject_id=old_record.id, reason="x", next_review_on=TODAY, context=CTX)
    retention_retain(
        actor=actor, subject_id=old_record.id, reason="Active MAPPA case", next_review_on=TODAY + dt.timedelta(days=365), context=CTX
    )
    assert old_record.id not in {d.subject_id for d in retention_due(today=TODAY)}
    assert old_record.id in {d.subject_id for d in retention_due(today=TODAY + dt.timedelta(days=366))}
    event = AuditEvent.objects.get(event="retention.retain")
    assert event.subject_id == old_record.id and event.additional_data["reason"] == "Active MAPPA case"
    with pytest.raises(GovernanceRefused, match="not due"):
        record_dispose(actor=actor, subject_id=old_record.id, reason="x", context=CTX)


def test_a_legal_hold_blocks_disposal_until_lifted(ada_admin, old_record):
    actor = principal_for(ada_admin)
    hold = legal_hold_place(actor=actor, subject_id=old_record.id, reason="Claim 2026/114", context=CTX)
    assert retention_due(today=TODAY, subject_id=old_record.id)[0].on_hold
    with pytest.raises(GovernanceRefused, match="legal hold is in force"):
        record_dispose(actor=actor, subject_id=old_record.id, reason="Past retention", context=CTX)
    assert Subject.objects.filter(pk=old_record.pk).exists()
    legal_hold_lift(actor=actor, hold_id=hold.pk, reason="Claim settled", context=CTX)
    with pytest.raises(GovernanceRefused, match="already been lifted"):
        legal_hold_lift(actor=actor, hold_id=hold.pk, reason="again", context=CTX)
    record_dispose(actor=actor, subject_id=old_record.id, reason="Past retention", context=CTX)
    assert not Subject.objects.filter(pk=old_record.pk).exists()
    assert [e.event for e in AuditEvent.objects.filter(subject_id=old_record.id).order_by("id")] == [
        "retention.hold",
        "retention.hold_lift",
        "retention.dispose",
    ]


def _tables_containing(needle: str) -> list[str]:
    """Every table in the database whose rows, as text, contain the needle."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')"
        )
        found = []
        for schema, table in cursor.fetchall():
            cursor.execute(f'SELECT count(*) FROM "{schema}"."{table}" t WHERE t::text ILIKE %s', [f"%{needle}%"])
            if cursor.fetchone()[0]:
                found.append(table)
        return found


def test_disposal_leaves_no_value_anywhere_in_the_database(ada_admin, morgan_mh, priya_police, cmht_team):
    """After the record is viewed, edited and confirmed, disposal leaves only the tombstone and the audit trail."""
    subject = make_subject(
        team=cmht_team,
        family_name="Zyxwardine",
        given_names="Quillon",
        aliases=["Quill Vexmoor"],
        relapse_signs="Talks about the Orrery Men",
        mappa_category="",
    )
    nhs, pnc = subject.nhs_number, subject.pnc_id
    disclose_subject(principal=principal_for(priya_police), subject_id=subject.id, purpose=Purpose("custody_detention"), context=CTX)
    subject_update(
        principal=principal_for(morgan_mh),
        subject_id=subject.id,
        expected_version=subject.version,
        changes={"mental_health.what_helps": {"what_helps": "Humming the Brackenfold tune"}},
        purpose=PURPOSE,
        context=CTX,
    )
    values = ["Zyxwardine", "Quillon", "Vexmoor", "Orrery Men", "Brackenfold", nhs, pnc]
    for value in values:
        assert _tables_containing(value), value  # the search finds them while the record exists
    aged(Subject.objects.get(pk=subject.pk), years=7)
    record_dispose(actor=principal_for(ada_admin), subject_id=subject.id, reason="Past retention, no hold", context=CTX)

    for value in values:
        assert _tables_containing(value) == [], value
    tomb = DisposedRecord.objects.get(subject_id=subject.id)
    assert tomb.rule == "standard" and tomb.disposed_by.startswith("Ada")
    assert RetentionDecision.objects.get(subject_id=subject.id).decision == "dispose"
    assert AuditEvent.objects.filter(subject_id=subject.id).count() >= 3  # the trail stays
    with pytest.raises(NotFound):
        disclose_subject(principal=principal_for(priya_police), subject_id=subject.id, purpose=Purpose("custody_detention"), context=CTX)
    with pytest.raises(GovernanceRefused, match="already been disposed"):
        record_dispose(actor=principal_for(ada_admin), subject_id=subject.id, reason="again", context=CTX)


def test_administrator_reviews_the_queue_in_the_browser(ada_admin, old_record, client_for):
    client = client_for(ada_admin)
    queue = client.get("/admin/retention/").content.decode()
    assert str(old_record.id) in queue and "OLDFIELD" in queue
    page = f"/admin/retention/{old_record.id}/"
    assert "Type DISPOSE to confirm" in client.post(page, {"action": "dispose", "reason": "Old", "confirm": "yes"}).content.decode()
    assert Subject.objects.filter(pk=old_record.pk).exists()
    client.post(page, {"action": "hold", "reason": "Inquiry 9"})
    held = client.get(page).content.decode()
    assert "A legal hold is in force" in held
    hold = LegalHold.objects.get(subject_id=old_record.id)
    client.post(page, {"action": "lift", "hold": hold.pk, "reason": "Inquiry closed"})
    assert client.post(page, {"action": "dispose", "reason": "Old", "confirm": "DISPOSE"}).status_code == 302
    assert DisposedRecord.objects.filter(subject_id=old_record.id).exists()
    assert AuditEvent.objects.filter(event="retention.queue", actor=ada_admin).exists()


def test_only_administrators_see_the_retention_queue(priya_police, client_for):
    assert client_for(priya_police).get("/admin/retention/").status_code == 403
    with pytest.raises(NotFound):
        disclose_retention_queue(principal=principal_for(priya_police), context=CTX)


def test_unknown_record_is_refused_in_words(ada_admin):
    with pytest.raises(GovernanceRefused, match="no such record"):
        legal_hold_place(actor=principal_for(ada_admin), subject_id=uuid.uuid4(), reason="x", context=CTX)

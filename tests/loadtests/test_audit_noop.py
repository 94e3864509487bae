"""The bench-only no-op audit insert: it must skip the append and still read what the page shows."""

from __future__ import annotations

from access.disclosure import disclose_subject
from access.policy import principal_for
from audit import alerts
from audit.models import AuditEvent
from audit.services import Purpose, RequestContext


def test_with_the_insert_a_no_op_priya_still_sees_the_record_and_nothing_is_appended(priya_police, subject, monkeypatch):
    """The no-op pass of the bench must do a record view's work less the audit: the record is read (it rides on the
    append's statement in production), the view built, and no row written."""
    from loadtests import audit_noop

    # install() patches the classes for the life of a bench process; put them back after this test.
    monkeypatch.setattr(AuditEvent, "append", AuditEvent.append)
    monkeypatch.setattr(AuditEvent, "save", AuditEvent.save)
    monkeypatch.setattr(alerts, "due", alerts.due)
    audited = disclose_subject(
        principal=principal_for(priya_police), subject_id=subject.id, purpose=Purpose("custody_detention"), context=RequestContext()
    )
    audit_noop.install()
    unaudited = disclose_subject(
        principal=principal_for(priya_police), subject_id=subject.id, purpose=Purpose("custody_detention"), context=RequestContext()
    )
    assert unaudited.disclosed == audited.disclosed and unaudited.heading == audited.heading
    assert [s.items for s in unaudited.sections] == [s.items for s in audited.sections]
    assert AuditEvent.objects.filter(event="record.view").count() == 1

"""Recorded sharing decisions: Nia (custody nurse) phones Alex's GP and records it; Morgan's team and the auditor read it.

The guided form refuses an incomplete decision with a message per missing
answer and saves nothing; a complete one is a disclosure in the audit trail.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from access.disclosure import disclose_sharing_decisions
from access.policy import principal_for
from audit.models import AuditEvent
from audit.services import Purpose, RequestContext
from partnership.models import SharingDecision
from partnership.services import SharingDecisionInput, sharing_decision_record
from records.terms import terms
from tests.conftest import give_purpose

TODAY = timezone.localdate().strftime("%d/%m/%Y")
PURPOSE = Purpose("care_planning", "test")
CTX = RequestContext("test-request", "127.0.0.1")
DECISION = SharingDecisionInput(
    decided_on=dt.date(2026, 1, 5),
    purpose="GP asked about medication.",
    necessity="Prescribing safely.",
    recipient_organisation="Example Surgery (synthetic)",
    recipient_person="Dr Example",
    shared=True,
    items=("mental_health.medication",),
    what_shared="Missed depot.",
    minimum_reasoning="Medication only.",
    why_not="",
    lawful_basis="public_task_health",
    method="phone",
)
COMPLETE = {
    "decided_on": TODAY,
    "purpose": "GP asked whether he is taking his medication since release.",
    "necessity": "The GP is prescribing and needs to know about a missed depot.",
    "recipient_organisation": "Example Street Surgery (synthetic)",
    "recipient_person": "Dr Example, GP",
    "shared": "yes",
    "items": ["mental_health.medication"],
    "what_shared": "Missed depot injection on release.",
    "minimum_reasoning": "Only the medication item; nothing about offending.",
    "method": "phone",
    "lawful_basis": "public_task_health",
}


def test_an_incomplete_decision_is_refused_with_a_message_per_answer(nia_nurse, subject, client_for):
    nia = give_purpose(client_for(nia_nurse), subject.id)
    page = nia.post(f"/records/{subject.id}/sharing/new/", {"shared": "yes"}).content.decode()
    for message in (
        "Enter the date of the decision.",
        "Say why sharing was considered (the purpose).",
        "Say why sharing was (or was not) necessary.",
        "Enter the organisation you shared with.",
        "Say what you shared: tick the items or describe it.",
        "Say why what you shared was the minimum needed.",
        "Choose how you shared.",
        "Choose the lawful basis",
    ):
        assert message in page, message
    page = nia.post(f"/records/{subject.id}/sharing/new/", {**COMPLETE, "shared": "no", "items": []}).content.decode()
    assert "Say why you decided not to share." in page
    assert not SharingDecision.objects.exists()
    assert not AuditEvent.objects.filter(event__startswith="disclosure.").exists()


def test_a_complete_decision_is_recorded_as_a_disclosure(nia_nurse, subject, client_for):
    nia = give_purpose(client_for(nia_nurse), subject.id)
    response = nia.post(f"/records/{subject.id}/sharing/new/", COMPLETE)
    assert response.status_code == 302
    decision = SharingDecision.objects.get()
    assert decision.shared and decision.items == ["mental_health.medication"]
    event = AuditEvent.objects.get(event="disclosure.external")
    assert event.subject_id == subject.id and event.actor_id == nia_nurse.pk
    assert event.items == ["mental_health.medication"] and event.lawful_basis == "public_task_health"
    assert event.additional_data["recipient"] == "Example Street Surgery (synthetic) (Dr Example, GP)"
    assert event.purpose_code == "custody_detention"


def test_a_decision_not_to_share_is_recorded_too(nia_nurse, subject, client_for):
    nia = give_purpose(client_for(nia_nurse), subject.id)
    data = {**COMPLETE, "shared": "no", "items": [], "why_not": "The caller could not confirm who they were."}
    assert nia.post(f"/records/{subject.id}/sharing/new/", data).status_code == 302
    assert AuditEvent.objects.get(event="disclosure.declined").items == []
    assert SharingDecision.objects.get().why_not.startswith("The caller")


def test_the_owning_team_and_auditors_read_decisions_others_do_not(nia_nurse, morgan_mh, aud_auditor, pat_probation, subject, client_for):
    nia = give_purpose(client_for(nia_nurse), subject.id)
    nia.post(f"/records/{subject.id}/sharing/new/", COMPLETE)
    # Nia, the author, sees her own decision.
    assert "Example Street Surgery" in nia.get(f"/records/{subject.id}/sharing/").content.decode()
    morgan = give_purpose(client_for(morgan_mh), subject.id, "care_planning")
    page = morgan.get(f"/records/{subject.id}/sharing/").content.decode()
    assert "Example Street Surgery" in page and "Missed depot" in page
    auditor = client_for(aud_auditor)
    auditor.post(f"/records/{subject.id}/", {"reason": "subject_access_request", "reason_detail": "SAR 12"})
    assert "Missed depot" in auditor.get(f"/records/{subject.id}/sharing/").content.decode()
    pat = give_purpose(client_for(pat_probation), subject.id, "offender_management")
    assert pat.get(f"/records/{subject.id}/sharing/").status_code == 404
    assert AuditEvent.objects.get(event="sharing.view", actor_id=pat_probation.pk).outcome == "denied"
    assert AuditEvent.objects.filter(event="sharing.view", outcome="ok").count() == 3


@pytest.mark.parametrize("count", [1, 50])
def test_sharing_decisions_query_count_is_constant(count, nia_nurse, morgan_mh, subject, django_assert_num_queries):
    who = principal_for(nia_nurse)
    for _ in range(count):
        sharing_decision_record(actor=who, subject_id=subject.id, data=DECISION, purpose=PURPOSE, context=CTX)
    morgan = principal_for(morgan_mh)
    ContentType.objects.get_for_model(SharingDecision)
    terms()
    # caseload check, consent facts, decisions, savepoint, caseload, agreements, names, audit append, release.
    with django_assert_num_queries(9):
        view = disclose_sharing_decisions(principal=morgan, subject_id=subject.id, purpose=PURPOSE, context=CTX)
    assert len(view.decisions) == count

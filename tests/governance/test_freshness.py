"""Freshness: how old each risk and mental health item is, warnings past the limit, "still accurate", the caseload list."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from access.disclosure import NotFound, disclose_caseload, disclose_item_history, disclose_subject
from access.policy import principal_for
from audit.models import AuditEvent
from audit.services import Purpose, RequestContext
from records.dataset import ITEMS
from records.services import items_confirm
from tests.conftest import give_purpose
from tests.factories import add_provenance, make_subject

CTX = RequestContext("test-request", "127.0.0.1")
PURPOSE = Purpose("care_planning", "test")
RISK = [i.code for i in ITEMS if i.section == "risk"]
MH = [i.code for i in ITEMS if i.section == "mental_health"]


@pytest.fixture
def reviewed_subject(morgan_mh, cmht_team):
    subject = make_subject(team=cmht_team, family_name="Freshwater")
    add_provenance(subject, morgan_mh, RISK + MH)
    return subject


def _overdue(view, section):
    return {i.code for s in view.sections if s.code == section for i in s.items if i.freshness and i.freshness.overdue}


def test_readers_see_the_age_and_a_warning_past_the_limit(nia_nurse, reviewed_subject):
    who = principal_for(nia_nurse)
    view = disclose_subject(principal=who, subject_id=reviewed_subject.id, purpose=PURPOSE, context=CTX)
    item = view.item("risk.suicide_level")
    assert item.freshness.age_days == 0 and not item.freshness.overdue and item.freshness.limit_days == 90
    assert view.item("identity.family_name").freshness is None  # identity items have no review limit
    with time_machine.travel(timezone.now() + dt.timedelta(days=91), tick=False):
        view = disclose_subject(principal=who, subject_id=reviewed_subject.id, purpose=PURPOSE, context=CTX)
        shown_risk = {c for c in RISK if not view.item(c).withheld}
        assert _overdue(view, "risk") == shown_risk and shown_risk
        assert _overdue(view, "mental_health") == set()  # 180 days for mental health items
        assert view.item("risk.suicide_level").freshness.age_days == 91


def test_the_record_page_shows_reviewed_and_overdue(nia_nurse, reviewed_subject, cmht_team, client_for):
    stale = make_subject(team=cmht_team, family_name="Stalebridge")
    client = client_for(nia_nurse)
    give_purpose(client, reviewed_subject.id)
    assert 'data-testid="reviewed"' in client.get(f"/records/{reviewed_subject.id}/").content.decode()
    html = client.get(f"/records/{stale.id}/").content.decode()
    assert 'data-testid="review-overdue"' in html and "No review recorded" in html


def test_limits_are_settings(nia_nurse, reviewed_subject, settings):
    settings.REVIEW_DAYS = {"risk": 10, "mental_health": 20}
    with time_machine.travel(timezone.now() + dt.timedelta(days=11), tick=False):
        view = disclose_subject(principal=principal_for(nia_nurse), subject_id=reviewed_subject.id, purpose=PURPOSE, context=CTX)
        assert _overdue(view, "risk") and not _overdue(view, "mental_health")


def test_still_accurate_resets_the_age_and_keeps_provenance(morgan_mh, reviewed_subject, client_for):
    later = timezone.now() + dt.timedelta(days=100)
    with time_machine.travel(later, tick=False):
        codes = items_confirm(
            principal=principal_for(morgan_mh), subject_id=reviewed_subject.id, section="risk", purpose=PURPOSE, context=CTX
        )
        assert set(codes) == set(RISK)
    with time_machine.travel(later + dt.timedelta(days=1), tick=False):
        view = disclose_subject(principal=principal_for(morgan_mh), subject_id=reviewed_subject.id, purpose=PURPOSE, context=CTX)
        item = view.item("risk.suicide_level")
        assert item.freshness.age_days == 1 and not item.freshness.overdue
        assert item.provenance.changed_at < later - dt.timedelta(days=99)  # the value itself did not change
        history = disclose_item_history(
            principal=principal_for(morgan_mh), subject_id=reviewed_subject.id, item_code="risk.suicide_level", purpose=PURPOSE, context=CTX
        )
        assert history.entries[0].confirmation and history.entries[0].lines == ("Confirmed still accurate",)
    event = AuditEvent.objects.get(event="record.confirm")
    assert set(event.items) == set(RISK) and event.lawful_basis == "consent"


def test_confirm_button_on_the_page(morgan_mh, reviewed_subject, client_for):
    client = client_for(morgan_mh)
    give_purpose(client, reviewed_subject.id, "care_planning")
    html = client.get(f"/records/{reviewed_subject.id}/").content.decode()
    assert 'data-testid="confirm-risk"' in html
    response = client.post(f"/records/{reviewed_subject.id}/confirm/risk/")
    assert response.status_code == 302
    assert AuditEvent.objects.filter(event="record.confirm", subject_id=reviewed_subject.id).exists()


def test_priya_cannot_confirm_what_she_cannot_write(priya_police, reviewed_subject):
    with pytest.raises(NotFound):
        items_confirm(principal=principal_for(priya_police), subject_id=reviewed_subject.id, section="risk", purpose=PURPOSE, context=CTX)
    assert AuditEvent.objects.get(event="record.confirm").outcome == "denied"


def test_caseload_lists_items_due_for_review(morgan_mh, reviewed_subject, cmht_team, other_team, client_for):
    stale = make_subject(team=cmht_team, family_name="Stalebridge")
    not_ours = make_subject(team=other_team, family_name="Elsewhere")
    rows = {r.subject_id: r for r in disclose_caseload(principal=principal_for(morgan_mh), purpose=PURPOSE, context=CTX)}
    assert set(rows) == {reviewed_subject.id, stale.id} and not_ours.id not in rows
    assert rows[reviewed_subject.id].overdue == ()
    assert {label for label, _ in rows[stale.id].overdue} == {i.label for i in ITEMS if i.section in ("risk", "mental_health")}
    html = client_for(morgan_mh).get("/records/caseload/").content.decode()
    assert "STALEBRIDGE" in html and "never reviewed" in html and "ELSEWHERE" not in html
    assert AuditEvent.objects.filter(event="caseload.view", actor=morgan_mh).exists()


def test_caseload_is_for_caseload_holders(priya_police, client_for):
    assert client_for(priya_police).get("/records/caseload/").status_code == 403


@pytest.mark.parametrize("count", [1, 50])
def test_caseload_query_count_is_constant(count, morgan_mh, cmht_team, django_assert_num_queries):
    for _ in range(count):
        add_provenance(make_subject(team=cmht_team), morgan_mh, RISK[:3])
    who = principal_for(morgan_mh)
    from mais.warmup import warm_process_caches

    warm_process_caches()  # as a worker is once started (mais/warmup.py)
    # Savepoint, caseload ids, fields, review dates, audit append (chain tip and insert in one), release.
    with django_assert_num_queries(6):
        rows = disclose_caseload(principal=who, purpose=PURPOSE, context=CTX)
    assert len(rows) == count

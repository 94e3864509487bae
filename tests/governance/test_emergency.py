"""Break-glass: Priya (police) needs Alex's withheld items because Alex is in her custody suite and at risk."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from access.disclosure import NotFound, disclose_item_history, disclose_subject
from access.policy import principal_for
from audit.models import Alert, AuditEvent
from audit.services import Purpose, RequestContext
from governance.models import EmergencyAccess
from governance.services import GovernanceRefused, emergency_access_start
from records.dataset import ITEMS_BY_CODE
from records.models import Subject
from tests.access.test_disclosure import TOKEN_ITEMS, readable_by, sentinel_subject
from tests.conftest import give_purpose
from tests.factories import PASSWORD

PURPOSE = Purpose("custody_detention", "test")
CTX = RequestContext("test-request", "127.0.0.1")
FORM = {"reason_code": "custody_risk", "reason_text": "Custody record 77: tied ligature, need crisis plan.", "password": PASSWORD}


def test_priya_requests_emergency_access_and_every_disclosure_is_tagged(priya_police, cmht_team, client_for):
    subject = sentinel_subject(cmht_team)
    hidden = sorted(set(TOKEN_ITEMS) - readable_by("police_officer"))
    assert hidden
    client = client_for(priya_police)
    give_purpose(client, subject.id)
    page = client.get(f"/records/{subject.id}/").content.decode()
    assert 'data-testid="request-emergency"' in page
    assert not any(f"TOKEN-{code}" in page for code in hidden)

    wrong = client.post(f"/records/{subject.id}/emergency/", {**FORM, "password": "guess"})
    assert wrong.status_code == 200 and "The password is not right." in wrong.content.decode()
    assert not EmergencyAccess.objects.exists()
    assert AuditEvent.objects.get(event="emergency.start", outcome="denied").additional_data == {"rule": "password"}

    missing = client.post(f"/records/{subject.id}/emergency/", {"password": PASSWORD}).content.decode()
    assert "Select why this is an emergency." in missing and "Describe what is happening." in missing

    assert client.post(f"/records/{subject.id}/emergency/", FORM).status_code == 302
    grant = EmergencyAccess.objects.get()
    assert grant.expires_at - grant.started_at == dt.timedelta(minutes=60)
    page = client.get(f"/records/{subject.id}/").content.decode()
    assert 'data-testid="emergency-banner"' in page
    assert f"ends at {timezone.localtime(grant.expires_at):%H:%M}." in page  # the UK time, on both kinds of page
    assert all(f"TOKEN-{code}" in page for code in hidden)
    assert 'data-testid="request-emergency"' not in page
    history = client.get(f"/records/{subject.id}/history/mental_health.diagnoses/").content.decode()
    assert 'data-testid="emergency-banner"' in history
    assert f"ends at {timezone.localtime(grant.expires_at):%H:%M}." in history

    view = AuditEvent.objects.filter(event="record.view", subject_id=subject.id, outcome="ok").order_by("-id").first()
    assert view.additional_data["emergency_access"] == grant.pk
    assert set(view.items) == set(ITEMS_BY_CODE)
    alert = Alert.objects.get(kind=Alert.Kind.EMERGENCY)
    assert alert.status == Alert.Status.OPEN and alert.username == "priya" and grant.alert_id == alert.pk
    assert str(subject.id) in alert.detail and "custody_risk" in alert.detail


def test_emergency_access_expires_by_time(priya_police, subject):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        emergency_access_start(principal=principal_for(priya_police), user=priya_police, subject_id=subject.id, context=CTX, **FORM)
    who = principal_for(priya_police)
    with time_machine.travel(start + dt.timedelta(minutes=59), tick=False):
        view = disclose_subject(principal=who, subject_id=subject.id, purpose=PURPOSE, context=CTX)
        assert view.emergency is not None and set(view.disclosed) == set(ITEMS_BY_CODE)
        disclose_item_history(principal=who, subject_id=subject.id, item_code="mental_health.diagnoses", purpose=PURPOSE, context=CTX)
    with time_machine.travel(start + dt.timedelta(minutes=60, seconds=1), tick=False):
        view = disclose_subject(principal=who, subject_id=subject.id, purpose=PURPOSE, context=CTX)
        assert view.emergency is None and set(view.disclosed) == readable_by("police_officer")
        with pytest.raises(NotFound):
            disclose_item_history(principal=who, subject_id=subject.id, item_code="mental_health.diagnoses", purpose=PURPOSE, context=CTX)


def test_the_duration_is_configurable_up_to_an_hour(priya_police, subject, settings):
    settings.EMERGENCY_ACCESS_MINUTES = 15
    grant = emergency_access_start(principal=principal_for(priya_police), user=priya_police, subject_id=subject.id, context=CTX, **FORM)
    assert grant.expires_at - grant.started_at == dt.timedelta(minutes=15)


def test_the_setting_refuses_more_than_an_hour(monkeypatch):
    from mais.env import ConfigurationError, env_int

    monkeypatch.setenv("MAIS_EMERGENCY_ACCESS_MINUTES", "90")
    with pytest.raises(ConfigurationError, match="must be at most 60"):
        env_int("MAIS_EMERGENCY_ACCESS_MINUTES", 60, minimum=1, maximum=60)


def test_withdrawn_consent_blocks_emergency_access_unless_a_lawful_basis_is_recorded(priya_police, subject):
    Subject.objects.filter(pk=subject.id).update(consent_status="withdrawn")
    with pytest.raises(GovernanceRefused, match="withdrawn their consent"):
        emergency_access_start(principal=principal_for(priya_police), user=priya_police, subject_id=subject.id, context=CTX, **FORM)
    assert AuditEvent.objects.get(event="emergency.start", outcome="denied").lawful_basis == "consent_withdrawn"
    assert not Alert.objects.filter(kind=Alert.Kind.EMERGENCY).exists()

    Subject.objects.filter(pk=subject.id).update(lawful_basis="vital_interests")
    emergency_access_start(principal=principal_for(priya_police), user=priya_police, subject_id=subject.id, context=CTX, **FORM)
    view = disclose_subject(principal=principal_for(priya_police), subject_id=subject.id, purpose=PURPOSE, context=CTX)
    assert view.consent.withdrawn and view.emergency is not None
    assert AuditEvent.objects.filter(event="record.view", outcome="ok").get().lawful_basis == "vital_interests"


def test_consent_withdrawn_during_emergency_access_closes_it(priya_police, subject):
    emergency_access_start(principal=principal_for(priya_police), user=priya_police, subject_id=subject.id, context=CTX, **FORM)
    Subject.objects.filter(pk=subject.id).update(consent_status="withdrawn")
    with pytest.raises(NotFound):
        disclose_subject(principal=principal_for(priya_police), subject_id=subject.id, purpose=PURPOSE, context=CTX)


def test_emergency_access_is_for_one_user_and_one_subject(priya_police, nia_nurse, subject, cmht_team):
    from tests.factories import make_subject

    other = make_subject(team=cmht_team, family_name="Otherton")
    emergency_access_start(principal=principal_for(priya_police), user=priya_police, subject_id=subject.id, context=CTX, **FORM)
    assert disclose_subject(principal=principal_for(priya_police), subject_id=other.id, purpose=PURPOSE, context=CTX).emergency is None
    assert disclose_subject(principal=principal_for(nia_nurse), subject_id=subject.id, purpose=PURPOSE, context=CTX).emergency is None


def test_auditors_cannot_use_emergency_access(aud_auditor, subject):
    with pytest.raises(GovernanceRefused, match="does not read records"):
        emergency_access_start(principal=principal_for(aud_auditor), user=aud_auditor, subject_id=subject.id, context=CTX, **FORM)


def test_auditors_see_emergency_disclosures_tagged_with_the_lawful_basis(priya_police, aud_auditor, subject, client_for):
    import csv
    import io

    emergency_access_start(principal=principal_for(priya_police), user=priya_police, subject_id=subject.id, context=CTX, **FORM)
    disclose_subject(principal=principal_for(priya_police), subject_id=subject.id, purpose=PURPOSE, context=CTX)
    client = client_for(aud_auditor)
    html = client.get(f"/audit/subjects/{subject.id}/").content.decode()
    assert 'data-testid="emergency-tag"' in html and "Basis: consent" in html
    alerts = client.get("/audit/alerts/").content.decode()
    assert "Emergency access used (must be reviewed)" in alerts
    body = b"".join(
        client.post("/audit/export/subject/", {"subject_id": str(subject.id), "password": PASSWORD, "reason": "Review"}).streaming_content
    ).decode()
    views = [r for r in csv.DictReader(io.StringIO(body)) if r["event"] == "record.view"]
    assert views and all(r["emergency_access"] == "yes" and r["lawful_basis"] == "consent" for r in views)

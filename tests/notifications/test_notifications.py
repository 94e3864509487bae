"""Change notifications: queued with the change, filtered per follower at send time, audited, signed, retried.

Morgan (mental health) changes Alex's risk and release items; whoever follows Alex is told only what their role
may read. A client system's webhook on 127.0.0.1 fails once, then receives a signed delivery on the retry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from django.core import mail

from access.policy import principal_for
from api.models import ApiClient
from audit.models import AuditEvent
from audit.services import Purpose, RequestContext
from notifications.models import Delivery, Follow
from notifications.services import NOTIFY_ITEMS, changes_notify, deliver_due, follow_subject
from records.dataset import ITEMS_BY_CODE
from records.models import Subject
from records.services import subject_update
from tests.access.test_disclosure import ROLE_CODES, readable_by
from tests.conftest import give_purpose
from tests.factories import make_subject

CTX = RequestContext("notify-test", "127.0.0.1")
CHANGES = {
    "identity.release_date": {"release_date": dt.date(2026, 12, 1)},
    "risk.suicide_level": {"suicide_level": "high"},
    "risk.violence_level": {"violence_level": "high"},
    "risk.mappa": {"mappa_category": "2", "mappa_level": "2"},
    "mental_health.relapse_signs": {"relapse_signs": "TOKEN-relapse Stops sleeping and talks about the radio."},
    "mental_health.care_coordinator": {
        "care_coordinator_name": "TOKEN-cc Jo Coordinator",
        "care_coordinator_team": "North CMHT",
        "care_coordinator_phone": "0151 000 0000",
    },
}


@pytest.fixture
def subject(cmht_team):
    """Alex, with every notified item set to something the changes below really change."""
    return make_subject(
        team=cmht_team,
        family_name="Quenby",
        given_names="Alex",
        release_date=dt.date(2020, 1, 1),
        suicide_level="low",
        violence_level="low",
        mappa_category="",
        mappa_level="",
        relapse_signs="Quiet.",
        care_coordinator_name="Sam Before",
    )


def change_everything(morgan, subject) -> None:
    subject_update(
        principal=principal_for(morgan),
        subject_id=subject.id,
        expected_version=Subject.objects.get(pk=subject.pk).version,
        changes=CHANGES,
        purpose=Purpose("care_planning"),
        context=CTX,
    )


def test_the_notified_items_are_those_the_issue_names():
    assert set(CHANGES) == NOTIFY_ITEMS


@pytest.mark.parametrize("role", [r for r in ROLE_CODES if r not in ("auditor", "mh_practitioner")])
def test_each_follower_is_told_only_what_their_role_may_read(role, person_for_role, morgan_mh, subject):
    person = person_for_role(role)
    person.email = f"{person.username}@example.invalid"
    person.save()
    follow_subject(user=person, subject_id=subject.id, follow=True)
    change_everything(morgan_mh, subject)
    assert Delivery.objects.filter(user=person).count() == 2  # in the app and by email
    deliver_due()
    readable = readable_by(role) & NOTIFY_ITEMS
    in_app = Delivery.objects.get(user=person, channel="in_app")
    if not readable:
        assert in_app.status == "nothing_readable" and mail.outbox == []
        return
    assert in_app.status == "delivered" and set(in_app.item_codes) == readable
    [email] = mail.outbox
    assert email.to == [person.email]
    for code in NOTIFY_ITEMS:
        assert (ITEMS_BY_CODE[code].label in email.body) == (code in readable), code
    assert ("TOKEN-relapse" in email.body) == ("mental_health.relapse_signs" in readable)
    events = AuditEvent.objects.filter(event="notification.deliver", actor=person)
    assert {e.additional_data["channel"] for e in events} == {"in_app", "email"}
    assert all(set(e.items) == readable and e.purpose_code == "notification" for e in events)


def test_other_changes_do_not_notify_and_the_editor_is_not_told(morgan_mh, priya_police, subject):
    follow_subject(user=priya_police, subject_id=subject.id, follow=True)
    follow_subject(user=morgan_mh, subject_id=subject.id, follow=True)
    subject_update(
        principal=principal_for(morgan_mh),
        subject_id=subject.id,
        expected_version=subject.version,
        changes={"risk.weapons": {"weapons": "None known."}},
        purpose=Purpose("care_planning"),
        context=CTX,
    )
    assert not Delivery.objects.exists()
    change_everything(morgan_mh, subject)
    assert set(Delivery.objects.values_list("user__username", flat=True)) == {"priya"}


def test_following_a_caseload_covers_every_person_on_it(morgan_mh, nia_nurse, cmht_team, client_for):
    other = make_subject(team=cmht_team, family_name="Teamwide")
    client = client_for(morgan_mh)
    assert client.post("/records/caseload/follow/", {"follow": "1"}).status_code == 302
    assert Follow.objects.filter(user=morgan_mh, team=cmht_team).exists()
    subject_update(
        principal=principal_for(nia_nurse),
        subject_id=other.id,
        expected_version=other.version,
        changes={},
        purpose=Purpose("care_planning"),
        context=CTX,
    )
    assert changes_notify(subject_id=other.id, item_codes=["risk.suicide_level"], actor_user_id=None) == 1


def test_in_app_inbox_lists_names_and_changed_items(morgan_mh, priya_police, subject, client_for):
    client = client_for(priya_police)
    give_purpose(client, subject.id)
    assert client.post(f"/records/{subject.id}/follow/", {"follow": "1"}).status_code == 302
    assert 'data-testid="follow"' in client.get(f"/records/{subject.id}/").content.decode()
    change_everything(morgan_mh, subject)
    deliver_due()
    html = client.get("/notifications/").content.decode()
    assert "QUENBY, Alex" in html
    for code in NOTIFY_ITEMS:
        assert (ITEMS_BY_CODE[code].label in html) == (code in readable_by("police_officer")), code
    assert AuditEvent.objects.filter(event="notification.inbox", actor=priya_police).exists()


def test_consent_withdrawn_before_sending_means_nothing_is_sent(morgan_mh, priya_police, subject):
    follow_subject(user=priya_police, subject_id=subject.id, follow=True)
    change_everything(morgan_mh, subject)
    Subject.objects.filter(pk=subject.pk).update(consent_status="withdrawn")
    deliver_due()
    assert set(Delivery.objects.values_list("status", flat=True)) == {"nothing_readable"}
    assert not AuditEvent.objects.filter(event="notification.deliver").exists()


class Receiver(BaseHTTPRequestHandler):
    """Fails the first delivery with a 500, accepts the rest; keeps what it was sent."""

    received: list[tuple[Any, bytes]] = []
    calls = 0

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).calls += 1
        if type(self).calls == 1:
            self.send_response(500)
            self.end_headers()
            return
        type(self).received.append((self.headers, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver():
    Receiver.received, Receiver.calls = [], 0
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


def test_client_systems_get_signed_filtered_webhooks_retried_until_delivered(pat_probation, morgan_mh, api_for, subject, receiver):
    api = api_for(pat_probation)
    ApiClient.objects.filter(pk=api.client.pk).update(webhook_url=receiver)
    response = api.post(f"/api/v1/subjects/{subject.id}/follow", {})
    assert response.status_code == 200 and response.json()["following"] is True
    change_everything(morgan_mh, subject)
    [delivery] = Delivery.objects.filter(channel="webhook")

    assert deliver_due() == {"delivered": 0, "nothing_readable": 0, "failed": 1}
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.attempts == 1 and "500" in delivery.last_error
    assert deliver_due() == {"delivered": 0, "nothing_readable": 0, "failed": 0}  # not due yet: it waits
    later = delivery.next_attempt_at + dt.timedelta(seconds=1)
    assert deliver_due(now=later)["delivered"] == 1
    delivery.refresh_from_db()
    assert delivery.status == "delivered"

    [(headers, body)] = Receiver.received
    secret = ApiClient.objects.get(pk=api.client.pk).webhook_secret
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-MAIS-Signature"] == f"sha256={expected}"
    payload = json.loads(body)
    readable = readable_by("probation_officer") & NOTIFY_ITEMS
    assert {i["code"] for i in payload["items"]} == readable
    assert ("TOKEN-relapse" in body.decode()) == ("mental_health.relapse_signs" in readable)
    assert AuditEvent.objects.filter(event="notification.deliver", additional_data__channel="webhook").count() == 2


def test_a_revoked_follow_via_api(pat_probation, api_for, subject):
    api = api_for(pat_probation)
    api.post(f"/api/v1/subjects/{subject.id}/follow", {})
    assert api.http.delete(f"/api/v1/subjects/{subject.id}/follow", headers=api.headers).json()["following"] is False
    assert not Follow.objects.exists()


def test_delivery_command_sends_what_is_due(morgan_mh, priya_police, subject):
    import io

    from django.core.management import call_command

    follow_subject(user=priya_police, subject_id=subject.id, follow=True)
    change_everything(morgan_mh, subject)
    out = io.StringIO()
    call_command("deliver_notifications", stdout=out)
    assert "delivered: 1" in out.getvalue()
    assert Delivery.objects.get().status == "delivered"

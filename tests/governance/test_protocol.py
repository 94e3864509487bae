"""Attestation: everyone confirms the information-sharing protocol before first access and every 12 months.

Priya (police) cannot search until she confirms; a new version sends her back
to the protocol; so does a confirmation older than the configured months.
Ada (administrator) publishes versions and sees who confirmed which.
"""

from __future__ import annotations

import datetime as dt

import time_machine
from django.utils import timezone

from access.backends import AccountBackend
from access.policy import principal_for
from audit.models import AuditEvent
from audit.services import RequestContext
from governance.models import Attestation, ProtocolVersion
from governance.protocol import VersionInForce, protocol_publish, version_in_force

CTX = RequestContext("test-request", "127.0.0.1")


def publish(admin, body="Share only what is needed, with whom it is needed, and record why.", summary="First version"):
    return protocol_publish(actor=principal_for(admin), title="North network protocol", body=body, change_summary=summary, context=CTX)


def confirm(client, version, follow_to="/search/"):
    return client.post(f"/protocol/?next={follow_to}", {"version": version.pk, "confirm": "on", "next": follow_to})


def test_with_no_protocol_published_nobody_is_blocked(priya_police, client_for):
    assert client_for(priya_police).get("/search/").status_code == 200


def test_priya_must_confirm_before_first_access_and_then_goes_where_she_was_going(priya_police, ada_admin, client_for):
    version = publish(ada_admin)
    client = client_for(priya_police)
    response = client.get("/search/")
    assert response.status_code == 302 and response["Location"].startswith("/protocol/?next=%2Fsearch%2F")
    page = client.get(response["Location"]).content.decode()
    assert "Share only what is needed" in page and "Version 1" in page
    # Not ticking the box is refused with a clear message and confirms nothing.
    refused = client.post("/protocol/", {"version": version.pk, "next": "/search/"})
    assert "Tick the box to confirm you have read the protocol." in refused.content.decode()
    assert not Attestation.objects.filter(user=priya_police).exists()
    done = confirm(client, version)
    assert done.status_code == 302 and done["Location"] == "/search/"
    assert client.get("/search/").status_code == 200
    event = AuditEvent.objects.get(event="protocol.attest", actor_id=priya_police.pk)
    assert event.additional_data["version"] == 1


def test_the_protocol_page_and_sign_out_stay_open_while_blocked(priya_police, ada_admin, client_for):
    publish(ada_admin)
    client = client_for(priya_police)
    assert client.get("/protocol/").status_code == 200
    assert client.post("/logout/").status_code == 200


def test_a_new_version_needs_a_new_confirmation(priya_police, ada_admin, client_for):
    first = publish(ada_admin)
    client = client_for(priya_police)
    confirm(client, first)
    assert client.get("/search/").status_code == 200
    second = publish(ada_admin, body="New rule: record every phone disclosure.", summary="Phone disclosures")
    response = client.get("/search/")
    assert response.status_code == 302 and response["Location"].startswith("/protocol/")
    # Confirming the old version after the new one is published is refused.
    stale = confirm(client, first)
    assert stale.status_code == 302 and stale["Location"].startswith("/protocol/")
    assert Attestation.objects.filter(user=priya_police).count() == 1
    assert "Phone disclosures" in client.get("/protocol/").content.decode()
    confirm(client, second)
    assert client.get("/search/").status_code == 200


def test_a_version_published_by_another_worker_applies_to_priyas_next_request(priya_police, ada_admin, client_for):
    """The version in force comes with the user row, so no worker keeps an old one: here the new row is written
    straight to the table, as another process's publication would be, with nothing in this process told of it."""
    first = publish(ada_admin)
    client = client_for(priya_police)
    confirm(client, first)
    assert client.get("/search/").status_code == 200
    ProtocolVersion.objects.create(
        number=2, title="North network protocol", body="Second.", published_by="Ada", published_at=timezone.now()
    )
    response = client.get("/search/")
    assert response.status_code == 302 and response["Location"].startswith("/protocol/")


def test_the_version_in_force_is_the_highest_number_with_or_without_the_sign_in_backend(priya_police, ada_admin, django_assert_num_queries):
    assert version_in_force(AccountBackend().get_user(priya_police.pk)) is None and version_in_force(priya_police) is None
    publish(ada_admin)
    second = publish(ada_admin, body="Second words.", summary="Second")
    expected = VersionInForce(second.pk, 2)
    loaded = AccountBackend().get_user(priya_police.pk)
    with django_assert_num_queries(0):
        assert version_in_force(loaded) == expected
    with django_assert_num_queries(1):
        assert version_in_force(priya_police) == expected


def test_an_expired_attestation_blocks_access_until_renewed(priya_police, ada_admin, client_for, settings):
    settings.ATTESTATION_MONTHS = 12
    version = publish(ada_admin)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = client_for(priya_police)
        confirm(client, version)
        assert client.get("/search/").status_code == 200
    # A day short of twelve months: still fine (a fresh sign-in, so the session limits do not interfere).
    with time_machine.travel(start + dt.timedelta(days=364), tick=False):
        assert client_for(priya_police).get("/search/").status_code == 200
    with time_machine.travel(start + dt.timedelta(days=367), tick=False):
        client = client_for(priya_police)
        response = client.get("/search/")
        assert response.status_code == 302 and response["Location"].startswith("/protocol/")
        confirm(client, version)
        assert client.get("/search/").status_code == 200
    assert Attestation.objects.filter(user=priya_police).count() == 2


def test_expiry_also_ends_an_open_session(priya_police, ada_admin, client_for, settings):
    """The session remembers the confirmation with its end, so a long session cannot outlive it."""
    settings.ATTESTATION_MONTHS = 1
    settings.SESSION_ABSOLUTE_SECONDS = 10**9
    settings.SESSION_COOKIE_AGE = 10**9
    version = publish(ada_admin)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = client_for(priya_police)
        confirm(client, version)
        assert client.get("/search/").status_code == 200
    with time_machine.travel(start + dt.timedelta(days=32), tick=False):
        response = client.get("/search/")
        assert response.status_code == 302 and response["Location"].startswith("/protocol/")


def test_only_administrators_publish_and_they_see_who_confirmed(priya_police, nia_nurse, ada_admin, client_for):
    admin = client_for(ada_admin)
    priya = client_for(priya_police)
    assert admin.get("/admin/protocol/").status_code == 200  # nothing published yet: nobody blocked
    response = admin.post("/admin/protocol/", {"title": "Network protocol", "body": "", "change_summary": ""})
    page = response.content.decode()
    assert "Enter the text of the protocol." in page and "Say what changed" in page
    response = admin.post("/admin/protocol/", {"title": "Network protocol", "body": "Share wisely.", "change_summary": "First"})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(event="protocol.publish", actor_id=ada_admin.pk).count() == 1
    # Ada herself now confirms before going on.
    assert admin.get("/admin/protocol/").status_code == 302
    confirm(admin, ProtocolVersion.objects.get(), follow_to="/admin/protocol/")
    confirm(priya, ProtocolVersion.objects.get())
    page = admin.get("/admin/protocol/").content.decode()
    assert 'data-user="priya"' in page and 'data-user="nia"' in page
    rows = {line.split('data-user="')[1].split('"')[0]: line for line in page.split("<tr") if 'data-user="' in line}
    assert 'data-state="current"' in rows["priya"]
    assert 'data-state="never"' in rows["nia"]
    assert priya.get("/admin/protocol/").status_code == 403

"""The purpose in force: given once for a task, kept while it is used, gone 30 minutes after its last use."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.conf import settings
from django.utils import timezone

from access.web import PURPOSE_KEY
from tests.conftest import give_purpose


def _search(client, reason: str = "custody_detention", detail: str = "Custody record 123"):
    return client.post("/search/", {"name": "Nobody", "reason": reason, "reason_detail": detail})


def test_priya_keeps_her_purpose_while_she_searches_and_loses_it_half_an_hour_after(priya_police, client_for, subject):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = give_purpose(client_for(priya_police), subject.id)
        given_at = client.session[PURPOSE_KEY]["at"]
    # The same purpose again within the refresh interval: nothing written, the time it was given stands.
    with time_machine.travel(start + dt.timedelta(seconds=settings.SESSION_REFRESH_SECONDS - 5), tick=False):
        assert _search(client).status_code == 200
        assert client.session[PURPOSE_KEY]["at"] == given_at
    # Used again after the interval: kept in force from now.
    later = start + dt.timedelta(minutes=10)
    with time_machine.travel(later, tick=False):
        assert _search(client).status_code == 200
        assert client.session[PURPOSE_KEY]["at"] == later.timestamp()
    # Record views use the purpose without renewing it (each step within the session's 15 idle minutes).
    for minutes in (10, 20, 29):
        with time_machine.travel(later + dt.timedelta(minutes=minutes), tick=False):
            response = client.get(f"/records/{subject.id}/")
            assert response.status_code == 200 and b'name="reason"' not in response.content, minutes
    with time_machine.travel(later + dt.timedelta(minutes=31), tick=False):
        response = client.get(f"/records/{subject.id}/")
        assert b'name="reason"' in response.content  # asked for the purpose again


def test_a_different_purpose_is_recorded_at_once(priya_police, client_for, subject):
    client = give_purpose(client_for(priya_police), subject.id)
    assert _search(client, reason="other", detail="Missing person enquiry 77").status_code == 200
    assert client.session[PURPOSE_KEY]["code"] == "other"
    assert client.session[PURPOSE_KEY]["text"] == "Missing person enquiry 77"

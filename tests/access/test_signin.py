"""Sign-in: deny by default, TOTP second factor, backup codes, lockout, sessions and headers."""

from __future__ import annotations

import time
import uuid

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from mais.middleware import AUTH_AT, OPEN_URL_NAMES
from tests.factories import PASSWORD, make_user


def all_url_names() -> list[tuple[str, str]]:
    """Every named URL of the project, with sample arguments: the walk covers new URLs automatically."""
    samples = {
        "subject_id": uuid.uuid4(),
        "section": "risk",
        "item_code": "risk.weapons",
        "kind": "subject",
        "alert_id": 1,
        "agency_id": 1,
        "agreement_id": 1,
        "client_id": 1,
        "user_id": 1,
        "action": "deactivate",
        "uidb64": "MQ",
        "token": "x-y",
        "referral_id": 1,
        "step": "decide",
        "report": "activity",
    }
    out = []

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix)
            elif isinstance(p, URLPattern) and p.name:
                kwargs = {k: samples[k] for k in p.pattern.regex.groupindex}
                out.append((p.name, reverse(p.name, kwargs=kwargs)))

    walk(get_resolver().url_patterns)
    return out


URLS = all_url_names()


def test_the_walk_covers_the_main_pages():
    names = {n for n, _ in URLS}
    assert {"search", "record", "edit-section", "matrix", "enrol", "preview"} <= names


def _assert_api_refuses_sessions(name, url, response):
    """The API takes client credentials only: a browser session, signed in or not, gets JSON 401 (or 405).

    The OpenAPI description alone is public: it holds no data.
    """
    if name == "api-schema":
        assert response.status_code in (200, 405)
        return
    assert response.status_code in (401, 405), (name, response.status_code)
    assert response.json()["error"]["code"] in ("unauthenticated", "method_not_allowed")


@pytest.mark.parametrize(("name", "url"), URLS)
def test_anonymous_users_reach_only_sign_in(name, url, client, db):
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        if url.startswith("/api/"):
            _assert_api_refuses_sessions(name, url, response)
        elif name in OPEN_URL_NAMES:
            assert response.status_code in (200, 405), (name, method)
        else:
            assert response.status_code == 302 and response["Location"].startswith("/login/"), (name, method, response.status_code)


@pytest.mark.parametrize(("name", "url"), URLS)
def test_password_without_second_factor_reaches_only_enrolment(name, url, priya_police, db):
    client = Client()
    client.post("/login/", {"username": "priya", "password": PASSWORD})
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        if url.startswith("/api/"):
            _assert_api_refuses_sessions(name, url, response)
        elif name in OPEN_URL_NAMES or name in {"otp-verify", "otp-enrol"}:
            assert response.status_code in (200, 302, 405), (name, method)
            if response.status_code == 302:
                assert response["Location"] in ("/login/verify/", "/login/enrol/", "/"), response["Location"]
        else:
            assert response.status_code == 302 and response["Location"] == "/login/verify/", (name, method, response.status_code)


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def test_new_user_enrols_with_a_qr_code_and_gets_single_use_backup_codes(db):
    from access.models import Agency

    user = make_user("newbie", role="police_officer", agency=Agency.objects.create(code="p", name="P", kind="police"))
    TOTPDevice.objects.filter(user=user).delete()
    client = Client()
    response = client.post("/login/", {"username": "newbie", "password": PASSWORD})
    assert response["Location"] == "/login/enrol/"
    page = client.get("/login/enrol/")
    assert b"data:image/svg+xml" in page.content
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post("/login/enrol/", {"code": _code(device)})
    assert response.status_code == 302
    codes_page = client.get("/login/enrol/").content.decode()
    codes = list(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert len(codes) == 10 and all(c in codes_page for c in codes)
    assert client.get("/search/").status_code == 200
    # A backup code signs in once only.
    for expected in ("/", None):
        other = Client()
        other.post("/login/", {"username": "newbie", "password": PASSWORD})
        response = other.post("/login/verify/", {"code": codes[0]})
        if expected:
            assert response["Location"] == expected
        else:
            assert response.status_code == 200 and b"not right" in response.content


def test_wrong_code_is_refused_and_audited(priya_police, db):
    from audit.models import AuditEvent

    client = Client()
    client.post("/login/", {"username": "priya", "password": PASSWORD})
    response = client.post("/login/verify/", {"code": "000000"})
    assert b"That code is not right" in response.content
    assert AuditEvent.objects.filter(event="login.second_factor_failed", actor=priya_police).exists()


def test_session_key_rotates_after_the_second_factor(priya_police, db):
    client = Client()
    client.post("/login/", {"username": "priya", "password": PASSWORD})
    before = client.session.session_key
    client.post("/login/verify/", {"code": _code(TOTPDevice.objects.get(user=priya_police))})
    assert client.session.session_key != before


def test_lockout_looks_the_same_for_known_and_unknown_users(priya_police, db, settings):
    def attempts(username: str) -> Client:
        client = Client(REMOTE_ADDR="10.9.8.7")
        for _ in range(settings.AXES_FAILURE_LIMIT):
            client.post("/login/", {"username": username, "password": "wrong"})
        return client

    known = attempts("priya").post("/login/", {"username": "priya", "password": PASSWORD})
    unknown = attempts("nobody-here").post("/login/", {"username": "nobody-here", "password": "x"})
    assert known.status_code == unknown.status_code == 429
    assert known.content == unknown.content
    from audit.models import AuditEvent

    assert AuditEvent.objects.filter(event="login.lockout", actor_username="priya").exists()


def test_wrong_password_and_unknown_user_get_the_same_message(priya_police, client):
    a = client.post("/login/", {"username": "priya", "password": "wrong"})
    b = client.post("/login/", {"username": "nobody", "password": "wrong"})
    import re

    def strip(content: bytes, name: bytes) -> bytes:
        return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", content).replace(name, b"")

    assert a.status_code == b.status_code == 200
    assert strip(a.content, b"priya") == strip(b.content, b"nobody")


def test_expired_account_cannot_sign_in(priya_police, client):
    import datetime as dt

    priya_police.expires_on = dt.date.today() - dt.timedelta(days=1)
    priya_police.save()
    response = client.post("/login/", {"username": "priya", "password": PASSWORD})
    assert response.status_code == 200 and b"not right" in response.content


def test_a_session_in_use_stays_open_and_an_idle_one_ends_after_fifteen_minutes(priya_police, client_for):
    import datetime as dt

    import time_machine
    from django.utils import timezone

    start = timezone.now()
    client = client_for(priya_police)
    # Used every ten minutes for forty minutes: still signed in (the idle clock is renewed at most once a minute).
    for minutes in (0, 10, 20, 30, 40):
        with time_machine.travel(start + dt.timedelta(minutes=minutes, seconds=5), tick=False):
            assert client.get("/search/").status_code == 200, minutes
    # Then left for sixteen minutes: signed out.
    with time_machine.travel(start + dt.timedelta(minutes=56, seconds=10), tick=False):
        response = client.get("/search/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_absolute_limit_ends_the_session(priya_police, client_for, settings):
    client = client_for(priya_police)
    session = client.session
    session[AUTH_AT] = time.time() - settings.SESSION_ABSOLUTE_SECONDS - 1
    session.save()
    response = client.get("/search/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert client.get("/search/").status_code == 302


def test_logout_clears_the_session(priya_police, client_for):
    client = client_for(priya_police)
    response = client.post("/logout/")
    assert b"You have signed out" in response.content
    assert client.get("/search/").status_code == 302
    assert client.get("/logout/").status_code in (302, 405)


def test_security_headers(priya_police, client_for, subject):
    from tests.conftest import give_purpose

    client = client_for(priya_police)
    give_purpose(client, subject.id)
    response = client.get(f"/records/{subject.id}/")
    assert response["Cache-Control"] == "no-store"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Request-ID"]

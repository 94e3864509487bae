"""The attack suite: each attack fails safely (no data, no stack trace, nothing lost) and, where DESIGN.md says
denials are audited, leaves its audit row.

Against the whole application stack (middleware, views, choke point, database) through Django's test
client; tests/security/test_log_canaries.py and tests/mais/test_two_nodes.py drive it under gunicorn.
"""

from __future__ import annotations

import statistics
import time
import uuid

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.models import AgencyKind
from access.policy import principal_for
from access.services import current_grants, policy_update
from audit.models import AuditEvent
from audit.services import RequestContext
from records.dataset import ITEMS
from records.models import ConsentStatus, Subject
from tests.access.test_signin import all_url_names
from tests.conftest import give_purpose
from tests.factories import PASSWORD, make_subject
from tests.security.http import form_fields

CTX = RequestContext("attack-test", "127.0.0.1")
SQL_PAYLOADS = [
    "' OR '1'='1",
    "'; DROP TABLE records_subject; --",
    "x' UNION SELECT id, family_name FROM records_subject --",
    "\\'; SELECT pg_sleep(5); --",
]
XSS_PAYLOADS = ['<script>alert("xss")</script>', '"><img src=x onerror=alert(1)>', "javascript:alert(1)", "<svg/onload=alert(1)>"]
SEARCH_FIELDS = ("name", "nhs_number", "pnc_id", "prison_number", "cro_number", "date_of_birth")
PURPOSE = {"reason": "custody_detention", "reason_detail": "Custody 1"}


def no_crash(response) -> None:
    body = response.content.decode(errors="replace")
    assert response.status_code < 500, body[:500]
    assert "Traceback" not in body and "psycopg2" not in body and "ProgrammingError" not in body


# --- SQL injection and XSS ---------------------------------------------------------------------------


@pytest.mark.parametrize("field", SEARCH_FIELDS)
def test_injection_payloads_in_every_search_field_fail_safely(field, priya_police, subject, client_for):
    client = client_for(priya_police)
    before = Subject.objects.count()
    for payload in SQL_PAYLOADS + XSS_PAYLOADS:
        started = time.monotonic()
        response = client.post("/search/", {**PURPOSE, field: payload})
        no_crash(response)
        assert time.monotonic() - started < 4, "pg_sleep must not run"
        body = response.content.decode()
        assert "<script>alert" not in body and "<img src=x onerror" not in body and "<svg/onload" not in body
    assert Subject.objects.count() == before
    assert Subject.objects.filter(pk=subject.pk).exists()


def _text_fields(section: str) -> list[str]:
    return [f for i in ITEMS if i.section == section and i.kind == "text" for f in i.model_fields]


@pytest.mark.parametrize("section", ["mental_health", "risk"])
def test_stored_xss_and_sql_in_every_edit_field_are_kept_as_text_and_shown_escaped(section, morgan_mh, subject, client_for):
    client = give_purpose(client_for(morgan_mh), subject.id, "care_planning")
    page = client.get(f"/records/{subject.id}/edit/{section}/")
    assert page.status_code == 200
    payload = XSS_PAYLOADS[0] + " " + SQL_PAYLOADS[1]
    targets = _text_fields(section)
    assert targets
    fields = [(k, payload if k in targets else v) for k, v in form_fields(page.content.decode())]
    data: dict[str, list[str]] = {}
    for k, v in fields:
        data.setdefault(k, []).append(v)
    response = client.post(f"/records/{subject.id}/edit/{section}/", data)
    no_crash(response)
    assert response.status_code == 302, response.content.decode()[:3000]
    subject.refresh_from_db()
    for name in targets:
        assert getattr(subject, name) == payload  # stored exactly as typed: it is text, never code
    html = client.get(f"/records/{subject.id}/").content.decode()
    assert '<script>alert("xss")</script>' not in html
    assert "&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;" in html


def test_reflected_xss_in_filters_and_next_parameters_is_escaped(ada_admin, client_for):
    client = client_for(ada_admin)
    response = client.get("/reports/activity/", {"from": XSS_PAYLOADS[1], "agency": XSS_PAYLOADS[0]})
    no_crash(response)
    assert "<img src=x onerror" not in response.content.decode()
    assert client.get("/protocol/", {"next": "javascript:alert(1)"}).status_code in (200, 302)


# --- CSRF ---------------------------------------------------------------------------------------------


def test_every_state_changing_endpoint_refuses_a_post_without_its_csrf_token(priya_police, subject, client_for):
    signed_in = client_for(priya_police)
    client = Client(enforce_csrf_checks=True)
    client.cookies = signed_in.cookies
    checked = 0
    for name, url in all_url_names():
        if url.startswith("/api/") or name == "health":
            continue  # the API takes no cookies (a bearer credential only); /health/ writes nothing
        response = client.post(url, {"reason": "custody_detention", "name": "x"})
        assert response.status_code == 403, (name, url, response.status_code)
        assert "Your form has expired" in response.content.decode(), (name, url)  # refused by CSRF, before any view
        checked += 1
    assert checked > 40
    assert not AuditEvent.objects.filter(event__in=["search", "record.edit", "referral.create"]).exists()
    rejected = AuditEvent.objects.filter(event="csrf.rejected", outcome="denied", actor_id=priya_police.pk)
    assert rejected.count() == checked


def test_the_api_ignores_a_session_cookie(priya_police, subject, client_for):
    client = client_for(priya_police)
    assert client.post("/api/v1/search", {"name": "Quenby"}, content_type="application/json").status_code == 401


# --- IDOR -------------------------------------------------------------------------------------------


def test_guessed_and_other_agency_ids_look_the_same_and_are_audited(priya_police, cmht_team, client_for):
    hidden = make_subject(team=cmht_team, family_name="Hidden")
    hidden.consent_status = ConsentStatus.GIVEN
    hidden.consent_agency_kinds = [AgencyKind.NHS_TRUST]
    hidden.lawful_basis = ""
    hidden.save()
    client = client_for(priya_police)
    guessed = uuid.uuid4()
    pages = []
    for target in (guessed, hidden.id):
        give_purpose(client, target)
        for path in (f"/records/{target}/", f"/records/{target}/history/identity.family_name/", f"/records/{target}/edit/identity/"):
            response = client.get(path)
            no_crash(response)
            assert response.status_code in (403, 404)
            pages.append(response.status_code)
        assert client.get(f"/records/{target}/sharing/").status_code == 404
    outcomes = set(AuditEvent.objects.filter(actor_id=priya_police.pk, event="record.view").values_list("outcome", flat=True))
    assert outcomes == {"not_found", "denied"}
    assert AuditEvent.objects.filter(actor_id=priya_police.pk, subject_id=hidden.id, outcome="denied").exists()
    assert b"Hidden" not in client.get(f"/records/{hidden.id}/").content


def test_guessed_ids_through_the_api_look_the_same(priya_police, api_for, cmht_team):
    hidden = make_subject(team=cmht_team)
    hidden.consent_status, hidden.consent_agency_kinds, hidden.lawful_basis = ConsentStatus.WITHDRAWN, [], ""
    hidden.save()
    api = api_for(priya_police)
    a, b = api.get(f"/api/v1/subjects/{uuid.uuid4()}"), api.get(f"/api/v1/subjects/{hidden.id}")
    assert a.status_code == b.status_code == 404 and a.json()["error"]["code"] == b.json()["error"]["code"]


# --- Mass assignment -----------------------------------------------------------------------------------


def test_fields_a_role_may_not_write_are_never_written(morgan_mh, priya_police, pat_probation, subject, client_for, api_for):
    original = {"nhs_number": subject.nhs_number, "warning_markers": subject.warning_markers, "family_name": subject.family_name}
    # Police may write nothing on this section: the edit page and a forged POST are both refused.
    police = give_purpose(client_for(priya_police), subject.id)
    assert police.post(f"/records/{subject.id}/edit/mental_health/", {"relapse_signs": "forged", "version": 1}).status_code == 403
    # Morgan's mental health form with extra fields from other sections: only the section's items are read.
    morgan = give_purpose(client_for(morgan_mh), subject.id, "care_planning")
    page = morgan.get(f"/records/{subject.id}/edit/mental_health/")
    data: dict[str, list[str]] = {}
    for k, v in form_fields(page.content.decode()) + [("nhs_number", "9999999999"), ("family_name", "Forged")]:
        data.setdefault(k, []).append(v)
    no_crash(morgan.post(f"/records/{subject.id}/edit/mental_health/", data))
    subject.refresh_from_db()
    assert subject.nhs_number == original["nhs_number"] and subject.family_name == original["family_name"]
    # Probation through the API: a risk item it may not write is refused, not silently applied.
    api = api_for(pat_probation)
    response = api.patch(f"/api/v1/subjects/{subject.id}", {"items": {"risk.suicide_level": {"suicide_level": "high"}}})
    assert response.status_code in (400, 403)
    subject.refresh_from_db()
    assert subject.warning_markers == original["warning_markers"]


# --- Filtering or ordering by a withheld item ----------------------------------------------------------


def test_searching_by_a_withheld_item_is_refused_and_audited(priya_police, ada_admin, subject, api_for):
    keep = {c for c in current_grants() if not (c[0] == "police_officer" and c[1] == "identity.pnc_id")}
    policy_update(actor=principal_for(ada_admin), wanted=keep, context=CTX, summary="police no longer read PNC IDs")
    api = api_for(priya_police)
    response = api.post("/api/v1/search", {"pnc_id": subject.pnc_id})
    assert response.status_code == 403 and response.json()["error"]["code"] == "criterion_not_allowed"
    assert AuditEvent.objects.filter(event="search", outcome="denied").exists()
    # Ordering or filtering parameters naming items are not part of the API: they change nothing.
    plain = api.post("/api/v1/search", {"name": subject.family_name}).json()
    ordered = api.post("/api/v1/search", {"name": subject.family_name, "ordering": "-mental_health.diagnoses"}).json()
    assert [r["id"] for r in plain["results"]] == [r["id"] for r in ordered["results"]]


# --- Sessions and second factor ------------------------------------------------------------------------


def _password_step(client: Client, username: str) -> None:
    assert client.post("/login/", {"username": username, "password": PASSWORD}).status_code == 302


def test_a_planted_session_id_is_replaced_at_sign_in(priya_police, db):
    attacker = Client()
    attacker.get("/login/")
    victim = Client()
    victim.cookies["sessionid"] = "attackerchosen0000000000000000000"
    _password_step(victim, "priya")
    assert victim.cookies["sessionid"].value != "attackerchosen0000000000000000000"


def test_a_session_cannot_be_reused_after_sign_out(priya_police, client_for):
    client = client_for(priya_police)
    stolen = client.cookies["sessionid"].value
    client.post("/logout/")
    thief = Client()
    thief.cookies["sessionid"] = stolen
    response = thief.get("/search/")
    assert response.status_code == 302 and response["Location"].startswith("/login")


def test_a_totp_code_cannot_be_replayed(priya_police, db):
    device = TOTPDevice.objects.get(user=priya_police)
    code = f"{totp(device.bin_key):06d}"
    first = Client()
    _password_step(first, "priya")
    assert first.post("/login/verify/", {"code": code})["Location"] == "/"
    second = Client()
    _password_step(second, "priya")
    response = second.post("/login/verify/", {"code": code})
    assert response.status_code == 200 and "That code is not right" in response.content.decode()
    assert AuditEvent.objects.filter(event="login.second_factor_failed", actor_id=priya_police.pk).exists()


def test_guessing_totp_codes_is_throttled_and_audited(priya_police, db):
    client = Client()
    _password_step(client, "priya")
    for guess in range(6):
        client.post("/login/verify/", {"code": f"{guess:06d}"})
    device = TOTPDevice.objects.get(user=priya_police)
    assert device.throttling_failure_count >= 1 and device.throttling_failure_timestamp is not None
    # Even the right code is refused while throttled (django-otp doubles the wait after each failure).
    response = client.post("/login/verify/", {"code": f"{totp(device.bin_key):06d}"})
    assert response.status_code == 200
    assert AuditEvent.objects.filter(event="login.second_factor_failed", actor_id=priya_police.pk).count() >= 7


# --- User enumeration ---------------------------------------------------------------------------------


def test_known_and_unknown_usernames_look_alike_by_message_status_and_time(priya_police, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    priya_police.set_password("Real-password-for-timing-1")
    priya_police.save()
    settings.AXES_FAILURE_LIMIT = 1000

    def attempt(username: str) -> tuple[int, str, float]:
        client = Client()
        started = time.perf_counter()
        response = client.post("/login/", {"username": username, "password": "wrong-password"})
        return response.status_code, response.content.decode(), time.perf_counter() - started

    known = [attempt("priya") for _ in range(5)]
    unknown = [attempt(f"nobody{i}") for i in range(5)]
    assert {s for s, _, _ in known} == {s for s, _, _ in unknown} == {200}
    message = "The username or password is not right."
    assert all(message in body for _, body, _ in known + unknown)
    ratio = statistics.median(t for *_, t in known) / statistics.median(t for *_, t in unknown)
    assert 0.5 < ratio < 2.0, ratio  # both run the password hasher; a missing user is not answered early


# --- Path traversal ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/static/../mais/settings.py",
        "/static/..%2f..%2fmais%2fsettings.py",
        "/static/%2e%2e/%2e%2e/etc/passwd",
        "/audit/export/..%2f..%2fetc%2fpasswd/",
        "/reports/..%2f..%2fsettings/",
        "/records/caseload/export/?file=../../etc/passwd",
    ],
)
def test_no_download_reaches_a_file_outside_what_it_generates(path, aud_auditor, morgan_mh, client_for):
    for person in (aud_auditor, morgan_mh):
        client = client_for(person)
        response = client.get(path)
        no_crash(response)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert b"SECRET_KEY" not in body and b"root:x:0:0" not in body

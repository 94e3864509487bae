"""The REST API: the same item rules as the page for every role, credentials, purpose and end user, errors, limits."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import caches

from api.models import ApiCredential
from api.services import api_credential_revoke
from audit.models import AuditEvent
from governance.models import SharingAgreement
from records.dataset import ITEMS_BY_CODE
from records.models import Subject
from tests.access.test_disclosure import ROLE_CODES, TOKEN_ITEMS, readable_by, sentinel_subject
from tests.api.conftest import CTX


@pytest.fixture(autouse=True)
def _clear_rate_limits(db):
    caches["shared"].clear()
    yield


@pytest.mark.parametrize("role", [r for r in ROLE_CODES if r not in ("auditor", "mh_practitioner")])
def test_every_role_reads_exactly_its_items_through_the_api(role, person_for_role, api_for, cmht_team):
    person = person_for_role(role)
    subject = sentinel_subject(cmht_team)
    api = api_for(person)
    response = api.get(f"/api/v1/subjects/{subject.id}")
    expected = readable_by(role)
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    items = {i["code"]: i for i in body["items"]}
    assert set(items) == set(ITEMS_BY_CODE)  # withheld items are present, never omitted
    assert {c for c, i in items.items() if i["state"] == "shown"} == expected
    for code, item in items.items():
        if code not in expected:
            assert item["value"] is None and item["display"] == [] and item["reason"] == "role" and item["message"]
    text = response.content.decode()
    for code in TOKEN_ITEMS:
        assert (f"TOKEN-{code}" in text) == (code in expected), code
    event = AuditEvent.objects.get(event="record.view", subject_id=subject.id)
    assert set(event.items) == expected
    assert event.actor_username == api.client.user.username
    assert event.additional_data["on_behalf_of"] == "PC 1234 Example" and event.additional_data["surface"] == "api"
    assert event.purpose_code == "custody_detention"


def test_search_is_a_post_with_rows_and_audit(priya_police, api_for, subject):
    api = api_for(priya_police)
    response = api.post("/api/v1/search", {"name": "Quenbey"})
    assert response.status_code == 200
    rows = response.json()["results"]
    assert rows[0]["id"] == str(subject.id) and rows[0]["heading"].startswith("QUENBY")
    assert AuditEvent.objects.get(event="search").additional_data["on_behalf_of"] == "PC 1234 Example"
    assert api.get("/api/v1/search").status_code == 405
    empty = api.post("/api/v1/search", {})
    assert empty.status_code == 400 and empty.json()["error"]["code"] == "validation_failed"


def test_search_pages_through_the_api(priya_police, api_for, settings):
    from tests.factories import make_subjects_bulk

    settings.SEARCH_PAGE_SIZE = 2
    make_subjects_bulk([("Petra", "Pager")] * 3)
    api = api_for(priya_police)
    first = api.post("/api/v1/search", {"name": "Pager"}).json()
    second = api.post("/api/v1/search", {"name": "Pager", "page": 2}).json()
    assert (first["page"], first["page_size"], first["has_more"], len(first["results"])) == (1, 2, True, 2)
    assert (second["page"], second["has_more"], second["capped"], len(second["results"])) == (2, False, False, 1)
    assert {r["id"] for r in first["results"]}.isdisjoint(r["id"] for r in second["results"])
    beyond = api.post("/api/v1/search", {"name": "Pager", "page": 0})
    assert beyond.status_code == 400 and "page" in beyond.json()["error"]["fields"]
    assert AuditEvent.objects.filter(event="search").count() == 2


def test_every_call_names_its_end_user_and_purpose(priya_police, api_for, subject):
    api = api_for(priya_police)
    missing_user = api.get(f"/api/v1/subjects/{subject.id}", **{"X-On-Behalf-Of": ""})
    assert missing_user.status_code == 400 and missing_user.json()["error"]["code"] == "on_behalf_of_required"
    bad_purpose = api.get(f"/api/v1/subjects/{subject.id}", **{"X-Purpose": "curiosity"})
    assert bad_purpose.json()["error"]["code"] == "purpose_required"
    other = api.get(f"/api/v1/subjects/{subject.id}", **{"X-Purpose": "other"})
    assert other.json()["error"]["code"] == "purpose_detail_required"
    assert not AuditEvent.objects.filter(event="record.view").exists()


def test_credentials_are_required_and_revocation_takes_effect_on_the_next_call(priya_police, api_for, subject):
    api = api_for(priya_police)
    assert api.get(f"/api/v1/subjects/{subject.id}").status_code == 200
    anonymous = api.http.get(f"/api/v1/subjects/{subject.id}")
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "unauthenticated"
    wrong = api.get(f"/api/v1/subjects/{subject.id}", Authorization="Bearer mais_0000_guess")
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "credential_invalid"
    api_credential_revoke(actor=None, credential=ApiCredential.objects.get(), context=CTX)
    assert api.get(f"/api/v1/subjects/{subject.id}").status_code == 401
    assert AuditEvent.objects.filter(event="api.credential_revoke").exists()


def test_a_deactivated_agency_stops_its_clients(priya_police, api_for, subject):
    api = api_for(priya_police)
    priya_police.agency.is_active = False
    priya_police.agency.save()
    assert api.get(f"/api/v1/subjects/{subject.id}").status_code == 401


def test_clients_cannot_exceed_their_agency_agreements(priya_police, api_for, subject):
    SharingAgreement.objects.get(reference="TEST-NETWORK").parties.remove(priya_police.agency)
    body = api_for(priya_police).get(f"/api/v1/subjects/{subject.id}").json()
    assert {i["state"] for i in body["items"]} == {"withheld"}
    assert {i["reason"] for i in body["items"] if i["code"] in readable_by("police_officer")} == {"agreement"}


def test_unknown_and_invisible_records_look_the_same(priya_police, api_for, subject):
    import uuid

    api = api_for(priya_police)
    Subject.objects.filter(pk=subject.pk).update(consent_status="withdrawn")
    hidden = api.get(f"/api/v1/subjects/{subject.id}")
    unknown = api.get(f"/api/v1/subjects/{uuid.uuid4()}")
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json() == unknown.json()


def test_probation_updates_criminal_justice_items_and_nothing_else(pat_probation, api_for, subject):
    api = api_for(pat_probation)
    ok = api.patch(
        f"/api/v1/subjects/{subject.id}",
        {"version": subject.version, "items": {"criminal_justice.licence_conditions": {"licence_conditions": "Curfew 20:00-06:00."}}},
    )
    assert ok.status_code == 200, ok.content
    assert ok.json()["version"] == subject.version + 1
    assert Subject.objects.get(pk=subject.pk).licence_conditions == "Curfew 20:00-06:00."
    stale = api.patch(
        f"/api/v1/subjects/{subject.id}",
        {"version": subject.version, "items": {"criminal_justice.licence_conditions": {"licence_conditions": "x"}}},
    )
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "edit_conflict"
    sneaky = api.patch(
        f"/api/v1/subjects/{subject.id}",
        {"version": subject.version + 1, "items": {"risk.suicide_level": {"suicide_level": "low"}}},
    )
    assert sneaky.status_code == 403 and sneaky.json()["error"]["fields"] == {"risk.suicide_level": ["Not writable by this client's role."]}
    unknown = api.patch(f"/api/v1/subjects/{subject.id}", {"version": 1, "items": {"risk.nonsense": {"x": 1}}})
    assert unknown.status_code == 400 and "Unknown item codes: risk.nonsense" in unknown.json()["error"]["fields"]["items"][0]
    assert Subject.objects.get(pk=subject.pk).suicide_level == subject.suicide_level


def test_invalid_values_get_field_messages(morgan_mh, api_for, subject):
    api = api_for(morgan_mh)
    response = api.patch(
        f"/api/v1/subjects/{subject.id}", {"version": subject.version, "items": {"identity.nhs_number": {"nhs_number": "1234567890"}}}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_failed" and "nhs_number" in response.json()["error"]["fields"]


def test_changes_list_codes_and_times_never_values(morgan_mh, priya_police, api_for, subject):
    from access.policy import principal_for
    from audit.services import Purpose
    from records.services import subject_update

    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    subject_update(
        principal=principal_for(morgan_mh),
        subject_id=subject.id,
        expected_version=subject.version,
        changes={"risk.weapons": {"weapons": "Knife found 2026"}, "mental_health.diagnoses": {"diagnoses": ["F20"]}},
        purpose=Purpose("care_planning"),
        context=CTX,
    )
    api = api_for(priya_police)
    response = api.get(f"/api/v1/changes?since={since.isoformat().replace('+00:00', 'Z')}")
    assert response.status_code == 200
    codes = {c["item_code"] for c in response.json()["changes"]}
    assert codes == {"risk.weapons", "mental_health.diagnoses"} & readable_by("police_officer")
    assert "Knife" not in response.content.decode()
    assert api.get("/api/v1/changes?since=yesterday").json()["error"]["code"] == "validation_failed"


def test_rate_limit_is_per_client_and_says_when_to_retry(priya_police, nia_nurse, api_for, subject, settings):
    from api.auth import ClientRateThrottle

    ClientRateThrottle.THROTTLE_RATES = {"client": "3/min"}
    try:
        police, nurse = api_for(priya_police), api_for(nia_nurse)
        statuses = [police.get(f"/api/v1/subjects/{subject.id}").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = police.get(f"/api/v1/subjects/{subject.id}")
        assert limited.json()["error"]["code"] == "rate_limited" and int(limited["Retry-After"]) > 0
        assert nurse.get(f"/api/v1/subjects/{subject.id}").status_code == 200
    finally:
        ClientRateThrottle.THROTTLE_RATES = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]


def test_schema_is_served_and_documents_the_headers(client):
    response = client.get("/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"})
    assert response.status_code == 200
    text = response.content.decode()
    for needle in ("/api/v1/search", "/api/v1/subjects/{subject_id}", "X-On-Behalf-Of", "X-Purpose", "/api/v1/changes"):
        assert needle in text


def test_the_committed_openapi_document_is_current(db):
    """api/openapi.yaml is what the code generates: regenerate it with `make openapi` after changing the API."""
    from pathlib import Path

    from django.core.management import call_command

    committed = (Path(__file__).resolve().parents[2] / "api" / "openapi.yaml").read_text()
    import io

    out = io.StringIO()
    call_command("spectacular", stdout=out)
    assert out.getvalue() == committed, "api/openapi.yaml is out of date: run `make openapi`"


def test_administrator_registers_a_client_and_revokes_its_credential(ada_admin, priya_police, subject, client_for):
    from access.models import Role

    web = client_for(ada_admin)
    role = Role.objects.get(code="police_officer")
    bad = web.post("/admin/api-clients/", {"name": "", "agency": priya_police.agency.pk, "role": role.pk})
    assert "This field is required" in bad.content.decode()
    page = web.post("/admin/api-clients/", {"name": "Custody system", "agency": priya_police.agency.pk, "role": role.pk}).content.decode()
    assert 'data-testid="new-credential"' in page
    token = page.split("<code>")[1].split("</code>")[0]
    from tests.conftest import ApiCaller as Caller

    api = Caller(token)
    assert api.get(f"/api/v1/subjects/{subject.id}").status_code == 200
    credential = ApiCredential.objects.get()
    web.post(f"/admin/api-clients/{credential.client_id}/", {"action": "revoke", "credential": credential.pk})
    assert api.get(f"/api/v1/subjects/{subject.id}").status_code == 401
    assert AuditEvent.objects.filter(event="api.client_register", actor=ada_admin).exists()
    assert AuditEvent.objects.filter(event="api.credential_revoke", actor=ada_admin).exists()
    assert client_for(priya_police).get("/admin/api-clients/").status_code == 403

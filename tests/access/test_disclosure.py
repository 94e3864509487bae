"""The role x item x surface matrix, generated from the policy data in the database.

For every role, on the record page and in search results: each item the role
may read is shown, each other item carries the withheld marker, and no
withheld value ever appears.
"""

from __future__ import annotations

import pytest
from django.db.models import Max

from access.disclosure import (
    KEY_ITEMS,
    SUMMARY_ITEMS,
    WITHHELD_TEXT,
    NotFound,
    SearchNotAllowed,
    disclose_search,
    disclose_subject,
    searchable_criteria,
)
from access.policy import principal_for
from access.services import current_grants
from audit.models import AuditEvent
from audit.services import Purpose, RequestContext
from records.dataset import ITEMS, ITEMS_BY_CODE, ROLES, TEXT
from records.selectors import SearchCriteria
from tests.conftest import give_purpose
from tests.factories import make_subject

PURPOSE = Purpose("custody_detention", "test")
CTX = RequestContext("test-request", "127.0.0.1")
ROLE_CODES = [code for code, *_ in ROLES]


def readable_by(role: str) -> set[str]:
    """From the policy data (guardian grants), not from a hand-written list."""
    return {item for r, item, _ in current_grants() if r == role}


def sentinel_subject(team):
    """A subject whose every free-text item holds a unique token, so a leak is visible anywhere."""
    overrides = {}
    for item in ITEMS:
        if item.kind == TEXT:
            overrides[item.model_fields[0]] = f"TOKEN-{item.code}"
    overrides["family_name"] = "Sentinel"
    overrides["given_names"] = "Sam"
    overrides["care_coordinator_name"] = "TOKEN-mental_health.care_coordinator"
    overrides["offender_manager_name"] = "TOKEN-criminal_justice.offender_manager"
    overrides["suicide_methods"] = "TOKEN-risk.suicide_history"
    overrides["last_custody_station"] = "TOKEN-criminal_justice.last_custody_episode"
    overrides["gp_practice_name"] = "TOKEN-mental_health.gp_practice"
    overrides["ooh_contact_name"] = "TOKEN-mental_health.out_of_hours_contact"
    return make_subject(team=team, **overrides)


TOKEN_ITEMS = [i.code for i in ITEMS if i.kind == TEXT] + [
    "mental_health.care_coordinator",
    "criminal_justice.offender_manager",
    "risk.suicide_history",
    "criminal_justice.last_custody_episode",
    "mental_health.gp_practice",
    "mental_health.out_of_hours_contact",
]


def test_policy_matrix_is_not_empty_and_differs_between_roles(db):
    assert readable_by("police_officer") and readable_by("mh_practitioner")
    assert readable_by("police_officer") != readable_by("custody_nurse")
    assert readable_by("auditor") == set()


@pytest.mark.parametrize("role", [r for r in ROLE_CODES])
def test_record_view_shows_exactly_the_granted_items(role, person_for_role, cmht_team):
    person = person_for_role(role)
    subject = sentinel_subject(cmht_team)
    expected = readable_by(role)
    who = principal_for(person)
    if not expected:
        with pytest.raises(NotFound):
            disclose_subject(principal=who, subject_id=subject.id, purpose=PURPOSE, context=CTX)
        return
    view = disclose_subject(principal=who, subject_id=subject.id, purpose=PURPOSE, context=CTX)
    shown = {i.code for s in view.sections for i in s.items if not i.withheld}
    withheld = {i.code for s in view.sections for i in s.items if i.withheld}
    assert shown == expected
    assert withheld == set(ITEMS_BY_CODE) - expected
    rendered = repr(view)
    for code in TOKEN_ITEMS:
        assert (f"TOKEN-{code}" in rendered) == (code in expected), code
    assert set(view.disclosed) == expected


@pytest.mark.parametrize("role", [r for r in ROLE_CODES])
def test_record_page_html_never_contains_a_withheld_value(role, person_for_role, cmht_team, client_for):
    person = person_for_role(role)
    subject = sentinel_subject(cmht_team)
    expected = readable_by(role)
    client = client_for(person)
    give_purpose(client, subject.id)
    response = client.get(f"/records/{subject.id}/")
    if not expected:
        assert response.status_code == 404
        return
    html = response.content.decode()
    assert response.status_code == 200
    for code in TOKEN_ITEMS:
        assert (f"TOKEN-{code}" in html) == (code in expected), code
    withheld = set(ITEMS_BY_CODE) - expected
    # Each withheld item is marked in its section, and again in the "Safety first" card when it is a key item.
    assert html.count('data-testid="withheld"') == len(withheld) + len(withheld & set(KEY_ITEMS))


@pytest.mark.parametrize("role", ROLE_CODES)
def test_search_results_show_exactly_the_granted_summary_items(role, person_for_role, cmht_team):
    person = person_for_role(role)
    subject = sentinel_subject(cmht_team)
    expected = readable_by(role)
    who = principal_for(person)
    if "identity.family_name" not in expected:
        assert "name" not in searchable_criteria(who)
        with pytest.raises(SearchNotAllowed):
            disclose_search(principal=who, criteria=SearchCriteria(name="Sentinel"), purpose=PURPOSE, context=CTX)
        return
    results = disclose_search(principal=who, criteria=SearchCriteria(name="Sentinel"), purpose=PURPOSE, context=CTX)
    row = next(r for r in results.rows if r.subject_id == subject.id)
    for code in SUMMARY_ITEMS:
        assert row.items[code].withheld == (code not in expected), code
        if code not in expected:
            assert row.items[code].lines == ()


def test_what_the_choke_point_returns_cannot_be_changed(priya_police, cmht_team):
    """Rule 2 of access.disclosure: an immutable view, so nothing after the choke point can add a value to it."""
    subject = sentinel_subject(cmht_team)
    who = principal_for(priya_police)
    view = disclose_subject(principal=who, subject_id=subject.id, purpose=PURPOSE, context=CTX)
    shown = next(i for s in view.sections for i in s.items if not i.withheld)
    withheld = next(i for s in view.sections for i in s.items if i.withheld)
    row = disclose_search(principal=who, criteria=SearchCriteria(name="Sentinel"), purpose=PURPOSE, context=CTX).rows[0]
    for item in (shown, withheld, *row.items.values()):
        with pytest.raises(AttributeError):
            item.lines = ("TOKEN-added",)  # type: ignore[misc]
        with pytest.raises(TypeError):
            item.raw["family_name"] = "TOKEN-added"  # type: ignore[index]
    with pytest.raises(AttributeError):
        view.heading = "TOKEN-added"  # type: ignore[misc]
    with pytest.raises(TypeError):
        row.items["identity.family_name"] = withheld  # type: ignore[index]


def test_withheld_items_carry_an_explicit_marker(priya_police, subject, client_for):
    client = client_for(priya_police)
    give_purpose(client, subject.id)
    html = client.get(f"/records/{subject.id}/").content.decode()
    assert WITHHELD_TEXT in html
    assert 'data-item="mental_health.diagnoses"' in html


def test_not_found_and_not_permitted_look_the_same_and_are_both_audited(aud_auditor, priya_police, subject, client_for):
    import uuid

    police = client_for(priya_police)
    give_purpose(police, subject.id)
    missing = uuid.uuid4()
    give_purpose(police, missing)
    not_found = police.get(f"/records/{missing}/")
    auditor = client_for(aud_auditor)
    give_purpose(auditor, subject.id)
    denied = auditor.get(f"/records/{subject.id}/")
    assert not_found.status_code == denied.status_code == 404
    assert not_found.content.replace(b"priya", b"").count(b"not found") == denied.content.replace(b"aud", b"").count(b"not found")
    assert AuditEvent.objects.filter(event="record.view", outcome="not_found", subject_id=missing, actor=priya_police).exists()
    assert AuditEvent.objects.filter(event="record.view", outcome="denied", subject_id=subject.id, actor=aud_auditor).exists()


def test_record_view_is_audited_with_item_codes_never_values(priya_police, subject):
    before = AuditEvent.objects.aggregate(m=Max("id"))["m"] or 0
    disclose_subject(principal=principal_for(priya_police), subject_id=subject.id, purpose=PURPOSE, context=CTX)
    event = AuditEvent.objects.get(id__gt=before, event="record.view")
    assert set(event.items) == readable_by("police_officer")
    assert event.purpose_code == "custody_detention" and event.request_id == "test-request"
    assert event.roles == "police_officer" and event.agency
    assert subject.family_name not in event.canonical_payload()
    assert subject.nhs_number not in event.canonical_payload()


def test_preview_as_role_hides_values_the_administrator_may_not_read(ada_admin, subject, client_for):
    client = client_for(ada_admin)
    give_purpose(client, subject.id, "data_quality")
    html = client.get(f"/records/{subject.id}/preview/?role=police_officer").content.decode()
    assert "as a Police officer would see it" in html
    assert subject.violence_history not in html  # police may read it, the administrator may not
    assert "value is hidden from you" in html
    assert AuditEvent.objects.filter(event="record.preview", actor=ada_admin, subject_id=subject.id).exists()


def test_only_administrators_preview(priya_police, subject, client_for):
    client = client_for(priya_police)
    give_purpose(client, subject.id)
    assert client.get(f"/records/{subject.id}/preview/?role=mh_practitioner").status_code == 403


def _stale_standing(monkeypatch, consent, times: int | None = None):
    """Make the standing query report ``consent`` (as if read just before someone changed it) ``times`` times."""
    import dataclasses

    import access.disclosure

    real = access.disclosure.subject_standing
    calls = []

    def stale(*args, **kwargs):
        calls.append(1)
        standing = real(*args, **kwargs)
        return dataclasses.replace(standing, consent=consent) if times is None or len(calls) <= times else standing

    monkeypatch.setattr(access.disclosure, "subject_standing", stale)
    return calls


def test_consent_withdrawn_between_the_decision_and_the_read_shows_priya_nothing(priya_police, subject, monkeypatch):
    """Priya's view was decided on consent that covered police; it was withdrawn before her record was read. The read
    returns nothing and appends no row; the view decides again on the withdrawal and refuses her, audited as denied."""
    from access.governance import ConsentFacts
    from records.models import ConsentStatus, Subject

    Subject.objects.filter(id=subject.id).update(consent_status=ConsentStatus.GIVEN, consent_agency_kinds=["police"], lawful_basis="")
    before = ConsentFacts("given", ("police",), "")
    Subject.objects.filter(id=subject.id).update(consent_status=ConsentStatus.WITHDRAWN)
    calls = _stale_standing(monkeypatch, before, times=1)
    with pytest.raises(NotFound):
        disclose_subject(principal=principal_for(priya_police), subject_id=subject.id, purpose=PURPOSE, context=CTX)
    assert len(calls) == 2
    assert list(AuditEvent.objects.filter(subject_id=subject.id).values_list("event", "outcome", "additional_data")) == [
        ("record.view", "denied", {"rule": "consent"})
    ]


def test_a_record_whose_consent_keeps_changing_is_not_served(priya_police, subject, monkeypatch):
    """If the consent read by the standing query never matches the record (three tries), nothing is served and no
    disclosure is audited: the request fails as the audit trail failing does (503)."""
    from access.governance import ConsentFacts
    from audit.services import AuditUnavailable

    calls = _stale_standing(monkeypatch, ConsentFacts("given", ("police", "other"), "not-the-records-basis"))
    with pytest.raises(AuditUnavailable):
        disclose_subject(principal=principal_for(priya_police), subject_id=subject.id, purpose=PURPOSE, context=CTX)
    assert len(calls) == 3
    assert not AuditEvent.objects.filter(subject_id=subject.id).exists()


def test_the_record_view_audits_the_lawful_basis_it_decided_on(priya_police, subject):
    """The row's lawful basis is the record's, and the chain verifies with the hash the database computed."""
    from access.governance import lawful_basis_of
    from audit.verify import verify_chain
    from records.selectors import governance_values

    view = disclose_subject(principal=principal_for(priya_police), subject_id=subject.id, purpose=PURPOSE, context=CTX)
    event = AuditEvent.objects.get(event="record.view", subject_id=subject.id)
    assert event.lawful_basis == lawful_basis_of(governance_values(subject.id))
    assert event.items == sorted(view.disclosed)
    assert verify_chain().ok

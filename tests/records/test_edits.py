"""Edits: caseload, item-level write grants, conflicts, validation, history and audit."""

from __future__ import annotations

import pytest

from access.disclosure import NotFound
from access.policy import principal_for
from audit.models import AuditEvent
from audit.services import Purpose, RequestContext
from records.models import ItemChange, Subject
from records.services import EditConflict, subject_update
from tests.conftest import give_purpose
from tests.factories import make_subject

PURPOSE = Purpose("care_planning")
CTX = RequestContext("edit", "127.0.0.1")


def test_morgan_edits_risk_on_her_caseload(morgan_mh, cmht_team, client_for):
    subject = make_subject(team=cmht_team, suicide_level="low", weapons="")
    client = client_for(morgan_mh)
    give_purpose(client, subject.id, "care_planning")
    page = client.get(f"/records/{subject.id}/edit/risk/")
    assert page.status_code == 200
    response = client.post(
        f"/records/{subject.id}/edit/risk/",
        {
            "version": subject.version,
            "suicide_level": "high",
            "weapons": "Carried a knife in 2024.",
            "custody_advice": "Constant observation.",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    subject.refresh_from_db()
    assert subject.suicide_level == "high" and subject.weapons == "Carried a knife in 2024."
    assert subject.version == 2
    event = AuditEvent.objects.filter(event="record.edit", actor=morgan_mh).latest("id")
    assert "risk.suicide_level" in event.items and "risk.weapons" in event.items
    assert "Carried a knife" not in event.canonical_payload()
    change = ItemChange.objects.filter(subject=subject, item_code="risk.weapons").latest("changed_at")
    assert change.value == {"weapons": "Carried a knife in 2024."} and change.changed_by == morgan_mh


def test_morgan_cannot_edit_health_off_her_caseload(morgan_mh, other_team):
    stranger = make_subject(team=other_team)
    with pytest.raises(NotFound):
        subject_update(
            principal=principal_for(morgan_mh),
            subject_id=stranger.id,
            expected_version=1,
            changes={"risk.weapons": {"weapons": "x"}},
            purpose=PURPOSE,
            context=CTX,
        )
    assert AuditEvent.objects.filter(event="record.edit", outcome="denied", subject_id=stranger.id).exists()
    stranger.refresh_from_db()
    assert stranger.weapons != "x"


def test_morgan_cannot_write_criminal_justice_items(morgan_mh, subject):
    with pytest.raises(NotFound):
        subject_update(
            principal=principal_for(morgan_mh),
            subject_id=subject.id,
            expected_version=1,
            changes={"criminal_justice.offence_history": {"offence_history": "x"}},
            purpose=PURPOSE,
            context=CTX,
        )


def test_priya_writes_criminal_justice_items_without_a_caseload(priya_police, subject, client_for):
    client = client_for(priya_police)
    give_purpose(client, subject.id)
    page = client.get(f"/records/{subject.id}/edit/criminal_justice/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="offence_history"' in html and 'name="licence_conditions"' not in html
    response = client.post(
        f"/records/{subject.id}/edit/criminal_justice/",
        {
            "version": 1,
            "index_offence": "robbery",
            "offence_history": "Robbery 2019.",
            "warning_markers": ["violent", "weapons"],
            "last_custody_on": "01/02/2026",
            "last_custody_station": "Wavertree",
            "last_custody_outcome": "charged",
        },
    )
    assert response.status_code == 302, html
    subject.refresh_from_db()
    assert subject.warning_markers == ["violent", "weapons"] and subject.index_offence == "robbery"


def test_priya_cannot_edit_risk(priya_police, subject, client_for):
    client = client_for(priya_police)
    give_purpose(client, subject.id)
    assert client.get(f"/records/{subject.id}/edit/risk/").status_code == 403


def test_two_editors_cannot_silently_overwrite_each_other(morgan_mh, subject, client_for):
    first = client_for(morgan_mh)
    give_purpose(first, subject.id)
    # Someone else saves first.
    subject_update(
        principal=principal_for(morgan_mh),
        subject_id=subject.id,
        expected_version=1,
        changes={"risk.weapons": {"weapons": "Saved by the other editor."}},
        purpose=PURPOSE,
        context=CTX,
    )
    response = first.post(f"/records/{subject.id}/edit/risk/", {"version": 1, "weapons": "My stale edit.", "suicide_level": "low"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Someone else saved changes" in html
    assert "My stale edit." in html  # nothing the user typed is lost
    subject.refresh_from_db()
    assert subject.weapons == "Saved by the other editor."


def test_edit_conflict_in_the_service(morgan_mh, subject):
    who = principal_for(morgan_mh)
    subject_update(
        principal=who, subject_id=subject.id, expected_version=1, changes={"risk.weapons": {"weapons": "a"}}, purpose=PURPOSE, context=CTX
    )
    with pytest.raises(EditConflict):
        subject_update(
            principal=who,
            subject_id=subject.id,
            expected_version=1,
            changes={"risk.weapons": {"weapons": "b"}},
            purpose=PURPOSE,
            context=CTX,
        )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("nhs_number", "9434765918", "check digit does not match"),
        ("nhs_number", "12345", "10 digits"),
        ("pnc_id", "2012/0001234Z", "check letter does not match"),
        ("pnc_id", "PNC123", "year, slash, serial number and check letter"),
        ("prison_number", "1234ABC", "one letter, four digits and two letters"),
        ("cro_number", "ABC/12", "serial number, slash, two-digit year"),
        ("date_of_birth", "31/02/1980", "Enter a real date"),
        ("date_of_birth", "01/01/2099", "must be in the past"),
        ("date_of_birth", "01/01/1890", "over 110"),
    ],
)
def test_bad_identity_values_get_clear_messages_and_keep_input(field, value, message, morgan_mh, subject, client_for):
    client = client_for(morgan_mh)
    give_purpose(client, subject.id)
    data = {"version": 1, "family_name": "Quenby", "given_names": "Alex", field: value}
    response = client.post(f"/records/{subject.id}/edit/identity/", data)
    html = response.content.decode()
    assert response.status_code == 200
    assert message in html
    assert f'value="{value}"' in html
    assert Subject.objects.get(id=subject.id).version == 1


def test_duplicate_nhs_number_is_refused_clearly(morgan_mh, subject, cmht_team, client_for):
    other = make_subject(team=cmht_team)
    client = client_for(morgan_mh)
    give_purpose(client, subject.id)
    response = client.post(
        f"/records/{subject.id}/edit/identity/",
        {
            "version": 1,
            "family_name": "Quenby",
            "given_names": "Alex",
            "nhs_number": other.nhs_number,
        },
    )
    assert "already on another record" in response.content.decode()


def test_name_change_is_searchable_at_once(morgan_mh, subject):
    from records.selectors import SearchCriteria, search_subjects

    subject_update(
        principal=principal_for(morgan_mh),
        subject_id=subject.id,
        expected_version=1,
        changes={"identity.aliases": {"aliases": ["Lexi Quill"]}},
        purpose=PURPOSE,
        context=CTX,
    )
    assert search_subjects(SearchCriteria(name="Lexi Quill"), limit=5, agency_kind="police")[0].subject_id == subject.id


def test_morgan_enrols_a_person_onto_her_caseload(morgan_mh, client_for):
    client = client_for(morgan_mh)
    response = client.post(
        "/records/new/",
        {
            "family_name": "Newcombe",
            "given_names": "Jordan",
            "date_of_birth": "03/04/1990",
            "nhs_number": "943 476 5919",
            "pnc_id": "",
            "consent_status": "given",
            "consent_given_on": "01/02/2026",
            "agency_kinds": ["police", "nhs_trust", "custody_health"],
            "severe_mental_illness": "yes",
            "reason": "data_quality",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    subject = Subject.objects.get(family_name="Newcombe")
    assert subject.nhs_number == "9434765919"
    assert AuditEvent.objects.filter(event="record.create", subject_id=subject.id, actor=morgan_mh).exists()
    # On her caseload: she may now edit risk.
    subject_update(
        principal=principal_for(morgan_mh),
        subject_id=subject.id,
        expected_version=1,
        changes={"risk.weapons": {"weapons": "None known."}},
        purpose=PURPOSE,
        context=CTX,
    )


def test_priya_cannot_enrol(priya_police, client_for):
    assert client_for(priya_police).get("/records/new/").status_code == 403


def test_record_page_shows_provenance(morgan_mh, subject, client_for):
    subject_update(
        principal=principal_for(morgan_mh),
        subject_id=subject.id,
        expected_version=1,
        changes={"risk.weapons": {"weapons": "Knife."}},
        purpose=PURPOSE,
        context=CTX,
    )
    client = client_for(morgan_mh)
    give_purpose(client, subject.id)
    html = client.get(f"/records/{subject.id}/").content.decode()
    assert "by Morgan Test, Trust Agency (test)" in html


def test_value_history_is_shown_only_to_those_who_may_read_the_item(morgan_mh, priya_police, subject, client_for):
    who = principal_for(morgan_mh)
    subject_update(
        principal=who,
        subject_id=subject.id,
        expected_version=1,
        changes={"mental_health.medication": {"medication": [{"name": "Olanzapine", "dose": "5 mg", "frequency": "daily"}]}},
        purpose=PURPOSE,
        context=CTX,
    )
    subject_update(
        principal=who,
        subject_id=subject.id,
        expected_version=2,
        changes={"mental_health.medication": {"medication": [{"name": "Olanzapine", "dose": "10 mg", "frequency": "daily"}]}},
        purpose=PURPOSE,
        context=CTX,
    )
    mh = client_for(morgan_mh)
    give_purpose(mh, subject.id)
    record_page = mh.get(f"/records/{subject.id}/").content.decode()
    assert f'href="/records/{subject.id}/history/mental_health.medication/">History' in record_page
    html = mh.get(f"/records/{subject.id}/history/mental_health.medication/").content.decode()
    assert "Olanzapine — 5 mg — daily" in html and "Olanzapine — 10 mg — daily" in html
    assert AuditEvent.objects.filter(event="record.history", actor=morgan_mh, items=["mental_health.medication"]).exists()
    police = client_for(priya_police)  # police may not read medication
    give_purpose(police, subject.id)
    response = police.get(f"/records/{subject.id}/history/mental_health.medication/")
    assert response.status_code == 404 and b"Olanzapine" not in response.content
    assert AuditEvent.objects.filter(event="record.history", actor=priya_police, outcome="denied").exists()

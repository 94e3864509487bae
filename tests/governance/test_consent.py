"""Consent and lawful basis: enrolment, inclusion criteria, withdrawal, and the basis on every audit event.

Named people: Morgan (mental health, North CMHT) owns Alex's record; Priya (police) and Nia (custody nurse) read it.
"""

from __future__ import annotations

import itertools

import pytest

from access.disclosure import NotFound, disclose_search, disclose_subject
from access.governance import consent_allows
from access.models import AgencyKind
from access.policy import principal_for
from audit.models import AuditEvent
from audit.services import Purpose, RequestContext
from records.models import Subject
from records.selectors import SearchCriteria, search_subjects
from records.services import inclusion_warnings
from tests.conftest import give_purpose
from tests.factories import make_subject

PURPOSE = Purpose("custody_detention", "test")
CTX = RequestContext("test-request", "127.0.0.1")

ENROL = {
    "family_name": "Newcombe",
    "given_names": "Jordan",
    "date_of_birth": "03/04/1990",
    "nhs_number": "",
    "consent_status": "given",
    "consent_given_on": "01/02/2026",
    "agency_kinds": ["police", "nhs_trust"],
    "severe_mental_illness": "yes",
    "reason": "data_quality",
}


def test_enrolment_records_consent_and_who_recorded_it(morgan_mh, client_for):
    response = client_for(morgan_mh).post("/records/new/", ENROL)
    assert response.status_code == 302, response.content.decode()[:2000]
    subject = Subject.objects.get(family_name="Newcombe")
    assert subject.consent_status == "given"
    assert subject.consent_agency_kinds == ["police", "nhs_trust"]
    assert subject.consent_recorded_by.startswith("Morgan")
    event = AuditEvent.objects.get(event="record.create", subject_id=subject.id)
    assert event.lawful_basis == "consent"


def test_enrolment_without_consent_needs_a_lawful_basis_and_a_reason(morgan_mh, client_for):
    client = client_for(morgan_mh)
    data = {**ENROL, "consent_status": "not_obtained", "agency_kinds": [], "consent_given_on": ""}
    html = client.post("/records/new/", data).content.decode()
    assert "Select the lawful basis for sharing without consent." in html
    assert "Explain why this lawful basis applies." in html
    assert 'value="Newcombe"' in html  # nothing typed is lost
    assert not Subject.objects.filter(family_name="Newcombe").exists()
    data.update(lawful_basis="safeguarding", lawful_basis_note="Risk of exploitation when unwell.")
    assert client.post("/records/new/", data).status_code == 302
    subject = Subject.objects.get(family_name="Newcombe")
    assert (subject.consent_status, subject.lawful_basis) == ("not_obtained", "safeguarding")


def test_enrolling_outside_the_inclusion_criteria_warns_and_needs_a_reason(morgan_mh, client_for):
    client = client_for(morgan_mh)
    data = {**ENROL, "date_of_birth": "03/04/2008", "severe_mental_illness": "no"}
    response = client.post("/records/new/", data)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="inclusion-warning"' in html
    assert "the network is for people aged 21 to 65" in html
    assert "not recorded as having a severe and enduring mental illness" in html
    assert not Subject.objects.filter(family_name="Newcombe").exists()
    data["inclusion_exception"] = "Early intervention team asked for custody sharing; agreed at MDT."
    assert client.post("/records/new/", data).status_code == 302
    assert Subject.objects.get(family_name="Newcombe").inclusion_exception.startswith("Early intervention")


@pytest.mark.parametrize(
    ("age_years", "smi", "warnings"),
    [(30, True, 0), (21, True, 0), (65, True, 0), (20, True, 1), (66, True, 1), (40, False, 1), (70, False, 2)],
)
def test_inclusion_criteria_boundaries(age_years, smi, warnings):
    import datetime as dt

    today = dt.date(2026, 11, 22)
    dob = today.replace(year=today.year - age_years)
    assert len(inclusion_warnings(date_of_birth=dob, severe_mental_illness=smi, today=today)) == warnings


def test_withdrawal_is_one_action_effective_on_the_next_request(morgan_mh, priya_police, nia_nurse, subject, client_for):
    """Priya sees Alex until Morgan records the withdrawal; then only Morgan's team does, and no search shows Alex."""
    priya = client_for(priya_police)
    give_purpose(priya, subject.id)
    assert priya.get(f"/records/{subject.id}/").status_code == 200
    assert subject.id in {r.subject_id for r in _search(priya_police, "Quenby")}

    morgan = client_for(morgan_mh)
    give_purpose(morgan, subject.id, "care_planning")
    response = morgan.post(f"/records/{subject.id}/consent/", {"action": "withdraw"})
    assert response.status_code == 302

    assert priya.get(f"/records/{subject.id}/").status_code == 404
    nia = client_for(nia_nurse)
    give_purpose(nia, subject.id)
    assert nia.get(f"/records/{subject.id}/").status_code == 404
    assert subject.id not in {r.subject_id for r in _search(priya_police, "Quenby")}
    assert subject.id not in {r.subject_id for r in _search(morgan_mh, "Quenby")}  # in no search, not even the team's

    page = morgan.get(f"/records/{subject.id}/")
    assert page.status_code == 200
    assert 'data-testid="consent-withdrawn"' in page.content.decode()

    withdrawal = AuditEvent.objects.get(event="consent.withdraw", subject_id=subject.id)
    assert withdrawal.changes["consent_status"] == ["given", "withdrawn"]
    assert withdrawal.lawful_basis == "consent_withdrawn"
    denial = AuditEvent.objects.filter(event="record.view", subject_id=subject.id, outcome="denied", actor=priya_police).get()
    assert denial.additional_data == {"rule": "consent"}
    assert denial.lawful_basis == "consent_withdrawn"


def test_only_the_owning_team_changes_consent(priya_police, subject, client_for):
    client = client_for(priya_police)
    give_purpose(client, subject.id)
    assert client.post(f"/records/{subject.id}/consent/", {"action": "withdraw"}).status_code == 403
    assert Subject.objects.get(pk=subject.id).consent_status == "given"


def test_a_recorded_lawful_basis_keeps_the_record_shared_after_consent_covers_no_police(priya_police, cmht_team):
    only_health = make_subject(team=cmht_team, family_name="Narrowly", consent_agency_kinds=["nhs_trust"])
    who = principal_for(priya_police)
    with pytest.raises(NotFound):
        disclose_subject(principal=who, subject_id=only_health.id, purpose=PURPOSE, context=CTX)
    Subject.objects.filter(pk=only_health.id).update(lawful_basis="criminal_offence_data")
    view = disclose_subject(principal=who, subject_id=only_health.id, purpose=PURPOSE, context=CTX)
    assert view.consent.lawful_basis_label.startswith("Criminal offence data")
    event = AuditEvent.objects.filter(event="record.view", subject_id=only_health.id, outcome="ok").get()
    assert event.lawful_basis == "consent"


def test_lawful_basis_travels_with_view_search_history_and_edit_events(priya_police, morgan_mh, cmht_team):
    person = make_subject(team=cmht_team, family_name="Basisby", consent_status="not_obtained", lawful_basis="vital_interests")
    priya = principal_for(priya_police)
    disclose_subject(principal=priya, subject_id=person.id, purpose=PURPOSE, context=CTX)
    _search(priya_police, "Basisby")
    from records.services import subject_update

    subject_update(
        principal=principal_for(morgan_mh),
        subject_id=person.id,
        expected_version=person.version,
        changes={"risk.weapons": {"weapons": "None known."}},
        purpose=PURPOSE,
        context=CTX,
    )
    events = AuditEvent.objects.filter(event__in=["record.view", "search", "record.edit"], actor__isnull=False)
    assert {e.event: e.lawful_basis for e in events} == {
        "record.view": "vital_interests",
        "search": "vital_interests",
        "record.edit": "vital_interests",
    }
    search = AuditEvent.objects.get(event="search")
    assert "result_bases" not in search.additional_data  # the one result's basis is the row's


def test_a_search_listing_people_shared_on_different_bases_records_each_ones(priya_police, cmht_team):
    """Two Basisbys, one shared on consent and one on vital interests: the row can name no one basis, so the
    detail maps each result to its own (when they share one, the row's lawful basis says it for all)."""
    on_consent = make_subject(
        team=cmht_team, family_name="Basisby", consent_status="given", consent_agency_kinds=["police"], lawful_basis=""
    )
    on_vital = make_subject(team=cmht_team, family_name="Basisby", consent_status="not_obtained", lawful_basis="vital_interests")
    assert len(_search(priya_police, "Basisby")) == 2
    search = AuditEvent.objects.get(event="search")
    assert search.lawful_basis == ""
    assert search.additional_data["result_bases"] == {str(on_consent.id): "consent", str(on_vital.id): "vital_interests"}


def _search(user, name):
    return disclose_search(principal=principal_for(user), criteria=SearchCriteria(name=name), purpose=PURPOSE, context=CTX).rows


STATES = list(
    itertools.product(
        ["given", "not_obtained", "withdrawn"],
        ["", "public_task_health"],
        [[], ["police"], ["nhs_trust", "probation"]],
    )
)


def test_search_sql_and_the_record_rule_agree_on_every_consent_state(db):
    """One rule, two forms (SQL for lists, Python for pages): they must agree, or lists and pages would disagree."""
    made = []
    for i, (status, basis, kinds) in enumerate(STATES):
        subject = make_subject(family_name="Statesworth", given_names=f"Case{i}", consent_status=status, lawful_basis=basis)
        Subject.objects.filter(pk=subject.id).update(consent_agency_kinds=kinds)
        made.append((subject.id, {"consent_status": status, "lawful_basis": basis, "consent_agency_kinds": kinds}))
    for kind in [AgencyKind.POLICE, AgencyKind.PROBATION, AgencyKind.OTHER]:
        found = {h.subject_id for h in search_subjects(SearchCriteria(name="Statesworth"), limit=100, agency_kind=kind)}
        for subject_id, values in made:
            assert (subject_id in found) == consent_allows(values, kind), (kind, values)

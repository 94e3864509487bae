"""FHIR export: every role's Bundle validates (fhir.resources R4B models) and carries exactly the role's items,
withheld ones as data-absent reasons."""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B.bundle import Bundle

from api.fhir import DAR_URL, NHS_NUMBER_SYSTEM
from audit.models import AuditEvent
from tests.access.test_disclosure import ROLE_CODES, readable_by
from tests.factories import make_subject

# The items the Bundle maps, and how each appears when shown.
MAPPED = {
    "identity.family_name": "family",
    "identity.date_of_birth": "birthDate",
    "identity.nhs_number": NHS_NUMBER_SYSTEM,
    "mental_health.diagnoses": "icd-10",
    "mental_health.medication": "MedicationStatement",
    "criminal_justice.warning_markers": "Warning marker",
    "risk.suicide_level": "Risk of suicide",
}


def resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


@pytest.fixture
def marked_subject(cmht_team):
    return make_subject(
        team=cmht_team,
        family_name="Fhirly",
        diagnoses=["F20", "F10"],
        medication=[{"name": "Clozapine", "dose": "300 mg", "frequency": "twice a day"}],
        warning_markers=["weapons"],
        suicide_level="high",
        violence_level="medium",
    )


@pytest.mark.parametrize("role", [r for r in ROLE_CODES if r not in ("auditor", "mh_practitioner")])
def test_each_roles_bundle_validates_and_masks_what_the_role_may_not_read(role, person_for_role, api_for, marked_subject):
    api = api_for(person_for_role(role))
    response = api.get(f"/api/v1/subjects/{marked_subject.id}/fhir")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/fhir+json")
    body = response.json()
    Bundle.model_validate(body)  # raises if the Bundle is not valid FHIR
    readable = readable_by(role)
    text = json.dumps(body)
    patient = resources(body, "Patient")[0]
    assert ("family" in patient["name"][0]) == ("identity.family_name" in readable)
    assert ("birthDate" in patient) == ("identity.date_of_birth" in readable)
    assert ("_birthDate" in patient) == ("identity.date_of_birth" not in readable)
    nhs = [i for i in patient.get("identifier", []) if i["system"] == NHS_NUMBER_SYSTEM]
    assert nhs and (nhs[0].get("value") == marked_subject.nhs_number) == ("identity.nhs_number" in readable)
    conditions = resources(body, "Condition")
    if "mental_health.diagnoses" in readable:
        assert sorted(c["code"]["coding"][0]["code"] for c in conditions) == ["F10", "F20"]
    else:
        assert [c["code"] for c in conditions] == [{"extension": [{"url": DAR_URL, "valueCode": "masked"}]}]
        assert "F20" not in text
    assert ("Clozapine" in text) == ("mental_health.medication" in readable)
    assert len(resources(body, "MedicationStatement")) == 1
    flags = [f["code"].get("text", "") for f in resources(body, "Flag")]
    assert any(t.startswith("Warning marker") for t in flags) == ("criminal_justice.warning_markers" in readable)
    assert any(t.startswith("Risk of suicide") for t in flags) == ("risk.suicide_level" in readable)
    prediction = resources(body, "RiskAssessment")[0]["prediction"][0]
    assert ("coding" in prediction["qualitativeRisk"]) == ("risk.suicide_level" in readable)
    assert resources(body, "Consent")[0]["status"] == "active"
    event = AuditEvent.objects.get(event="record.view", subject_id=marked_subject.id)
    assert event.additional_data["surface"] == "fhir" and set(event.items) == readable


def test_withdrawn_consent_is_an_inactive_consent_resource(priya_police, api_for, marked_subject):
    """Withdrawn with a law-enforcement basis recorded: only emergency access opens it outside the owning team."""
    import datetime as dt

    from django.utils import timezone

    from governance.models import EmergencyAccess
    from records.models import Subject

    Subject.objects.filter(pk=marked_subject.pk).update(consent_status="withdrawn", lawful_basis="law_enforcement")
    api = api_for(priya_police)
    assert api.get(f"/api/v1/subjects/{marked_subject.id}/fhir").status_code == 404
    now = timezone.now()
    EmergencyAccess.objects.create(
        user=api.client.user,
        subject=marked_subject,
        reason_code="custody_risk",
        reason_text="t",
        started_at=now,
        expires_at=now + dt.timedelta(minutes=5),
    )
    body = api.get(f"/api/v1/subjects/{marked_subject.id}/fhir").json()
    Bundle.model_validate(body)
    consent = resources(body, "Consent")[0]
    assert consent["status"] == "inactive" and consent["policyRule"]["coding"][0]["code"] == "OPTOUT"


def test_no_consent_resource_when_shared_on_a_lawful_basis(priya_police, api_for, cmht_team):
    person = make_subject(team=cmht_team, consent_status="not_obtained", lawful_basis="vital_interests")
    body = api_for(priya_police).get(f"/api/v1/subjects/{person.id}/fhir").json()
    Bundle.model_validate(body)
    assert resources(body, "Consent") == []

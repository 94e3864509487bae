"""A record as a FHIR R4 Bundle (validated against the R4B models of fhir.resources in the tests).

Built only from the choke point's view object, so it carries exactly what the
page shows: a withheld item becomes an element with the data-absent-reason
extension (``masked``), never a silent gap. Mapping:

- Patient: names, date of birth, sex, NHS number (https://fhir.nhs.uk/Id/nhs-number), PNC ID, prison number.
- Condition: one per ICD-10 code of ``mental_health.diagnoses``.
- MedicationStatement: one per medicine of ``mental_health.medication``.
- Flag: one per warning marker, and one per risk level (suicide, violence) and MAPPA category.
- RiskAssessment: suicide and violence levels as qualitative predictions.
- Consent: when consent was given or withdrawn.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.utils import timezone

from access.disclosure import SubjectView

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
PNC_SYSTEM = "https://mais.example/fhir/Id/pnc-id"
PRISON_SYSTEM = "https://mais.example/fhir/Id/prison-number"
ICD10_SYSTEM = "http://hl7.org/fhir/sid/icd-10"
DAR_URL = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
AGENCY_KINDS_URL = "https://mais.example/fhir/StructureDefinition/consent-agency-kinds"
RISK_PROBABILITY = "http://terminology.hl7.org/CodeSystem/risk-probability"
LEVELS = {"low": "low", "medium": "moderate", "high": "high"}


def masked() -> dict[str, Any]:
    return {"extension": [{"url": DAR_URL, "valueCode": "masked"}]}


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    """Patient's fullUrl is the record id; other resources get a stable UUID derived from theirs."""
    rid = resource["id"]
    full = rid if resource["resourceType"] == "Patient" else str(uuid.uuid5(uuid.NAMESPACE_URL, f"mais:{rid}"))
    return {"fullUrl": f"urn:uuid:{full}", "resource": resource}


def _patient(view: SubjectView) -> dict[str, Any]:
    item = view.item
    patient: dict[str, Any] = {"resourceType": "Patient", "id": str(view.subject_id)}
    family, given = item("identity.family_name"), item("identity.given_names")
    if family.withheld:
        patient["name"] = [masked()]
    else:
        name: dict[str, Any] = {"use": "official", "family": family.raw["family_name"]}
        name["given" if not given.withheld else "_given"] = given.raw["given_names"].split() if not given.withheld else [masked()]
        patient["name"] = [name]
    aliases = item("identity.aliases")
    if not aliases.withheld:
        patient["name"] += [{"use": "anonymous", "text": a} for a in aliases.raw["aliases"]]
    identifiers = []
    for code, field, system in (
        ("identity.nhs_number", "nhs_number", NHS_NUMBER_SYSTEM),
        ("identity.pnc_id", "pnc_id", PNC_SYSTEM),
        ("identity.prison_number", "prison_number", PRISON_SYSTEM),
    ):
        iv = item(code)
        if iv.withheld:
            identifiers.append({"system": system, "_value": masked()})
        elif iv.raw.get(field):
            identifiers.append({"system": system, "value": iv.raw[field]})
    if identifiers:
        patient["identifier"] = identifiers
    dob = item("identity.date_of_birth")
    if dob.withheld:
        patient["_birthDate"] = masked()
    elif dob.raw.get("date_of_birth"):
        patient["birthDate"] = dob.raw["date_of_birth"].isoformat()
    sex = item("identity.sex")
    if sex.withheld:
        patient["_gender"] = masked()
    elif sex.raw.get("sex"):
        patient["gender"] = sex.raw["sex"] if sex.raw["sex"] in ("male", "female", "other") else "unknown"
    return patient


def _subject_ref(view: SubjectView) -> dict[str, str]:
    return {"reference": f"urn:uuid:{view.subject_id}"}


def _conditions(view: SubjectView) -> list[dict[str, Any]]:
    item = view.item("mental_health.diagnoses")
    base: dict[str, Any] = {"resourceType": "Condition", "subject": _subject_ref(view)}
    if item.withheld:
        return [{**base, "id": f"{view.subject_id}-diagnoses", "code": masked()}]
    return [
        {
            **base,
            "id": f"{view.subject_id}-dx-{code}",
            "code": {"coding": [{"system": ICD10_SYSTEM, "code": code}], "text": next((line for line in item.lines if code in line), code)},
        }
        for code in item.raw["diagnoses"]
    ]


def _medications(view: SubjectView) -> list[dict[str, Any]]:
    item = view.item("mental_health.medication")
    base: dict[str, Any] = {"resourceType": "MedicationStatement", "subject": _subject_ref(view)}
    if item.withheld:
        return [{**base, "id": f"{view.subject_id}-medication", "status": "unknown", "medicationCodeableConcept": masked()}]
    out: list[dict[str, Any]] = []
    for n, med in enumerate(item.raw["medication"] or []):
        dosage = " ".join(p for p in (med.get("dose", ""), med.get("frequency", "")) if p)
        entry = {**base, "id": f"{view.subject_id}-med-{n}", "status": "active", "medicationCodeableConcept": {"text": med.get("name", "")}}
        if dosage:
            entry["dosage"] = [{"text": dosage}]
        out.append(entry)
    return out


def _flag(view: SubjectView, suffix: str, text: str | None) -> dict[str, Any]:
    return {
        "resourceType": "Flag",
        "id": f"{view.subject_id}-flag-{suffix}",
        "status": "active",
        "subject": _subject_ref(view),
        "code": {"text": text} if text is not None else masked(),
    }


def _flags(view: SubjectView) -> list[dict[str, Any]]:
    flags = []
    markers = view.item("criminal_justice.warning_markers")
    if markers.withheld:
        flags.append(_flag(view, "warning-markers", None))
    else:
        flags += [_flag(view, f"marker-{n}", f"Warning marker: {line}") for n, line in enumerate(markers.lines)]
    for code, label in (("risk.suicide_level", "Risk of suicide"), ("risk.violence_level", "Risk of violence"), ("risk.mappa", "MAPPA")):
        iv = view.item(code)
        if iv.withheld:
            flags.append(_flag(view, code.split(".")[1].replace("_", "-"), None))
        elif iv.lines:
            flags.append(_flag(view, code.split(".")[1].replace("_", "-"), f"{label}: {'; '.join(iv.lines)}"))
    return flags


def _risk_assessment(view: SubjectView) -> dict[str, Any]:
    predictions = []
    for code, outcome in (("risk.suicide_level", "Suicide"), ("risk.violence_level", "Violence to others")):
        iv = view.item(code)
        field = code.split(".")[1]
        if iv.withheld:
            predictions.append({"outcome": {"text": outcome}, "qualitativeRisk": masked()})
        elif iv.raw.get(field) in LEVELS:
            level = LEVELS[iv.raw[field]]
            predictions.append({"outcome": {"text": outcome}, "qualitativeRisk": {"coding": [{"system": RISK_PROBABILITY, "code": level}]}})
    return {
        "resourceType": "RiskAssessment",
        "id": f"{view.subject_id}-risk",
        "status": "final",
        "subject": _subject_ref(view),
        "prediction": predictions,
    }


def _consent(view: SubjectView) -> dict[str, Any] | None:
    c = view.consent
    if c is None or c.status not in ("given", "withdrawn"):
        return None
    consent: dict[str, Any] = {
        "resourceType": "Consent",
        "id": f"{view.subject_id}-consent",
        "status": "inactive" if c.withdrawn else "active",
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
        "category": [{"text": "Sharing of health and risk information between MAIS agencies"}],
        "patient": _subject_ref(view),
        "policyRule": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTOUT" if c.withdrawn else "OPTIN"}]
        },
        "extension": [{"url": AGENCY_KINDS_URL, "valueString": ",".join(c.agency_kinds)}],
    }
    if c.given_on:
        consent["dateTime"] = f"{c.given_on.isoformat()}T00:00:00Z"
    return consent


def bundle(view: SubjectView) -> dict[str, Any]:
    """The Bundle (type collection) for one record as one principal sees it."""
    resources: list[dict[str, Any]] = [_patient(view), *_conditions(view), *_medications(view), *_flags(view), _risk_assessment(view)]
    consent = _consent(view)
    if consent:
        resources.append(consent)
    return {
        "resourceType": "Bundle",
        "id": f"{view.subject_id}-{view.version}",
        "type": "collection",
        "timestamp": timezone.now().isoformat(),
        "entry": [_entry(r) for r in resources],
    }

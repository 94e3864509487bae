"""The MAIS minimum dataset: items, their types, model fields and default matrix.

This is the single source for DATASET.md in code. ``DataItem`` rows and the
default role x item grants are loaded from it by a data migration; after that
the matrix is data that administrators change at run time. Item codes are
stable identifiers; labels and help texts are what users see.

Default matrix strings list, in ``MATRIX_ROLES`` order, ``W`` (read and write),
``R`` (read) or ``.`` (neither).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

MATRIX_ROLES = (
    "mh_practitioner",
    "police_officer",
    "custody_nurse",
    "forensic_medical_examiner",
    "liaison_diversion",
    "prison_inreach",
    "dual_diagnosis",
    "probation_officer",
    "administrator",
)

ROLES: tuple[tuple[str, str, str, bool], ...] = (
    # code, label, who, writes need caseload
    ("police_officer", "Police officer", "Frontline and custody police officers", False),
    ("custody_nurse", "Custody nurse", "Nurses working in police custody suites", False),
    ("forensic_medical_examiner", "Forensic medical examiner", "Doctors called to custody", False),
    ("liaison_diversion", "Liaison and diversion", "Criminal justice liaison and diversion team", False),
    ("prison_inreach", "Prison in-reach", "Prison mental health in-reach team", False),
    ("dual_diagnosis", "Dual diagnosis", "Prison-based dual diagnosis (mental health and substance use)", False),
    ("probation_officer", "Probation officer", "Offender managers in probation / integrated offender management", False),
    ("mh_practitioner", "Mental health practitioner", "Community mental health staff who own the record", True),
    ("administrator", "Administrator", "Registers users, agencies and roles; edits the sharing matrix", False),
    ("auditor", "Auditor", "Privacy officer / information governance; reviews access", False),
)

SECTIONS = (
    ("identity", "Identity"),
    ("mental_health", "Mental health"),
    ("risk", "Risk"),
    ("criminal_justice", "Criminal justice"),
)

# Item kinds: how values are stored, validated, shown and edited.
TEXT, DATE, CHOICE, TEXT_LIST, CODE_LIST, CHOICE_LIST, IDENTIFIER, CONTACT, STRUCTURED, MEDICATION, NAME = (
    "text",
    "date",
    "choice",
    "text_list",
    "code_list",
    "choice_list",
    "identifier",
    "contact",
    "structured",
    "medication",
    "name",
)


@dataclass(frozen=True)
class ItemSpec:
    code: str
    label: str
    kind: str
    help_text: str
    default: str
    fields: tuple[str, ...] = ()
    vocabulary: str | None = None
    field_labels: tuple[str, ...] = field(default=())

    # Computed once per item (every disclosure asks several times per item).
    @functools.cached_property
    def section(self) -> str:
        return self.code.split(".", 1)[0]

    @functools.cached_property
    def model_fields(self) -> tuple[str, ...]:
        return self.fields or (self.code.split(".", 1)[1],)


ITEMS: tuple[ItemSpec, ...] = (
    # identity
    ItemSpec(
        "identity.family_name",
        "Family name",
        NAME,
        "The surname the person uses now, as on their most recent official record.",
        "WRRRRRRRW",
    ),
    ItemSpec("identity.given_names", "Given names", NAME, "First and middle names the person uses now.", "WRRRRRRRW"),
    ItemSpec(
        "identity.aliases",
        "Other names used",
        TEXT_LIST,
        "Other names, nicknames or spellings the person is known to have used, one per line, given names first.",
        "WRRRRRRRW",
    ),
    ItemSpec("identity.date_of_birth", "Date of birth", DATE, "Date of birth as confirmed by an official record.", "WRRRRRRRW"),
    ItemSpec("identity.sex", "Sex", CHOICE, "Sex as recorded on the person's NHS record.", "WRRRRRRRW", vocabulary="sex"),
    ItemSpec(
        "identity.nhs_number", "NHS number", IDENTIFIER, "The 10-digit NHS number; the last digit is a modulus 11 check digit.", "WRRRRRRRW"
    ),
    ItemSpec(
        "identity.pnc_id",
        "PNC ID",
        IDENTIFIER,
        "Police National Computer identifier: year, slash, serial number and check letter, as YYYY/NNNNNNNA.",
        "WWRRRRRRW",
    ),
    ItemSpec(
        "identity.prison_number",
        "Prison number",
        IDENTIFIER,
        "The prison service number: one letter, four digits, two letters (for example A1234BC).",
        "WRRRRWRRW",
    ),
    ItemSpec(
        "identity.cro_number",
        "CRO number",
        IDENTIFIER,
        "Criminal Records Office number: serial number, slash, two-digit year and check letter (for example 123456/89X).",
        "WWRRRRRRW",
    ),
    ItemSpec("identity.release_date", "Date of release from prison", DATE, "The date of the most recent release from prison.", "WRRRRWWR."),
    ItemSpec(
        "identity.releasing_prison",
        "Releasing establishment",
        CHOICE,
        "The prison the person was most recently released from.",
        "WRRRRWWR.",
        vocabulary="establishment",
    ),
    # mental_health
    ItemSpec(
        "mental_health.diagnosis_group",
        "Diagnosis group",
        CHOICE,
        "The broad group of the main mental health diagnosis, in plain words.",
        "WRRRRRRR.",
        vocabulary="diagnosis_group",
    ),
    ItemSpec(
        "mental_health.diagnoses",
        "Diagnoses (ICD-10)",
        CODE_LIST,
        "Current diagnoses as ICD-10 chapter F codes, made by a qualified clinician.",
        "W.RRRRR..",
        vocabulary="icd10_f",
    ),
    ItemSpec(
        "mental_health.medication",
        "Current medication",
        MEDICATION,
        "Medicines currently prescribed, with dose and frequency, one per line as 'name; dose; frequency'.",
        "W.RRRRR..",
    ),
    ItemSpec(
        "mental_health.adherence_concerns",
        "Concerns about taking medication",
        TEXT,
        "Known problems with taking medication as prescribed, and their effect.",
        "W.RRRRRR.",
    ),
    ItemSpec(
        "mental_health.mha_status",
        "Mental Health Act status",
        CHOICE,
        "The person's current legal status under the Mental Health Act 1983.",
        "WRRRRRRR.",
        vocabulary="mha_status",
    ),
    ItemSpec(
        "mental_health.care_coordinator",
        "Care coordinator",
        CONTACT,
        "The named professional who coordinates the person's mental health care, their team and a phone number.",
        "WRRRRRRR.",
        fields=("care_coordinator_name", "care_coordinator_team", "care_coordinator_phone"),
        field_labels=("Name", "Team", "Phone"),
    ),
    ItemSpec(
        "mental_health.out_of_hours_contact",
        "Crisis / out-of-hours contact",
        CONTACT,
        "Who to call about this person outside office hours or in a crisis.",
        "WRRRRRRR.",
        fields=("ooh_contact_name", "ooh_contact_phone"),
        field_labels=("Service or name", "Phone"),
    ),
    ItemSpec(
        "mental_health.gp_practice",
        "GP practice",
        CONTACT,
        "The GP practice the person is registered with.",
        "W.RRRRRR.",
        fields=("gp_practice_name", "gp_practice_phone"),
        field_labels=("Practice", "Phone"),
    ),
    ItemSpec(
        "mental_health.relapse_signs",
        "Early warning signs of relapse",
        TEXT,
        "Changes in behaviour or presentation that have come before a relapse for this person.",
        "WRRRRRRR.",
    ),
    ItemSpec(
        "mental_health.what_helps",
        "What helps / de-escalation",
        TEXT,
        "What has helped this person calm down or engage, and what to avoid.",
        "WRRRRRRR.",
    ),
    ItemSpec(
        "mental_health.communication_needs",
        "Communication needs",
        TEXT,
        "Needs that affect communication: learning disability, autism, hearing, literacy, interpreter and language.",
        "WRRRRRRR.",
    ),
    ItemSpec(
        "mental_health.physical_health_risks",
        "Physical health risks in custody",
        TEXT,
        "Physical conditions that matter in custody, such as epilepsy, diabetes, heart or breathing problems.",
        "WRRRRRR..",
    ),
    ItemSpec(
        "mental_health.last_contact_date",
        "Last contact with mental health services",
        DATE,
        "The date of the most recent face-to-face or phone contact with a mental health professional.",
        "W.RRRRRR.",
    ),
    # risk
    ItemSpec(
        "risk.suicide_level",
        "Current risk of suicide",
        CHOICE,
        "The current level of risk of suicide, as assessed by the mental health team.",
        "WRRRRRRR.",
        vocabulary="risk_level",
    ),
    ItemSpec(
        "risk.suicide_history",
        "History of suicide attempts",
        STRUCTURED,
        "Number of known suicide attempts, the date of the most recent, and methods used.",
        "WRRRRRRR.",
        fields=("suicide_attempt_count", "suicide_last_attempt_on", "suicide_methods"),
        field_labels=("Number of attempts", "Most recent attempt", "Methods"),
    ),
    ItemSpec(
        "risk.self_harm_in_custody",
        "Self-harm in custody",
        TEXT,
        "Known self-harm while in police custody or prison: when, where and how.",
        "WRRRRWWR.",
    ),
    ItemSpec(
        "risk.violence_level",
        "Current risk of violence to others",
        CHOICE,
        "The current level of risk of violence to other people, as assessed by the mental health team.",
        "WRRRRRRR.",
        vocabulary="risk_level",
    ),
    ItemSpec(
        "risk.violence_history",
        "History of violence to others",
        TEXT,
        "Known violence to other people: what, when, against whom (by relationship, not name).",
        "WRRRRRRR.",
    ),
    ItemSpec(
        "risk.risk_to_staff",
        "Specific risk to staff",
        TEXT,
        "Any specific risk to police, health, probation or other professionals.",
        "WRRRRRRR.",
    ),
    ItemSpec("risk.weapons", "Weapons history", TEXT, "Known carrying or use of weapons.", "WRRRRRRR."),
    ItemSpec(
        "risk.substance_misuse",
        "Drug and alcohol misuse",
        TEXT,
        "Current and past misuse of drugs or alcohol and its effect on risk.",
        "WRRRRRRR.",
    ),
    ItemSpec(
        "risk.safeguarding",
        "Safeguarding concerns",
        TEXT,
        "Concerns about risk to children or vulnerable adults, or about the person's own vulnerability.",
        "WRRRRR.R.",
    ),
    ItemSpec(
        "risk.mappa",
        "MAPPA category and level",
        STRUCTURED,
        "Multi-Agency Public Protection Arrangements category (1-4) and level of management (1-3).",
        "WRRRRRRW.",
        fields=("mappa_category", "mappa_level"),
        field_labels=("Category", "Level"),
    ),
    ItemSpec(
        "risk.custody_advice",
        "Advice for safe detention",
        TEXT,
        "Advice for keeping the person safe in custody: observation level, triggers, what to avoid.",
        "WRRRRRR..",
    ),
    ItemSpec("risk.crisis_plan", "Crisis plan summary", TEXT, "A summary of the agreed plan when the person is in crisis.", "WRRRRRRR."),
    # criminal_justice
    ItemSpec(
        "criminal_justice.index_offence",
        "Index offence category",
        CHOICE,
        "The category of the offence for which the person was most recently sentenced.",
        "RWRRRWRW.",
        vocabulary="offence_category",
    ),
    ItemSpec(
        "criminal_justice.offence_history",
        "Offence history summary",
        TEXT,
        "A short summary of previous offences relevant to risk.",
        "RWRRRRRW.",
    ),
    ItemSpec(
        "criminal_justice.warning_markers",
        "Warning markers",
        CHOICE_LIST,
        "Police National Computer style warning markers that apply to the person.",
        "RWRRRRRW.",
        vocabulary="warning_marker",
    ),
    ItemSpec(
        "criminal_justice.licence_conditions",
        "Licence / supervision conditions",
        TEXT,
        "Conditions of the current licence or supervision order.",
        "RR..RRRW.",
    ),
    ItemSpec(
        "criminal_justice.offender_manager",
        "Offender manager",
        CONTACT,
        "The person's probation offender manager, their office and phone.",
        "RRRRRRRW.",
        fields=("offender_manager_name", "offender_manager_office", "offender_manager_phone"),
        field_labels=("Name", "Office", "Phone"),
    ),
    ItemSpec(
        "criminal_justice.last_custody_episode",
        "Last police custody episode",
        STRUCTURED,
        "The most recent time in police custody: date, custody suite and outcome.",
        "RWWWW..R.",
        fields=("last_custody_on", "last_custody_station", "last_custody_outcome"),
        field_labels=("Date", "Custody suite", "Outcome"),
    ),
)

ITEMS_BY_CODE: dict[str, ItemSpec] = {item.code: item for item in ITEMS}


def default_grants() -> list[tuple[str, str, str]]:
    """(role code, item code, 'view' | 'change') for the default matrix. Write implies read."""
    grants: list[tuple[str, str, str]] = []
    for item in ITEMS:
        if len(item.default) != len(MATRIX_ROLES):
            raise ValueError(f"{item.code}: default matrix has {len(item.default)} cells, expected {len(MATRIX_ROLES)}")
        for role, cell in zip(MATRIX_ROLES, item.default, strict=True):
            if cell in "RW":
                grants.append((role, item.code, "view"))
            if cell == "W":
                grants.append((role, item.code, "change"))
    return grants

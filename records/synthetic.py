"""Synthetic subjects for the demo and tests. Never a real person's name or identifier.

Names come from Faker (en_GB); NHS numbers from the synthetic range 999 000
0000 to 999 999 9999 with valid check digits; PNC IDs with valid check
letters. Some subjects are deliberately near-duplicates (spelling variants,
shared dates of birth, aliases) so that search is not trivial.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nhs_number
from faker import Faker

from records.validators import pnc_check_letter
from records.vocabularies import ICD10_F, VOCABULARIES

# A copy of shared/data/name-variants.csv, so the repository stands alone.
VARIANTS_CSV = Path(__file__).resolve().parent / "data" / "name-variants.csv"

# Spelling variants used to make near-duplicate namesakes.
VARIANT_PAIRS = [
    ("Smith", "Smyth"),
    ("John", "Jon"),
    ("Stephen", "Steven"),
    ("McDonald", "Macdonald"),
    ("O'Neill", "O'Neil"),
    ("Mohammed", "Mohamed"),
    ("Kathryn", "Catherine"),
    ("Phillips", "Philips"),
    ("Thompson", "Thomson"),
    ("Johnstone", "Johnston"),
    ("Clark", "Clarke"),
    ("Davis", "Davies"),
    ("Read", "Reid"),
    ("Gray", "Grey"),
    ("Brian", "Bryan"),
    ("Hughes", "Hughs"),
    ("Sian", "Siân"),
    ("Zoe", "Zoë"),
]

COMMUNICATION = [
    "",
    "",
    "Mild learning disability: use short sentences and check understanding.",
    "Hard of hearing in the left ear.",
    "Prefers Polish; interpreter needed for formal interviews.",
    "Autistic: avoid touching without warning; allow time to answer.",
]
PHYSICAL = [
    "",
    "Epilepsy: on sodium valproate.",
    "Type 1 diabetes: needs insulin at meal times.",
    "Asthma: carries a salbutamol inhaler.",
    "Heart condition: chest pain in the past.",
]
RELAPSE = [
    "Stops sleeping, talks about being watched, stops taking medication.",
    "Withdraws from family, stops eating, stops answering the door.",
    "Increasingly irritable, spends money quickly, sleeps very little.",
]
HELPS = [
    "Speak calmly, give one instruction at a time, offer a quiet space.",
    "Allow a familiar person to be present; avoid raised voices.",
    "Explain what will happen next; offer a drink and time.",
]
STATIONS = ["St Anne Street custody suite", "Wavertree custody suite", "Copy Lane custody suite", "Belle Vale custody suite"]
MEDS = [
    ("Olanzapine", "10 mg", "once a day at night"),
    ("Aripiprazole", "15 mg", "once a day"),
    ("Clozapine", "300 mg", "twice a day"),
    ("Sertraline", "100 mg", "once a day"),
    ("Paliperidone depot", "100 mg", "monthly injection"),
    ("Lithium carbonate", "800 mg", "at night"),
]


_issued: set[str] = set()


def synthetic_nhs_number(rng: random.Random) -> str:
    """A valid NHS number from the synthetic range, never issued twice in this process.

    The range holds about 909,000 valid numbers; drawing at random slows as it fills, so this
    refuses past 500,000 rather than loop for ever (bulk seeding does not use it).
    """
    if len(_issued) >= 500_000:
        raise RuntimeError("the synthetic NHS number range is nearly used up in this process")
    while True:
        stem = f"999{rng.randrange(0, 10**6):06d}"
        check = nhs_number.calculate_checksum(stem)
        if check is not None and check != 10 and stem not in _issued:
            _issued.add(stem)
            return f"{stem}{check}"


def synthetic_pnc_id(rng: random.Random) -> str:
    year = str(rng.randrange(1995, 2025))
    serial = f"{rng.randrange(1, 10**7):07d}"
    return f"{year}/{serial}{pnc_check_letter(year, serial)}"


def synthetic_prison_number(rng: random.Random) -> str:
    letters = "ABCDEFGHJKLMNPRTUVWXY"
    return f"{rng.choice(letters)}{rng.randrange(1000, 9999)}{rng.choice(letters)}{rng.choice(letters)}"


def synthetic_cro_number(rng: random.Random) -> str:
    return f"{rng.randrange(1, 999999):06d}/{rng.randrange(0, 100):02d}{rng.choice('ABCDEFGHJKLMNPQRTUVWXYZ')}"


def _codes(vocabulary: str) -> list[str]:
    return [code for code, _, _ in VOCABULARIES[vocabulary][1]]


def variant_names() -> list[tuple[str, str]]:
    """(query, stored) pairs of shared/data/name-variants.csv, or an empty list when not beside the repo."""
    if not VARIANTS_CSV.exists():
        return []
    with VARIANTS_CSV.open() as handle:
        return [(row["query"], row["stored"]) for row in csv.DictReader(handle)]


def subject_values(
    rng: random.Random,
    fake: Faker,
    *,
    family: str | None = None,
    given: str | None = None,
    dob: dt.date | None = None,
    today: dt.date | None = None,
    identifiers: bool = True,
) -> dict[str, Any]:
    """Model field values of one plausible synthetic subject, every item filled.

    ``identifiers=False`` leaves the four identifiers to the caller (None here):
    bulk seeding derives them from the row number instead, because the
    synthetic NHS number range is too small to draw a million at random.
    """
    today = today or dt.date.today()
    sex = rng.choice(["male", "male", "male", "female"])
    given = given or (fake.first_name_male() if sex == "male" else fake.first_name_female())
    if rng.random() < 0.3:
        given = f"{given} {fake.first_name_male() if sex == 'male' else fake.first_name_female()}"
    family = family or fake.last_name()
    dob = dob or today - dt.timedelta(days=rng.randrange(21 * 365, 65 * 365))
    aliases = []
    if rng.random() < 0.35:
        aliases.append(f"{given.split()[0]} {fake.last_name()}")
    if rng.random() < 0.15:
        aliases.append(f"{fake.first_name()} {family}")
    released = today - dt.timedelta(days=rng.randrange(1, 700))
    group = rng.choice(["psychosis", "psychosis", "bipolar", "mood", "personality", "substance"])
    icd = {"psychosis": ["F20"], "bipolar": ["F31"], "mood": ["F33"], "personality": ["F60"], "substance": ["F19"]}.get(group, ["F99"])
    if rng.random() < 0.4:
        icd.append(rng.choice(["F10", "F12", "F14", "F43"]))
    valid_icd = {code for code, _ in ICD10_F}
    med = rng.sample(MEDS, rng.randrange(1, 3))
    return {
        "family_name": family,
        "given_names": given,
        "aliases": aliases,
        "date_of_birth": dob,
        "sex": sex,
        "nhs_number": synthetic_nhs_number(rng) if identifiers else None,
        "pnc_id": synthetic_pnc_id(rng) if identifiers else None,
        "prison_number": synthetic_prison_number(rng) if identifiers else None,
        "cro_number": synthetic_cro_number(rng) if identifiers and rng.random() < 0.7 else None,
        "release_date": released,
        "releasing_prison": rng.choice(_codes("establishment")[:-1]),
        "diagnosis_group": group,
        "diagnoses": [c for c in icd if c in valid_icd],
        "medication": [{"name": n, "dose": d, "frequency": f} for n, d, f in med],
        "adherence_concerns": rng.choice(["", "Misses doses when using drugs.", "Stopped depot twice last year after release."]),
        "mha_status": rng.choice(["none", "none", "cto", "s37_41_cd", "s3", "s136_recent"]),
        "care_coordinator_name": fake.name(),
        "care_coordinator_team": rng.choice(["North Liverpool CMHT", "South Sefton CMHT", "Early Intervention Team"]),
        "care_coordinator_phone": f"0151 {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}",
        "ooh_contact_name": "Crisis Resolution and Home Treatment Team",
        "ooh_contact_phone": "0800 145 6570",
        "gp_practice_name": f"{fake.street_name()} Medical Centre",
        "gp_practice_phone": f"0151 {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}",
        "relapse_signs": rng.choice(RELAPSE),
        "what_helps": rng.choice(HELPS),
        "communication_needs": rng.choice(COMMUNICATION),
        "physical_health_risks": rng.choice(PHYSICAL),
        "last_contact_date": today - dt.timedelta(days=rng.randrange(1, 120)),
        "suicide_level": rng.choice(["low", "low", "medium", "high"]),
        "suicide_attempt_count": rng.choice([0, 0, 1, 2, 4]),
        "suicide_last_attempt_on": today - dt.timedelta(days=rng.randrange(30, 2000)),
        "suicide_methods": rng.choice(["", "Ligature", "Overdose of prescribed medication", "Cutting"]),
        "self_harm_in_custody": rng.choice(["", "", "Cut forearm with broken plastic cutlery while on remand."]),
        "violence_level": rng.choice(["low", "medium", "medium", "high"]),
        "violence_history": rng.choice(
            ["Assault on a stranger when unwell.", "Threats to family members when intoxicated.", "No known violence."]
        ),
        "risk_to_staff": rng.choice(["", "Has spat at custody staff when distressed.", "Assaulted a nurse during a restraint."]),
        "weapons": rng.choice(["", "", "Carried a knife for 'protection' when paranoid."]),
        "substance_misuse": rng.choice(["Daily cannabis use.", "Crack cocaine and alcohol.", "Alcohol at weekends.", "None known."]),
        "safeguarding": rng.choice(["", "Has a child subject to a child protection plan.", "Financially exploited by acquaintances."]),
        "mappa_category": rng.choice(["", "", "2", "3"]),
        "mappa_level": rng.choice(["", "1", "2"]),
        "custody_advice": rng.choice(
            [
                "Level 2 observations; remove cords and belts.",
                "Constant observation if refusing food or fluids.",
                "Contact liaison and diversion on arrival.",
            ]
        ),
        "crisis_plan": rng.choice(
            ["Contact crisis team; consider s.136 only if immediate risk.", "Call care coordinator; family can support at home."]
        ),
        "index_offence": rng.choice(_codes("offence_category")),
        "offence_history": rng.choice(
            [
                "Shoplifting and public order offences since age 17.",
                "Two assaults and a criminal damage conviction.",
                "Possession with intent to supply.",
            ]
        ),
        "warning_markers": rng.sample(_codes("warning_marker"), rng.randrange(0, 3)),
        "licence_conditions": rng.choice(
            ["", "Reside at approved premises; no contact with victim.", "Curfew 19:00-07:00; attend appointments."]
        ),
        "offender_manager_name": fake.name(),
        "offender_manager_office": rng.choice(["Liverpool North Probation Office", "Sefton Probation Office"]),
        "offender_manager_phone": f"0151 {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}",
        "last_custody_on": today - dt.timedelta(days=rng.randrange(1, 400)),
        "last_custody_station": rng.choice(STATIONS),
        "last_custody_outcome": rng.choice(_codes("custody_outcome")),
        "consent_given_on": released - dt.timedelta(days=rng.randrange(1, 60)),
        "consent_recorded_by": "Care coordinator, community mental health team",
    }


def demo_subjects(count: int, *, seed: int = 2012) -> Iterator[dict[str, Any]]:
    """Subjects for the demo: Faker names, the stored names of the variant list, and near-duplicates."""
    rng = random.Random(seed)
    fake = Faker("en_GB")
    fake.seed_instance(seed)
    produced = 0
    for _, stored in variant_names():
        family = stored if rng.random() < 0.5 or " " in stored else None
        yield subject_values(rng, fake, family=family, given=None if family else stored)
        produced += 1
    for left, right in VARIANT_PAIRS:
        dob = dt.date.today() - dt.timedelta(days=rng.randrange(21 * 365, 65 * 365))
        for name in (left, right):
            is_given = name in {
                "John",
                "Jon",
                "Stephen",
                "Steven",
                "Kathryn",
                "Catherine",
                "Brian",
                "Bryan",
                "Sian",
                "Siân",
                "Zoe",
                "Zoë",
                "Mohammed",
                "Mohamed",
            }
            yield subject_values(
                rng, fake, family=None if is_given else name, given=name if is_given else None, dob=dob if rng.random() < 0.5 else None
            )
            produced += 1
    while produced < count:
        yield subject_values(rng, fake)
        produced += 1

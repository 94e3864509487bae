"""Subjects and the minimum dataset as typed fields.

Rules:
- Record content leaves the server only through ``access.disclosure``; no
  view, form, serializer, template tag or exporter queries these models
  (tests/test_architecture.py enforces it).
- ``Subject.id`` is a random UUID so that record URLs reveal nothing and
  cannot be guessed.
- ``Subject.version`` increases on every change; an edit made against an
  older version is refused so two people cannot silently overwrite each other.
- ``ItemChange`` keeps the value history and per-item provenance; it is
  protected by the same item-level rules as the record itself. A row of kind
  ``confirm`` records that someone who may write the item confirmed it is
  still accurate (freshness) without changing it.
- Consent and the lawful basis are record metadata, not dataset items: they
  decide who may see the record at all (access.governance).
"""

from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Func
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


class Term(models.Model):
    """One entry of a controlled vocabulary (records/vocabularies.py)."""

    vocabulary = models.CharField(max_length=40)
    code = models.CharField(max_length=40)
    label = models.CharField(max_length=200)
    definition = models.TextField()
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["vocabulary", "order"]
        constraints = [models.UniqueConstraint(fields=["vocabulary", "code"], name="term_unique_code")]

    def __str__(self) -> str:
        return self.label


def all_agency_kinds() -> list[str]:
    from access.models import AgencyKind

    return [kind.value for kind in AgencyKind]


class ConsentStatus(models.TextChoices):
    GIVEN = "given", "Consent given"
    NOT_OBTAINED = "not_obtained", "Shared without consent on a lawful basis"
    WITHDRAWN = "withdrawn", "Consent withdrawn"


class Subject(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # consent and lawful basis (governance metadata, not dataset items)
    consent_status = models.CharField(max_length=20, choices=ConsentStatus.choices, default=ConsentStatus.GIVEN)
    consent_given_on = models.DateField(null=True, blank=True)
    consent_recorded_by = models.CharField(max_length=200, blank=True)
    consent_agency_kinds = ArrayField(models.CharField(max_length=30), default=all_agency_kinds, blank=True)
    lawful_basis = models.CharField(max_length=40, blank=True, help_text="The basis for sharing without consent, if any.")
    lawful_basis_note = models.CharField(max_length=500, blank=True)
    consent_withdrawn_at = models.DateTimeField(null=True, blank=True)
    consent_withdrawn_by = models.CharField(max_length=200, blank=True)
    inclusion_exception = models.CharField(max_length=500, blank=True)

    # identity
    family_name = models.CharField(max_length=100)
    given_names = models.CharField(max_length=100)
    aliases = ArrayField(models.CharField(max_length=200), default=list, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    sex = models.CharField(max_length=20, blank=True)
    nhs_number = models.CharField(max_length=10, null=True, blank=True, unique=True)
    pnc_id = models.CharField(max_length=13, null=True, blank=True, unique=True)
    prison_number = models.CharField(max_length=7, null=True, blank=True, unique=True)
    cro_number = models.CharField(max_length=12, null=True, blank=True, unique=True)
    release_date = models.DateField(null=True, blank=True)
    releasing_prison = models.CharField(max_length=40, blank=True)

    # mental_health
    diagnosis_group = models.CharField(max_length=40, blank=True)
    diagnoses = ArrayField(models.CharField(max_length=5), default=list, blank=True)
    medication = models.JSONField(default=list, blank=True)
    adherence_concerns = models.TextField(blank=True)
    mha_status = models.CharField(max_length=40, blank=True)
    care_coordinator_name = models.CharField(max_length=200, blank=True)
    care_coordinator_team = models.CharField(max_length=200, blank=True)
    care_coordinator_phone = models.CharField(max_length=30, blank=True)
    ooh_contact_name = models.CharField(max_length=200, blank=True)
    ooh_contact_phone = models.CharField(max_length=30, blank=True)
    gp_practice_name = models.CharField(max_length=200, blank=True)
    gp_practice_phone = models.CharField(max_length=30, blank=True)
    relapse_signs = models.TextField(blank=True)
    what_helps = models.TextField(blank=True)
    communication_needs = models.TextField(blank=True)
    physical_health_risks = models.TextField(blank=True)
    last_contact_date = models.DateField(null=True, blank=True)

    # risk
    suicide_level = models.CharField(max_length=10, blank=True)
    suicide_attempt_count = models.PositiveSmallIntegerField(null=True, blank=True)
    suicide_last_attempt_on = models.DateField(null=True, blank=True)
    suicide_methods = models.TextField(blank=True)
    self_harm_in_custody = models.TextField(blank=True)
    violence_level = models.CharField(max_length=10, blank=True)
    violence_history = models.TextField(blank=True)
    risk_to_staff = models.TextField(blank=True)
    weapons = models.TextField(blank=True)
    substance_misuse = models.TextField(blank=True)
    safeguarding = models.TextField(blank=True)
    mappa_category = models.CharField(max_length=1, blank=True)
    mappa_level = models.CharField(max_length=1, blank=True)
    custody_advice = models.TextField(blank=True)
    crisis_plan = models.TextField(blank=True)

    # criminal_justice
    index_offence = models.CharField(max_length=40, blank=True)
    offence_history = models.TextField(blank=True)
    warning_markers = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    licence_conditions = models.TextField(blank=True)
    offender_manager_name = models.CharField(max_length=200, blank=True)
    offender_manager_office = models.CharField(max_length=200, blank=True)
    offender_manager_phone = models.CharField(max_length=30, blank=True)
    last_custody_on = models.DateField(null=True, blank=True)
    last_custody_station = models.CharField(max_length=200, blank=True)
    last_custody_outcome = models.CharField(max_length=40, blank=True)

    class Meta:
        default_permissions = ("change",)
        indexes = [
            models.Index(fields=["date_of_birth"], name="subject_dob_idx"),
            # Search joins every candidate name to its subject only for the consent rule (VISIBLE_SQL);
            # carrying those columns in the index lets that join be index-only instead of reading wide rows.
            models.Index(fields=["id"], include=["consent_status", "lawful_basis", "consent_agency_kinds"], name="subject_visibility_idx"),
        ]

    def __str__(self) -> str:
        return f"Subject {self.id}"


class SubjectUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Subject, on_delete=models.CASCADE)


class SubjectGroupObjectPermission(GroupObjectPermissionBase):
    """Caseload: ``change_subject`` granted to a team's group."""

    content_object = models.ForeignKey(Subject, on_delete=models.CASCADE)


class SubjectName(models.Model):
    """A searchable name of a subject: the current name or an alias.

    Names are normalised in Python (records.normalise): accents stripped,
    lower case, spaces and punctuation removed, so that 'Fitz-Gerald',
    'Fitzgerald' and 'FITZ GERALD' compare equal. Double-metaphone keys are
    generated by PostgreSQL (fuzzystrmatch). Search matches spellings and
    sounds against the distinct words (``NameWord``), then finds the rows
    holding those words by exact value in the btree indexes below.
    """

    class Kind(models.TextChoices):
        CURRENT = "current", "Current name"
        ALIAS = "alias", "Other name used"

    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="search_names")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    family_norm = models.CharField(max_length=100)
    given_norm = models.CharField(max_length=100)
    given_first = models.CharField(max_length=100)
    family_key = models.GeneratedField(
        expression=Func(models.F("family_norm"), function="dmetaphone"),
        output_field=models.CharField(max_length=20),
        db_persist=True,
    )
    given_key = models.GeneratedField(
        expression=Func(models.F("given_first"), function="dmetaphone"),
        output_field=models.CharField(max_length=20),
        db_persist=True,
    )

    class Meta:
        indexes = [
            # Exact values, in the pairs a full-name search asks for (records.selectors): a surname with a first
            # given name in either order, and all the given names run together (only where there is more than
            # one) with a surname. A single word uses the leading column of each.
            models.Index(fields=["family_norm", "given_first"], name="subjectname_family_given"),
            models.Index(fields=["given_first", "family_norm"], name="subjectname_given_family"),
            models.Index(
                fields=["given_norm", "family_norm"],
                condition=~models.Q(given_norm=models.F("given_first")),
                name="subjectname_given_more",
            ),
            # A surname's rows with more than one given name, with those run together: a full-name search compares them
            # with a given name it was asked for, reading this index only (records.selectors._second_given_ids).
            models.Index(
                fields=["family_norm", "given_norm"],
                include=["id"],
                condition=~models.Q(given_norm=models.F("given_first")),
                name="subjectname_family_more",
            ),
            # Exact surname, in subject order, with the kind: the search's exact-surname tier reads it index-only.
            models.Index(fields=["family_norm", "subject_id"], include=["kind"], name="subjectname_family_exact"),
        ]


class NameWord(models.Model):
    """One distinct word of the search names: a surname, a first given name, or all given names run together.

    Rule: every value of ``SubjectName.family_norm`` and ``given_first`` is here (part ``f`` and ``g``), and every
    ``given_norm`` that differs from its ``given_first`` (part ``m``). Search matches misspellings (trigrams) and
    sounds (double metaphone) against these few thousand words, then fetches the rows that hold the matching words
    by exact value. Matching against the rows themselves read trigram posting lists of up to forty thousand rows per
    word at a million people: two thirds of a full-name search's time (issue 6).

    Kept complete by PostgreSQL itself: statement triggers on ``records_subjectname`` add the words of every insert
    and update, whatever writes them (the services, the bulk seeder's COPY, tests' factories), so no write path can
    forget. A word nobody holds any more does no harm to a search (it matches no row); the words only a disposed-of
    person held are removed with the record (``records.services.name_words_forget``), so an erased name does not
    linger here.
    """

    class Part(models.TextChoices):
        FAMILY = "f", "Surname"
        GIVEN_FIRST = "g", "First given name"
        GIVEN_MORE = "m", "All given names, run together"

    part = models.CharField(max_length=1, choices=Part.choices)
    word = models.CharField(max_length=100)
    key = models.GeneratedField(
        expression=Func(models.F("word"), function="dmetaphone"),
        output_field=models.CharField(max_length=20),
        db_persist=True,
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["part", "word"], name="nameword_part_word")]
        # fastupdate off: new words are rare, and with it on they wait in the index's pending list, which the planner
        # prices so high that it scans the whole table instead (seen: 70 ms where the index takes 1 ms); the pending
        # list is only merged by VACUUM, and autovacuum may be off.
        indexes = [
            GinIndex(
                fields=["word"], opclasses=["gin_trgm_ops"], condition=models.Q(part="f"), fastupdate=False, name="nameword_family_trgm"
            ),
            GinIndex(
                fields=["word"], opclasses=["gin_trgm_ops"], condition=models.Q(part="g"), fastupdate=False, name="nameword_given_trgm"
            ),
            GinIndex(
                fields=["word"], opclasses=["gin_trgm_ops"], condition=models.Q(part="m"), fastupdate=False, name="nameword_more_trgm"
            ),
            models.Index(fields=["part", "key"], name="nameword_part_key"),
        ]

    def __str__(self) -> str:
        return f"{self.part}:{self.word}"


class ItemChange(models.Model):
    """One change to one item, or a confirmation that it is still accurate: value history, provenance, freshness."""

    class Kind(models.TextChoices):
        CHANGE = "change", "Changed"
        CONFIRM = "confirm", "Confirmed still accurate"

    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="item_changes")
    item_code = models.CharField(max_length=80)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CHANGE)
    value = models.JSONField(null=True)
    changed_at = models.DateTimeField()
    changed_by = models.ForeignKey("access.User", on_delete=models.PROTECT, related_name="+")
    changed_by_name = models.CharField(max_length=200)
    agency_name = models.CharField(max_length=200)
    role_code = models.CharField(max_length=50)

    class Meta:
        indexes = [models.Index(fields=["subject", "item_code", "-changed_at"], name="itemchange_latest")]

"""Writes to subjects: enrolment and item edits.

Rules:
- One path for every write: the item-level write permission and the caseload
  are checked here (via access.disclosure.writable_items_for), never in views.
- Optimistic concurrency: an edit names the version it was made against; if
  someone else saved in between, the edit is refused with ``EditConflict`` and
  nothing is lost (the form keeps what the user typed).
- Each changed item gets an ``ItemChange`` row (value history and provenance)
  and the edit one audit event naming the item codes, in the same transaction.
- A refused write is audited after the transaction has rolled back.
- Enrolment records consent (or the lawful basis used without it) and checks
  the inclusion criteria; enrolling someone outside them needs a reason.
- Only the owning team (the caseload) changes consent; withdrawal is one
  action that takes effect on the next request (access.governance).
- A confirmation that items are still accurate is a ``confirm`` row in the
  value history, so freshness has the same provenance and protection as edits.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm

from access.disclosure import NotFound, record_refusal, writable_items_for
from access.governance import consent_allows, lawful_basis_of
from access.models import Team
from access.policy import Principal
from audit.services import CREATE, UPDATE, Purpose, RequestContext, audit_record
from notifications.services import changes_notify
from records.dataset import ITEMS_BY_CODE
from records.models import ConsentStatus, ItemChange, Subject, SubjectName
from records.normalise import compact_name, name_words, split_alias

Changes = dict[str, dict[str, Any]]  # item code -> {model field: value}

UNIQUE_IDENTIFIERS = {
    "nhs_number": "identity.nhs_number",
    "pnc_id": "identity.pnc_id",
    "prison_number": "identity.prison_number",
    "cro_number": "identity.cro_number",
}
NAME_ITEMS = {"identity.family_name", "identity.given_names", "identity.aliases"}


class EditConflict(Exception):
    """Someone else changed the record after this edit began."""

    def __init__(self, current_version: int) -> None:
        self.current_version = current_version
        super().__init__("This record was changed by someone else while you were editing it.")


class DuplicateIdentifier(Exception):
    def __init__(self, item_code: str) -> None:
        self.item_code = item_code
        label = ITEMS_BY_CODE[item_code].label
        super().__init__(f"This {label} is already on another record. Search for it before enrolling or editing.")


class EnrolmentNotPermitted(Exception):
    pass


class ItemsNotWritable(NotFound):
    """The record is visible but the caller's role may not write these items (a web page still shows a 404)."""

    def __init__(self, items: list[str]) -> None:
        self.items = items
        super().__init__(f"Your role cannot change: {', '.join(items)}")


class ConsentNotPermitted(Exception):
    """Only the owning team may change consent or the lawful basis."""


INCLUSION_AGES = (21, 65)
# Diagnosis groups that count as a severe and enduring mental illness for the inclusion criteria.
SEVERE_AND_ENDURING = {"psychosis", "bipolar", "mood", "personality"}


@dataclass(frozen=True)
class ConsentInput:
    """Consent, or the lawful basis for sharing without it, as recorded at enrolment or changed later."""

    status: str
    given_on: dt.date | None = None
    agency_kinds: tuple[str, ...] = ()
    lawful_basis: str = ""
    lawful_basis_note: str = ""
    inclusion_exception: str = ""


def inclusion_warnings(*, date_of_birth: dt.date | None, severe_mental_illness: bool, today: dt.date | None = None) -> list[str]:
    """Why a person does not meet the network's inclusion criteria (age 21-65, severe and enduring mental illness)."""
    today = today or timezone.localdate()
    warnings = []
    if date_of_birth is None:
        warnings.append("The date of birth is not recorded, so the age criterion (21 to 65) cannot be checked.")
    else:
        age = today.year - date_of_birth.year - ((today.month, today.day) < (date_of_birth.month, date_of_birth.day))
        low, high = INCLUSION_AGES
        if not low <= age <= high:
            warnings.append(f"The person is {age}: the network is for people aged {low} to {high}.")
    if not severe_mental_illness:
        warnings.append("The person is not recorded as having a severe and enduring mental illness.")
    return warnings


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


PRUNE_NAME_WORDS_SQL = """
DELETE FROM records_nameword w
WHERE w.id IN (
    SELECT w2.id FROM records_nameword w2 JOIN records_subjectname n ON n.subject_id = %(subject_id)s
    WHERE (w2.part = 'f' AND w2.word = n.family_norm) OR (w2.part = 'g' AND w2.word = n.given_first)
       OR (w2.part = 'm' AND n.given_norm <> n.given_first AND w2.word = n.given_norm))
AND (w.part <> 'f' OR NOT EXISTS (SELECT 1 FROM records_subjectname o WHERE o.family_norm = w.word AND o.subject_id <> %(subject_id)s))
AND (w.part <> 'g' OR NOT EXISTS (SELECT 1 FROM records_subjectname o WHERE o.given_first = w.word AND o.subject_id <> %(subject_id)s))
AND (w.part <> 'm' OR NOT EXISTS (SELECT 1 FROM records_subjectname o
                                  WHERE o.given_norm <> o.given_first AND o.given_norm = w.word AND o.subject_id <> %(subject_id)s))
"""


def name_words_forget(*, subject_id: uuid.UUID) -> int:
    """Remove from the search's name words (records.models.NameWord) those only this person holds; returns how many.

    Called as a record is disposed of, before its names go, so an erased person's unusual surname does not stay
    behind in the word list. Takes a lock that waits for every transaction that has added names and holds back
    new ones until this transaction ends: without it, a word could be removed just as someone else's new name
    added it back (the insert's ON CONFLICT sees the old row), leaving that person unfindable by spelling.
    A renamed person's old spelling is left: it matches no one, and the old name stays in the value history anyway.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE records_nameword IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(PRUNE_NAME_WORDS_SQL, {"subject_id": subject_id})
        return cursor.rowcount


def _sync_search_names(subject: Subject) -> None:
    SubjectName.objects.filter(subject=subject).delete()
    names = [(SubjectName.Kind.CURRENT, subject.given_names, subject.family_name)]
    names += [(SubjectName.Kind.ALIAS, *split_alias(alias)) for alias in subject.aliases if alias.strip()]
    SubjectName.objects.bulk_create(
        SubjectName(
            subject=subject,
            kind=kind,
            family_norm=compact_name(family),
            given_norm=compact_name(given),
            given_first=(name_words(given) or [""])[0],
        )
        for kind, given, family in names
    )


def _save_unique(subject: Subject, **kwargs: Any) -> None:
    try:
        with transaction.atomic():
            subject.save(**kwargs)
    except IntegrityError as exc:
        for field, code in UNIQUE_IDENTIFIERS.items():
            if field in str(exc):
                raise DuplicateIdentifier(code) from exc
        raise


def _governance(subject: Subject) -> dict[str, Any]:
    return {
        "consent_status": subject.consent_status,
        "consent_agency_kinds": subject.consent_agency_kinds,
        "lawful_basis": subject.lawful_basis,
    }


def _record_changes(subject: Subject, principal: Principal, codes: list[str], at: dt.datetime, kind: str = ItemChange.Kind.CHANGE) -> None:
    ItemChange.objects.bulk_create(
        ItemChange(
            subject=subject,
            item_code=code,
            kind=kind,
            value=None
            if kind == ItemChange.Kind.CONFIRM
            else {f: _json_value(getattr(subject, f)) for f in ITEMS_BY_CODE[code].model_fields},
            changed_at=at,
            changed_by_id=principal.user_id,
            changed_by_name=principal.display_name,
            agency_name=principal.agency_name,
            role_code=principal.roles_label,
        )
        for code in codes
    )


def subject_update(
    *,
    principal: Principal,
    subject_id: uuid.UUID,
    expected_version: int,
    changes: Changes,
    purpose: Purpose,
    context: RequestContext,
) -> int:
    """Apply item changes; return the new version. Raises NotFound, EditConflict, DuplicateIdentifier."""
    try:
        with transaction.atomic():
            subject = Subject.objects.select_for_update().filter(pk=subject_id).first()
            if subject is None:
                raise LookupError("no such subject")
            writable, on_caseload = writable_items_for(principal, subject_id)
            if not on_caseload and not consent_allows(_governance(subject), principal.agency_kind):
                raise PermissionError("consent")
            refused = sorted(set(changes) - writable)
            if refused:
                raise PermissionError(refused)
            if subject.version != expected_version:
                raise EditConflict(subject.version)
            changed = [code for code, fields in changes.items() if any(getattr(subject, f) != v for f, v in fields.items())]
            if not changed:
                return subject.version
            for code in changed:
                for f, v in changes[code].items():
                    setattr(subject, f, v)
            old_version = subject.version
            subject.version = old_version + 1
            _save_unique(subject)
            _record_changes(subject, principal, changed, timezone.now())
            if NAME_ITEMS & set(changed):
                _sync_search_names(subject)
            audit_record(
                event="record.edit",
                action=UPDATE,
                context=context,
                about=Subject,
                subject_id=subject_id,
                items=changed,
                purpose=purpose,
                changes={"version": [old_version, subject.version]},
                lawful_basis=lawful_basis_of(_governance(subject)),
                **principal.audit_identity(),
            )
            changes_notify(subject_id=subject_id, item_codes=changed, actor_user_id=principal.user_id)
            return subject.version
    except PermissionError as exc:
        consent = exc.args[0] == "consent"
        record_refusal(
            principal=principal,
            context=context,
            event="record.edit",
            outcome="denied",
            subject_id=subject_id,
            purpose=purpose,
            detail={"rule": "consent"} if consent else {"refused_items": exc.args[0]},
        )
        if consent:
            raise NotFound() from None
        raise ItemsNotWritable(exc.args[0]) from None
    except LookupError:
        record_refusal(
            principal=principal,
            context=context,
            event="record.edit",
            outcome="not_found",
            subject_id=subject_id,
            purpose=purpose,
        )
        raise NotFound() from None


def can_enrol(principal: Principal) -> bool:
    """Enrolling needs a caseload-owning role that may write names, and a team to own the record."""
    needed = {"identity.family_name", "identity.given_names"}
    return needed <= principal.grants.writable_on_caseload and bool(principal.team_group_ids) and not principal.previewing


def subject_create(
    *,
    principal: Principal,
    changes: Changes,
    consent: ConsentInput,
    purpose: Purpose,
    context: RequestContext,
) -> uuid.UUID:
    """Enrol a subject on the enrolling user's team caseloads, with consent or a lawful basis; return its id."""
    if not can_enrol(principal):
        record_refusal(principal=principal, context=context, event="record.create", outcome="denied", purpose=purpose)
        raise EnrolmentNotPermitted("Only a mental health practitioner on a team can enrol a person.")
    allowed = principal.grants.writable_on_caseload | principal.grants.writable_anywhere
    refused = sorted(set(changes) - allowed)
    if refused:
        record_refusal(
            principal=principal,
            context=context,
            event="record.create",
            outcome="denied",
            purpose=purpose,
            detail={"refused_items": refused},
        )
        raise EnrolmentNotPermitted("Your role cannot record: " + ", ".join(ITEMS_BY_CODE[c].label for c in refused))
    with transaction.atomic():
        subject = Subject()
        for fields in changes.values():
            for f, v in fields.items():
                setattr(subject, f, v)
        _apply_consent(subject, consent, principal)
        subject.inclusion_exception = consent.inclusion_exception
        _save_unique(subject, force_insert=True)
        for team in Team.objects.filter(group_id__in=principal.team_group_ids).select_related("group"):
            assign_perm("records.change_subject", team.group, subject)
        recorded = [code for code, fields in changes.items() if any(v not in (None, "", []) for v in fields.values())]
        _record_changes(subject, principal, recorded, timezone.now())
        _sync_search_names(subject)
        audit_record(
            event="record.create",
            action=CREATE,
            context=context,
            about=Subject,
            subject_id=subject.id,
            items=recorded,
            purpose=purpose,
            detail={"consent_status": subject.consent_status, "inclusion_exception": bool(subject.inclusion_exception)},
            lawful_basis=lawful_basis_of(_governance(subject)),
            **principal.audit_identity(),
        )
        return subject.id


def _apply_consent(subject: Subject, consent: ConsentInput, principal: Principal) -> None:
    subject.consent_status = consent.status
    subject.lawful_basis = consent.lawful_basis
    subject.lawful_basis_note = consent.lawful_basis_note
    if consent.status == ConsentStatus.GIVEN:
        subject.consent_given_on = consent.given_on
        subject.consent_agency_kinds = list(consent.agency_kinds)
        subject.consent_recorded_by = f"{principal.display_name}, {principal.agency_name}"
    else:
        subject.consent_agency_kinds = []
    if consent.status != ConsentStatus.WITHDRAWN:
        subject.consent_withdrawn_at = None
        subject.consent_withdrawn_by = ""


def _owned_subject(principal: Principal, subject_id: uuid.UUID) -> Subject:
    """The subject locked for update, if it is on the principal's team caseload; PermissionError otherwise."""
    subject = Subject.objects.select_for_update().filter(pk=subject_id).first()
    if subject is None:
        raise LookupError("no such subject")
    _, on_caseload = writable_items_for(principal, subject_id)
    if not on_caseload:
        raise PermissionError("not the owning team")
    return subject


def consent_change(
    *,
    principal: Principal,
    subject_id: uuid.UUID,
    consent: ConsentInput,
    purpose: Purpose,
    context: RequestContext,
) -> None:
    """Record consent, its withdrawal, or a lawful basis without consent. Owning team only; audited with before and after.

    Withdrawal takes effect on the next request: the choke point reads the status on every disclosure.
    """
    event = "consent.withdraw" if consent.status == ConsentStatus.WITHDRAWN else "consent.change"
    try:
        with transaction.atomic():
            subject = _owned_subject(principal, subject_id)
            before = _governance(subject)
            was_withdrawn = subject.consent_status == ConsentStatus.WITHDRAWN
            _apply_consent(subject, consent, principal)
            if consent.status == ConsentStatus.WITHDRAWN and not was_withdrawn:
                subject.consent_withdrawn_at = timezone.now()
                subject.consent_withdrawn_by = f"{principal.display_name}, {principal.agency_name}"
            subject.version += 1
            subject.save()
            after = _governance(subject)
            audit_record(
                event=event,
                action=UPDATE,
                context=context,
                about=Subject,
                subject_id=subject_id,
                purpose=purpose,
                changes={k: [before[k], after[k]] for k in before if before[k] != after[k]},
                lawful_basis=lawful_basis_of(after),
                **principal.audit_identity(),
            )
    except PermissionError:
        record_refusal(principal=principal, context=context, event=event, outcome="denied", subject_id=subject_id, purpose=purpose)
        raise ConsentNotPermitted("Only the team that owns this record can change consent.") from None
    except LookupError:
        record_refusal(principal=principal, context=context, event=event, outcome="not_found", subject_id=subject_id, purpose=purpose)
        raise NotFound() from None


# Items whose age is tracked (settings.REVIEW_DAYS); confirmations apply only to these.
def reviewable_codes(section: str) -> list[str]:
    return [code for code, spec in ITEMS_BY_CODE.items() if spec.section == section and section in settings.REVIEW_DAYS]


def items_confirm(
    *,
    principal: Principal,
    subject_id: uuid.UUID,
    section: str,
    purpose: Purpose,
    context: RequestContext,
) -> list[str]:
    """Confirm that the items of a section the principal may write are still accurate; return the item codes."""
    try:
        with transaction.atomic():
            subject = Subject.objects.filter(pk=subject_id).first()
            if subject is None:
                raise LookupError("no such subject")
            writable, _ = writable_items_for(principal, subject_id)
            codes = [c for c in reviewable_codes(section) if c in writable]
            if not codes:
                raise PermissionError("nothing to confirm")
            _record_changes(subject, principal, codes, timezone.now(), kind=ItemChange.Kind.CONFIRM)
            audit_record(
                event="record.confirm",
                action=UPDATE,
                context=context,
                about=Subject,
                subject_id=subject_id,
                items=codes,
                purpose=purpose,
                lawful_basis=lawful_basis_of(_governance(subject)),
                **principal.audit_identity(),
            )
            return codes
    except PermissionError:
        record_refusal(
            principal=principal, context=context, event="record.confirm", outcome="denied", subject_id=subject_id, purpose=purpose
        )
        raise NotFound() from None
    except LookupError:
        record_refusal(
            principal=principal, context=context, event="record.confirm", outcome="not_found", subject_id=subject_id, purpose=purpose
        )
        raise NotFound() from None

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
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm

from access.disclosure import NotFound, record_refusal, writable_items_for
from access.models import Team
from access.policy import Principal
from audit.services import CREATE, UPDATE, Purpose, RequestContext, audit_record
from records.dataset import ITEMS_BY_CODE
from records.models import ItemChange, Subject, SubjectName
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


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


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


def _record_changes(subject: Subject, principal: Principal, codes: list[str], at: dt.datetime) -> None:
    ItemChange.objects.bulk_create(
        ItemChange(
            subject=subject,
            item_code=code,
            value={f: _json_value(getattr(subject, f)) for f in ITEMS_BY_CODE[code].model_fields},
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
            writable, _ = writable_items_for(principal, subject_id)
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
                **principal.audit_identity(),
            )
            return subject.version
    except PermissionError as exc:
        record_refusal(
            principal=principal,
            context=context,
            event="record.edit",
            outcome="denied",
            subject_id=subject_id,
            purpose=purpose,
            detail={"refused_items": exc.args[0]},
        )
        raise NotFound() from None
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
    purpose: Purpose,
    context: RequestContext,
) -> uuid.UUID:
    """Enrol a subject on the enrolling user's team caseloads; return its id."""
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
            **principal.audit_identity(),
        )
        return subject.id

"""Writes for information governance. Each writes its audit event in the same transaction.

Rules and reasons:
- Agreements are recorded by administrators; each save is audited with the
  fields before and after, so an inspector can see what was agreed when.
- Emergency access needs a reason code, words and the user's password again
  (a deliberate act, not a click-through); it lasts at most
  ``settings.EMERGENCY_ACCESS_MINUTES`` and always raises an alert that an
  auditor must review. It cannot open a record whose consent was withdrawn
  unless a lawful basis without consent is recorded.
- Disposal erases the record, its search names and its value history (the
  database cascades) and leaves a tombstone and the audit trail, which never
  held values. A legal hold in force blocks it; so does a record not yet due.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from access.governance import emergency_allowed, lawful_basis_of
from access.models import Agency, User
from access.policy import Principal
from audit.models import Alert
from audit.services import CREATE, UPDATE, Purpose, RequestContext, audit_record
from governance.models import DisposedRecord, EmergencyAccess, LegalHold, RetentionDecision, SharingAgreement
from governance.selectors import active_holds, retention_due
from records.models import Subject
from records.services import name_words_forget


class GovernanceRefused(Exception):
    """A governance action was refused; the message says why in words the user can act on."""


@dataclass(frozen=True)
class AgreementInput:
    reference: str
    title: str
    parties: tuple[int, ...]
    purposes: tuple[str, ...]
    items: tuple[str, ...]
    starts_on: dt.date
    ends_on: dt.date
    signatory_name: str
    signatory_role: str


def _agreement_state(agreement: SharingAgreement) -> dict[str, Any]:
    return {
        "reference": agreement.reference,
        "title": agreement.title,
        "parties": sorted(agreement.parties.values_list("code", flat=True)) if agreement.pk else [],
        "purposes": sorted(agreement.purposes or []),
        "items": sorted(agreement.items or []),
        "starts_on": agreement.starts_on.isoformat() if agreement.starts_on else None,
        "ends_on": agreement.ends_on.isoformat() if agreement.ends_on else None,
        "signatory": f"{agreement.signatory_name}, {agreement.signatory_role}",
    }


@transaction.atomic
def agreement_save(*, actor: Principal, agreement_id: int | None, data: AgreementInput, context: RequestContext) -> SharingAgreement:
    """Create or change a data-sharing agreement; audited with before and after. Takes effect on the next request."""
    agreement = SharingAgreement.objects.select_for_update().get(pk=agreement_id) if agreement_id else SharingAgreement()
    before = _agreement_state(agreement) if agreement_id else None
    agreement.reference = data.reference
    agreement.title = data.title
    agreement.purposes = list(data.purposes)
    agreement.items = list(data.items)
    agreement.starts_on = data.starts_on
    agreement.ends_on = data.ends_on
    agreement.signatory_name = data.signatory_name
    agreement.signatory_role = data.signatory_role
    agreement.save()
    agreement.parties.set(Agency.objects.filter(pk__in=data.parties))
    after = _agreement_state(agreement)
    audit_record(
        event="agreement.create" if before is None else "agreement.update",
        action=CREATE if before is None else UPDATE,
        context=context,
        about=agreement,
        object_pk=str(agreement.pk),
        object_repr=agreement.reference,
        changes={"before": before, "after": after},
        **actor.audit_identity(),
    )
    return agreement


def emergency_access_start(
    *,
    principal: Principal,
    user: User,
    subject_id: uuid.UUID,
    reason_code: str,
    reason_text: str,
    password: str,
    context: RequestContext,
) -> EmergencyAccess:
    """Open emergency access to one subject for this user. Raises GovernanceRefused (audited) when it may not."""
    purpose = Purpose(reason_code, reason_text[:500])

    def refuse(rule: str, message: str, basis: str = "") -> GovernanceRefused:
        with transaction.atomic():
            audit_record(
                event="emergency.start",
                outcome="denied",
                context=context,
                about=Subject,
                subject_id=subject_id,
                purpose=purpose,
                detail={"rule": rule},
                lawful_basis=basis,
                **principal.audit_identity(),
            )
        return GovernanceRefused(message)

    if principal.previewing or not principal.grants.readable:
        raise refuse("role", "Your role does not read records, so it cannot use emergency access.")
    if not user.check_password(password):
        raise refuse("password", "The password is not right. Enter the password you signed in with.")
    with transaction.atomic():
        values = Subject.objects.filter(pk=subject_id).values("consent_status", "consent_agency_kinds", "lawful_basis").first()
    if values is None:
        raise refuse("not_found", "There is no such record.")
    basis = lawful_basis_of(values)
    if not emergency_allowed(values):
        raise refuse(
            "consent",
            "This person has withdrawn their consent and no lawful basis for sharing without consent is recorded, "
            "so emergency access cannot be used. Contact the team that owns the record.",
            basis,
        )
    now = timezone.now()
    with transaction.atomic():
        grant = EmergencyAccess.objects.create(
            user=user,
            subject_id=subject_id,
            reason_code=reason_code,
            reason_text=reason_text,
            started_at=now,
            expires_at=now + dt.timedelta(minutes=settings.EMERGENCY_ACCESS_MINUTES),
        )
        event = audit_record(
            event="emergency.start",
            action=CREATE,
            context=context,
            about=Subject,
            subject_id=subject_id,
            purpose=purpose,
            detail={"emergency_access": grant.pk, "expires_at": grant.expires_at.isoformat()},
            lawful_basis=basis,
            **principal.audit_identity(),
        )
        alert = Alert.objects.create(
            kind=Alert.Kind.EMERGENCY,
            username=principal.username,
            detail=(
                f"{principal.display_name} ({principal.agency_name}) used emergency access to record {subject_id} "
                f"until {timezone.localtime(grant.expires_at):%H:%M}; reason: {reason_code}. Review every disclosure tagged with it."
            ),
            trigger_event_id=event.pk,
        )
        grant.alert_id = alert.pk
        grant.save(update_fields=["alert_id"])
        return grant


def _subject_or_tombstone(subject_id: uuid.UUID) -> Subject:
    subject = Subject.objects.select_for_update().filter(pk=subject_id).first()
    if subject is None:
        gone = DisposedRecord.objects.filter(subject_id=subject_id).exists()
        raise GovernanceRefused("This record has already been disposed of." if gone else "There is no such record.")
    return subject


def _basis(subject: Subject) -> str:
    return lawful_basis_of(
        {
            "consent_status": subject.consent_status,
            "consent_agency_kinds": subject.consent_agency_kinds,
            "lawful_basis": subject.lawful_basis,
        }
    )


@transaction.atomic
def legal_hold_place(*, actor: Principal, subject_id: uuid.UUID, reason: str, context: RequestContext) -> LegalHold:
    subject = _subject_or_tombstone(subject_id)
    hold = LegalHold.objects.create(subject_id=subject_id, reason=reason, placed_by=actor.display_name, placed_at=timezone.now())
    audit_record(
        event="retention.hold",
        action=CREATE,
        context=context,
        about=Subject,
        subject_id=subject_id,
        detail={"hold": hold.pk, "reason": reason},
        lawful_basis=_basis(subject),
        **actor.audit_identity(),
    )
    return hold


@transaction.atomic
def legal_hold_lift(*, actor: Principal, hold_id: int, reason: str, context: RequestContext) -> LegalHold:
    hold = LegalHold.objects.select_for_update().filter(pk=hold_id, lifted_at__isnull=True).first()
    if hold is None:
        raise GovernanceRefused("That hold has already been lifted.")
    hold.lifted_at = timezone.now()
    hold.lifted_by = actor.display_name
    hold.lift_reason = reason
    hold.save()
    audit_record(
        event="retention.hold_lift",
        action=UPDATE,
        context=context,
        about=Subject,
        subject_id=hold.subject_id,
        detail={"hold": hold.pk, "reason": reason},
        **actor.audit_identity(),
    )
    return hold


@transaction.atomic
def retention_retain(
    *, actor: Principal, subject_id: uuid.UUID, reason: str, next_review_on: dt.date, context: RequestContext
) -> RetentionDecision:
    """Keep a record due for review, with a reason and the date of the next review."""
    subject = _subject_or_tombstone(subject_id)
    due = retention_due(today=timezone.localdate(), subject_id=subject_id)
    if not due:
        raise GovernanceRefused("This record is not due for review.")
    if next_review_on <= timezone.localdate():
        raise GovernanceRefused("The next review date must be in the future.")
    decision = RetentionDecision.objects.create(
        subject_id=subject_id,
        decision=RetentionDecision.Decision.RETAIN,
        rule=due[0].rule,
        reason=reason,
        next_review_on=next_review_on,
        decided_by=actor.display_name,
        decided_at=timezone.now(),
    )
    audit_record(
        event="retention.retain",
        action=CREATE,
        context=context,
        about=Subject,
        subject_id=subject_id,
        detail={"rule": due[0].rule, "reason": reason, "next_review_on": next_review_on.isoformat()},
        lawful_basis=_basis(subject),
        **actor.audit_identity(),
    )
    return decision


@transaction.atomic
def record_dispose(*, actor: Principal, subject_id: uuid.UUID, reason: str, context: RequestContext) -> DisposedRecord:
    """Erase a record due for review and not on hold; leave a tombstone. Audited before the record goes."""
    subject = _subject_or_tombstone(subject_id)
    if active_holds(subject_id).exists():
        raise GovernanceRefused("A legal hold is in force on this record. It cannot be disposed of until the hold is lifted.")
    due = retention_due(today=timezone.localdate(), subject_id=subject_id)
    if not due:
        raise GovernanceRefused("This record is not due for review, so it cannot be disposed of.")
    facts = due[0]
    # First, before the audit row takes the chain lock: the name-word lock waits for transactions that are adding
    # names, and those take the chain lock for their own audit rows, so taking them the other way round could deadlock.
    name_words_forget(subject_id=subject_id)
    now = timezone.now()
    RetentionDecision.objects.create(
        subject_id=subject_id,
        decision=RetentionDecision.Decision.DISPOSE,
        rule=facts.rule,
        reason=reason,
        decided_by=actor.display_name,
        decided_at=now,
    )
    tombstone = DisposedRecord.objects.create(
        subject_id=subject_id,
        enrolled_on=facts.enrolled_on,
        last_release_on=facts.last_release_on,
        last_activity_on=facts.last_activity_on,
        rule=facts.rule,
        reason=reason,
        disposed_by=actor.display_name,
        disposed_at=now,
    )
    audit_record(
        event="retention.dispose",
        action=UPDATE,
        context=context,
        about=Subject,
        subject_id=subject_id,
        detail={"rule": facts.rule, "reason": reason, "due_on": facts.due_on.isoformat()},
        lawful_basis=_basis(subject),
        **actor.audit_identity(),
    )
    # Cascades to search names, value history, caseload permissions and emergency access rows.
    subject.delete()
    return tombstone

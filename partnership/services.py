"""Writes for partnership working. Each checks who may act, writes its audit event in the same transaction, and
refuses with a message the user can act on.

Rules and reasons:
- Only someone who may open the person's record now refers them or records a
  sharing decision about them: nobody acts on a record they could not see.
- A referral goes only to a team that could open the record (it owns the
  caseload, or consent or a lawful basis covers its kind of agency), so the
  receiving team is never asked to act on a person it cannot see; and not
  twice to the same team while one is still open.
- Only the receiving team accepts, declines, records contact and the outcome,
  in that order: pending -> accepted or declined; accepted -> contact(s) ->
  outcome (closed). Each step is a row on the timeline and an audit event.
- Optimistic locking: a step names the version it was made on, so two people
  working the same queue cannot overwrite each other silently.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from access.disclosure import may_act_on, team_may_see
from access.governance import lawful_basis_of
from access.models import Agency, Team
from access.policy import Principal
from audit.services import CREATE, UPDATE, Purpose, RequestContext, audit_record
from partnership.models import Engagement, Outcome, Referral, ReferralEvent, SharingDecision, Urgency
from records.dataset import ITEMS_BY_CODE


class PartnershipRefused(Exception):
    """The step was refused; the message says why in words the user can act on."""


def _agency_name(actor: Principal) -> str:
    return actor.agency_name or "No agency"


@transaction.atomic
def referral_create(
    *,
    actor: Principal,
    subject_id: uuid.UUID,
    to_team_id: int,
    reason: str,
    urgency: str,
    purpose: Purpose,
    context: RequestContext,
) -> Referral:
    """Refer one person to another team, under the purpose the referrer gave for opening the record."""
    values = may_act_on(principal=actor, subject_id=subject_id, purpose=purpose)
    if values is None or actor.agency_id is None:
        raise PartnershipRefused("You can refer only a person whose record you can open.")
    team = Team.objects.select_related("agency").filter(pk=to_team_id, agency__is_active=True).first()
    if team is None:
        raise PartnershipRefused("Choose a team to refer to.")
    if team.group_id in actor.team_group_ids:
        raise PartnershipRefused("You cannot refer a person to your own team.")
    if urgency not in Urgency.values:
        raise PartnershipRefused("Choose how urgent the referral is.")
    if not reason.strip():
        raise PartnershipRefused("Say why you are referring the person and what you are asking the team to do.")
    if not team_may_see(team_group_id=team.group_id, agency_kind=team.agency.kind, subject_id=subject_id, values=values):
        raise PartnershipRefused(
            f"{team.name} cannot see this person's record: the person's consent does not cover {team.agency.get_kind_display().lower()} "
            "and no lawful basis for sharing without consent is recorded. Contact the owning team."
        )
    open_one = Referral.objects.filter(
        subject_id=subject_id, to_team=team, status__in=[Referral.Status.PENDING, Referral.Status.ACCEPTED]
    ).first()
    if open_one is not None:
        raise PartnershipRefused(
            f"This person already has an open referral to {team.name}, made {timezone.localtime(open_one.created_at):%d %b %Y}."
        )
    now = timezone.now()
    referral = Referral.objects.create(
        subject_id=subject_id,
        referred_by_id=actor.user_id,
        referred_by_name=actor.display_name,
        from_agency=Agency.objects.get(pk=actor.agency_id),
        to_team=team,
        purpose_code=purpose.code,
        reason=reason.strip(),
        urgency=urgency,
        created_at=now,
    )
    ReferralEvent.objects.create(
        referral=referral, kind=ReferralEvent.Kind.CREATED, at=now, by_name=actor.display_name, agency_name=_agency_name(actor)
    )
    audit_record(
        event="referral.create",
        action=CREATE,
        context=context,
        about=referral,
        object_pk=str(referral.pk),
        subject_id=subject_id,
        purpose=purpose,
        detail={"referral": referral.pk, "to_team": team.name, "to_agency": team.agency.name, "urgency": urgency},
        lawful_basis=lawful_basis_of(values),
        **actor.audit_identity(),
    )
    return referral


def _for_receiver(actor: Principal, referral_id: int, version: int) -> Referral:
    referral = Referral.objects.select_for_update(of=("self",)).select_related("to_team").filter(pk=referral_id).first()
    if referral is None or referral.to_team.group_id not in actor.team_group_ids:
        raise PartnershipRefused("Only the team the person was referred to can do this.")
    if referral.version != version:
        raise PartnershipRefused("Someone in your team updated this referral while you were looking at it. Check it and try again.")
    return referral


def _step(*, actor: Principal, referral: Referral, kind: str, text: str, changes: dict[str, list[object]], context: RequestContext) -> None:
    now = timezone.now()
    referral.version += 1
    referral.save()
    ReferralEvent.objects.create(
        referral=referral, kind=kind, at=now, by_name=actor.display_name, agency_name=_agency_name(actor), text=text[:1000]
    )
    _audit_change(actor=actor, referral=referral, event=f"referral.{kind}", changes=changes, context=context)


def _audit_change(*, actor: Principal, referral: Referral, event: str, changes: dict[str, list[object]], context: RequestContext) -> None:
    """The audit row of a change to a referral, in the caller's transaction, under the referral's own purpose."""
    audit_record(
        event=event,
        action=UPDATE,
        context=context,
        about=referral,
        object_pk=str(referral.pk),
        subject_id=referral.subject_id,
        purpose=Purpose(referral.purpose_code, f"Referral {referral.pk}"),
        detail={"referral": referral.pk},
        changes=changes,
        **actor.audit_identity(),
    )


@transaction.atomic
def referral_decide(*, actor: Principal, referral_id: int, version: int, accept: bool, reason: str, context: RequestContext) -> Referral:
    referral = _for_receiver(actor, referral_id, version)
    if referral.status != Referral.Status.PENDING:
        raise PartnershipRefused(f"This referral was already {referral.get_status_display().lower()}.")
    if not accept and not reason.strip():
        raise PartnershipRefused("Say why the team is declining, so the referrer can find the right service.")
    before = referral.status
    referral.status = Referral.Status.ACCEPTED if accept else Referral.Status.DECLINED
    referral.decided_at = timezone.now()
    referral.decided_by_name = actor.display_name
    referral.decline_reason = "" if accept else reason.strip()
    _step(
        actor=actor,
        referral=referral,
        kind=ReferralEvent.Kind.ACCEPTED if accept else ReferralEvent.Kind.DECLINED,
        text="" if accept else referral.decline_reason,
        changes={"status": [before, referral.status]},
        context=context,
    )
    return referral


@transaction.atomic
def referral_contact(
    *, actor: Principal, referral_id: int, version: int, engagement: str, contact_at: dt.datetime, context: RequestContext
) -> Referral:
    """Record an attempt to see the person: attended, did not attend, or disengaged."""
    referral = _for_receiver(actor, referral_id, version)
    if referral.status != Referral.Status.ACCEPTED:
        raise PartnershipRefused("Record contact only on an accepted referral that has no outcome yet.")
    if engagement not in Engagement.values:
        raise PartnershipRefused("Choose whether the person attended, did not attend or disengaged.")
    if contact_at > timezone.now():
        raise PartnershipRefused("The contact cannot be in the future.")
    if contact_at < referral.created_at - dt.timedelta(minutes=1):
        raise PartnershipRefused("The contact cannot be before the referral was made.")
    before_engagement, before_contact = referral.engagement, referral.first_contact_at
    referral.engagement = engagement
    if engagement == Engagement.ATTENDED and (referral.first_contact_at is None or contact_at < referral.first_contact_at):
        referral.first_contact_at = contact_at
    label = Engagement(engagement).label
    _step(
        actor=actor,
        referral=referral,
        kind=ReferralEvent.Kind.CONTACT,
        text=f"{label} ({timezone.localtime(contact_at):%d %b %Y %H:%M})",
        changes={
            "engagement": [before_engagement, engagement],
            "first_contact_at": [
                before_contact.isoformat() if before_contact else None,
                referral.first_contact_at.isoformat() if referral.first_contact_at else None,
            ],
        },
        context=context,
    )
    return referral


@transaction.atomic
def referral_outcome(*, actor: Principal, referral_id: int, version: int, outcome: str, note: str, context: RequestContext) -> Referral:
    """Close the referral with its outcome; the referrer sees it the next time they look (and a count on their home page)."""
    referral = _for_receiver(actor, referral_id, version)
    if referral.status != Referral.Status.ACCEPTED:
        raise PartnershipRefused("Record an outcome only on an accepted referral that has no outcome yet.")
    if outcome not in Outcome.values:
        raise PartnershipRefused("Choose the outcome.")
    referral.status = Referral.Status.CLOSED
    referral.outcome = outcome
    referral.outcome_note = note.strip()
    referral.closed_at = timezone.now()
    referral.outcome_seen_at = None
    _step(
        actor=actor,
        referral=referral,
        kind=ReferralEvent.Kind.OUTCOME,
        text=Outcome(outcome).label,
        changes={
            "status": [Referral.Status.ACCEPTED, Referral.Status.CLOSED],
            "outcome": [None, outcome],
            "note": ["", "(recorded)" if note.strip() else ""],
        },
        context=context,
    )
    return referral


@transaction.atomic
def referral_outcome_seen(*, actor: Principal, referral_id: int, context: RequestContext) -> None:
    """The referrer has looked at the outcome: it no longer counts as new on their home page.

    A change of state like any other, so it writes its audit row in the same transaction (only the first time:
    a second look changes nothing and is recorded as the referral view it is).
    """
    referral = (
        Referral.objects.select_for_update()
        .filter(pk=referral_id, referred_by_id=actor.user_id, status=Referral.Status.CLOSED, outcome_seen_at__isnull=True)
        .first()
    )
    if referral is None:
        return
    referral.outcome_seen_at = timezone.now()
    referral.save(update_fields=["outcome_seen_at"])
    _audit_change(
        actor=actor,
        referral=referral,
        event="referral.outcome_seen",
        changes={"outcome_seen_at": [None, referral.outcome_seen_at.isoformat()]},
        context=context,
    )


@dataclass(frozen=True)
class SharingDecisionInput:
    decided_on: dt.date
    purpose: str
    necessity: str
    recipient_organisation: str
    recipient_person: str
    shared: bool
    items: tuple[str, ...]
    what_shared: str
    minimum_reasoning: str
    why_not: str
    lawful_basis: str
    method: str


@transaction.atomic
def sharing_decision_record(
    *, actor: Principal, subject_id: uuid.UUID, data: SharingDecisionInput, purpose: Purpose, context: RequestContext
) -> SharingDecision:
    """Record a decision to share outside MAIS (or not to), as a disclosure in the audit trail."""
    values = may_act_on(principal=actor, subject_id=subject_id, purpose=purpose)
    if values is None:
        raise PartnershipRefused("You can record a sharing decision only about a person whose record you can open.")
    unknown = [c for c in data.items if c not in ITEMS_BY_CODE]
    if unknown:
        raise PartnershipRefused("Choose items from the list.")
    if data.decided_on > timezone.localdate():
        raise PartnershipRefused("The decision cannot be in the future.")
    decision = SharingDecision.objects.create(
        subject_id=subject_id,
        recorded_by_id=actor.user_id,
        recorded_by_name=actor.display_name,
        agency_name=_agency_name(actor),
        recorded_at=timezone.now(),
        decided_on=data.decided_on,
        purpose=data.purpose,
        necessity=data.necessity,
        recipient_organisation=data.recipient_organisation,
        recipient_person=data.recipient_person,
        shared=data.shared,
        items=list(data.items) if data.shared else [],
        what_shared=data.what_shared if data.shared else "",
        minimum_reasoning=data.minimum_reasoning if data.shared else "",
        why_not="" if data.shared else data.why_not,
        lawful_basis=data.lawful_basis if data.shared else data.lawful_basis,
        method=data.method if data.shared else "",
    )
    audit_record(
        event="disclosure.external" if data.shared else "disclosure.declined",
        action=CREATE,
        context=context,
        about=decision,
        object_pk=str(decision.pk),
        subject_id=subject_id,
        items=decision.items,
        purpose=purpose,
        detail={
            "sharing_decision": decision.pk,
            "recipient": f"{data.recipient_organisation} ({data.recipient_person})",
            "shared": data.shared,
            "method": decision.method,
            "decided_on": data.decided_on.isoformat(),
        },
        lawful_basis=data.lawful_basis,
        **actor.audit_identity(),
    )
    return decision

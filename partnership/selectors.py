"""Reads for partnership working. Facts about referrals and sharing decisions, never a person's name or record.

Only the choke point (access.disclosure) calls the functions that return what
partners wrote about a person; it decides who may see them and audits it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from access.models import Team
from partnership.models import Engagement, Outcome, Referral, ReferralEvent, SharingDecision, Urgency


@dataclass(frozen=True)
class ReferralFacts:
    id: int
    subject_id: uuid.UUID
    referred_by_id: int
    referred_by_name: str
    from_agency: str
    to_team: str
    to_team_group_id: int
    to_agency: str
    purpose_code: str
    reason: str
    urgency: str
    created_at: dt.datetime
    status: str
    decided_at: dt.datetime | None
    decided_by_name: str
    decline_reason: str
    first_contact_at: dt.datetime | None
    engagement: str
    outcome: str
    outcome_note: str
    closed_at: dt.datetime | None
    outcome_seen_at: dt.datetime | None
    version: int

    @property
    def status_label(self) -> str:
        return str(dict(Referral.Status.choices).get(self.status, self.status))

    @property
    def urgency_label(self) -> str:
        return str(dict(Urgency.choices).get(self.urgency, self.urgency))

    @property
    def engagement_label(self) -> str:
        return str(dict(Engagement.choices).get(self.engagement, ""))

    @property
    def outcome_label(self) -> str:
        return str(dict(Outcome.choices).get(self.outcome, ""))

    @property
    def new_outcome(self) -> bool:
        return self.status == Referral.Status.CLOSED and self.outcome_seen_at is None


_FIELDS = (
    "id",
    "subject_id",
    "referred_by_id",
    "referred_by_name",
    "from_agency__name",
    "to_team__name",
    "to_team__group_id",
    "to_team__agency__name",
    "purpose_code",
    "reason",
    "urgency",
    "created_at",
    "status",
    "decided_at",
    "decided_by_name",
    "decline_reason",
    "first_contact_at",
    "engagement",
    "outcome",
    "outcome_note",
    "closed_at",
    "outcome_seen_at",
    "version",
)

URGENCY_ORDER = {"urgent": 0, "soon": 1, "routine": 2}


def referral_facts(referral_id: int) -> ReferralFacts | None:
    row = Referral.objects.filter(pk=referral_id).values_list(*_FIELDS).first()
    return ReferralFacts(*row) if row else None


def referrals_for_teams(group_ids: tuple[int, ...], *, open_only: bool, limit: int = 200) -> list[ReferralFacts]:
    """A team's queue: open ones most urgent first, then oldest first (who has waited longest). One query."""
    if not group_ids:
        return []
    qs = Referral.objects.filter(to_team__group_id__in=group_ids)
    if open_only:
        qs = qs.filter(status__in=[Referral.Status.PENDING, Referral.Status.ACCEPTED])
    rows = [ReferralFacts(*r) for r in qs.order_by("-created_at").values_list(*_FIELDS)[:limit]]
    if open_only:
        rows.sort(key=lambda r: (URGENCY_ORDER.get(r.urgency, 9), r.created_at))
    return rows


def referrals_sent_by(user_id: int, *, limit: int = 200) -> list[ReferralFacts]:
    return [
        ReferralFacts(*r) for r in Referral.objects.filter(referred_by_id=user_id).order_by("-created_at").values_list(*_FIELDS)[:limit]
    ]


def unseen_outcomes(user_id: int) -> int:
    """Referrals this user made whose outcome they have not yet looked at."""
    return Referral.objects.filter(referred_by_id=user_id, status=Referral.Status.CLOSED, outcome_seen_at__isnull=True).count()


def referral_events(referral_id: int) -> list[ReferralEvent]:
    return list(ReferralEvent.objects.filter(referral_id=referral_id))


def receiving_teams() -> list[Team]:
    """Teams a referral can go to, grouped by agency in the form."""
    return list(Team.objects.filter(agency__is_active=True).select_related("agency").order_by("agency__name", "name"))


def sharing_decisions_for(subject_id: uuid.UUID) -> list[SharingDecision]:
    return list(SharingDecision.objects.filter(subject_id=subject_id))


def sharing_decision_by_id(decision_id: int) -> SharingDecision | None:
    return SharingDecision.objects.filter(pk=decision_id).first()

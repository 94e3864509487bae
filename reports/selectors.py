"""Counts for the usage and referral reports, from the audit trail and the referrals. No record content.

Months are calendar months in UK time (settings.TIME_ZONE), as people read them. Called inside
``mais.routers.replica_reads()``: these counts may come from a read replica.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.utils import timezone

from access.models import Agency
from mais.routers import read_alias
from partnership.models import Engagement, Outcome, Referral


@dataclass(frozen=True)
class Period:
    """Whole calendar months from ``start`` to ``end`` inclusive (both first days of months)."""

    start: dt.date
    end: dt.date

    @property
    def since(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.start, dt.time()))

    @property
    def until(self) -> dt.datetime:
        following = (self.end.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return timezone.make_aware(dt.datetime.combine(following, dt.time()))

    def months(self) -> list[dt.date]:
        out, month = [], self.start
        while month <= self.end:
            out.append(month)
            month = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return out


def agency_names() -> list[str]:
    return list(Agency.objects.order_by("name").values_list("name", flat=True))


ACTIVITY_SQL = """
SELECT date_trunc('month', timestamp AT TIME ZONE %(tz)s)::date AS month, agency,
       count(*) FILTER (WHERE event = 'search') AS searches,
       count(*) FILTER (WHERE event = 'record.view') AS views,
       count(DISTINCT actor_id) AS users
FROM audit_auditevent
WHERE timestamp >= %(since)s AND timestamp < %(until)s AND outcome = 'ok' AND actor_id IS NOT NULL
  AND agency <> '' AND (%(agency)s = '' OR agency = %(agency)s)
GROUP BY 1, 2 ORDER BY 1, 2
"""


@dataclass(frozen=True)
class ActivityRow:
    month: dt.date
    agency: str
    searches: int
    views: int
    active_users: int


def activity_by_agency_month(period: Period, agency: str = "") -> list[ActivityRow]:
    """Searches, record views and active users (anyone with an event of their own that month) per agency and month. One query."""
    with connections[read_alias()].cursor() as cursor:
        cursor.execute(
            ACTIVITY_SQL, {"tz": str(timezone.get_current_timezone()), "since": period.since, "until": period.until, "agency": agency}
        )
        return [ActivityRow(*row) for row in cursor.fetchall()]


@dataclass(frozen=True)
class ReferralFigures:
    by_source: list[tuple[str, list[int]]]
    by_outcome: list[tuple[str, int]]
    to_first_contact: list[tuple[str, int]]


SOURCE_COLUMNS = ("Made", "Accepted", "Declined", "First contact made", "Did not attend or disengaged", "Outcome recorded")
CONTACT_BUCKETS = ("Same day", "1 to 3 days", "4 to 10 days", "More than 10 days", "Accepted, no contact yet")


def _contact_bucket(days: float | None) -> str:
    if days is None:
        return CONTACT_BUCKETS[4]
    if days < 1:
        return CONTACT_BUCKETS[0]
    if days <= 3:
        return CONTACT_BUCKETS[1]
    if days <= 10:
        return CONTACT_BUCKETS[2]
    return CONTACT_BUCKETS[3]


def referral_figures(period: Period, agency: str = "") -> ReferralFigures:
    """Referrals made in the period, by source agency, outcome and time from referral to first contact. One query."""
    qs = Referral.objects.filter(created_at__gte=period.since, created_at__lt=period.until)
    if agency:
        qs = qs.filter(from_agency__name=agency)
    rows = list(qs.values_list("from_agency__name", "status", "first_contact_at", "engagement", "outcome", "created_at"))
    sources: dict[str, list[int]] = {}
    outcomes: Counter[str] = Counter()
    contact: Counter[str] = Counter()
    for source, status, first_contact, engagement, outcome, created in rows:
        counts = sources.setdefault(source, [0] * len(SOURCE_COLUMNS))
        counts[0] += 1
        counts[1] += status in (Referral.Status.ACCEPTED, Referral.Status.CLOSED)
        counts[2] += status == Referral.Status.DECLINED
        counts[3] += first_contact is not None
        counts[4] += engagement in (Engagement.DID_NOT_ATTEND, Engagement.DISENGAGED)
        counts[5] += status == Referral.Status.CLOSED
        if outcome:
            outcomes[outcome] += 1
        if status in (Referral.Status.ACCEPTED, Referral.Status.CLOSED):
            days = (first_contact - created).total_seconds() / 86400 if first_contact else None
            contact[_contact_bucket(days)] += 1
    return ReferralFigures(
        by_source=sorted(sources.items()),
        by_outcome=[(label, outcomes[code]) for code, label in Outcome.choices],
        to_first_contact=[(bucket, contact[bucket]) for bucket in CONTACT_BUCKETS],
    )


def referral_contacts(period: Period, agency: str = "") -> list[tuple[Any, dt.datetime]]:
    """(subject id, first contact) of referrals made in the period with a first contact, for the release report."""
    qs = Referral.objects.filter(created_at__gte=period.since, created_at__lt=period.until, first_contact_at__isnull=False)
    if agency:
        qs = qs.filter(from_agency__name=agency)
    return [(sid, at) for sid, at in qs.values_list("subject_id", "first_contact_at") if at is not None]

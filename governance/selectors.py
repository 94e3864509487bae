"""Reads for information governance: agreements, emergency access, retention schedule, holds.

The retention queue reads record dates (release, last activity); only the
choke point (access.governance.disclose_retention_queue) calls it, so that
listing a record is audited like any other disclosure.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet

from governance.models import LegalHold, SharingAgreement


@dataclass(frozen=True)
class DueRecord:
    subject_id: uuid.UUID
    rule: str
    enrolled_on: dt.date
    last_release_on: dt.date | None
    last_activity_on: dt.date
    due_on: dt.date
    on_hold: bool


RECORD_CLASS_SQL = "CASE WHEN s.mappa_category <> '' THEN 'mappa' ELSE 'standard' END"

# Due = the later of last release and last activity, plus the years of the record's class; a "retain"
# decision replaces that with the reviewer's next review date.
_RETENTION_SQL = """
WITH facts AS (
    SELECT s.id, {record_class} AS rule, s.created_at::date AS enrolled_on, s.release_date,
           GREATEST(s.updated_at::date, (SELECT max(c.changed_at)::date FROM records_itemchange c WHERE c.subject_id = s.id))
               AS last_activity,
           (SELECT d.next_review_on FROM governance_retentiondecision d WHERE d.subject_id = s.id
             ORDER BY d.decided_at DESC LIMIT 1) AS next_review,
           EXISTS (SELECT 1 FROM governance_legalhold h WHERE h.subject_id = s.id AND h.lifted_at IS NULL) AS on_hold
    FROM records_subject s
    {where}
), scheduled AS (
    SELECT *, COALESCE(next_review,
        (GREATEST(release_date, last_activity)
         + make_interval(years => CASE WHEN rule = 'mappa' THEN %(mappa)s ELSE %(standard)s END))::date) AS due_on
    FROM facts
)
SELECT id, rule, enrolled_on, release_date, last_activity, due_on, on_hold FROM scheduled
WHERE due_on <= %(today)s
ORDER BY due_on, id
LIMIT %(limit)s
"""


def retention_due(*, today: dt.date, subject_id: uuid.UUID | None = None, limit: int = 500) -> list[DueRecord]:
    """Records due for retention review on ``today`` (oldest first), or just the one named. One query."""
    params: dict[str, Any] = {**settings.RETENTION_YEARS, "today": today, "limit": limit}
    where = ""
    if subject_id is not None:
        where = "WHERE s.id = %(subject_id)s"
        params["subject_id"] = subject_id
    with connection.cursor() as cursor:
        # Fixed fragments only (the record class CASE, an optional id filter); values are bound parameters.
        cursor.execute(_RETENTION_SQL.format(record_class=RECORD_CLASS_SQL, where=where), params)  # nosec B608
        rows = cursor.fetchall()
    return [DueRecord(*row) for row in rows]


def active_holds(subject_id: uuid.UUID) -> QuerySet[LegalHold]:
    return LegalHold.objects.filter(subject_id=subject_id, lifted_at__isnull=True)


def agreements_expiring(*, today: dt.date, days: int) -> QuerySet[SharingAgreement]:
    """Agreements in force today that end within ``days`` days: someone must renew them or sharing stops."""
    return (
        SharingAgreement.objects.filter(starts_on__lte=today, ends_on__gte=today, ends_on__lte=today + dt.timedelta(days=days))
        .prefetch_related("parties")
        .order_by("ends_on")
    )


def agreements_all() -> QuerySet[SharingAgreement]:
    return SharingAgreement.objects.prefetch_related("parties").order_by("-ends_on", "reference")

"""Reads of the audit trail for auditors. No record content is here: only who, when, why and item codes."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from audit.models import Alert, AuditEvent, ChainVerification

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilters:
    username: str = ""
    agency: str = ""
    role: str = ""
    subject_id: uuid.UUID | None = None
    event: str = ""
    purpose_code: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def as_dict(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.__dict__.items() if v not in ("", None)}


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def filtered_events(filters: AuditFilters) -> QuerySet[AuditEvent]:
    qs = AuditEvent.objects.all()
    if filters.username:
        qs = qs.filter(actor_username=filters.username)
    if filters.agency:
        qs = qs.filter(agency=filters.agency)
    if filters.role:
        qs = qs.filter(
            Q(roles=filters.role)
            | Q(roles__startswith=f"{filters.role},")
            | Q(roles__endswith=f",{filters.role}")
            | Q(roles__contains=f",{filters.role},")
        )
    if filters.subject_id:
        qs = qs.filter(subject_id=filters.subject_id)
    if filters.event:
        qs = qs.filter(event=filters.event)
    if filters.purpose_code:
        qs = qs.filter(purpose_code=filters.purpose_code)
    if filters.date_from:
        qs = qs.filter(timestamp__gte=_day_start(filters.date_from))
    if filters.date_to:
        qs = qs.filter(timestamp__lt=_day_start(filters.date_to + dt.timedelta(days=1)))
    return qs


@dataclass(frozen=True)
class EventPage:
    events: tuple[AuditEvent, ...]
    next_before: int | None


def event_page(filters: AuditFilters, *, before: int | None = None, page_size: int = PAGE_SIZE) -> EventPage:
    """Newest first, keyset-paginated on id so that page 1,000 costs what page 1 costs."""
    qs = filtered_events(filters)
    if before:
        qs = qs.filter(id__lt=before)
    rows = list(qs.order_by("-id").defer("serialized_data", "changes_text")[: page_size + 1])
    more = len(rows) > page_size
    rows = rows[:page_size]
    return EventPage(tuple(rows), rows[-1].id if more and rows else None)


def subject_disclosures(subject_id: uuid.UUID) -> QuerySet[AuditEvent]:
    """Every consultation and disclosure of one subject: events about them, and searches that listed them."""
    return AuditEvent.objects.filter(Q(subject_id=subject_id) | Q(additional_data__contains={"results": [str(subject_id)]})).order_by("-id")


def user_activity(username: str, date_from: dt.date, date_to: dt.date) -> QuerySet[AuditEvent]:
    return filtered_events(AuditFilters(username=username, date_from=date_from, date_to=date_to)).order_by("-id")


def last_verification() -> ChainVerification | None:
    return ChainVerification.objects.first()


def open_alerts() -> QuerySet[Alert]:
    return Alert.objects.filter(status=Alert.Status.OPEN)


def recent_alerts(limit: int = 100) -> list[Alert]:
    return list(Alert.objects.all()[:limit])

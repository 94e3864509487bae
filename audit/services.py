"""Writing audit events.

Rules:
- Every disclosure, search, edit, denial, sign-in event and policy change is
  written here, explicitly, in the caller's transaction.
- A failed write raises ``AuditUnavailable``; callers let it propagate so the
  transaction rolls back and the user gets a 503 with no data (fail closed).
- Item codes only, never dataset values.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypedDict

from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, models
from django.utils import timezone

from audit import alerts
from audit.models import AuditEvent, Reading


class ActorFields(TypedDict):
    actor_id: int | None
    actor_username: str
    roles: str
    agency: str
    agency_24h: bool


class AuditUnavailable(Exception):
    """The audit trail could not be written; nothing may be served."""


@dataclass(frozen=True)
class RequestContext:
    """Where a request came from, for the audit trail."""

    request_id: str = ""
    remote_addr: str | None = None
    # For calls from client systems: the end user the client acts for (audited on every event).
    on_behalf_of: str = ""

    @classmethod
    def system(cls) -> RequestContext:
        return cls(request_id=f"system-{uuid.uuid4().hex}")


@dataclass(frozen=True)
class Purpose:
    """Why a record is consulted (DPA 2018 s.62): a reason code and optional words."""

    code: str
    text: str = ""


ACCESS = AuditEvent.Action.ACCESS
CREATE = AuditEvent.Action.CREATE
UPDATE = AuditEvent.Action.UPDATE


def audit_record(
    *,
    event: str,
    context: RequestContext,
    about: type[models.Model] | models.Model,
    actor_id: int | None = None,
    actor_username: str = "",
    roles: str = "",
    agency: str = "",
    outcome: str = "ok",
    action: int = ACCESS,
    subject_id: uuid.UUID | None = None,
    object_pk: str = "",
    object_repr: str = "",
    items: Iterable[str] = (),
    purpose: Purpose | None = None,
    detail: dict[str, Any] | None = None,
    changes: dict[str, Any] | None = None,
    agency_24h: bool = True,
    lawful_basis: str = "",
    reading: Reading | None = None,
) -> AuditEvent:
    """Append one event to the chain, or raise ``AuditUnavailable``.

    With ``reading`` (a one-row SELECT of what the event discloses) the event is appended in the statement that
    reads it, only if it returns its row, which is left in the event's ``read_row`` (None: no row, no event).
    """
    if context.on_behalf_of:
        detail = {**(detail or {}), "on_behalf_of": context.on_behalf_of}
    try:
        content_type = ContentType.objects.get_for_model(about)
        entry = AuditEvent(
            event=event,
            outcome=outcome,
            action=action,
            content_type=content_type,
            object_pk=object_pk or (str(subject_id) if subject_id else ""),
            object_repr=object_repr or event,
            actor_id=actor_id,
            actor_username=actor_username,
            roles=roles,
            agency=agency,
            subject_id=subject_id,
            items=sorted(set(items)),
            purpose_code=purpose.code if purpose else "",
            purpose_text=purpose.text[:500] if purpose else "",
            lawful_basis=lawful_basis,
            request_id=context.request_id,
            remote_addr=context.remote_addr,
            additional_data=detail,
            changes=changes,
        )
        now = timezone.now()
        count = alerts.count_for(entry, now=now)
        counted = entry.append(with_row=(count.sql, count.params) if count else None, reading=reading)
        if counted is None:
            return entry  # the reading found no row: nothing was appended, and there is nothing to alert on
        due = alerts.due(
            entry, agency_24h=agency_24h, now=now, counted=(bool(counted[0]), int(counted[1]), bool(counted[2])) if count else None
        )
        if due:
            alerts.raise_due(entry, due)
    except DatabaseError as exc:
        raise AuditUnavailable(str(exc)) from exc
    return entry

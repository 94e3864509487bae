"""The one write of the reports: the audit event that records who looked at which report, with which filters."""

from __future__ import annotations

from typing import Any

from access.policy import Principal
from audit.models import AuditEvent
from audit.services import RequestContext, audit_record


def report_view_record(*, actor: Principal, report: str, params: dict[str, Any], context: RequestContext) -> None:
    """Reports hold counts only, but who looked at what is still the auditors' business."""
    audit_record(
        event="report.view",
        context=context,
        about=AuditEvent,
        object_repr=report,
        detail={"report": report, **params},
        **actor.audit_identity(),
    )

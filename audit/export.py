"""CSV exports of audit events, safe to open in a spreadsheet.

Rule: a cell that a spreadsheet would read as a formula (starting with =, +,
-, @, tab or carriage return) is prefixed with an apostrophe, so that a
hostile value such as '=HYPERLINK(...)' in a name or search term stays text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from audit.models import AuditEvent

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = [
    "id",
    "time_utc",
    "event",
    "outcome",
    "user",
    "roles",
    "agency",
    "subject_id",
    "items",
    "purpose",
    "purpose_detail",
    "lawful_basis",
    "emergency_access",
    "request_id",
    "client_address",
    "detail",
]


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def event_row(event: AuditEvent) -> list[str]:
    detail = event.additional_data or {}
    if event.changes:
        detail = {**detail, "changes": event.changes}
    return [
        safe_cell(v)
        for v in (
            event.id,
            event.timestamp.isoformat(),
            event.event,
            event.outcome,
            event.actor_username,
            event.roles,
            event.agency,
            event.subject_id or "",
            " ".join(event.items),
            event.purpose_code,
            event.purpose_text,
            event.lawful_basis,
            "yes" if (event.additional_data or {}).get("emergency_access") else "",
            event.request_id,
            event.remote_addr or "",
            detail or "",
        )
    ]


def csv_lines(events: Iterable[AuditEvent]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for event in events:
        writer.writerow(event_row(event))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
    yield buffer.getvalue()

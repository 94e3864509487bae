"""Alert rules, evaluated as audit events are written.

Rules (thresholds from settings, so each organisation sets its own):
- view rate: more than MAIS_ALERT_VIEWS_PER_HOUR record views by one user in an hour;
- out of hours: a search or record view outside MAIS_OFFICE_HOURS by a user whose agency is
  not a 24-hour service (police and custody work at night as normal);
- denied: MAIS_ALERT_DENIALS denied attempts by one user within 10 minutes;
- many people: searches by one user for more than MAIS_ALERT_PEOPLE_PER_HOUR different people in an hour.
A rule raises at most one open alert per user and kind per hour.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from audit.models import Alert, AuditEvent

HOUR = dt.timedelta(hours=1)

# Whether this user has had an alert of the rule's kind, and one of out-of-hours access, raised in the last hour.
_RAISED = (
    ", r.out_of_hours FROM (SELECT EXISTS (SELECT 1 FROM audit_alert WHERE username = %s AND kind = %s AND raised_at >= %s) "
    "AS raised, EXISTS (SELECT 1 FROM audit_alert WHERE username = %s AND kind = %s AND raised_at >= %s) "
    "AS out_of_hours) r"
)

# Each rule's count comes with whether this user already has an alert of that kind raised in the last hour (the
# rules raise at most one), as one row (raised, count), read in the same statement as the audit row is appended
# (AuditEvent.append), so the rules cost no round trip of their own (issue 6). When one was raised the count is
# not taken at all: the rule cannot fire, and a busy user's hour of events would otherwise be counted on every
# request. The row also says whether an out-of-hours alert was raised for the user in the last hour, so a daytime
# user working late costs no statement per view once it has been raised (issue 6: before, every such view ran the
# guarded insert). Parameters: the rule's own (username, window start[, criteria]), then username, alert kind, an
# hour ago, then username, the out-of-hours kind and an hour ago again.
_COUNT_SQL: dict[str, str] = {
    # Outcome "ok" record views of the last hour.
    Alert.Kind.VIEW_RATE: (
        "SELECT r.raised, CASE WHEN r.raised THEN 0 ELSE (SELECT count(*) FROM audit_auditevent WHERE actor_username = %s "  # nosec B608: fixed SQL, values bound
        "AND event = 'record.view' AND outcome = 'ok' AND timestamp >= %s) END "
        f"{_RAISED}"
    ),
    # Denied attempts of the last ten minutes.
    Alert.Kind.DENIED: (
        "SELECT r.raised, CASE WHEN r.raised THEN 0 ELSE (SELECT count(*) FROM audit_auditevent WHERE actor_username = %s "  # nosec B608: fixed SQL, values bound
        "AND outcome = 'denied' AND timestamp >= %s) END "
        f"{_RAISED}"
    ),
    # Distinct search criteria of the last hour, counting the search about to be written as well (a search that
    # was not "ok" adds NULL, which count(DISTINCT) leaves out).
    Alert.Kind.MANY_PEOPLE: (
        "SELECT r.raised, CASE WHEN r.raised THEN 0 ELSE (SELECT count(DISTINCT c) FROM ("  # nosec B608: fixed SQL, values bound
        "SELECT additional_data -> 'criteria' AS c FROM audit_auditevent "
        "WHERE actor_username = %s AND event = 'search' AND outcome = 'ok' AND timestamp >= %s "
        "UNION ALL SELECT %s::jsonb) t) END "
        f"{_RAISED}"
    ),
}


@dataclass(frozen=True)
class Count:
    """The one count an event's rules need: a statement returning (already raised, count), and its parameters."""

    sql: str
    params: list[Any]


Due = list[tuple[str, str]]


def out_of_hours(at: dt.datetime) -> bool:
    start, end = settings.OFFICE_HOURS
    local = timezone.localtime(at).time()
    return not (start <= local < end)


def count_for(event: AuditEvent, *, now: dt.datetime) -> Count | None:
    """What must be counted to decide this event's alerts (None: nothing).

    Counted in the statement that appends the event, so the counts do not include it: ``due`` adds it.
    Two requests by one user at the same instant can each count without the other; the rule then fires
    on the user's next request instead.
    """
    user = event.actor_username
    if not user:
        return None
    if event.outcome == "denied":
        kind, own = Alert.Kind.DENIED, [user, now - dt.timedelta(minutes=10)]
    elif event.event == "record.view":
        kind, own = Alert.Kind.VIEW_RATE, [user, now - HOUR]
    elif event.event == "search":
        criteria = json.dumps((event.additional_data or {}).get("criteria")) if event.outcome == "ok" else None
        kind, own = Alert.Kind.MANY_PEOPLE, [user, now - HOUR, criteria]
    else:
        return None
    return Count(_COUNT_SQL[kind], [*own, user, kind, now - HOUR, user, Alert.Kind.OUT_OF_HOURS, now - HOUR])


def due(event: AuditEvent, *, agency_24h: bool, now: dt.datetime, counted: tuple[bool, int, bool] | None) -> Due:
    """The alerts this event, now written, sets off: (kind, detail) pairs.

    ``counted`` is what ``count_for``'s statement returned: (the rule's alert already raised this hour, count
    without this event, an out-of-hours alert already raised this hour).
    """
    if not event.actor_username:
        return []
    raised, count, out_of_hours_raised = counted if counted is not None else (True, 0, False)
    if event.outcome == "denied":
        denials = count + 1
        due_now = denials >= settings.ALERT_DENIALS and not raised
        return [(Alert.Kind.DENIED, f"{denials} denied attempts in 10 minutes")] if due_now else []
    if event.event not in ("record.view", "search"):
        return []
    found: Due = []
    if not agency_24h and not out_of_hours_raised and out_of_hours(now):
        found.append((Alert.Kind.OUT_OF_HOURS, f"{event.event} at {timezone.localtime(now):%H:%M} by a user of a daytime service"))
    if event.event == "record.view":
        views = count + (1 if event.outcome == "ok" else 0)
        if views > settings.ALERT_VIEWS_PER_HOUR and not raised:
            found.append((Alert.Kind.VIEW_RATE, f"{views} record views in the last hour"))
    else:
        people = count  # the criteria of this search are already in the count
        if people > settings.ALERT_PEOPLE_PER_HOUR and not raised:
            found.append((Alert.Kind.MANY_PEOPLE, f"searches for {people} different people in the last hour"))
    return found


# Raise the due alerts, each unless one of its kind was raised for the user in the last hour. One statement for all of
# them (an event sets off at most two: out of hours, and its rate rule), so raising costs one round trip whatever is
# due, and a request that raises both stays inside issue 6's budget of six statements (tests/access/
# test_statement_budget.py). A concurrent request that raised one in between (after ``due`` looked) is still respected:
# each row checks its own kind in the same statement.
_RAISE_SQL = (
    "INSERT INTO audit_alert (kind, status, username, raised_at, detail, trigger_event_id, handled_by, note) "
    "SELECT due.kind, %s, %s, %s, due.detail, %s, '', '' FROM (VALUES {rows}) AS due (kind, detail) "
    "WHERE NOT EXISTS (SELECT 1 FROM audit_alert WHERE username = %s AND kind = due.kind AND raised_at >= %s)"
)


def raise_due(event: AuditEvent, found: Due) -> None:
    """Raise each due alert, at most one per user and kind per hour, in one statement.

    ``due`` has already left out the kinds raised in the last hour; the insert checks again in the same statement.
    """
    if not found:
        return
    now = timezone.now()
    sql = _RAISE_SQL.format(rows=", ".join(["(%s::text, %s::text)"] * len(found)))  # nosec B608: fixed SQL, values bound
    rows = [value for kind, detail in found for value in (kind, detail)]
    with connection.cursor() as cursor:
        cursor.execute(sql, [Alert.Status.OPEN, event.actor_username, now, event.id, *rows, event.actor_username, now - HOUR])

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
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from audit.models import Alert, AuditEvent

HOUR = dt.timedelta(hours=1)

# Each rule's count comes with whether this user already has an alert of that kind raised in the last hour (the
# rules raise at most one), in one statement, so a user over a threshold costs no extra round trip per request.
# Parameters: username, window start, [search criteria], username, alert kind, an hour ago.
_COUNT_SQL: dict[str, str] = {
    # Outcome "ok" record views of the last hour.
    Alert.Kind.VIEW_RATE: (
        "SELECT (SELECT count(*) FROM audit_auditevent WHERE actor_username = %s AND event = 'record.view' "
        "AND outcome = 'ok' AND timestamp >= %s), "
        "EXISTS (SELECT 1 FROM audit_alert WHERE username = %s AND kind = %s AND raised_at >= %s)"
    ),
    # Denied attempts of the last ten minutes.
    Alert.Kind.DENIED: (
        "SELECT (SELECT count(*) FROM audit_auditevent WHERE actor_username = %s AND outcome = 'denied' AND timestamp >= %s), "
        "EXISTS (SELECT 1 FROM audit_alert WHERE username = %s AND kind = %s AND raised_at >= %s)"
    ),
    # Distinct search criteria of the last hour, counting the search about to be written as well (raw SQL
    # because the ORM cannot add a value to a DISTINCT count without a second query).
    Alert.Kind.MANY_PEOPLE: (
        "SELECT (SELECT count(DISTINCT c) FROM ("
        "SELECT additional_data -> 'criteria' AS c FROM audit_auditevent "
        "WHERE actor_username = %s AND event = 'search' AND outcome = 'ok' AND timestamp >= %s "
        "UNION ALL SELECT %s::jsonb) t), "
        "EXISTS (SELECT 1 FROM audit_alert WHERE username = %s AND kind = %s AND raised_at >= %s)"
    ),
}


def _count(kind: str, params: list[Any], username: str, now: dt.datetime) -> tuple[int, bool]:
    """(count, already raised) in one round trip."""
    with connection.cursor() as cursor:
        cursor.execute(_COUNT_SQL[kind], [*params, username, kind, now - HOUR])
        count, raised = cursor.fetchone()
    return int(count), bool(raised)


Due = list[tuple[str, str]]


def out_of_hours(at: dt.datetime) -> bool:
    start, end = settings.OFFICE_HOURS
    local = timezone.localtime(at).time()
    return not (start <= local < end)


def due(event: AuditEvent, *, agency_24h: bool) -> Due:
    """The alerts this event, once written, sets off: (kind, detail) pairs.

    Counted before the event is inserted (the counts add the event itself),
    so these reads run before the chain lock is taken and the lock is held
    only for the append (issue 6: the audit append serialises every
    disclosure, so whatever runs under the lock limits throughput). Two
    requests by one user at the same instant can each count without the
    other; the rule then fires on the user's next request instead.
    """
    if not event.actor_username:
        return []
    now = timezone.now()
    user = event.actor_username
    if event.outcome == "denied":
        denials, raised = _count(Alert.Kind.DENIED, [user, now - dt.timedelta(minutes=10)], user, now)
        denials += 1
        due_now = denials >= settings.ALERT_DENIALS and not raised
        return [(Alert.Kind.DENIED, f"{denials} denied attempts in 10 minutes")] if due_now else []
    if event.event not in ("record.view", "search"):
        return []
    itself = 1 if event.outcome == "ok" else 0
    found: Due = []
    if not agency_24h and out_of_hours(now):
        found.append((Alert.Kind.OUT_OF_HOURS, f"{event.event} at {timezone.localtime(now):%H:%M} by a user of a daytime service"))
    if event.event == "record.view":
        views, raised = _count(Alert.Kind.VIEW_RATE, [user, now - HOUR], user, now)
        views += itself
        if views > settings.ALERT_VIEWS_PER_HOUR and not raised:
            found.append((Alert.Kind.VIEW_RATE, f"{views} record views in the last hour"))
    else:
        # A search that was not "ok" adds NULL, which count(DISTINCT) leaves out.
        criteria = json.dumps((event.additional_data or {}).get("criteria")) if itself else None
        people, raised = _count(Alert.Kind.MANY_PEOPLE, [user, now - HOUR, criteria], user, now)
        if people > settings.ALERT_PEOPLE_PER_HOUR and not raised:
            found.append((Alert.Kind.MANY_PEOPLE, f"searches for {people} different people in the last hour"))
    return found


# Raise an alert unless one of that kind was raised for the user in the last hour: one statement, so raising costs
# one round trip, and a concurrent request that raised it in between (after ``due`` looked) is still respected.
_RAISE_SQL = (
    "INSERT INTO audit_alert (kind, status, username, raised_at, detail, trigger_event_id, handled_by, note) "
    "SELECT %s, %s, %s, %s, %s, %s, '', '' "
    "WHERE NOT EXISTS (SELECT 1 FROM audit_alert WHERE username = %s AND kind = %s AND raised_at >= %s)"
)


def raise_due(event: AuditEvent, found: Due) -> None:
    """Raise each due alert, at most one per user and kind per hour.

    ``due`` has already left out the kinds raised in the last hour; the insert checks again in the same statement.
    """
    now = timezone.now()
    with connection.cursor() as cursor:
        for kind, detail in found:
            cursor.execute(
                _RAISE_SQL,
                [kind, Alert.Status.OPEN, event.actor_username, now, detail, event.id, event.actor_username, kind, now - HOUR],
            )

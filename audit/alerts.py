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

from django.conf import settings
from django.db import connection
from django.utils import timezone

from audit.models import Alert, AuditEvent

HOUR = dt.timedelta(hours=1)

# Distinct search criteria of one user's recent searches, counting the search about to be written as well.
# Raw SQL because the ORM cannot add a value to a DISTINCT count without a second query.
_PEOPLE_SQL = """
SELECT count(DISTINCT c) FROM (
    SELECT additional_data -> 'criteria' AS c FROM audit_auditevent
    WHERE actor_username = %s AND event = 'search' AND outcome = 'ok' AND timestamp >= %s
    UNION ALL SELECT %s::jsonb
) t
"""

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
    mine = AuditEvent.objects.filter(actor_username=event.actor_username)
    if event.outcome == "denied":
        denials = mine.filter(outcome="denied", timestamp__gte=now - dt.timedelta(minutes=10)).count() + 1
        return [(Alert.Kind.DENIED, f"{denials} denied attempts in 10 minutes")] if denials >= settings.ALERT_DENIALS else []
    if event.event not in ("record.view", "search"):
        return []
    itself = 1 if event.outcome == "ok" else 0
    found: Due = []
    if not agency_24h and out_of_hours(now):
        found.append((Alert.Kind.OUT_OF_HOURS, f"{event.event} at {timezone.localtime(now):%H:%M} by a user of a daytime service"))
    if event.event == "record.view":
        views = mine.filter(event="record.view", outcome="ok", timestamp__gte=now - HOUR).count() + itself
        if views > settings.ALERT_VIEWS_PER_HOUR:
            found.append((Alert.Kind.VIEW_RATE, f"{views} record views in the last hour"))
    else:
        # A search that was not "ok" adds NULL, which count(DISTINCT) leaves out.
        criteria = json.dumps((event.additional_data or {}).get("criteria")) if itself else None
        with connection.cursor() as cursor:
            cursor.execute(_PEOPLE_SQL, [event.actor_username, now - HOUR, criteria])
            people = cursor.fetchone()[0]
        if people > settings.ALERT_PEOPLE_PER_HOUR:
            found.append((Alert.Kind.MANY_PEOPLE, f"searches for {people} different people in the last hour"))
    return found


def raise_due(event: AuditEvent, found: Due) -> None:
    """Raise each due alert, at most one open alert per user and kind per hour."""
    for kind, detail in found:
        recent = Alert.objects.filter(username=event.actor_username, kind=kind, raised_at__gte=timezone.now() - HOUR).exists()
        if not recent:
            Alert.objects.create(kind=kind, username=event.actor_username, detail=detail, trigger_event_id=event.id)

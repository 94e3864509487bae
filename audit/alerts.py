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

from django.conf import settings
from django.utils import timezone

from audit.models import Alert, AuditEvent

HOUR = dt.timedelta(hours=1)


def _raise(kind: str, event: AuditEvent, detail: str) -> None:
    recent = Alert.objects.filter(username=event.actor_username, kind=kind, raised_at__gte=timezone.now() - HOUR).exists()
    if not recent:
        Alert.objects.create(kind=kind, username=event.actor_username, detail=detail, trigger_event_id=event.id)


def out_of_hours(at: dt.datetime) -> bool:
    start, end = settings.OFFICE_HOURS
    local = timezone.localtime(at).time()
    return not (start <= local < end)


def evaluate(event: AuditEvent, *, agency_24h: bool) -> None:
    if not event.actor_username:
        return
    if event.outcome == "denied":
        since = timezone.now() - dt.timedelta(minutes=10)
        denials = AuditEvent.objects.filter(actor_username=event.actor_username, outcome="denied", timestamp__gte=since).count()
        if denials >= settings.ALERT_DENIALS:
            _raise(Alert.Kind.DENIED, event, f"{denials} denied attempts in 10 minutes")
        return
    if event.event not in ("record.view", "search"):
        return
    if not agency_24h and out_of_hours(event.timestamp):
        _raise(
            Alert.Kind.OUT_OF_HOURS, event, f"{event.event} at {timezone.localtime(event.timestamp):%H:%M} by a user of a daytime service"
        )
    since = timezone.now() - HOUR
    mine = AuditEvent.objects.filter(actor_username=event.actor_username, event=event.event, outcome="ok", timestamp__gte=since)
    if event.event == "record.view":
        views = mine.count()
        if views > settings.ALERT_VIEWS_PER_HOUR:
            _raise(Alert.Kind.VIEW_RATE, event, f"{views} record views in the last hour")
    else:
        people = mine.values("additional_data__criteria").distinct().count()
        if people > settings.ALERT_PEOPLE_PER_HOUR:
            _raise(Alert.Kind.MANY_PEOPLE, event, f"searches for {people} different people in the last hour")

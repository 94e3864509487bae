"""List the records due for retention review. Safe to run daily: it changes nothing but the audit trail.

Exit status 0 whatever is due; the list goes to standard output (ids and dates only, never names).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import RequestContext, audit_record
from governance.selectors import retention_due


class Command(BaseCommand):
    help = "List records due for retention review (review them at /admin/retention/)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="Review as of this date (YYYY-MM-DD); default today.")
        parser.add_argument("--limit", type=int, default=10_000)

    def handle(self, *args: Any, date: str | None, limit: int, **options: Any) -> None:
        try:
            today = dt.date.fromisoformat(date) if date else timezone.localdate()
        except ValueError as exc:
            raise CommandError(f"--date {date!r} is not a date like 2026-11-22") from exc
        with transaction.atomic():
            due = retention_due(today=today, limit=limit)
            audit_record(
                event="retention.listed",
                context=RequestContext.system(),
                about=AuditEvent,
                actor_username="system:retention_review",
                detail={"as_of": today.isoformat(), "due": len(due), "on_hold": sum(d.on_hold for d in due)},
            )
        if not due:
            self.stdout.write(f"No records are due for retention review on {today:%d %b %Y}.")
            return
        self.stdout.write(f"{len(due)} record(s) due for retention review on {today:%d %b %Y}:")
        self.stdout.write(f"{'record id':36}  {'class':8}  {'last release':12}  {'last activity':13}  {'due':10}  hold")
        for d in due:
            release = d.last_release_on.isoformat() if d.last_release_on else "-"
            hold = "HOLD" if d.on_hold else ""
            self.stdout.write(
                f"{d.subject_id}  {d.rule:8}  {release:12}  {d.last_activity_on.isoformat():13}  {d.due_on.isoformat():10}  {hold}"
            )
        self.stdout.write("Review them at /admin/retention/ (administrators).")

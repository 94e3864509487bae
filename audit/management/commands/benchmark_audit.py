"""Benchmark the auditor's filtered audit search at a million events. Leaves the database as it found it.

Inside one transaction that is rolled back at the end: bulk-load N synthetic, correctly chained
audit events (COPY), ANALYZE, then time each auditor filter (first page, newest first, 50 rows)
and a subject access report, reporting the median and the worst of repeated runs. The point is
the query plans at scale (indexes on each filter), not a timed unit test.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import statistics
import time
import uuid
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone

from audit.models import GENESIS_HASH, AuditEvent
from audit.selectors import AuditFilters, event_page, subject_disclosures

EVENTS = ["record.view"] * 6 + ["search"] * 3 + ["record.edit", "login.password", "login.failed"]
REASONS = ["custody_detention", "welfare_concern", "risk_assessment", "care_planning", "offender_management"]
ROLES = ["police_officer", "custody_nurse", "forensic_medical_examiner", "liaison_diversion", "probation_officer", "mh_practitioner"]


class Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Time filtered audit searches on N synthetic events (default 1,000,000); rolled back afterwards."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--events", type=int, default=1_000_000)
        parser.add_argument("--runs", type=int, default=15)
        parser.add_argument("--out", default="")

    def handle(self, *args: Any, events: int, runs: int, out: str, **options: Any) -> None:
        try:
            with transaction.atomic():
                report = self._run(events, runs)
                raise Rollback
        except Rollback:
            pass
        text = "\n".join(report)
        self.stdout.write(text)
        if out:
            with open(out, "w") as handle:
                handle.write(text + "\n")

    def _run(self, count: int, runs: int) -> list[str]:
        rng = random.Random(1)
        users = [f"user{n:04d}" for n in range(2000)]
        agencies = [f"Agency {n}" for n in range(40)]
        subjects = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(100_000)]
        ct = ContentType.objects.get_by_natural_key("records", "subject").id
        start = timezone.now() - dt.timedelta(days=365)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COALESCE(MAX(id), 0), (SELECT hash FROM audit_auditevent ORDER BY id DESC LIMIT 1) FROM audit_auditevent"
            )
            last_id, prev = cursor.fetchone()
        prev = prev or GENESIS_HASH
        t0 = time.perf_counter()
        buffer = io.StringIO()
        columns = [
            "id",
            "content_type_id",
            "object_pk",
            "object_repr",
            "action",
            "changes_text",
            "timestamp",
            "event",
            "outcome",
            "actor_username",
            "roles",
            "agency",
            "subject_id",
            "items",
            "purpose_code",
            "purpose_text",
            "request_id",
            "prev_hash",
            "hash",
            "additional_data",
            "lawful_basis",
        ]
        for n in range(count):
            event = AuditEvent(
                id=last_id + n + 1,
                content_type_id=ct,
                object_pk="",
                object_repr="bench",
                action=3,
                timestamp=start + dt.timedelta(seconds=n * 31_536_000 / count),
                event=rng.choice(EVENTS),
                outcome="ok",
                actor_username=rng.choice(users),
                roles=rng.choice(ROLES),
                agency=rng.choice(agencies),
                subject_id=rng.choice(subjects),
                items=["identity.family_name", "risk.suicide_level"],
                purpose_code=rng.choice(REASONS),
                purpose_text="",
                request_id=uuid.UUID(int=rng.getrandbits(128)).hex,
                remote_addr=None,
                changes=None,
                additional_data=None,
            )
            if event.event == "search":
                event.subject_id = None
                event.additional_data = {
                    "criteria": {"name": f"name{rng.randrange(50000)}"},
                    "result_count": 3,
                    "results": [str(rng.choice(subjects)) for _ in range(3)],
                }
            event.prev_hash = prev
            event.hash = prev = event.compute_hash(prev)
            row = [
                event.id,
                ct,
                "",
                "bench",
                3,
                "",
                event.timestamp.isoformat(),
                event.event,
                "ok",
                event.actor_username,
                event.roles,
                event.agency,
                event.subject_id or "\\N",
                "{" + ",".join(event.items) + "}",
                event.purpose_code,
                "",
                event.request_id,
                event.prev_hash,
                event.hash,
                json.dumps(event.additional_data) if event.additional_data else "\\N",
                "",
            ]
            buffer.write("\t".join(str(v) for v in row) + "\n")
        built = time.perf_counter() - t0
        buffer.seek(0)
        with connection.cursor() as cursor:
            cursor.cursor.copy_from(buffer, "audit_auditevent", columns=columns)
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('audit_auditevent', 'id'), {last_id + count})")
            cursor.execute("ANALYZE audit_auditevent")
            cursor.execute("SELECT count(*) FROM audit_auditevent")
            total = cursor.fetchone()[0]
        loaded = time.perf_counter() - t0
        probe_subject = subjects[7]
        day = (start + dt.timedelta(days=200)).date()
        page_two = event_page(AuditFilters(agency="Agency 7")).next_before
        cases: list[tuple[str, Any]] = [
            ("user", lambda: event_page(AuditFilters(username="user0042"))),
            ("subject", lambda: event_page(AuditFilters(subject_id=probe_subject))),
            ("agency", lambda: event_page(AuditFilters(agency="Agency 7"))),
            ("role", lambda: event_page(AuditFilters(role="custody_nurse"))),
            (
                "action + date range",
                lambda: event_page(AuditFilters(event="record.edit", date_from=day, date_to=day + dt.timedelta(days=7))),
            ),
            ("purpose + user", lambda: event_page(AuditFilters(purpose_code="care_planning", username="user0042"))),
            ("no filter", lambda: event_page(AuditFilters())),
            ("agency, page 2", lambda: event_page(AuditFilters(agency="Agency 7"), before=page_two)),
            ("subject access report (views + searches listing them)", lambda: list(subject_disclosures(probe_subject)[:1000])),
        ]
        pg = connection.pg_version  # type: ignore[attr-defined]
        lines = [
            f"# Audit search benchmark, {timezone.now():%Y-%m-%d %H:%M} UTC",
            "",
            f"PostgreSQL {pg // 10000}.{pg % 10000}; {total:,} audit events in the table "
            f"({count:,} synthetic, chained; built in {built:.0f} s, loaded and analysed by {loaded:.0f} s).",
            f"Each case: first page of 50 (newest first) through audit.selectors, {runs} runs after one warm-up; milliseconds.",
            "",
            "| filter | median ms | max ms | rows |",
            "|---|---|---|---|",
        ]
        for name, fn in cases:
            result = fn()
            timings = []
            for _ in range(runs):
                t = time.perf_counter()
                result = fn()
                timings.append((time.perf_counter() - t) * 1000)
            rows = len(result.events) if hasattr(result, "events") else len(result)
            lines.append(f"| {name} | {statistics.median(timings):.1f} | {max(timings):.1f} | {rows} |")
        return lines

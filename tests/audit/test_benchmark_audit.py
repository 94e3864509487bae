"""manage.py benchmark_audit (README: audit search timings at a million events), run small so that it cannot rot."""

from __future__ import annotations

import io

from django.core.management import call_command

from audit.models import AuditEvent
from audit.verify import verify_chain


def test_the_audit_search_benchmark_runs_and_leaves_the_trail_as_it_found_it(db):
    before = AuditEvent.objects.count()
    out = io.StringIO()
    call_command("benchmark_audit", events=300, runs=1, stdout=out)
    report = out.getvalue()
    assert "300 synthetic, chained" in report
    for case in ("| user |", "| subject |", "| agency |", "| action + date range |", "| subject access report"):
        assert case in report, report
    assert AuditEvent.objects.count() == before  # rolled back
    assert verify_chain().ok

"""Reads of the audit trail: an auditor's lookups come from their own index, newest first, without a sort."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection

from audit.selectors import AuditFilters, filtered_events


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        (AuditFilters(username="alice.auditee"), "audit_username_by_id"),
        (AuditFilters(agency="Northshire Police (synthetic)"), "audit_agency_by_id"),
        (AuditFilters(subject_id=uuid.UUID(int=7)), "audit_subject_by_id"),
        (AuditFilters(event="record.view"), "audit_event_by_id"),
        (AuditFilters(purpose_code="custody_detention"), "audit_purpose_by_id"),
    ],
)
def test_a_lookup_is_a_backward_scan_of_its_ascending_index(filters, index, db):
    """Newest first is a backward scan of the (value, id) index: the indexes are ascending so that appends split their
    pages full (migration 0010), and this checks that no lookup lost its index or needs a sort for it. Sequential
    scans, bitmap scans and sorts are turned off because the test's table is tiny and the planner would rightly read
    it whole; what is left is the choice of index and direction."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off")
    plan = filtered_events(filters).order_by("-id")[:51].explain()
    assert f"Index Scan Backward using {index} on audit_auditevent" in plan, plan
    assert "Sort" not in plan, plan

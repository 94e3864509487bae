"""The bench's autovacuum stand-in does what autovacuum would, by the server's own thresholds, and nothing more."""

from __future__ import annotations

import time

import psycopg2
import pytest
from django.db import connection

from audit.services import RequestContext, audit_record
from loadtests.autovacuum import StandIn, TableActivity, Thresholds, due, read_thresholds, run_round
from records.models import Subject

DEFAULTS = Thresholds(50, 0.1, 50, 0.2, 1000, 0.2)  # PostgreSQL's defaults


@pytest.mark.parametrize(
    ("modified", "dead", "inserted", "tuples", "expected"),
    [
        (0, 0, 0, 0, None),
        (50, 0, 0, 0, None),  # the threshold itself is not passed
        (51, 0, 0, 0, "ANALYZE"),  # an empty table's first rows
        (1_050, 0, 0, 10_000, None),  # 50 + 10 % of 10,000
        (1_051, 0, 0, 10_000, "ANALYZE"),
        (0, 2_051, 0, 10_000, "VACUUM"),  # 50 + 20 % of dead rows
        (0, 0, 3_001, 10_000, "VACUUM"),  # 1,000 + 20 % of inserts
        (0, 0, 3_000, 10_000, None),
        (23_000, 0, 23_000, 300, "VACUUM ANALYZE"),  # the audit trail during a 30k run
    ],
)
def test_due_follows_autovacuums_formulas(modified, dead, inserted, tuples, expected):
    assert due(TableActivity("public.t", modified, dead, inserted, tuples), DEFAULTS) == expected


def test_an_insert_threshold_of_minus_one_turns_insert_driven_vacuums_off():
    limits = Thresholds(50, 0.1, 50, 0.2, -1, 0.2)
    assert due(TableActivity("public.t", 0, 0, 10**9, 0), limits) is None


def _flush_stats(cursor) -> None:
    # Table statistics reach pg_stat_user_tables when a backend flushes them (PostgreSQL 15+).
    cursor.execute("SELECT pg_stat_force_next_flush()")
    cursor.execute("SELECT 1")


def _grow_the_audit_trail_past_its_analyze_threshold(cursor, tag: str) -> Thresholds:
    """Clear what setting up the test database left due, then append more audit events than the ANALYZE threshold."""
    limits = read_thresholds(cursor)
    run_round(cursor, limits)
    for n in range(int(limits.analyze_threshold) + 5):
        audit_record(event="search", context=RequestContext(f"{tag}{n}"), about=Subject)
    _flush_stats(cursor)
    return limits


def _modified_since_analyze(cursor, table: str) -> int:
    cursor.execute("SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relname = %s", [table])
    return cursor.fetchone()[0]


def test_a_round_analyzes_the_audit_trail_once_it_has_grown_past_the_threshold(transactional_db):
    with connection.cursor() as cursor:
        # Where the server runs autovacuum itself (the embedded PostgreSQL), it must not analyze this table mid-test.
        cursor.execute("ALTER TABLE audit_auditevent SET (autovacuum_enabled = false)")
        try:
            limits = _grow_the_audit_trail_past_its_analyze_threshold(cursor, "r")
            assert _modified_since_analyze(cursor, "audit_auditevent") > limits.analyze_threshold
            done = run_round(cursor, limits)
            assert any(c.endswith("ANALYZE public.audit_auditevent") for c in done), done
            _flush_stats(cursor)
            assert _modified_since_analyze(cursor, "audit_auditevent") == 0
            assert not any(c.endswith("public.audit_auditevent") for c in run_round(cursor, limits))  # nothing new since
        finally:
            cursor.execute("ALTER TABLE audit_auditevent RESET (autovacuum_enabled)")


def test_the_stand_in_works_only_where_the_servers_autovacuum_is_off(transactional_db):
    params = connection.get_connection_params()
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        server_runs_autovacuum = cursor.fetchone()[0] == "on"
        _grow_the_audit_trail_past_its_analyze_threshold(cursor, "s")
    said: list[str] = []
    with StandIn(lambda: psycopg2.connect(**params), said.append, naptime=0.2) as stand_in:
        deadline = time.monotonic() + 10
        while not server_runs_autovacuum and not stand_in.done and time.monotonic() < deadline:
            time.sleep(0.1)
    if server_runs_autovacuum:
        assert stand_in.done == [] and said == []
    else:
        assert any(c.endswith("ANALYZE public.audit_auditevent") for c in stand_in.done), stand_in.done
        assert said == [f"autovacuum stand-in: {c}" for c in stand_in.done]

"""Prepared statements (mais.prepared): the same answers as a plain statement, on every connection, counted as before."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction

from mais import prepared

POSITIONAL = "SELECT %s::int + %s::int, '100%%', %s::date"
NAMED = "SELECT %(a)s::int * %(b)s::int, %(a)s::int, %(when)s::timestamptz"


def _run(sql: str, params: object) -> tuple:
    with connection.cursor() as cursor:
        prepared.execute(cursor, sql, params)  # type: ignore[arg-type]
        return cursor.fetchone()


def _plain(sql: str, params: object) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def test_a_prepared_statement_answers_as_the_plain_one(db):
    when = dt.datetime(2026, 11, 29, 3, 0, tzinfo=dt.UTC)
    for _ in range(7):  # past PostgreSQL's five custom plans, where it may switch to a generic one
        assert _run(POSITIONAL, [2, 3, dt.date(2026, 11, 29)]) == _plain(POSITIONAL, [2, 3, dt.date(2026, 11, 29)])
        assert _run(NAMED, {"a": 6, "b": 7, "when": when}) == _plain(NAMED, {"a": 6, "b": 7, "when": when}) == (42, 6, when)
    assert prepared.source(f"EXECUTE {prepared._prepare(NAMED)[0]}(6, 7, now())") == NAMED


def _plans(name: str) -> tuple[int, int]:
    """(generic, custom) plans PostgreSQL has run for the prepared statement on this connection."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = %s", [name])
        return cursor.fetchone()


def test_a_prepared_statement_runs_its_generic_plan_from_the_first_run(db):
    """The connection forces generic plans (mais/settings.py, mais/prepared.py says why): a prepared statement is
    planned once per PREPARE, not for each run's values (left to choose, PostgreSQL plans the first five runs)."""
    sql = "SELECT %s::int - 1"  # a statement of this test's own, prepared here
    for n in range(8):
        assert _run(sql, [n]) == (n - 1,)
    assert _plans(prepared._prepare(sql)[0]) == (8, 0)


def test_prepared_again_on_a_new_connection_and_kept_through_a_rollback(transactional_db):
    with pytest.raises(RuntimeError), transaction.atomic():
        assert _run(POSITIONAL, [1, 1, dt.date(2026, 1, 1)])[0] == 2  # prepared inside a block that then fails
        raise RuntimeError("rolled back")
    assert _run(POSITIONAL, [1, 2, dt.date(2026, 1, 1)])[0] == 3
    connection.close()  # a new database session: nothing is prepared there yet
    assert _run(POSITIONAL, [2, 2, dt.date(2026, 1, 1)])[0] == 4
    with connection.cursor() as cursor:
        cursor.execute("SET mais.allow_audit_truncate = on")  # as tests/conftest.py set it on the old session


def test_the_execute_is_counted_as_one_query(db, django_assert_num_queries):
    _run(POSITIONAL, [1, 1, dt.date(2026, 1, 1)])
    with django_assert_num_queries(1):
        _run(POSITIONAL, [1, 1, dt.date(2026, 1, 1)])


def _plan(cursor, name: str, value: int) -> str:
    cursor.execute(f"EXPLAIN EXECUTE {name}(%s)", [value])
    return "\n".join(row[0] for row in cursor.fetchall())


def test_a_plan_made_while_a_table_was_empty_is_replaced_as_it_grows_without_analyze(db, monkeypatch):
    """Issue 6: the audit append's alert count kept a sequential scan planned when the audit table was analysed
    empty, and went on scanning the whole growing trail on every view. A statement is now prepared again after
    REPLAN_AFTER runs, and planned for the table as it is."""
    monkeypatch.setattr(prepared, "REPLAN_AFTER", 20)
    sql = "SELECT count(*) FROM mais_growing WHERE k = %s"
    name = prepared._prepare(sql)[0]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE mais_growing (k int, pad text)")
        cursor.execute("CREATE INDEX ON mais_growing (k)")
        cursor.execute("ANALYZE mais_growing")  # analysed while empty, as on a new database
        for _ in range(10):  # the generic plan, made for the empty table: a scan of it
            prepared.execute(cursor, sql, [1])
        assert "Seq Scan" in _plan(cursor, name, 1)
        cursor.execute("INSERT INTO mais_growing SELECT g % 5000, repeat('x', 50) FROM generate_series(1, 100000) g")
        assert "Seq Scan" in _plan(cursor, name, 1)  # the kept plan does not notice the rows (no ANALYZE)
        for _ in range(20):
            prepared.execute(cursor, sql, [1])
            assert cursor.fetchone() == (20,)
        assert "Seq Scan" not in _plan(cursor, name, 1)
        assert "mais_growing_k_idx" in _plan(cursor, name, 1)


def test_a_statement_prepared_again_after_a_failed_block_still_runs(transactional_db, monkeypatch):
    monkeypatch.setattr(prepared, "REPLAN_AFTER", 2)
    for n in range(5):
        with pytest.raises(RuntimeError), transaction.atomic():
            assert _run(POSITIONAL, [n, 1, dt.date(2026, 1, 1)])[0] == n + 1
            raise RuntimeError("rolled back")
        assert _run(POSITIONAL, [n, 2, dt.date(2026, 1, 1)])[0] == n + 2
    with connection.cursor() as cursor:
        cursor.execute("SET mais.allow_audit_truncate = on")  # as tests/conftest.py set it on the session


def test_a_timeout_while_preparing_is_the_same_error_as_while_running(db):
    """Alice's record view prepares the audit append again (every REPLAN_AFTER runs) while another session holds a
    lock on a table it names: the statement timeout cancels the PREPARE. That must be Django's OperationalError, which
    the app answers with a 503 like any database timeout, not the driver's own error, which became a 500 (seen in
    tests/mais/test_faults.py's lock phase)."""
    import psycopg2
    from django.db import OperationalError

    from mais.views import is_unavailable

    holder = psycopg2.connect(**connection.get_connection_params())
    try:
        holder.cursor().execute("LOCK TABLE records_subject IN ACCESS EXCLUSIVE MODE")
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = '200ms'")
            with pytest.raises(OperationalError) as caught:
                prepared.execute(cursor, "SELECT count(*) FROM records_subject WHERE id = %s", [1])
        assert is_unavailable(caught.value)
    finally:
        holder.rollback()
        holder.close()

"""Prepared statements for the few fixed statements every request runs (issue 6).

PostgreSQL plans a statement each time it receives one. For the sign-in check, the access standing and the audit
append that is more work than running them (EXPLAIN: 0.33, 0.16 and 0.27 ms of planning against 0.17, 0.03 and 0.16
ms of execution). ``execute`` prepares such a statement once per database connection and runs it with ``EXECUTE``.

Rules:
- Only statements whose best plan does not depend on the values: lookups by primary key or unique key, and the
  full-name search, whose rows come through arrays computed as it runs (``records.selectors.prepared_search`` says
  why and what was measured). Never a search by surname alone: at a million people a generic plan took 480-894 ms
  for a surname that a plan made for the name answers in 5-10 ms (measured).
- Each runs its generic plan, made once per ``PREPARE``: the connection sets ``plan_cache_mode`` to
  ``force_generic_plan`` (mais/settings.py). Left to choose, PostgreSQL plans the first five runs for their values
  and then compares costs; at a million people it went on planning every full-name search, 1.4-1.9 ms each, and the
  generic plan ran faster (``prepared_search``). The setting touches nothing else: it applies only to prepared
  statements (and PL/pgSQL's, where the project's functions have none that depend on a value).
- PostgreSQL keeps a prepared statement's plan until the statistics of its tables change (ANALYZE, which autovacuum
  runs as a table grows). A plan made while a table was nearly empty scans it whole until then. So each statement
  is prepared again after ``REPLAN_AFTER`` runs on a connection: PostgreSQL then plans it afresh for the table's
  size on disk, whether or not ANALYZE has run since. Issue 6 saw why, with auto_explain on a new bench database
  (audit table analysed empty, autovacuum off): the audit append's alert counts ran as sequential scans of the
  growing trail, in the generic plan kept from the first minute. Preparing again costs one planning per
  ``REPLAN_AFTER`` runs. (The same trap in a PL/pgSQL function's kept plan is closed by audit migration 0009.)
- The ``EXECUTE`` goes through Django's cursor, so query counts, timeouts and error handling are as before; the
  ``PREPARE`` (once per connection and statement) goes through the driver's own cursor, as connection set-up, inside
  Django's error wrapping, so its failures are the same errors as the ``EXECUTE``'s.
- Prepared statements belong to the database session, so a connection pooler in transaction mode (which hands
  each transaction a different session) cannot sit between the app and PostgreSQL; none does in this deployment.
  A new connection (after CONN_MAX_AGE, or a reconnect) starts with none prepared and prepares again.
"""

from __future__ import annotations

import functools
import hashlib
import re
import threading
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

_NAMED = re.compile(r"%\((\w+)\)s|%s|%%")
# Runs of a prepared statement on one connection before it is prepared again (and so planned for the tables as they
# are now): small enough that a plan made while a table was empty does not outlive the table's first minutes of use,
# large enough that planning again (once per PREPARE, the generic plan) is one run in 200.
REPLAN_AFTER = 200
# Statements prepared on each driver connection, with the runs each has left before it is prepared again; the entry
# goes when the connection does.
_prepared: weakref.WeakKeyDictionary[Any, dict[str, int]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()
# The SQL behind each statement name, for ``source``.
_sources: dict[str, str] = {}


@functools.cache
def _prepare(sql: str) -> tuple[str, str, tuple[str | int, ...]]:
    """(statement name, the SQL with $n parameters, the parameter for each $n: a name, or a position for %s)."""
    order: list[str | int] = []
    position = 0

    def number(match: re.Match[str]) -> str:
        nonlocal position
        if match.group(0) == "%%":
            return "%"
        key: str | int
        if match.group(1):
            key = match.group(1)
            if key in order:
                return f"${order.index(key) + 1}"
        else:
            key = position
            position += 1
        order.append(key)
        return f"${len(order)}"

    body = _NAMED.sub(number, sql)
    name = f"mais_{hashlib.sha256(sql.encode()).hexdigest()[:24]}"
    _sources[name] = sql
    return name, body, tuple(order)


def source(executed: str) -> str:
    """The SQL an ``EXECUTE mais_…`` statement runs (for logs and tests); any other statement as it is."""
    match = re.match(r"EXECUTE (mais_[0-9a-f]+)", executed)
    return _sources.get(match.group(1), executed) if match else executed


def execute(cursor: Any, sql: str, params: Sequence[Any] | Mapping[str, Any]) -> None:
    """Run ``sql`` (``%s`` or ``%(name)s`` parameters, not both) on this Django cursor as a prepared statement."""
    cursor.execute(*_execute_statement(cursor, sql, params))


def explain_analyze(cursor: Any, sql: str, params: Sequence[Any] | Mapping[str, Any]) -> Any:
    """EXPLAIN (ANALYZE, FORMAT JSON) of ``sql`` run as ``execute`` runs it: the prepared statement, with the plan
    PostgreSQL keeps for it (for the bench's bare-SQL cross-check, which must time what the app runs)."""
    statement, values = _execute_statement(cursor, sql, params)
    cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", values)
    return cursor.fetchone()[0]


def _execute_statement(cursor: Any, sql: str, params: Sequence[Any] | Mapping[str, Any]) -> tuple[str, list[Any]]:
    """Prepare ``sql`` on the cursor's connection if it is not (or is due again), and return the EXECUTE and its values."""
    name, body, order = _prepare(sql)
    raw = cursor.db.connection
    with _lock:
        left = _prepared.setdefault(raw, {})
    runs = left.get(name)
    if not runs:
        # DEALLOCATE and PREPARE are not transactional (they hold whether the caller's block commits or not), and each
        # is recorded as soon as it succeeds, so a failure between them leaves the record true of the session.
        # Django's error wrapping, as for every other statement: a timeout or a lost connection while preparing is
        # Django's OperationalError (a 503 for the user, mais/views.py), and Django knows the connection failed.
        with cursor.db.wrap_database_errors, raw.cursor() as setup:
            if runs == 0:
                setup.execute(f"DEALLOCATE {name}")
                del left[name]
            setup.execute(f"PREPARE {name} AS {body}")
        runs = REPLAN_AFTER
    left[name] = runs - 1
    values = [params[key] for key in order]  # type: ignore[index]
    return (f"EXECUTE {name}({', '.join(['%s'] * len(values))})" if values else f"EXECUTE {name}"), values

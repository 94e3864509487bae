"""A stand-in for autovacuum while the bench runs, on a PostgreSQL server where autovacuum is off.

Rule: the bench measures the app on a database kept as production keeps it, and production runs autovacuum (it is on
by default). This machine's PostgreSQL 15 server has it off. The bench already runs VACUUM ANALYZE before measuring,
but the runs themselves grow the audit trail from a few hundred rows to tens of thousands, and the planner kept
planning it from the statistics of the nearly empty table: the auditor's "today's record views" page chose a bitmap
AND of 23,000 rows and a sort, 43-60 ms of PostgreSQL time a request, where the same statement planned from current
statistics walks the primary key backwards and stops after 51 rows in 0.4 ms (issue 6, 2026-12-03, 30k).

So, every ``autovacuum_naptime``, this does what the autovacuum launcher would: for each table whose changes since its
last ANALYZE or VACUUM pass the server's own autovacuum thresholds (the same settings and formulas as PostgreSQL's
``relation_needs_vacanalyze``), it runs ANALYZE, VACUUM or both. It does nothing where autovacuum is on. Its work runs
in a PostgreSQL backend, so its CPU is counted with the database's, as autovacuum workers' would be. Unlike the real
workers it does not throttle itself (cost-based delay), which makes it a little harder on the run, not easier.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# The server's own thresholds; PostgreSQL's defaults are 50 rows + 10 % for ANALYZE, 50 rows + 20 % of dead rows or
# 1,000 rows + 20 % of inserts for VACUUM, and a minute between rounds.
SETTINGS = (
    "autovacuum_analyze_threshold",
    "autovacuum_analyze_scale_factor",
    "autovacuum_vacuum_threshold",
    "autovacuum_vacuum_scale_factor",
    "autovacuum_vacuum_insert_threshold",
    "autovacuum_vacuum_insert_scale_factor",
)

STATS_SQL = """
SELECT quote_ident(s.schemaname) || '.' || quote_ident(s.relname), s.n_mod_since_analyze, s.n_dead_tup, s.n_ins_since_vacuum,
       greatest(c.reltuples, 0)
FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
ORDER BY 1
"""


@dataclass(frozen=True)
class Thresholds:
    analyze_threshold: float
    analyze_scale: float
    vacuum_threshold: float
    vacuum_scale: float
    insert_threshold: float  # -1 turns insert-driven vacuums off, as in PostgreSQL
    insert_scale: float


@dataclass(frozen=True)
class TableActivity:
    name: str
    modified: int  # rows inserted, updated or deleted since the last ANALYZE
    dead: int
    inserted: int  # rows inserted since the last VACUUM
    tuples: float  # pg_class.reltuples as of the last VACUUM or ANALYZE (0 when never)


def due(table: TableActivity, limits: Thresholds) -> str | None:
    """The command autovacuum would run on this table now, or None."""
    vacuum = table.dead > limits.vacuum_threshold + limits.vacuum_scale * table.tuples or (
        limits.insert_threshold >= 0 and table.inserted > limits.insert_threshold + limits.insert_scale * table.tuples
    )
    analyze = table.modified > limits.analyze_threshold + limits.analyze_scale * table.tuples
    if vacuum and analyze:
        return "VACUUM ANALYZE"
    if vacuum:
        return "VACUUM"
    return "ANALYZE" if analyze else None


def read_thresholds(cursor: Any) -> Thresholds:
    cursor.execute("SELECT " + ", ".join(f"current_setting('{name}')::float" for name in SETTINGS))
    return Thresholds(*cursor.fetchone())


def run_round(cursor: Any, limits: Thresholds) -> list[str]:
    """One launcher round: run every command due, in table order; return them (``VACUUM ANALYZE public.t``)."""
    cursor.execute(STATS_SQL)
    done = []
    for row in cursor.fetchall():
        table = TableActivity(*row)
        command = due(table, limits)
        if command:
            # The name comes from the catalogue, quoted by quote_ident.
            cursor.execute(f"{command} {table.name}")
            done.append(f"{command} {table.name}")
    return done


class StandIn:
    """Runs ``run_round`` every ``autovacuum_naptime`` in a thread, on its own autocommit connection, while in the
    ``with`` block; does nothing when the server's autovacuum is on. ``done`` lists what it ran, for the report."""

    def __init__(self, connect: Callable[[], Any], say: Callable[[str], None], naptime: float | None = None) -> None:
        self._connect = connect
        self._say = say
        self._naptime = naptime  # None: the server's autovacuum_naptime (tests use less)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.done: list[str] = []

    def __enter__(self) -> StandIn:
        conn = self._connect()
        conn.autocommit = True
        cursor = conn.cursor()
        cursor.execute("SELECT current_setting('autovacuum') = 'on', extract(epoch FROM current_setting('autovacuum_naptime')::interval)")
        on, naptime = cursor.fetchone()
        if on:
            conn.close()
            return self
        limits = read_thresholds(cursor)
        self._thread = threading.Thread(target=self._loop, args=(conn, cursor, limits, self._naptime or float(naptime)), daemon=True)
        self._thread.start()
        return self

    def _loop(self, conn: Any, cursor: Any, limits: Thresholds, naptime: float) -> None:
        try:
            while not self._stop.wait(naptime):
                for command in run_round(cursor, limits):
                    self.done.append(command)
                    self._say(f"autovacuum stand-in: {command}")
        except Exception as exc:  # noqa: BLE001 (a bench helper: say why it stopped, let the run go on and report it)
            self.done.append(f"stopped: {exc}")
            self._say(f"autovacuum stand-in stopped: {exc}")
        finally:
            conn.close()

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

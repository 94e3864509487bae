"""The bench's own steps: the report's list of the autovacuum stand-in's work, warming the cache before measuring, the machine's speed."""

from __future__ import annotations

import platform
import sys

import pytest

from loadtests import bench
from loadtests.bench import _counted


def test_repeated_commands_are_counted_in_the_order_first_run():
    assert _counted(["VACUUM ANALYZE public.a", "ANALYZE public.b", "VACUUM ANALYZE public.a", "ANALYZE public.a"]) == [
        "VACUUM ANALYZE public.a x2",
        "ANALYZE public.b",
        "ANALYZE public.a",
    ]
    assert _counted([]) == []


def test_warming_the_cache_reads_every_table_and_index_of_the_app_whole(db):
    """Each table's rows and all its indexes, once (the million-person searches read the disk otherwise)."""
    from django.db import connection

    from loadtests.bench import warm

    with connection.cursor() as cursor:
        # Each table's rows and each of its indexes' (an index's free-space map, which VACUUM may have made, is not read).
        cursor.execute(
            "SELECT sum(pg_relation_size(c.oid, 'main') + (SELECT coalesce(sum(pg_relation_size(i.indexrelid, 'main')), 0) "
            "FROM pg_index i WHERE i.indrelid = c.oid)) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'"
        )
        expected_mb = float(cursor.fetchone()[0]) / 1e6
        assert expected_mb > 1  # the migrated database's tables and their indexes
        assert warm(cursor) == pytest.approx(expected_mb)


def test_machine_speed_is_the_fixed_loops_cpu_time_and_the_results_say_it():
    speed = bench.machine_speed(runs=1)
    assert 0.05 < speed < 60  # seconds of CPU for 20 million additions on any machine that can run the suite
    line = bench.speed_line([1.234, 1.5])
    assert "1.23 s before the runs, 1.50 s after" in line
    assert "1.23 s before the runs;" in bench.speed_line([1.234])


def test_the_bare_sql_line_states_the_warming_pass_beside_the_measured_one():
    """The HTTP/SQL ratio is taken against the second of two passes (the first warms the caches the saturation passes
    emptied of search pages), and the results say what the first took, so the warming's effect is in view."""
    explained = {"ms": [2.0, 3.0, 4.0, 5.0], "planning_ms": [0.5, 0.5, 0.5, 0.5], "warming_ms": [9.0, 11.0, 13.0]}
    line = bench.bare_sql_line(explained, http_p50=30)
    assert "p50 3.5 ms (planning alone 0.5 ms)" in line
    assert "A first pass of 3 other searches" in line and "p50 11.0 ms" in line
    assert "first pass" not in bench.bare_sql_line({"ms": [1.0, 2.0], "planning_ms": [0.0, 0.0]}, http_p50=30)


def test_the_results_give_each_rounds_audit_cost_and_their_range():
    """Each round's audited pass against the no-op pass straight after it, so a reader sees how much one run's audit
    cost can move (the round-to-round spread was as large as the target's margin)."""
    line = bench.round_costs_line([300.0, 360.0, 400.0], [400.0, 400.0, 400.0])
    assert "25.0%, 10.0%, 0.0%" in line
    assert "from 0.0% to 25.0%" in line
    # Costs 25, 10 and 0 %: mean 11.7 %, standard deviation 12.6 points, over the square root of 3: 7.3.
    assert "Their mean is 11.7%, with a standard error of 7.3 points" in line
    assert "standard error" not in bench.round_costs_line([300.0], [400.0])
    assert bench.round_costs_line([], []) == "No round measured both passes."


def test_the_results_say_whether_gunicorn_loads_the_app_before_forking(monkeypatch):
    """The bench's gunicorn reads gunicorn.conf.py, whose preload_app changes the workers' memory and speed, so the
    results file must say which way a run was made."""
    monkeypatch.delenv("GUNICORN_CMD_ARGS", raising=False)
    assert bench.preloaded() is False  # as gunicorn.conf.py deploys it
    monkeypatch.setenv("GUNICORN_CMD_ARGS", "--workers 4 --preload")  # gunicorn reads this over the file
    assert bench.preloaded() is True
    monkeypatch.setenv("GUNICORN_CMD_ARGS", "--preload-other")
    assert bench.preloaded() is False
    monkeypatch.delenv("GUNICORN_CMD_ARGS")
    monkeypatch.setattr(bench.runpy, "run_path", lambda path: {"preload_app": True})
    assert bench.preloaded() is True


def test_the_results_name_the_interpreter_and_whether_its_build_was_optimised():
    """Runs on differently built interpreters are not comparable (an optimised build took 7-16 % less CPU a request),
    so the results' machine line names the interpreter and the optimisations its build records."""
    optimised = bench.interpreter("'--prefix=/opt/py' '--enable-optimizations' '--with-lto' '--enable-shared'")
    assert optimised.startswith(f"Python {platform.python_version()} (")
    assert optimised.endswith("; built with --enable-optimizations --with-lto)")
    plain = bench.interpreter("'--prefix=/root/.pyenv/versions/3.12.1' '--enable-shared'")
    assert plain.endswith("; its build records neither --enable-optimizations nor --with-lto)")
    assert bench.interpreter("'--with-lto'").endswith("; built with --with-lto)")
    assert sys.base_prefix in bench.interpreter()

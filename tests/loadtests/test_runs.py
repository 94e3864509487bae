"""loadtests/runs.py: results files read back, and the runs grouped by the machine's speed."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtests.runs import band_table, read_run, read_runs, run_table


def _results(
    *,
    when: str,
    size: str,
    search: int,
    record: int,
    saturation: float,
    ratio: float,
    audit: float,
    cpu: float,
    missed: str,
    python: str = "Python 3.12.1",
) -> str:
    """The parts of a bench results file that runs.py reads, laid out as bench.py writes them; ``missed`` names the
    targets the bench judged missed (search, record, saturation, ratio, audit), as its "met" column says."""
    met = {key: "**no**" if key in missed.split() else "yes" for key in ("search", "record", "saturation", "ratio", "audit")}
    return f"""# MAIS load test, {size} subjects, {when}

Machine: 2 CPUs (AMD EPYC), Linux 6.18, {python}, PostgreSQL 15.20 (Debian). App ...

## Targets

| check | measured | target | met |
|---|---|---|---|
| failed requests | 0 | 0 | yes |
| search p95 | {search} ms | <= 50 ms | {met["search"]} |
| record view p95 | {record} ms | <= 50 ms | {met["record"]} |
| saturation record views | {saturation}/s | >= 250/s | {met["saturation"]} |
| search HTTP p50 / SQL p50 | {ratio} | <= 6 | {met["ratio"]} |
| audit cost at saturation | {audit}% | <= 15% | {met["audit"]} |

## Mixed run

| request | count | failures | req/s | p50 ms | p95 ms | p99 ms | SQL per request (mean / max) | of which in the choke point | app CPU in the request, mean ms | wait in the worker p50 / p95 ms | app's own time p50 / p95 ms |
|---|---|---|---|---|---|---|---|---|---|---|---|
| record | 7883 | 0 | 66.2 | 11 | {record} | 110 | 3.0 / 4 | 2.0 / 3 | {cpu} | 0.3 / 16 | 8 / 23 |

## CPU per request

| pass | app | database | load generator |
|---|---|---|---|
| mixed | 5.99 ms (39 %) | 2.09 ms (14 %) | 0.98 ms (6 %) |
"""


@pytest.fixture
def results(tmp_path: Path) -> Path:
    runs = {
        "2026-12-06-30k-fast.md": _results(
            when="2026-12-06 12:00", size="30,000", search=30, record=25, saturation=380.5, ratio=15.0, audit=14.0, cpu=3.5, missed="ratio"
        ),
        "2026-12-06-30k-slow.md": _results(
            when="2026-12-06 16:39",
            size="30,000",
            search=76,
            record=67,
            saturation=226.4,
            ratio=22.8,
            audit=15.4,
            cpu=4.83,
            missed="search record saturation ratio audit",
        ),
        "2026-12-06-1m-slow.md": _results(
            when="2026-12-06 16:56",
            size="1,000,000",
            search=170,
            record=150,
            saturation=255.6,
            ratio=6.0,
            audit=20.9,
            cpu=4.99,
            missed="record ratio audit",
        ),
        "2026-12-01-30k-old.md": _results(
            when="2026-12-01 09:00", size="30,000", search=20, record=20, saturation=400.0, ratio=5.0, audit=10.0, cpu=3.0, missed=""
        ),
    }
    for name, text in runs.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "audit-search-1m-pg15.md").write_text("# Audit search at a million events\n")
    return tmp_path


def test_a_results_file_reads_back_as_the_bench_wrote_it(results: Path):
    run = read_run(results / "2026-12-06-30k-slow.md")
    assert (run.written, run.size, run.postgres, run.python) == ("2026-12-06 16:39", "30,000", "15", "3.12.1")
    assert (run.search_p95, run.record_p95, run.saturation, run.ratio, run.audit_cost) == (76, 67, 226.4, 22.8, 15.4)
    assert run.record_app_cpu == 4.83
    assert run.cores_busy == 39 + 14 + 6


def test_targets_are_judged_as_the_bench_judges_them(results: Path):
    slow_1m = read_run(results / "2026-12-06-1m-slow.md")
    assert slow_1m.met() == {"search": True, "record": False, "saturation": True, "ratio": False, "audit": False}
    fast = read_run(results / "2026-12-06-30k-fast.md")
    assert fast.met() == {"search": True, "record": True, "saturation": True, "ratio": False, "audit": True}


def test_only_runs_since_the_given_time_are_read_and_other_files_are_passed_over(results: Path):
    runs = read_runs(results, "2026-12-05 21:51")
    assert [r.file for r in runs] == ["2026-12-06-30k-fast.md", "2026-12-06-30k-slow.md", "2026-12-06-1m-slow.md"]


def test_a_run_on_another_interpreter_is_kept_apart_when_asked_and_named(results: Path, capsys: pytest.CaptureFixture[str]):
    """An optimised build of Python took less CPU a request than pyenv's (HISTORY.md, 2026-12-07), so the bands of the
    bench's usual interpreter leave such a run out when told to, and say so."""
    (results / "2026-12-07-30k-pgo.md").write_text(
        _results(
            when="2026-12-07 03:13",
            size="30,000",
            search=51,
            record=45,
            saturation=266.8,
            ratio=19.3,
            audit=15.1,
            cpu=4.45,
            missed="search ratio audit",
            python="Python 3.13.5 (/opt/py313pgo; built with --enable-optimizations --with-lto)",
        )
    )
    assert read_run(results / "2026-12-07-30k-pgo.md").python == "3.13.5"
    assert "2026-12-07-30k-pgo.md" in [r.file for r in read_runs(results, "2026-12-05 21:51")]
    capsys.readouterr()
    kept = read_runs(results, "2026-12-05 21:51", "3.12")
    assert [r.file for r in kept] == ["2026-12-06-30k-fast.md", "2026-12-06-30k-slow.md", "2026-12-06-1m-slow.md"]
    assert "passed over 2026-12-07-30k-pgo.md: Python 3.13.5" in capsys.readouterr().err
    assert read_runs(results, "2026-12-05 21:51", "3.1") == []  # a prefix of the version's parts, not of its text


def test_the_tables_mark_missed_targets_and_count_runs_by_speed(results: Path):
    runs = read_runs(results, "2026-12-05 21:51")
    table = run_table(runs)
    assert "| 2026-12-06 16:39 | 30k | 15 | 4.83 ms | 59 % | **76** / **67** ms | **226.4** | **22.8** | **15.4 %** |" in table
    bands = band_table([r for r in runs if r.size == "30,000"], (4.0, 4.6))
    rows = bands.splitlines()[2:]
    assert len(rows) == 2  # no run in the middle band, so no row for it
    assert rows[0].startswith(
        "| 3.5 ms | 1 | 59 % | 30 ms, 1 of 1 | 25 ms, 1 of 1 | 380.5, 1 of 1 | 15.0, 0 of 1 | 14.0 % (median 14.0), 1 of 1 |"
    )
    assert rows[1].startswith(
        "| 4.8 ms | 1 | 59 % | 76 ms, 0 of 1 | 67 ms, 0 of 1 | 226.4, 0 of 1 | 22.8, 0 of 1 | 15.4 % (median 15.4), 0 of 1 |"
    )


def test_a_committed_results_file_reads_back():
    """The parser against a file bench.py actually wrote (the 17:49 run of 2026-12-06), so a change of its layout shows."""
    from loadtests.runs import RESULTS

    run = read_run(RESULTS / "2026-12-06-30k-epyc17-1749.md")
    assert (run.size, run.postgres, run.search_p95, run.record_p95, run.saturation) == ("30,000", "15", 51, 43, 291.6)
    assert run.python == "3.12.1"
    assert (run.ratio, run.audit_cost, run.record_app_cpu, run.cores_busy) == (18.3, 16.5, 4.24, 59)

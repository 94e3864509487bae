"""Every `make bench` run in loadtests/results read back from its results file: one table, and the same runs grouped
by the machine's speed (the tables of loadtests/README.md and HISTORY.md, "Every run of the current code").

    .venv/bin/python loadtests/runs.py --since "2026-12-05 21:51"

The machine's speed is the app's CPU inside a record view in the mixed run: VMs of the test machine's kind differ by
twice in it, and the bench's fixed Python loop misses much of that, so runs are compared by it. Only what the results
files say is used; a file that lacks a figure (an older layout) is skipped and named on stderr.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
# The targets table's rows this reads, by the key ``Run.met`` gives each verdict.
TARGET_ROWS = {
    "search": "search p95",
    "record": "record view p95",
    "saturation": "saturation record views",
    "ratio": "search HTTP p50 / SQL p50",
    "audit": "audit cost at saturation",
}


@dataclass(frozen=True)
class Run:
    file: str
    written: str  # "YYYY-MM-DD HH:MM", from the file's heading
    size: str  # as the heading writes it: "30,000" or "1,000,000"
    postgres: str  # major version
    python: str  # the interpreter's version, as the machine line gives it ("3.12.1")
    search_p95: float
    record_p95: float
    saturation: float
    ratio: float
    audit_cost: float
    record_app_cpu: float
    cores_busy: int  # app, PostgreSQL and Locust together, mixed run, per cent
    met_targets: frozenset[str]  # keys of TARGET_ROWS

    def met(self) -> dict[str, bool]:
        """Each target as bench.py judged it, from the results file's "met" column: its verdict on the unrounded
        figure (a ratio printed as 6.0 can be over 6), and its targets, which are not repeated here."""
        return {key: key in self.met_targets for key in TARGET_ROWS}


def _target(text: str, name: str) -> tuple[float, bool]:
    """A row of the targets table: the figure measured, and whether the bench found the target met."""
    found = re.search(rf"^\| {re.escape(name)} \| ([^|]+) \| [^|]+ \| ([^|]+) \|", text, re.M)
    if found is None:
        raise ValueError(f"no {name!r} in the targets table")
    return _number(found.group(1)), found.group(2).strip() == "yes"


def _number(cell: str) -> float:
    return float(re.sub(r"[^0-9.\-].*$", "", cell.strip()))


def read_run(path: Path) -> Run:
    """One results file's figures (ValueError when one is missing)."""
    text = path.read_text()
    heading = re.match(r"# MAIS load test, ([\d,]+) subjects, (\d{4}-\d\d-\d\d \d\d:\d\d)", text)
    if heading is None:
        raise ValueError("not a results file")
    header = re.search(r"^\| request \|([^\n]+)", text, re.M)
    record = re.search(r"^\| record \|([^\n]+)", text, re.M)
    cpu = re.search(r"^\| mixed \| [\d.]+ ms \((\d+) %\) \| [\d.]+ ms \((\d+) %\) \| [\d.]+ ms \((\d+) %\)", text, re.M)
    postgres = re.search(r"PostgreSQL (\d+)", text)
    python = re.search(r"^Machine: .*?, Python (\d+\.\d+\.\d+)", text, re.M)
    if header is None or record is None or cpu is None or postgres is None or python is None:
        raise ValueError("no mixed-run table, CPU table, PostgreSQL or Python version")
    columns = [c.strip() for c in header.group(1).split("|")]
    if "app CPU in the request, mean ms" not in columns:
        raise ValueError("no app CPU column (a layout before 2026-12-04)")
    record_app_cpu = float(record.group(1).split("|")[columns.index("app CPU in the request, mean ms")])
    targets = {key: _target(text, row) for key, row in TARGET_ROWS.items()}
    return Run(
        file=path.name,
        written=heading.group(2),
        size=heading.group(1),
        postgres=postgres.group(1),
        python=python.group(1),
        search_p95=targets["search"][0],
        record_p95=targets["record"][0],
        saturation=targets["saturation"][0],
        ratio=targets["ratio"][0],
        audit_cost=targets["audit"][0],
        record_app_cpu=record_app_cpu,
        cores_busy=sum(int(cpu.group(i)) for i in (1, 2, 3)),
        met_targets=frozenset(key for key, (_, met) in targets.items() if met),
    )


def read_runs(directory: Path, since: str, python: str = "") -> list[Run]:
    """The runs written since ``since``, on an interpreter whose version starts with ``python`` ("3.12": every run of
    the bench's usual interpreter; a run on another build is a different measurement of the app, so the tables keep
    it apart). A run passed over for its interpreter is named on stderr."""
    runs = []
    for path in sorted(directory.glob("*.md")):
        try:
            run = read_run(path)
        except ValueError as exc:
            if re.match(r"\d{4}-\d\d-\d\d-", path.name) and path.name[:10] >= since[:10]:
                print(f"skipped {path.name}: {exc}", file=sys.stderr)
            continue
        if run.written < since:
            continue
        if python and not f"{run.python}.".startswith(f"{python}."):  # the dots: "3.1" is not "3.12.1"'s series
            print(f"passed over {path.name}: Python {run.python}", file=sys.stderr)
            continue
        runs.append(run)
    return sorted(runs, key=lambda r: r.written)


def _bold(ok: bool, cell: str) -> str:
    return cell if ok else f"**{cell}**"


def run_table(runs: list[Run]) -> str:
    lines = [
        "| results written | size | PostgreSQL | app CPU a record view, mixed | cores busy, mixed | search / record view p95 | saturation views/s | ratio | audit cost | file |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        met = r.met()
        size = "30k" if r.size == "30,000" else "1M" if r.size == "1,000,000" else r.size
        p95 = f"{_bold(met['search'], f'{r.search_p95:g}')} / {_bold(met['record'], f'{r.record_p95:g}')} ms"
        lines.append(
            f"| {r.written} | {size} | {r.postgres} | {r.record_app_cpu:.2f} ms | {r.cores_busy} % | {p95} | "
            f"{_bold(met['saturation'], f'{r.saturation:.1f}')} | {_bold(met['ratio'], f'{r.ratio:.1f}')} | "
            f"{_bold(met['audit'], f'{r.audit_cost:.1f} %')} | `{r.file}` |"
        )
    return "\n".join(lines)


def _span(values: list[float], fmt: str = "g") -> str:
    low, high = min(values), max(values)
    return f"{low:{fmt}}" if low == high else f"{low:{fmt}}-{high:{fmt}}"


def _cell(band: list[Run], target: str, values: list[float], unit: str = "", fmt: str = "g") -> str:
    """The range a band's runs measured, and how many of them met the target."""
    return f"{_span(values, fmt)}{unit}, {sum(r.met()[target] for r in band)} of {len(band)}"


def band_table(runs: list[Run], bounds: tuple[float, ...]) -> str:
    """The runs of one size grouped by the app's CPU a record view, split at ``bounds`` (ms): for each target the range
    measured and how many runs met it."""
    lines = [
        "| app CPU a record view | runs | cores busy | search p95 | record view p95 | saturation views/s | ratio | audit cost |",
        "|---|---|---|---|---|---|---|---|",
    ]
    edges = (0.0, *bounds, float("inf"))
    for low, high in zip(edges, edges[1:], strict=False):
        band = [r for r in runs if low < r.record_app_cpu <= high]
        if not band:
            continue
        n = len(band)
        audit = [r.audit_cost for r in band]
        lines.append(
            f"| {_span([r.record_app_cpu for r in band], '.1f')} ms | {n} | {_span([float(r.cores_busy) for r in band])} % | "
            f"{_cell(band, 'search', [r.search_p95 for r in band], ' ms')} | "
            f"{_cell(band, 'record', [r.record_p95 for r in band], ' ms')} | "
            f"{_cell(band, 'saturation', [r.saturation for r in band], fmt='.1f')} | "
            f"{_cell(band, 'ratio', [r.ratio for r in band], fmt='.1f')} | "
            f"{_span(audit, '.1f')} % (median {statistics.median(audit):.1f}), {sum(r.met()['audit'] for r in band)} of {n} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--since", default="0000", help='the first run, by the time its file was written ("2026-12-05 21:51")')
    parser.add_argument("--bands", default="4.0,4.6", help="where to split the runs by the app's CPU a record view, in ms")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--python", default="", help='only the runs on this Python ("3.12"); all by default')
    args = parser.parse_args(argv)
    runs = read_runs(args.results, args.since, args.python)
    bounds = tuple(float(b) for b in args.bands.split(",") if b)
    print(run_table(runs))
    for size in sorted({r.size for r in runs}, key=lambda s: int(s.replace(",", ""))):
        print(f"\nAt {size} people:\n")
        print(band_table([r for r in runs if r.size == size], bounds))


if __name__ == "__main__":
    main()

"""``make bench``: MAIS under gunicorn with production settings, 150 Locust users, results checked against targets.

Usage (from the repository root, with the project's virtualenv):
    .venv/bin/python loadtests/bench.py --size 30000 [--duration 120] [--users 150]

Steps, each printed as it runs:
1. Database: DATABASE_URL's server when set, else the embedded PostgreSQL;
   either way a database of its own per size (``mais_bench_<size>``), so the
   demo and the test databases are never touched. Migrated, then seeded with
   ``seed_subjects`` up to the size (seeding time recorded), then one
   account per virtual user with ``seed_loadtest_users``; VACUUM ANALYZE,
   then the tables and indexes read into the operating system's cache
   (``warm_cache``).
2. gunicorn with MAIS_PRODUCTION=1 (a random SECRET_KEY, DEBUG off,
   persistent connections), behind-a-proxy mode as deployed, serving
   ``loadtests/bench_wsgi.py`` (the app plus an X-Query-Count header).
3. The mixed run: Locust headless, the users given, ~2 s think time.
4. Saturation: record views with no think time, against the app as served
   and against a second server whose audit insert is a no-op (bench-only, see
   bench_wsgi.py), which gives what audit writing costs. The two passes
   alternate in rounds, so a change of the machine's speed during the bench
   falls on both alike.
5. Cross-checks: (a) successful record views and searches against the
   audit events of those kinds written by load-test users in the run's
   window; (b) EXPLAIN ANALYZE of the same searches, HTTP p50 / SQL p50.
6. loadtests/results/<date>-<size>.md (and the Locust CSVs beside it).
   Exit status 1 when any target is missed, 2 when the run itself broke.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import csv
import datetime as dt
import json
import math
import os
import platform
import runpy
import secrets
import signal
import statistics
import subprocess
import sys
import sysconfig
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from loadtests.autovacuum import StandIn  # noqa: E402 (the repository root must be importable first)

VENV_BIN = Path(sys.executable).parent
RESULTS = ROOT / "loadtests" / "results"
WORK = ROOT / "var" / "bench"

# Targets of issue 6. p95 limits in ms by size: (search, record view).
P95 = {30_000: (50.0, 50.0), 1_000_000: (250.0, 50.0)}
SATURATION_MIN_RPS = 250.0
HTTP_SQL_RATIO_MAX = 6.0
QUERIES_MAX = 6
AUDIT_COST_MAX = 0.15
VIEW_NAMES = ("record", "edit: form", "edit: save")  # each runs one record disclosure (the edit page shows the record's values)


LOCAL_REDIS = "redis://127.0.0.1:6379/1"


def redis_url(given: str | None) -> str:
    """The Redis the app shares sessions through, as deployed (compose.yaml), or "" for sessions in PostgreSQL."""
    if given is not None:
        return "" if given == "none" else given
    if os.environ.get("MAIS_REDIS_URL"):
        return os.environ["MAIS_REDIS_URL"]
    import socket

    with socket.socket() as probe:
        probe.settimeout(1)
        return LOCAL_REDIS if probe.connect_ex(("127.0.0.1", 6379)) == 0 else ""


def say(message: str) -> None:
    print(f"[bench {dt.datetime.now():%H:%M:%S}] {message}", flush=True)


def database_url(size: int) -> tuple[str, Any]:
    """The bench database's URL; the embedded server is held by this process until it exits."""
    name = f"mais_bench_{size}"
    import psycopg2

    given = os.environ.get("DATABASE_URL")
    holder = None
    if given:
        from mais.env import parse_database_url

        db = parse_database_url(given)
        base = {"user": db["USER"], "password": db["PASSWORD"], "host": db["HOST"], "port": db["PORT"] or "5432"}
        auth = f"{db['USER']}:{db['PASSWORD']}@" if db["PASSWORD"] else f"{db['USER']}@"
        url = f"postgres://{auth}{db['HOST']}:{base['port']}/{name}"
    else:
        from mais.embedded_db import ensure_embedded_database

        holder = ensure_embedded_database(ROOT / "var")
        base = {"user": "postgres", "password": "", "host": holder["HOST"], "port": holder["PORT"]}
        url = f"postgres://postgres@/{name}?host={holder['HOST']}"
        if holder["PORT"] and holder["PORT"] != "5432":
            url = f"postgres://postgres@:{holder['PORT']}/{name}?host={holder['HOST']}"
    conn = psycopg2.connect(dbname="postgres", **base)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{name}"')
        cur.execute("SELECT version()")
        version = cur.fetchone()[0].split(" on ")[0]
    conn.close()
    return url, version


def manage(env: dict[str, str], *args: str, capture: bool = False) -> str:
    result = subprocess.run(  # noqa: S603 (our own manage.py, arguments from this script)
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, text=True, stdout=subprocess.PIPE if capture else None
    )
    return result.stdout or ""


def sql(env: dict[str, str], query: str) -> list[tuple[Any, ...]]:
    code = (
        "import json,sys; from django.db import connection; c=connection.cursor(); c.execute(sys.argv[1]); "
        "print(json.dumps(c.fetchall(), default=str))"
    )
    out = manage(env, "shell", "-c", code.replace("sys.argv[1]", repr(query)), capture=True)
    return [tuple(r) for r in json.loads(out.strip().splitlines()[-1])]


def preloaded() -> bool:
    """Whether the bench's gunicorn loads the app before forking: as gunicorn.conf.py in the project folder says, unless
    ``GUNICORN_CMD_ARGS`` in the bench's environment, which gunicorn reads over the file, says ``--preload``."""
    if "--preload" in os.environ.get("GUNICORN_CMD_ARGS", "").split():
        return True
    return bool(runpy.run_path(str(ROOT / "gunicorn.conf.py")).get("preload_app"))


class Server:
    """gunicorn serving the app; stopped on exit whatever happens."""

    def __init__(self, env: dict[str, str], port: int, args: argparse.Namespace, log: Path) -> None:
        self.env, self.port, self.workers, self.threads, self.log = env, port, args.workers, args.threads, log
        self.keep_alive, self.worker_connections = args.keep_alive, args.worker_connections
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        command = [
            str(VENV_BIN / "gunicorn"),
            "loadtests.bench_wsgi:application",
            f"--bind=127.0.0.1:{self.port}",
            f"--workers={self.workers}",
            f"--threads={self.threads}",
            # gunicorn's gthread worker, timing each request's wait in the worker (bench only, bench_worker.py).
            "--worker-class=loadtests.bench_worker.QueueTimingWorker",
            f"--keep-alive={self.keep_alive}",
            f"--worker-connections={self.worker_connections}",
            "--backlog=2048",
            "--error-logfile=-",
        ]
        handle = self.log.open("ab")
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=handle, stderr=subprocess.STDOUT)  # noqa: S603
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                probe = urllib.request.Request(f"http://127.0.0.1:{self.port}/health/", headers={"X-Forwarded-Proto": "https"})
                with urllib.request.urlopen(probe, timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"gunicorn did not answer /health/ within 60 s; see {self.log}")

    def __exit__(self, *exc: object) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def locust(
    env: dict[str, str], server: Server, users: int, spawn: float, seconds: int, prefix: Path, saturation: bool = False
) -> dict[str, dict[str, float]]:
    """Locust headless: ``users`` sign in (``spawn`` a second); the figures are of the ``seconds`` after the last
    one has signed in (the locustfile resets them then and stops the run; see MAIS_LOADTEST_MEASURE_SECONDS).

    The CPU that the app, the database and Locust used in that window, per request, is under ``CPU`` (see cpu_use).
    """
    port = server.port
    run_env = {
        **env,
        "MAIS_LOADTEST_QUERIES_CSV": f"{prefix}_queries.csv",
        "MAIS_LOADTEST_CPU_JSON": f"{prefix}_cpu.json",
        "MAIS_LOADTEST_SERVER_PID": str(server.process.pid if server.process else 0),
        "MAIS_LOADTEST_SATURATION": "1" if saturation else "0",
        "MAIS_LOADTEST_MEASURE_SECONDS": str(seconds),
    }
    # A bound only: the locustfile ends the run; this stops one whose sign-ins never all complete.
    limit = int(users / spawn) + 600 + seconds
    command = [
        str(VENV_BIN / "locust"),
        "-f",
        "loadtests/locustfile.py",
        "--headless",
        "--only-summary",
        "-u",
        str(users),
        "-r",
        str(spawn),
        "-t",
        f"{limit}s",
        "--stop-timeout",
        "90",  # let requests in flight finish, so every audited view is also counted as served
        "--host",
        f"http://127.0.0.1:{port}",
        "--csv",
        str(prefix),
        "--loglevel",
        "WARNING",
        "--exit-code-on-error",
        "0",
    ]
    subprocess.run(command, cwd=ROOT, env=run_env, check=True)  # noqa: S603
    stats: dict[str, dict[str, float]] = {}
    with open(f"{prefix}_stats.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["Request Count"] == "0":
                continue  # sign-in steps, all before the measured window
            stats[row["Name"]] = {
                "requests": float(row["Request Count"]),
                "failures": float(row["Failure Count"]),
                "rps": float(row["Requests/s"]),
                "p50": float(row["50%"] or 0),
                "p95": float(row["95%"] or 0),
                "p99": float(row["99%"] or 0),
            }
    with open(f"{prefix}_queries.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["name"] in stats:
                # Successful requests over the whole run, ramp included (this counter is not reset with the stats).
                stats[row["name"]]["ok_whole_run"] = float(row["requests"] or 0)
                stats[row["name"]]["unanswered_whole_run"] = float(row.get("unanswered") or 0)
                stats[row["name"]]["queries"] = float(row["mean_queries"] or 0)
                stats[row["name"]]["max_queries"] = float(row["max_queries"] or 0)
                stats[row["name"]]["choke"] = float(row["mean_choke_point_queries"] or 0)
                stats[row["name"]]["max_choke"] = float(row["max_choke_point_queries"] or 0)
                if row.get("mean_app_cpu_ms"):
                    stats[row["name"]]["app_cpu"] = float(row["mean_app_cpu_ms"])
                if row.get("app_wall_p95_ms"):
                    stats[row["name"]]["app_wall"] = (float(row["app_wall_p50_ms"]), float(row["app_wall_p95_ms"]))
                if row.get("queue_p95_ms"):
                    stats[row["name"]]["queue"] = (float(row["queue_p50_ms"]), float(row["queue_p95_ms"]))
    window = json.loads(Path(f"{prefix}_cpu.json").read_text())
    stats["CPU"] = cpu_use(window, stats["Aggregated"]["requests"])
    # Client connections each worker held at the end of the window, fewest first (the locustfile's /proc reading).
    stats["Connections"] = {str(i): float(n) for i, n in enumerate(window.get("connections_per_worker", []))}
    # Failed sign-in attempts came before the measured window (whose reset drops them from the CSV): counted here.
    failed_sign_ins = window.get("sign_in_failures", [])
    stats["Aggregated"]["sign-in failures"] = float(len(failed_sign_ins))
    stats["Aggregated"]["failures"] += len(failed_sign_ins)
    return stats


def cpu_use(window: dict[str, Any], requests: float) -> dict[str, float]:
    """CPU milliseconds per request and share of the machine's cores, of the app, the database and Locust, over the
    measured window (the locustfile reads /proc at its start and end).

    It says where a run's time went (app, database or load generator) and how full the machine was. It is not steadier
    than throughput: on the shared test VM the same code took 10.2 and 13.9 ms of app CPU per request twenty minutes
    apart, as the machine's own speed changed (issue 6).
    """
    start, end = window["start"], window["end"]
    seconds = end["wall"] - start["wall"]
    use: dict[str, float] = {"seconds": seconds}
    for part in ("app", "database", "load generator"):
        spent = end[part] - start[part]
        use[f"{part} ms"] = spent * 1000 / requests if requests else 0.0
        use[f"{part} %"] = spent / seconds / (os.cpu_count() or 1) * 100 if seconds else 0.0
    return use


def main() -> int:  # noqa: PLR0915 (one linear script reads best as one function)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=30_000)
    parser.add_argument("--users", type=int, default=150)
    parser.add_argument(
        "--spawn-rate",
        type=float,
        default=1,
        help="Sign-ins per second while ramping up. Each hashes a password (PBKDF2, 0.64 s of CPU on a 2 GHz core): at 3 a "
        "second, two such cores fell so far behind that one sign-in attempt in six waited past Locust's 60 s timeout.",
    )
    parser.add_argument("--duration", type=int, default=120, help="Seconds of the mixed run, after all users have signed in.")
    parser.add_argument("--saturation-users", type=int, default=16)
    # 8 rounds of 15 s (4 until 2026-12-05): single rounds of one run have differed by up to 32 points of audit cost, and
    # with 4 the mean's standard error was about 4-5 points against a target of 15 %; with 8, 0.5 to 4.0 in six runs
    # (issue 6, loadtests/HISTORY.md). Each round signs its users in again, so 8 take about 8 minutes, 4 more than 4 did.
    parser.add_argument("--saturation-duration", type=int, default=120, help="Seconds measured of each saturation pass, over all rounds.")
    parser.add_argument(
        "--saturation-rounds",
        type=int,
        default=8,
        help="Rounds in which the audited and the no-op saturation passes alternate (each round measures duration/rounds s of each).",
    )
    # As gunicorn.conf.py on two cores (it says why: one request thread per worker, gthread workers).
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--keep-alive", type=int, default=5, help="Seconds gunicorn keeps an idle connection open.")
    parser.add_argument(
        "--worker-connections", type=int, default=1000, help="Most client connections a worker holds at once (gunicorn's default 1,000)."
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--redis",
        default=None,
        help="Redis for sessions and lockout counts, as compose.yaml deploys it (default: MAIS_REDIS_URL, else "
        f"{LOCAL_REDIS} when it answers; 'none' keeps sessions in PostgreSQL).",
    )
    parser.add_argument(
        "--saturation-only",
        action="store_true",
        help="Only the saturation passes, printed and not written: for trying a change, not a result.",
    )
    args = parser.parse_args()

    WORK.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = dt.date.today().isoformat()
    label = f"{args.size // 1000}k" if args.size < 1_000_000 else f"{args.size / 1_000_000:g}m"
    stem = f"{stamp}-{label}"
    url, pg_version = database_url(args.size)
    redis = redis_url(args.redis)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "MAIS_PRODUCTION": "1",
        "MAIS_DEBUG": "0",
        "MAIS_SECRET_KEY": secrets.token_urlsafe(64),
        "MAIS_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "MAIS_BEHIND_PROXY": "1",
        "MAIS_CONN_MAX_AGE": "600",
        "MAIS_LOADTEST_USERS": str(WORK / f"users-{args.size}.json"),
        "PYTHONPATH": str(ROOT),
        "MAIS_REDIS_URL": redis,
    }
    say(f"database {url.split('@')[-1]} ({pg_version}); sessions in {'Redis ' + redis if redis else 'PostgreSQL'}")
    manage(env, "migrate", "--verbosity", "0")
    have = int(sql(env, "SELECT count(*) FROM records_subject")[0][0])
    seeding = ""
    if have < args.size:
        say(f"seeding {args.size - have:,} subjects ({have:,} present)")
        started = time.monotonic()
        out = manage(env, "seed_subjects", "--count", str(args.size - have), capture=True)
        seeding = out.strip().splitlines()[-1] + f" (wall clock {time.monotonic() - started:.0f} s including start-up)"
        say(seeding)
    roles = {"police": round(args.users * 0.6), "nurses": round(args.users * 0.2), "mh": round(args.users * 0.1)}
    roles["auditors"] = max(args.users - sum(roles.values()), 1)
    manage(
        env,
        "seed_loadtest_users",
        *[f"--{k}={max(v, 2 * args.saturation_users) if k == 'police' else v}" for k, v in roles.items()],
        f"--out={WORK / f'users-{args.size}.json'}",
    )
    subjects = int(sql(env, "SELECT count(*) FROM records_subject")[0][0])
    # The database as autovacuum keeps it: planner statistics and visibility maps current. A server with autovacuum
    # off (as this test machine's PostgreSQL 15 is) otherwise plans the audit trail, grown by earlier runs, from
    # statistics of an empty table: an auditor's filtered page took 56 ms instead of 0.3 ms.
    autovacuum = sql(env, "SHOW autovacuum")[0][0]
    say(f"VACUUM ANALYZE (autovacuum is {autovacuum} on this server)")
    manage(
        {**env, "MAIS_DB_STATEMENT_TIMEOUT_MS": "0"},
        "shell",
        "-c",
        "from django.db import connection; connection.cursor().execute('VACUUM ANALYZE')",
    )
    say("reading the database into the operating system's cache (pg_prewarm), as a database in service holds it")
    warmed_mb = warm_cache(url)
    speed_before = machine_speed()
    say(f"machine speed: the fixed Python loop took {speed_before:.2f} s of CPU (best of 3)")
    log = WORK / f"gunicorn-{stem}.log"
    results: dict[str, Any] = {
        "warmed_mb": warmed_mb,
        "size": subjects,
        "pg": pg_version,
        "sessions": f"Redis ({redis})" if redis else "PostgreSQL",
        "autovacuum": autovacuum,
        "speed": [speed_before],
    }

    if args.saturation_only:
        return saturation_only(args, env, log)
    with servers(args, env, log) as (server, no_op_server), autovacuum_stand_in(url) as stand_in:
        window = sql(env, "SELECT now()")[0][0]
        ramp = int(args.users / args.spawn_rate) + 1
        say(f"mixed run: {args.users} users, a {ramp} s sign-in ramp, then {args.duration} s measured from the last sign-in")
        mixed = locust(env, server, args.users, args.spawn_rate, args.duration, args.out / f"{stem}-mixed")
        time.sleep(2)
        window_end = sql(env, "SELECT now()")[0][0]
        audited = dict(
            sql(
                env,
                "SELECT event, count(*) FROM audit_auditevent WHERE actor_username LIKE 'lt-%%' AND outcome = 'ok' "
                f"AND event IN ('record.view', 'search') AND timestamp BETWEEN '{window}' AND '{window_end}' GROUP BY event".replace(
                    "%%", "%"
                ),
            )
        )
        saturated, no_audit = saturation_passes(args, env, server, no_op_server, args.out / stem)
    results["stand_in"] = stand_in.done
    say("verifying the audit hash chain after concurrent writing")
    chain = subprocess.run(  # noqa: S603 (our own manage.py)
        [sys.executable, "manage.py", "verify_audit"], cwd=ROOT, env=env, text=True, capture_output=True
    )
    chain_ok = chain.returncode == 0
    chain_message = (chain.stdout + chain.stderr).strip().splitlines()[-1] if (chain.stdout + chain.stderr).strip() else ""
    results["speed"].append(machine_speed())
    say("EXPLAIN ANALYZE of the same searches")
    people = f"--people={WORK / f'users-{args.size}.json'}"
    # A first pass over 300 other people's searches, so the measured pass finds the caches as the mixed run's
    # searches did: the saturation passes before it read only records. Cold, a million people's search p50 read
    # 13.0 ms against 6.3-7.7 ms warm (2026-12-04), and an HTTP/SQL ratio taken against it flattered the app.
    warming = json.loads(manage(env, "explain_search", people, "--runs=300", "--seed=12", capture=True).strip())
    explained = json.loads(manage(env, "explain_search", people, "--runs=300", capture=True).strip())
    explained["warming_ms"] = warming["ms"]
    sql_p50 = statistics.median(explained["ms"])

    # Targets.
    search_p95_max, view_p95_max = P95[min(P95, key=lambda s: abs(s - args.size))]
    total = mixed["Aggregated"]
    failures = total["failures"] + saturated["Aggregated"]["failures"] + no_audit["Aggregated"]["failures"]
    sign_ins = sum(p["Aggregated"].get("sign-in failures", 0.0) for p in (mixed, saturated, no_audit))
    views_ok = sum(mixed[n].get("ok_whole_run", 0) for n in VIEW_NAMES if n in mixed)
    searches_ok = mixed["search"].get("ok_whole_run", 0)
    # A request Locust gave up on (no answer) may still have been served and audited by the server: it is the one
    # way a run can have more events than answered requests, never fewer.
    views_unanswered = sum(mixed[n].get("unanswered_whole_run", 0) for n in VIEW_NAMES if n in mixed)
    searches_unanswered = mixed["search"].get("unanswered_whole_run", 0)
    sat_rps = saturated["record"]["rps"]
    sat_rps_noaudit = no_audit["record"]["rps"]
    audit_cost = max(0.0, 1 - sat_rps / sat_rps_noaudit) if sat_rps_noaudit else 1.0
    ratio = mixed["search"]["p50"] / sql_p50 if sql_p50 else float("inf")
    checks = [
        ("failed requests", f"{failures:.0f}" + (f" ({sign_ins:.0f} of them sign-in attempts)" if sign_ins else ""), "0", failures == 0),
        ("search p95", f"{mixed['search']['p95']:.0f} ms", f"<= {search_p95_max:.0f} ms", mixed["search"]["p95"] <= search_p95_max),
        ("record view p95", f"{mixed['record']['p95']:.0f} ms", f"<= {view_p95_max:.0f} ms", mixed["record"]["p95"] <= view_p95_max),
        ("saturation record views", f"{sat_rps:.1f}/s", f">= {SATURATION_MIN_RPS:.0f}/s", sat_rps >= SATURATION_MIN_RPS),
        ("search HTTP p50 / SQL p50", f"{ratio:.1f}", f"<= {HTTP_SQL_RATIO_MAX:g}", ratio <= HTTP_SQL_RATIO_MAX),
        (
            "choke point queries per record view (most seen)",
            f"{mixed['record'].get('max_choke', 0):.0f}",
            f"<= {QUERIES_MAX}",
            0 < mixed["record"].get("max_choke", 0) <= QUERIES_MAX,
        ),
        (
            "choke point queries per search (most seen)",
            f"{mixed['search'].get('max_choke', 0):.0f}",
            f"<= {QUERIES_MAX}",
            0 < mixed["search"].get("max_choke", 0) <= QUERIES_MAX,
        ),
        ("audit hash chain intact after the run", chain_message[:80], "OK", chain_ok),
        ("audit cost at saturation", f"{audit_cost:.1%}", f"<= {AUDIT_COST_MAX:.0%}", audit_cost <= AUDIT_COST_MAX),
        events_check("record views", "record.view", views_ok, views_unanswered, audited.get("record.view", 0)),
        events_check("searches", "search", searches_ok, searches_unanswered, audited.get("search", 0)),
    ]
    report = render(args, results, seeding, mixed, saturated, no_audit, explained, checks, stem)
    path = args.out / f"{stem}.md"
    path.write_text(report)
    print(report)
    missed = [name for name, _, _, ok in checks if not ok]
    say(f"written {path}; " + (f"MISSED: {', '.join(missed)}" if missed else "every target met"))
    return 1 if missed else 0


# Every table and index of the app, read block by block through the operating system's cache (mode 'read': into the
# page cache, not into PostgreSQL's shared buffers, which hold only their usual share, as on a server in service).
WARM_SQL = (
    "SELECT coalesce(sum(pg_prewarm(c.oid::regclass, 'read')), 0) FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i', 'm')"
)


# A fixed single-threaded pure-Python workload: its CPU time says how fast this machine's cores are, so runs on different
# machines of the same kind (the app's CPU per request differed by 1.8 times between two of these VMs in one day) and runs early and late in one session can be read
# side by side. Only the interpreter runs it: no I/O, no allocation beyond small ints.
_SPEED_LOOP = "import time\nt = time.process_time()\ns = 0\nfor i in range(20_000_000):\n    s += i\nprint(time.process_time() - t)"


def machine_speed(runs: int = 3) -> float:
    """Seconds of CPU the fixed loop takes in a fresh interpreter, the best of ``runs`` (lower is faster)."""
    return min(
        float(subprocess.run([sys.executable, "-c", _SPEED_LOOP], check=True, capture_output=True, text=True).stdout)  # noqa: S603 (our interpreter, a fixed script)
        for _ in range(runs)
    )


def interpreter(config_args: str | None = None) -> str:
    """The Python that runs the app and the bench, and whether its build was optimised, as the results state it.

    Reason: the interpreter's build moves the app's CPU a request by 5-16 %. In-process on one VM, a request took 7-11 %
    less Python CPU under a CPython 3.13.5 built with profile-guided and link-time optimisation
    (``--enable-optimizations --with-lto``, as the Docker image's ``python:3.12-slim`` is built) than under pyenv's
    default build of 3.13.0, and 13-16 % less than under its 3.12.1; under load, 5-10 % less than under 3.12.1
    (HISTORY.md, 2026-12-07). Runs are only comparable on the same interpreter. Debian's own Python is optimised but
    records other configure options, so a build not named here as optimised may still be.
    """
    args = sysconfig.get_config_var("CONFIG_ARGS") if config_args is None else config_args
    flags = [flag for flag in ("--enable-optimizations", "--with-lto") if flag in (args or "")]
    built = f"built with {' '.join(flags)}" if flags else "its build records neither --enable-optimizations nor --with-lto"
    return f"Python {platform.python_version()} ({sys.base_prefix}; {built})"


def speed_line(speed: list[float]) -> str:
    """The machine's speed before (and after) the runs, as the results state it."""
    said = f"{speed[0]:.2f} s before the runs" + (f", {speed[1]:.2f} s after" if len(speed) > 1 else "")
    return (
        "Machine speed: a fixed single-threaded Python loop (20 million additions, `bench.machine_speed`, best of 3) took "
        f"{said}; lower is faster, for comparing runs on other machines and at other times. The loop runs on the app's "
        "interpreter, so it gauges that interpreter's build as well as the machine."
    )


def warm_cache(url: str) -> float:
    """Read the database's tables and indexes once before measuring; returns the megabytes read.

    Reason: a database in service has its working set in memory, and a bench database just seeded or left since the
    last run may not. On 2026-12-03 this VM's page cache held 0.66 GB of the million-person database's 2.76 GB after
    seeding and a run, and each name searched for the first time read the disk: EXPLAIN ANALYZE of the bench's
    searches gave p95 136 ms and up to 448 ms, then 38 ms at most for the same searches run again. Reading it all
    took 6 s.
    """
    import psycopg2

    with contextlib.closing(psycopg2.connect(url)) as conn:
        conn.autocommit = True
        with conn.cursor() as cursor:
            return warm(cursor)


def warm(cursor: Any) -> float:
    cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
    cursor.execute(WARM_SQL)
    return float(cursor.fetchone()[0]) * 8192 / 1e6


def autovacuum_stand_in(url: str) -> StandIn:
    """Autovacuum's work during the runs where the server has it off (loadtests/autovacuum.py says why)."""
    import psycopg2

    return StandIn(lambda: psycopg2.connect(url), say)


@contextlib.contextmanager
def servers(args: argparse.Namespace, env: dict[str, str], log: Path) -> Iterator[tuple[Server, Server]]:
    """The app served as in production, and beside it, idle until the saturation passes alternate between them, a
    second server whose audit insert is a no-op (bench_wsgi.py)."""
    with (
        Server(env, args.port, args, log) as server,
        Server({**env, "MAIS_BENCH_AUDIT_NOOP": "1"}, args.port + 1, args, log) as no_op_server,
    ):
        yield server, no_op_server


def saturation_passes(
    args: argparse.Namespace, env: dict[str, str], audited: Server, no_op: Server, prefix: Path
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """Record views with no think time against the audited and the no-op server, alternating in rounds.

    Rule: the audit cost compares two passes, so they must see the same machine. Run one after the other, a change of
    the shared VM's speed between them was read as audit cost (issue 6: the same code measured 11 % and 33 % half an
    hour apart, while the no-op pass alone moved from 165 to 263 views/s). Alternating short rounds spreads any drift
    over both. Each pass signs in with its own police accounts, and the same accounts sign in again only in a later
    30 s code window (a sign-in code cannot be used twice).
    """
    seconds = max(args.saturation_duration // args.saturation_rounds, 5)
    say(
        f"saturation: {args.saturation_users} users viewing records with no think time, audited and with the audit insert a "
        f"no-op (bench-only) in turn, {args.saturation_rounds} rounds of {seconds} s each"
    )
    segments: dict[str, list[dict[str, dict[str, float]]]] = {"audited": [], "no-op": []}
    signed_in: dict[str, float] = {}
    for round_number in range(1, args.saturation_rounds + 1):
        for offset, (label, server) in enumerate((("audited", audited), ("no-op", no_op))):
            wait = signed_in.get(label, 0.0) + 31 - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            signed_in[label] = time.monotonic()
            name = "saturation" if label == "audited" else "saturation-noaudit"
            stats = locust(
                {**env, "MAIS_LOADTEST_ACCOUNT_OFFSET": str(offset * args.saturation_users)},
                server,
                args.saturation_users,
                args.saturation_users,
                seconds,
                Path(f"{prefix}-{name}-r{round_number}"),
                True,
            )
            segments[label].append(stats)
            say(f"  round {round_number}, {label}: {stats['record']['rps']:.1f} record views/s; {cpu_line(stats['CPU'])}")
    return merge_rounds(segments["audited"]), merge_rounds(segments["no-op"])


def events_check(label: str, event: str, answered: float, unanswered: float, events: int) -> tuple[str, str, str, bool]:
    """Cross-check (a): every answered request has its audit event, and no event lacks a request.

    Equal when every request was answered; when Locust gave up on some (no answer), the events may exceed the answered
    requests by at most that many: those the server served after the client had stopped waiting.
    """
    if not unanswered:
        return (f"{label} = {event} audit events", f"{answered:.0f} / {events}", "equal", answered == events)
    return (
        f"{label} <= {event} audit events <= {label} + unanswered",
        f"{answered:.0f} <= {events} <= {answered:.0f} + {unanswered:.0f}",
        "within",
        answered <= events <= answered + unanswered,
    )


def round_costs_line(audited_rounds: list[float], no_op_rounds: list[float]) -> str:
    """The audit cost of each round alone (its audited pass against the no-op pass run straight after it), and their range.

    The run's figure compares the passes' means; the rounds' spread says how far one run's figure can be trusted (issue
    6: on one machine, at the same speed, three runs of the same code gave 17.5, 23.3 and 27.0 %).
    """
    costs = [1 - audited / no_op for audited, no_op in zip(audited_rounds, no_op_rounds, strict=True) if no_op]
    if not costs:
        return "No round measured both passes."
    line = (
        "Audit cost of each round alone (its audited pass against the no-op pass straight after it): "
        + ", ".join(f"{cost:.1%}" for cost in costs)
        + f"; from {min(costs):.1%} to {max(costs):.1%}."
    )
    if len(costs) > 1:
        # How far the rounds' mean can be trusted: on a 2-core VM shared with others, rounds of one run have differed
        # by up to 32 points (issue 6), so a run a point under or over the target says little on its own.
        error = statistics.stdev(costs) / math.sqrt(len(costs))
        line += (
            f" Their mean is {statistics.mean(costs):.1%}, with a standard error of {error * 100:.1f} points (the rounds'"
            " standard deviation over the square root of their number)."
        )
    return line


def merge_rounds(rounds: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """One pass's rounds as one: views/s the mean of the rounds' (each measured for the same time), counts summed,
    percentiles the mean of the rounds' weighted by requests, CPU per request over all of them."""
    records = [r["record"] for r in rounds]
    requests = sum(r["requests"] for r in records)
    record = {
        "requests": requests,
        "failures": sum(r["failures"] for r in records),
        "rps": statistics.mean(r["rps"] for r in records),
        "rounds": [r["rps"] for r in records],  # type: ignore[dict-item]
    }
    for key in ("p50", "p95", "p99", "queries", "choke"):
        record[key] = sum(r.get(key, 0.0) * r["requests"] for r in records) / requests if requests else 0.0
    for key in ("max_queries", "max_choke"):
        record[key] = max(r.get(key, 0.0) for r in records)
    total = sum(r["Aggregated"]["requests"] for r in rounds)
    seconds = sum(r["CPU"]["seconds"] for r in rounds)
    cpu = {"seconds": seconds}
    for part in CPU_PARTS:
        spent = sum(r["CPU"][f"{part} ms"] * r["Aggregated"]["requests"] / 1000 for r in rounds)
        cpu[f"{part} ms"] = spent * 1000 / total if total else 0.0
        cpu[f"{part} %"] = spent / seconds / (os.cpu_count() or 1) * 100 if seconds else 0.0
    aggregated = {
        "requests": total,
        "failures": sum(r["Aggregated"]["failures"] for r in rounds),
        "sign-in failures": sum(r["Aggregated"].get("sign-in failures", 0.0) for r in rounds),
    }
    return {"record": record, "Aggregated": aggregated, "CPU": cpu}


def saturation_only(args: argparse.Namespace, env: dict[str, str], log: Path) -> int:
    """The saturation passes with and without the audit insert, into a scratch folder."""
    scratch = WORK / "saturation-only"
    scratch.mkdir(exist_ok=True)
    with servers(args, env, log) as (server, no_op_server), autovacuum_stand_in(env["DATABASE_URL"]):
        saturated, no_audit = saturation_passes(args, env, server, no_op_server, scratch / "run")
    for label, stats in (("audited", saturated), ("audit no-op", no_audit)):
        rec = stats["record"]
        say(
            f"{label}: {rec['rps']:.1f} record views/s, p50 {rec['p50']:.0f} ms, {rec['failures']:.0f} failures, "
            f"{rec.get('queries', 0):.1f} queries; {cpu_line(stats['CPU'])}"
        )
    cost = 1 - saturated["record"]["rps"] / no_audit["record"]["rps"]
    say(f"audit cost {cost:.1%} ({args.workers} workers x {args.threads} threads)")
    say(round_costs_line(saturated["record"]["rounds"], no_audit["record"]["rounds"]))  # type: ignore[arg-type]
    return 0


def cpu_line(use: dict[str, float]) -> str:
    return "CPU per request " + ", ".join(f"{part} {use[part + ' ms']:.2f} ms ({use[part + ' %']:.0f} %)" for part in CPU_PARTS)


CPU_PARTS = ("app", "database", "load generator")


def _counted(commands: list[str]) -> list[str]:
    """``["ANALYZE t", "ANALYZE t", "VACUUM u"]`` as ``["ANALYZE t x2", "VACUUM u"]``, in first-run order."""
    return [f"{command} x{n}" if n > 1 else command for command, n in collections.Counter(commands).items()]


def bare_sql_line(explained: dict[str, Any], *, http_p50: float) -> str:
    """The results' account of the bare search (``manage.py explain_search``'s output) beside the HTTP p50.

    Planning is stated apart because at 30,000 people it was most of an unprepared statement's time (issue 6). The
    warming pass's p50 is stated too, so a reader sees how much the caches moved it.
    """
    ms, planning = explained["ms"], explained["planning_ms"]
    warming = explained.get("warming_ms")
    first = (
        f" A first pass of {len(warming)} other searches just before, to warm the caches as the mixed run had them (the "
        f"saturation passes read only records), took p50 {statistics.median(warming):.1f} ms; the ratio is taken against "
        "the second."
        if warming
        else ""
    )
    return (
        f"EXPLAIN ANALYZE (planning + execution) of {len(ms)} searches built like the police scenario's: "
        f"p50 {statistics.median(ms):.1f} ms (planning alone {statistics.median(planning):.1f} ms), "
        f"p95 {statistics.quantiles(ms, n=20)[-1]:.1f} ms. HTTP search p50 {http_p50:.0f} ms.{first}"
    )


def render(
    args: argparse.Namespace,
    results: dict[str, Any],
    seeding: str,
    mixed: dict[str, dict[str, float]],
    saturated: dict[str, dict[str, float]],
    no_audit: dict[str, dict[str, float]],
    explained: dict[str, Any],
    checks: list[tuple[str, str, str, bool]],
    stem: str,
) -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if "model name" in line), "?")
    lines = [
        f"# MAIS load test, {results['size']:,} subjects, {dt.datetime.now():%Y-%m-%d %H:%M}",
        "",
        f"Machine: {os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}, {interpreter()}, "
        f"{results['pg']}. App (gunicorn, {args.workers} workers x {args.threads} threads, keep-alive {args.keep_alive} s, at most {args.worker_connections} connections a worker, "
        f"{'the app loaded before the workers fork, ' if preloaded() else ''}production settings), database and "
        f"Locust all on this machine. Sessions and lockout counts in {results['sessions']}. Autovacuum {results['autovacuum']} "
        "on this server; the bench runs VACUUM ANALYZE before measuring"
        + (
            f" and reads the database into the operating system's cache ({results['warmed_mb']:,.0f} MB, pg_prewarm)"
            if "warmed_mb" in results
            else ""
        )
        + (
            ", and while it measures does autovacuum's work itself (loadtests/autovacuum.py): "
            + (", ".join(_counted(results["stand_in"])) or "nothing was due")
            + "."
            if results["autovacuum"] != "on"
            else "."
        ),
        f"Mixed run: {args.users} users, each with its own account signed in with password and TOTP, think time 1.5-2.5 s, "
        f"{args.duration} s measured from the moment the last user finished signing in (spawned at {args.spawn_rate:g}/s; the "
        "figures are reset then, so the sign-ins, a password hash each, are not in the steady state). Saturation: "
        f"{args.saturation_users} users, no think time, {args.saturation_duration} s of each pass, the audited and the "
        f"no-op pass alternating in {args.saturation_rounds} rounds.",
    ]
    if results.get("speed"):
        lines += ["", speed_line(results["speed"])]
    if seeding:
        lines += ["", f"Seeding for this run: {seeding}"]
    lines += ["", "## Targets", "", "| check | measured | target | met |", "|---|---|---|---|"]
    lines += [f"| {n} | {m} | {t} | {'yes' if ok else '**no**'} |" for n, m, t, ok in checks]
    lines += [
        "",
        "## Mixed run",
        "",
        "| request | count | failures | req/s | p50 ms | p95 ms | p99 ms | SQL per request (mean / max) | of which in the choke point "
        "| app CPU in the request, mean ms | wait in the worker p50 / p95 ms | app's own time p50 / p95 ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s in mixed.items():
        if name in ("CPU", "Connections"):
            continue
        q = f"{s['queries']:.1f} / {s['max_queries']:.0f}" if "queries" in s else ""
        c = f"{s['choke']:.1f} / {s['max_choke']:.0f}" if "choke" in s else ""
        cpu = f"{s['app_cpu']:.2f}" if "app_cpu" in s else ""
        own = f"{s['app_wall'][0]:.0f} / {s['app_wall'][1]:.0f}" if "app_wall" in s else ""
        queue = f"{s['queue'][0]:.1f} / {s['queue'][1]:.0f}" if "queue" in s else ""
        lines.append(
            f"| {name} | {s['requests']:.0f} | {s['failures']:.0f} | {s['rps']:.1f} | {s['p50']:.0f} | {s['p95']:.0f} | {s['p99']:.0f} "
            f"| {q} | {c} | {cpu} | {queue} | {own} |"
        )
    held = [int(n) for n in mixed.get("Connections", {}).values()]
    if held:
        lines += [
            "",
            f"Client connections held by each of the {len(held)} workers at the end of the measured window, fewest first: "
            f"{', '.join(map(str, held))}. A worker serves the users whose connections it accepted, one request at a time.",
        ]
    lines += [
        "",
        "## Saturation (record views, no think time)",
        "",
        "Views/s is the mean of the rounds'; p50 and p95 are the rounds' weighted by their requests.",
        "",
        "| pass | views/s | each round, in the order run | p50 ms | p95 ms | failures |",
        "|---|---|---|---|---|---|",
        *(
            f"| {label} | {figures['record']['rps']:.1f} | "
            + ", ".join(f"{rps:.1f}" for rps in figures["record"]["rounds"])  # type: ignore[attr-defined]
            + f" | {figures['record']['p50']:.0f} | {figures['record']['p95']:.0f} | {figures['record']['failures']:.0f} |"
            for label, figures in (("audited (as in production)", saturated), ("audit insert a no-op (bench only)", no_audit))
        ),
        "",
        round_costs_line(saturated["record"]["rounds"], no_audit["record"]["rounds"]),  # type: ignore[arg-type]
        "",
        "## CPU per request",
        "",
        "Read from /proc at the start and end of each measured window: milliseconds of CPU per request (all request "
        "kinds), and in brackets the share of the machine's cores: where the time went and how full the machine was.",
        "",
        "| pass | " + " | ".join(CPU_PARTS) + " |",
        "|---|---|---|---|",
        *(
            f"| {label} | "
            + " | ".join(f"{figures['CPU'][part + ' ms']:.2f} ms ({figures['CPU'][part + ' %']:.0f} %)" for part in CPU_PARTS)
            + " |"
            for label, figures in (("mixed", mixed), ("saturation, audited", saturated), ("saturation, audit a no-op", no_audit))
        ),
        "",
        "## Search as bare SQL",
        "",
        bare_sql_line(explained, http_p50=mixed["search"]["p50"]),
        "",
        f"CSV files: `{stem}-mixed_*.csv`, `{stem}-saturation-r<round>_*.csv`, `{stem}-saturation-noaudit-r<round>_*.csv` (Locust), "
        "`*_queries.csv` (SQL statements and the app's CPU per request, from the X-Query-Count and X-App-CPU-Microseconds "
        "headers of loadtests/bench_wsgi.py, over the whole run, the sign-in ramp included; the wait in the worker and the "
        "app's own time, from X-Queue-Microseconds and X-App-Wall-Microseconds, over the measured window only). The wait in "
        "the worker runs from the moment the worker saw the request's connection readable until its request thread started "
        "the request (loadtests/bench_worker.py): the time the request waited behind the worker's other connections' "
        "requests, with gunicorn's reading and parsing of it. The app's own time runs from the moment gunicorn hands the "
        "request to Django until the response starts: its work and its waits for the database and for a core. The rest of "
        "what Locust measures is gunicorn's writing of the response, the kernel, and the load generator's own waits. The "
        "percentiles of the three parts do not add up to Locust's: the slowest requests in one part are not all the "
        "slowest in another.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (subprocess.CalledProcessError, RuntimeError, KeyError) as exc:
        say(f"the run broke: {exc}")
        sys.exit(2)

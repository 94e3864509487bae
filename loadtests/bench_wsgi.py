"""The app as ``make bench`` serves it: mais.wsgi unchanged, plus two benchmark-only instruments.

- Every response carries ``X-Query-Count``: the SQL statements Django ran
  for the whole request (session, sign-in checks, page), and
  ``X-Disclosure-Query-Count``: those run inside the choke point's
  disclose_* functions (the budget issue 6 sets), so the results can report
  both per request; and ``X-App-CPU-Microseconds``: the CPU time the request's
  thread spent from the moment gunicorn handed the request to Django until
  Django started the response (the page's own work, without gunicorn's
  parsing, keep-alive and logging), so the results can say which kind of
  request the app's CPU went to; and ``X-App-Wall-Microseconds``: the wall
  time over the same span, so the results can tell the app's own time (its
  work and its waits for the database and for a core) from the rest of what
  the load generator measures (the wait in gunicorn's queue, its parsing,
  the kernel, the load generator's own waits for a core).
  Served by the bench's worker (bench_worker.py), it also carries
  ``X-Queue-Microseconds``: how long the request waited in the worker
  before the request thread started on it.
- With MAIS_BENCH_AUDIT_NOOP=1 the audit row is not written (audit_noop.py).
  Only the bench's second saturation pass sets it, to measure what audit
  writing costs.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from loadtests import audit_noop
from loadtests.bench_worker import queued_seconds
from mais.wsgi import application as django_application

disclosure = importlib.import_module("access.disclosure")  # only once django.setup() has run, so not a top-level import

if os.environ.get("MAIS_BENCH_AUDIT_NOOP") == "1":
    audit_noop.install()


_local = threading.local()


def _inside_choke_point(function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _local.depth = getattr(_local, "depth", 0) + 1
        try:
            return function(*args, **kwargs)
        finally:
            _local.depth -= 1

    return wrapper


# The views import these by name when the URLconf first loads, after this module has run.
for _name in [n for n in dir(disclosure) if n.startswith("disclose_")]:
    _wrapped = _inside_choke_point(getattr(disclosure, _name))
    setattr(disclosure, _name, _wrapped)
    for _module in list(sys.modules.values()):
        if _module is not None and _module is not disclosure and getattr(_module, _name, None) is not None:
            setattr(_module, _name, _wrapped)


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    from django.db import connection

    count = [0, 0]
    started, started_wall = time.thread_time(), time.perf_counter()

    def counter(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        count[0] += 1
        if getattr(_local, "depth", 0):
            count[1] += 1
        return execute(sql, params, many, context)

    def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        extra = [
            ("X-Query-Count", str(count[0])),
            ("X-Disclosure-Query-Count", str(count[1])),
            ("X-App-CPU-Microseconds", str(round((time.thread_time() - started) * 1e6))),
            ("X-App-Wall-Microseconds", str(round((time.perf_counter() - started_wall) * 1e6))),
        ]
        queued = queued_seconds()
        if queued is not None:
            extra.append(("X-Queue-Microseconds", str(round(queued * 1e6))))
        return start_response(status, [*headers, *extra], exc_info)

    with connection.execute_wrapper(counter):
        return django_application(environ, start)

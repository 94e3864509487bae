"""The app as ``make bench`` serves it: mais.wsgi unchanged, plus two benchmark-only instruments.

- Every response carries ``X-Query-Count``: the SQL statements Django ran
  for that request, so the results can report queries per request.
- With MAIS_BENCH_AUDIT_NOOP=1 the audit row is not written (the chain lock,
  hash read and INSERT are skipped, and so are the alert rules that read
  the rows). Only the bench's second saturation pass
  sets it, to measure what audit writing costs; it lives here, in the load
  tests, so no production code path has a switch that turns auditing off.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from mais.wsgi import application as django_application

if os.environ.get("MAIS_BENCH_AUDIT_NOOP") == "1":
    import audit.services
    from audit.models import AuditEvent

    def _no_insert(self: AuditEvent, *args: Any, **kwargs: Any) -> None:
        self.id = 0

    AuditEvent.save = _no_insert  # type: ignore[method-assign]
    audit.services.evaluate_alerts = lambda *args, **kwargs: None


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    from django.db import connection

    count = [0]

    def counter(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        count[0] += 1
        return execute(sql, params, many, context)

    def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        return start_response(status, [*headers, ("X-Query-Count", str(count[0]))], exc_info)

    with connection.execute_wrapper(counter):
        return django_application(environ, start)

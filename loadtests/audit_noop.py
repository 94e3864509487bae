"""The benchmark-only switch that turns the audit insert into a no-op, to measure what audit writing costs (issue 6).

Only the bench's second saturation pass (``bench_wsgi.py`` with ``MAIS_BENCH_AUDIT_NOOP=1``) and
``profile_requests.py --audit-noop`` install it; it lives in the load tests, so no production code path has a switch
that turns auditing off.
"""

from __future__ import annotations

from typing import Any


def install() -> None:
    """Skip the statement that takes the chain lock, reads the tip, counts for the alert rules and INSERTs, and the
    alert rules themselves. The event is still built, as in production, up to the append. A reading the append
    rides on (the record a record view shows) still runs, alone, as the same prepared statement would without the
    INSERT: the record must still be read."""
    from django.db import connection

    import audit.services
    from audit.models import AuditEvent, Reading
    from mais import prepared

    def _no_insert(self: AuditEvent, *args: Any, reading: Reading | None = None, **kwargs: Any) -> tuple[Any, ...] | None:
        if reading is not None:
            with connection.cursor() as cursor:
                prepared.execute(cursor, reading.sql, reading.params)
                row = cursor.fetchone()
            if row is None:
                return None
            self.read_row = tuple(row)
        self.id = 0
        return (True, 0, True)  # as if the alerts had been raised: the rules have nothing to count

    AuditEvent.save = _no_insert  # type: ignore[method-assign,assignment]
    AuditEvent.append = _no_insert  # type: ignore[method-assign]
    audit.services.alerts.due = lambda *args, **kwargs: []  # type: ignore[attr-defined]

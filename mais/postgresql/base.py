"""Django's PostgreSQL backend, with a persistent connection's health checked without a round trip.

With ``CONN_HEALTH_CHECKS`` Django runs ``SELECT 1`` on a kept connection before the first statement of every
request, so that a connection the server has closed (a restart, a terminated backend) is replaced before a request
uses it instead of failing that request. That is one more round trip on every request, the sign-in check's and
the record's statements aside: measured in-process with the WSGI handler's per-request connection checks, 0.1-0.4 ms
more of PostgreSQL's CPU per record view (12 alternating rounds of 1,000 views, every pair the same way; issue 6).

Rule: a kept connection is asked ``SELECT 1`` only when its socket has something to read while idle. Between
requests the server sends nothing unprompted on a healthy connection; when it closes one (shutdown, restart,
``pg_terminate_backend``, idle timeout) it sends its FATAL message and closes the socket, which makes the socket
readable. Only then is Django's own check run, which reconnects a dead connection and consumes anything harmless
(a notice). A connection lost without a word from the server (a cable pulled) is caught by neither check: the
``SELECT 1`` would wait on it just as the request's own statement does.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self) -> None:
        # django-stubs does not declare the two flags Django's own check uses.
        if self.connection is None or not self.health_check_enabled or self.health_check_done:  # type: ignore[attr-defined,has-type]
            return
        if server_spoke(self.connection):
            super().close_if_health_check_failed()
        self.health_check_done = True


def server_spoke(raw: object) -> bool:
    """Whether an idle connection has input waiting (or is already closed): the sign that the server closed it."""
    if getattr(raw, "closed", 0):
        return True
    try:
        fd = raw.fileno()  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - any failure to reach the socket means the full check must decide
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))

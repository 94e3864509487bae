"""The bench's gunicorn worker: gunicorn's gthread worker, plus how long each request waited in the worker (bench only).

A gthread worker keeps each client's connection between requests and serves the requests of all its connections one
at a time (one request thread, gunicorn.conf.py says why). When a request arrives on a connection while the worker is
busy with another's, it waits in the worker's queue. This worker notes when the worker's main thread saw the
connection readable (or accepted it) and, when the request thread starts on it, how long that took; ``bench_wsgi.py``
sends it back as ``X-Queue-Microseconds``. With the app's own time (``X-App-Wall-Microseconds``) the results can say
where a slow request's time went: in the worker's queue (with gunicorn's reading and parsing of the request), in the
app, or elsewhere (gunicorn writing the response, the kernel, the load generator).

The wait does not include the time before the main thread saw the connection: that thread needs Python's lock too,
and while the request thread holds it the main thread may wait up to the interpreter's switch interval (5 ms).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

_local = threading.local()


def queued_seconds() -> float | None:
    """How long the request this thread is serving waited in the worker (None: not served by this worker)."""
    return getattr(_local, "queued", None)


class QueueTimingWorker(ThreadWorker):
    def enqueue_req(self, conn: Any) -> None:
        conn.mais_enqueued = time.perf_counter()
        super().enqueue_req(conn)

    def handle_request(self, req: Any, conn: Any) -> Any:
        enqueued = getattr(conn, "mais_enqueued", None)
        _local.queued = time.perf_counter() - enqueued if enqueued is not None else None
        try:
            return super().handle_request(req, conn)
        finally:
            _local.queued = None

"""gunicorn settings for production, from environment variables (the container's start command and CI use this file).

Workers are processes serving one request at a time (gunicorn's sync worker), eight per core, so the cores stay busy
while some wait on PostgreSQL and a short request is not stuck behind a long one. Two things were measured against it
with make bench on two cores (2026-11-30): threads within a worker contend for Python's GIL (a thread back from the
database may wait up to the 5 ms switch interval); and the gthread worker, even with one thread, keeps accepting
connections while busy, so a record view that lands on a worker running a search waits for it. Record view / search
p95 at 1,000,000 people: 8 gthread workers x 1 thread 69 / 90 ms, 16 x 1 55 / 82 ms, 8 x 3 (0.5 ms switch interval)
54 / 100 ms, 16 sync workers 43 / 83 ms. At 30,000: 3 x 4 threads (the old default) 28 / 43 ms, 16 sync 21 / 32 ms.
A sync worker closes each connection after its answer and must sit behind a buffering proxy (gunicorn's advice), as
the app is deployed: behind the TLS-terminating proxy. With MAIS_THREADS above 1 the gthread worker is used.

The access log records method, path, status and timing only; names and identifiers travel in POST bodies and never
reach it.
"""

import multiprocessing
import os

bind = os.environ.get("MAIS_BIND", "0.0.0.0:8000")  # nosec B104: inside a container, behind a proxy
workers = int(os.environ.get("MAIS_WORKERS", min(8 * multiprocessing.cpu_count(), 32)))
threads = int(os.environ.get("MAIS_THREADS", "1"))
worker_class = "sync" if threads == 1 else "gthread"
timeout = int(os.environ.get("MAIS_REQUEST_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
accesslog = os.environ.get("MAIS_ACCESS_LOG", "-")
errorlog = os.environ.get("MAIS_ERROR_LOG", "-")
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'
forwarded_allow_ips = os.environ.get("MAIS_FORWARDED_ALLOW_IPS", "127.0.0.1")
# The same access log lines, with only the fields the format names worked out per request (mais/accesslog.py).
logger_class = "mais.accesslog.AccessLogger"

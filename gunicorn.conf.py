"""gunicorn settings for production, from environment variables (the container's start command and CI use this file).

Workers are processes, one request at a time each by default: enough of them (four per core) that the cores stay busy
while some wait on PostgreSQL. Threads within a worker contend for Python's GIL, and a request that wants it back may
wait up to the interpreter's switch interval (5 ms) behind another thread's work. Measured with make bench (30k, two
cores, 2026-11-30): 3 workers x 4 threads gave search p50 17 ms, 6 x 2 15 ms, 8 x 1 12 ms, with app CPU per request
5.42, 5.19 and 4.59 ms. The gthread worker even with one thread keeps connections alive (the sync worker closes each
one). The access log records method, path, status and timing only; names and identifiers
travel in POST bodies and never reach it.
"""

import multiprocessing
import os

bind = os.environ.get("MAIS_BIND", "0.0.0.0:8000")  # nosec B104: inside a container, behind a proxy
workers = int(os.environ.get("MAIS_WORKERS", min(4 * multiprocessing.cpu_count(), 16)))
threads = int(os.environ.get("MAIS_THREADS", "1"))
worker_class = "gthread"
timeout = int(os.environ.get("MAIS_REQUEST_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
accesslog = os.environ.get("MAIS_ACCESS_LOG", "-")
errorlog = os.environ.get("MAIS_ERROR_LOG", "-")
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'
forwarded_allow_ips = os.environ.get("MAIS_FORWARDED_ALLOW_IPS", "127.0.0.1")
# The same access log lines, with only the fields the format names worked out per request (mais/accesslog.py).
logger_class = "mais.accesslog.AccessLogger"

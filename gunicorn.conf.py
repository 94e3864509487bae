"""gunicorn settings for production, from environment variables (the container's start command and CI use this file).

Workers are processes, threads serve requests within them: record views wait on PostgreSQL, so a few threads per
worker keep the cores busy. The access log records method, path, status and timing only; names and identifiers
travel in POST bodies and never reach it.
"""

import multiprocessing
import os

bind = os.environ.get("MAIS_BIND", "0.0.0.0:8000")  # nosec B104: inside a container, behind a proxy
workers = int(os.environ.get("MAIS_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 9)))
threads = int(os.environ.get("MAIS_THREADS", "4"))
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

"""gunicorn settings for production, from environment variables (the container's start command and CI use this file).

Workers are processes with one request thread each (gunicorn's gthread worker), eight per core, so the cores stay
busy while some wait on PostgreSQL. Measured with make bench on two cores (2026-11-30; loadtests/HISTORY.md has every
run): threads within a worker contend for Python's GIL (a thread back from the database may wait up to the 5 ms switch
interval), so one thread: at 30,000 people search p95 43 ms with 3 workers x 4 threads (the old default), 36 with
6 x 2, 29 with 8 x 1. A gthread worker keeps connections alive, but even with one thread it accepts connections while
busy, so a record view that lands on a worker running a search waits for it; more workers make that rarer: record
view p95 at 1,000,000 people 69 ms with 8 x 1, 55, 51 and 43 with 16 x 1. gunicorn's sync worker takes connections only
when idle but closes each after its answer: 43, 62 and 63 ms with 16 of them, and 324-352 record views a second at
saturation against 384-445. With MAIS_THREADS above 1 a worker serves that many requests at once.

Each worker loads the app itself; the master does not load it before forking (gunicorn's ``preload_app``, off).
Preloading lets the sixteen workers share one copy of the modules, settings and code: each worker's proportional
share of memory (PSS) was 41 MB with it and 66 MB without, in bench runs on 2026-12-06, so 400 MB less in all. It was
on for a few hours that day and then turned off again, because it did not make the app faster and on one machine made
it slower: in three pairs of full bench runs alternated with and without it (an Intel model-167 VM, 30,000 people),
without it served 4 % more audited record views a second at saturation and 6 % more with the audit a no-op, in every
pair; on an AMD VM earlier that day, saturation passes favoured it and a full bench showed no gain
(loadtests/HISTORY.md). Memory is not what these machines run short of. Where it is, start gunicorn with
``GUNICORN_CMD_ARGS=--preload``: ``when_ready`` then closes any database connection the master opened while loading
and sets what it loaded aside from the garbage collector before the first fork (mais/memory.py), so no worker inherits
a socket or copies those pages by collecting them; a code change then needs a restart, not a HUP.

The access log records method, path, status and timing only; names and identifiers travel in POST bodies and never
reach it.
"""

import multiprocessing
import os

bind = os.environ.get("MAIS_BIND", "0.0.0.0:8000")  # nosec B104: inside a container, behind a proxy
workers = int(os.environ.get("MAIS_WORKERS", min(8 * multiprocessing.cpu_count(), 32)))
threads = int(os.environ.get("MAIS_THREADS", "1"))
worker_class = "gthread"
preload_app = False  # the module docstring says why; GUNICORN_CMD_ARGS=--preload turns it on
timeout = int(os.environ.get("MAIS_REQUEST_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
accesslog = os.environ.get("MAIS_ACCESS_LOG", "-")
errorlog = os.environ.get("MAIS_ERROR_LOG", "-")
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'
forwarded_allow_ips = os.environ.get("MAIS_FORWARDED_ALLOW_IPS", "127.0.0.1")
# The same access log lines, with only the fields the format names worked out per request (mais/accesslog.py).
logger_class = "mais.accesslog.AccessLogger"


def when_ready(server):  # type: ignore[no-untyped-def]  # gunicorn's hook signature
    """In the master, once the app is loaded and before the first worker is forked (mais/memory.py). Only when the app
    was preloaded: otherwise the master has loaded no Django and has nothing of the app's to freeze."""
    if server.cfg.preload_app:
        from mais.memory import freeze_before_fork

        freeze_before_fork()


def post_worker_init(worker):  # type: ignore[no-untyped-def]  # gunicorn's hook signature
    """Before a worker serves, it fills its per-process caches (mais/warmup.py), then sets aside from the garbage
    collector what it has loaded, those caches included (mais/memory.py)."""
    from mais.memory import freeze_at_start
    from mais.warmup import warm_process_caches

    warm_process_caches()
    freeze_at_start()


def post_request(worker, req, environ, resp):  # type: ignore[no-untyped-def]  # gunicorn's hook signature
    """Once a worker is warm, what its first requests left is set aside from the garbage collector (mais/memory.py)."""
    from mais.memory import freeze_when_warm

    freeze_when_warm(worker.nr)

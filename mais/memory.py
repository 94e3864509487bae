"""Garbage collection in a long-running worker: what a worker keeps for its whole life is set aside from the collector.

Python's cycle collector walks every container object it tracks. A worker's long-lived objects (the modules, models
and settings loaded at start; the URL patterns, compiled templates and caches that fill on the first requests) are
over a hundred thousand, and the full collections Python runs every few hundred requests walked them all, during
which that worker answers nobody (issue 6). Measured with gc.callbacks over 960 requests of the bench's mix
in-process (loadtests/profile_requests.py): 4 full collections of 30-200 ms each. ``gc.freeze()`` moves what exists
at that moment out of the collector's sight for good: after it the full collections took 1-5 ms, and all collections
together 466 against 836 ms in runs made back to back.

Where gunicorn is told to load the app in its master before it forks the workers (``GUNICORN_CMD_ARGS=--preload``;
off in gunicorn.conf.py, which says why), ``freeze_before_fork`` freezes what the master loaded, so that a worker's
collections never walk those objects and so never write to the pages they share with the master and the other workers
(a collection writes into each object it walks, and the kernel then copies that page for the worker alone).

Then, in each worker, two freezes, each after a full collection, so no garbage is frozen (a frozen cycle would never be
freed):
- ``freeze_at_start``, when the worker has loaded the app and before it serves anyone: about 90,000 objects, a
  collection of 40-50 ms that no request waits for.
- ``freeze_when_warm``, after ``FREEZE_AFTER_REQUESTS`` requests, for what the first requests left behind (about
  30,000 objects more). Its collection walks only those: 11 ms, against 64 ms when the start's freeze was not made
  (in-process, quiet machine, after 200 record views and searches). The workers of a server reach their 200th
  request at about the same time: in a bench run with 32 workers and only the late freeze, the slowest request and
  the p95 jumped (to 2.2 s and from 250 to 880 ms) about 20 s into the measured window, when (estimated from the
  request rate) the workers were reaching it; with both freezes the next such run showed no jump of that size (loadtests/HISTORY.md).

The cycle collector never looks at a frozen object again (one is still freed when its last reference goes), which
suits these: they live as long as the worker.
"""

from __future__ import annotations

import gc

# Enough for the pages' templates, the URL resolver and the caches that fill on first use to exist; a busy worker
# reaches it within a minute.
FREEZE_AFTER_REQUESTS = 200


def freeze_before_fork() -> None:
    """In gunicorn's master (``when_ready``): close the database connections loading may have opened, so no worker
    inherits a socket it would share with its siblings, then collect and freeze what the app loaded."""
    from django.db import connections

    connections.close_all()
    gc.collect()
    gc.freeze()


def freeze_at_start() -> None:
    """Collect and freeze what the worker loaded at start (gunicorn's ``post_worker_init``), before it serves."""
    gc.collect()
    gc.freeze()


def freeze_when_warm(requests_served: int) -> bool:
    """After the worker's ``FREEZE_AFTER_REQUESTS``-th request (and only then), collect and freeze what survives.

    Returns whether it froze, for the test."""
    if requests_served != FREEZE_AFTER_REQUESTS:
        return False
    gc.collect()
    gc.freeze()
    return True

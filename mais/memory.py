"""Garbage collection in a long-running worker: what a worker keeps for its whole life is set aside once it is warm.

Python's cycle collector walks every container object it tracks. A worker's long-lived objects (the URL patterns,
compiled templates, cached vocabularies and policy, the modules' own tables) are over a hundred thousand of them, and
the full collections Python runs every few hundred requests walked them all, during which that worker answers nobody
(issue 6). Measured with gc.callbacks over 960 requests of the bench's mix in-process (loadtests/profile_requests.py):
4 full collections of 30-200 ms each (about 45 ms on a quiet machine). ``gc.freeze()`` moves what exists at that
moment out of the collector's sight for good: after it the full collections took 1-5 ms (121,716 objects frozen, 2,258
still tracked), and all collections together took 466 against 836 ms in runs made back to back (269-351 against
356-387 ms in earlier runs minutes apart). The freeze waits until the worker has served some requests, so the caches
that fill on first use are frozen with the rest, and it happens once, after a response has gone, so nobody waits for
it. The cycle collector never looks at a frozen object again (one is still freed when its last reference goes), which
suits these: they live as long as the worker.
"""

from __future__ import annotations

import gc

# Enough for the pages' templates, the URL resolver and the caches that fill on first use to exist; a busy worker
# reaches it within a minute.
FREEZE_AFTER_REQUESTS = 200


def freeze_when_warm(requests_served: int) -> bool:
    """After the worker's ``FREEZE_AFTER_REQUESTS``-th request (and only then), collect and freeze what survives.

    Returns whether it froze, for the test."""
    if requests_served != FREEZE_AFTER_REQUESTS:
        return False
    gc.collect()
    gc.freeze()
    return True

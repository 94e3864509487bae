"""The per-process look-ups a worker makes before it serves, so that no user's request pays for them (issue 6).

Two things are read from the database once per process and kept for its life:
- the content types: every audit row names the kind of object it is about, and Django caches those rows per process;
- the controlled vocabularies (``records.terms``).
If they are left to the first request that needs them, the worker's first record view runs 3 or 4 statements in the
choke point instead of 2, and its first search 4 or 5 instead of 3. The bench saw these as the occasional maximum
(loadtests/HISTORY.md). Loading them when the worker starts gives every request the same count.

This is best effort. If the database does not answer at start, the failure is logged and the worker starts anyway; the
first request that needs them loads them, as before. A worker that cannot start is worse than a slower first request,
and the request path still reports a database that is down as it always has.
"""

from __future__ import annotations

import logging

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection

from records.terms import terms

logger = logging.getLogger("mais")


def warm_process_caches() -> bool:
    """Load every model's content type and the vocabularies into this process's caches. Returns whether it could.

    Two statements: all the content types in one, and the terms in one. The database connection they open is then
    closed. A gunicorn worker serves requests on threads of its own, each with its own connection, so this thread's
    connection would sit idle for the worker's life: one more connection per worker on the server. A caller inside a
    transaction (a test) keeps its connection.
    """
    try:
        ContentType.objects.get_for_models(*apps.get_models())
        terms()
    except DatabaseError as exc:
        logger.warning("the worker starts without its caches warm: the database did not answer (%s)", type(exc).__name__)
        return False
    finally:
        if not connection.in_atomic_block:
            connection.close()
    return True

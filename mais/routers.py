"""Reads that may go to a streaming replica, and everything else on the primary.

Rules and reasons:
- Only code that asks (``with replica_reads():``) reads from the replica, and only when one is configured
  (``MAIS_REPLICA_DATABASE_URL``). Today that is the network reports' counts, which tolerate a few
  seconds of replication lag. A disclosure never does: it must see the policy, consent and agreements as
  they are now, and it writes its audit row in the same transaction.
- Every write goes to the primary, whatever the context: above all the audit trail.
- Migrations run on the primary only; the replica follows by streaming replication.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings

REPLICA = "replica"
_state = threading.local()


@contextmanager
def replica_reads() -> Iterator[None]:
    previous = getattr(_state, "on", False)
    _state.on = True
    try:
        yield
    finally:
        _state.on = previous


def read_alias() -> str:
    """The database to read from here: the replica inside ``replica_reads()`` when one is configured."""
    return REPLICA if getattr(_state, "on", False) and REPLICA in settings.DATABASES else "default"


class ReplicaRouter:
    def db_for_read(self, model: Any, **hints: Any) -> str:
        return read_alias()

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == "default"

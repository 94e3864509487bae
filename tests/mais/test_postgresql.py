"""A kept database connection is checked before reuse without a round trip, and one the server closed is replaced."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from django.db import connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from mais.postgresql.base import server_spoke


@pytest.fixture
def kept() -> Iterator[BaseDatabaseWrapper]:
    """A second connection to the test database, as a gunicorn worker keeps one between requests."""
    other = connections.create_connection("default")
    other.ensure_connection()
    other.health_check_enabled = True  # production's CONN_HEALTH_CHECKS, whatever the test settings
    try:
        yield other
    finally:
        other.close()


def _next_request(conn: BaseDatabaseWrapper) -> int:
    """What a request does first with a kept connection: Django marks it unchecked, then runs a statement."""
    conn.health_check_done = False
    with conn.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_a_connection_the_server_left_alone_is_reused_without_asking_it(kept, monkeypatch):
    asked: list[int] = []
    monkeypatch.setattr(kept, "is_usable", lambda: asked.append(1) or True)
    first = _next_request(kept)
    assert _next_request(kept) == first
    assert asked == [], "Django's SELECT 1 ran: a round trip on every request"
    assert kept.health_check_done


@pytest.mark.django_db
def test_a_connection_the_server_closed_is_replaced_before_the_request_uses_it(kept):
    before = _next_request(kept)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [before])
    deadline = time.monotonic() + 10
    while not server_spoke(kept.connection) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server_spoke(kept.connection), "the server's goodbye never reached the socket"

    after = _next_request(kept)  # no OperationalError: the dead connection was closed and a new one opened

    assert after != before


@pytest.mark.django_db
def test_a_closed_connection_counts_as_one_to_check(kept):
    raw = kept.connection
    raw.close()
    assert server_spoke(raw)

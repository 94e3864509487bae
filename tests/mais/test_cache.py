"""The shared cache's Redis backend keeps one redis-py client per connection pool (mais/cache.py)."""

from __future__ import annotations

import socket

import pytest
import redis
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

from mais.cache import RedisCache

REDIS_URL = "redis://127.0.0.1:6379/13"


def _redis_answers() -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", 6379)) == 0


def test_the_client_is_built_once_and_kept() -> None:
    cache = RedisCache(REDIS_URL, {})
    first = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=False) is first
    assert cache._cache.get_client("some-key") is first


def test_djangos_own_backend_builds_a_client_per_call() -> None:
    """Why mais.cache exists; if Django starts keeping its client, the subclass can go."""
    cache = DjangoRedisCache(REDIS_URL, {})
    assert cache._cache.get_client() is not cache._cache.get_client()


@pytest.mark.skipif(not _redis_answers(), reason="needs Redis on 127.0.0.1:6379 (the CI machine has it)")
def test_values_round_trip_through_the_kept_client() -> None:
    cache = RedisCache(REDIS_URL, {})
    redis.Redis.from_url(REDIS_URL).flushdb()
    cache.set("session:alice", {"step": "verified"}, 30)
    assert cache.get("session:alice") == {"step": "verified"}
    assert cache.get_many(["session:alice", "session:bob"]) == {"session:alice": {"step": "verified"}}
    cache.delete("session:alice")
    assert cache.get("session:alice") is None

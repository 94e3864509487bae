"""Django's Redis cache backend, keeping its redis-py client instead of building one on every call.

Django's ``RedisCacheClient.get_client`` makes a new ``redis.Redis`` around the same connection pool for every
cache operation. Sessions live in this cache, so that is at least one client built per request, and building one
(its response callbacks, driver information and locks) was about 2 % of the app's CPU in a record view under load
(py-spy, issue 6). A redis-py client is meant to be long-lived and shares its pool safely; Django's cache handler
already gives each thread its own backend instance, so one client per pool per instance changes nothing else.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class _KeptClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))  # pools are kept for the backend's life, so their ids stay theirs
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _KeptClient

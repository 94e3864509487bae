"""A worker freezes its long-lived objects at start and once more when warm (mais.memory, gunicorn.conf.py's hooks)."""

from __future__ import annotations

import gc
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest

from mais import memory


@pytest.fixture
def freezes(monkeypatch):
    """The freezes asked for (gc.freeze itself is not counted by a total: frozen objects freed since leave it)."""
    calls: list[str] = []
    monkeypatch.setattr(memory.gc, "collect", lambda *a: calls.append("collect") or 0)
    monkeypatch.setattr(memory.gc, "freeze", lambda: calls.append("freeze"))
    return calls


def test_a_worker_freezes_once_after_its_warm_up_requests(freezes):
    assert not memory.freeze_when_warm(memory.FREEZE_AFTER_REQUESTS - 1)
    assert freezes == []
    assert memory.freeze_when_warm(memory.FREEZE_AFTER_REQUESTS)
    assert freezes == ["collect", "freeze"]
    assert not memory.freeze_when_warm(memory.FREEZE_AFTER_REQUESTS + 1)
    assert freezes == ["collect", "freeze"]


def _hook(name: str):
    return runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))[name]


def test_gunicorn_freezes_a_worker_once_it_has_loaded_the_app(freezes, monkeypatch):
    monkeypatch.setattr("mais.warmup.warm_process_caches", lambda: freezes.append("warm") or True)
    _hook("post_worker_init")(SimpleNamespace(nr=0))
    assert freezes == ["warm", "collect", "freeze"]  # the caches it fills are frozen with the rest


def test_gunicorn_calls_it_after_each_request_with_the_workers_count(freezes):
    hook = _hook("post_request")
    hook(SimpleNamespace(nr=memory.FREEZE_AFTER_REQUESTS - 1), None, {}, None)
    assert freezes == []
    hook(SimpleNamespace(nr=memory.FREEZE_AFTER_REQUESTS), None, {}, None)
    assert freezes == ["collect", "freeze"]


def test_the_freeze_sets_the_processs_objects_aside():
    gc.unfreeze()
    try:
        assert memory.freeze_when_warm(memory.FREEZE_AFTER_REQUESTS)
        assert gc.get_freeze_count() > 1000  # this process's modules, classes and caches
    finally:
        gc.unfreeze()


def test_each_gunicorn_worker_loads_the_app_itself_unless_the_operator_preloads():
    """Off by default: alternated bench runs found preloading no faster and on one machine slower (gunicorn.conf.py)."""
    assert _hook("preload_app") is False


def test_before_the_first_fork_the_master_closes_its_connections_then_freezes(freezes, monkeypatch):
    monkeypatch.setattr("django.db.connections.close_all", lambda: freezes.append("close"))
    _hook("when_ready")(SimpleNamespace(cfg=SimpleNamespace(preload_app=True)))
    assert freezes == ["close", "collect", "freeze"]  # no worker inherits a database socket


def test_a_master_that_did_not_preload_the_app_leaves_it_alone(freezes, monkeypatch):
    monkeypatch.setattr("django.db.connections.close_all", lambda: freezes.append("close"))
    _hook("when_ready")(SimpleNamespace(cfg=SimpleNamespace(preload_app=False)))
    assert freezes == []

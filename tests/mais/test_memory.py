"""A worker freezes its long-lived objects once, when warm (mais.memory, gunicorn.conf.py's post_request hook)."""

from __future__ import annotations

import gc
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest

from mais import memory


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_a_worker_freezes_once_after_its_warm_up_requests(unfrozen):
    assert gc.get_freeze_count() == 0
    assert not memory.freeze_when_warm(memory.FREEZE_AFTER_REQUESTS - 1)
    assert gc.get_freeze_count() == 0

    assert memory.freeze_when_warm(memory.FREEZE_AFTER_REQUESTS)
    frozen = gc.get_freeze_count()
    assert frozen > 1000  # this process's modules, classes and caches

    assert not memory.freeze_when_warm(memory.FREEZE_AFTER_REQUESTS + 1)
    assert gc.get_freeze_count() == frozen


def test_gunicorn_calls_it_after_each_request_with_the_workers_count(unfrozen):
    hook = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))["post_request"]
    hook(SimpleNamespace(nr=memory.FREEZE_AFTER_REQUESTS - 1), None, {}, None)
    assert gc.get_freeze_count() == 0
    hook(SimpleNamespace(nr=memory.FREEZE_AFTER_REQUESTS), None, {}, None)
    assert gc.get_freeze_count() > 1000

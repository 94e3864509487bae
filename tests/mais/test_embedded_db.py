"""The embedded PostgreSQL stops when the last process using it exits, even if another died without saying so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import psutil
import pytest

from mais.embedded_db import HOLDERS_FILE, read_holders, write_holders
from tests.appserver import ROOT

HOLDER = """
import json, os, subprocess, sys
from pathlib import Path
from mais.embedded_db import ensure_embedded_database

var = Path(sys.argv[1])
ensure_embedded_database(var)
if sys.argv[2] == "first":
    subprocess.run([sys.executable, __file__, sys.argv[1], "second"], check=True)
    print(json.dumps(json.loads((var / "pgdata" / ".handle_pids.json").read_text())))
else:
    os._exit(0)  # as runserver leaves when its port is taken: no exit hooks
"""


def _wait_until_stopped(pgdata) -> None:
    postmaster = pgdata / "postmaster.pid"
    deadline = time.monotonic() + 20
    while postmaster.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    pid = int(postmaster.read_text().split()[0]) if postmaster.exists() else None
    assert pid is None or not psutil.pid_exists(pid), "the embedded PostgreSQL was left running"


def test_ctrl_c_on_the_demo_stops_the_server_even_after_a_second_demo_was_refused_its_port(tmp_path_factory):
    """The first demo holds the server; a second joins it and leaves with os._exit, so its pid stays in the
    wheel's holder list. When the first exits, the server must still stop: it was the last living holder."""
    var = tmp_path_factory.mktemp("embedded")
    script = var / "holder.py"
    script.write_text(HOLDER)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(  # noqa: S603
        [sys.executable, str(script), str(var), "first"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(json.loads(done.stdout.strip().splitlines()[-1])) == 2  # the first and the dead second
    _wait_until_stopped(var / "pgdata")


SOLE_HOLDER = """
import sys
from pathlib import Path
from mais.embedded_db import ensure_embedded_database

ensure_embedded_database(Path(sys.argv[1]))
print("joined")
"""


def test_a_holder_list_left_empty_by_a_cut_short_stop_is_started_afresh_not_a_traceback(tmp_path_factory):
    """A second SIGTERM during the demo's exit hooks once truncated the list and left it empty: the server ran on,
    and `make code` and `make demo` died reading it. The next process must say so, carry on, and stop the server."""
    var = tmp_path_factory.mktemp("embedded")
    script = var / "holder.py"
    script.write_text(SOLE_HOLDER)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def join() -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603
            [sys.executable, str(script), str(var)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )

    assert join().returncode == 0
    _wait_until_stopped(var / "pgdata")
    (var / "pgdata" / HOLDERS_FILE).write_text("")

    done = join()
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "joined"
    assert "was unreadable" in done.stderr
    assert "Traceback" not in done.stderr
    assert read_holders(var / "pgdata" / HOLDERS_FILE) == []
    _wait_until_stopped(var / "pgdata")


def test_holder_list_reads(tmp_path):
    path = tmp_path / HOLDERS_FILE
    assert read_holders(path) == []  # no list: no holders
    for unreadable in ("", "[12, 3", '{"pid": 1}', '["12"]'):
        path.write_text(unreadable)
        assert read_holders(path) is None, unreadable
    path.write_text("[12, 34]")
    assert read_holders(path) == [12, 34]


def test_a_holder_list_write_cut_short_leaves_the_old_list_whole(tmp_path, monkeypatch):
    """The list is replaced in one step: a write interrupted before it lands leaves the previous list, not half of one."""
    path = tmp_path / HOLDERS_FILE
    write_holders(path, [12, 34])

    def interrupted(src: object, dst: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_holders(path, [12])
    assert read_holders(path) == [12, 34]

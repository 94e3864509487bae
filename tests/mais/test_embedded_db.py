"""The embedded PostgreSQL stops when the last process using it exits, even if another died without saying so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import psutil

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
    postmaster = var / "pgdata" / "postmaster.pid"
    deadline = time.monotonic() + 20
    while postmaster.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    pid = int(postmaster.read_text().split()[0]) if postmaster.exists() else None
    assert pid is None or not psutil.pid_exists(pid), "the embedded PostgreSQL was left running"

"""`make demo` stops cleanly on Ctrl-C or SIGTERM, however many arrive: its exit hooks stop the embedded PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.appserver import ROOT

DEMO = """
import atexit, sys, time
from pathlib import Path
from mais.management.commands.demo import serve_until_stopped

out = Path(sys.argv[1])

def exit_hook():  # stands for the embedded database's exit hooks, which stop the server
    (out / "hook-started").touch()
    time.sleep(1.0)
    (out / "hook-finished").touch()

def serve():
    (out / "serving").touch()
    while True:
        time.sleep(0.05)

atexit.register(exit_hook)
serve_until_stopped(serve)
"""


def _wait_for(path: Path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.02)


def _stop_twice(tmp_path: Path, first: signal.Signals, second: signal.Signals) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "demo.py"
    script.write_text(DEMO)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, str(script), str(tmp_path)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        _wait_for(tmp_path / "serving")
        proc.send_signal(first)
        _wait_for(tmp_path / "hook-started")
        proc.send_signal(second)  # as make passes on a SIGTERM its process group already got
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_a_second_sigterm_while_the_demo_stops_does_not_cut_its_exit_hooks_short(tmp_path):
    done = _stop_twice(tmp_path, signal.SIGTERM, signal.SIGTERM)
    assert (tmp_path / "hook-finished").exists(), done.stderr[-2000:]
    assert done.returncode == 0
    assert "Traceback" not in done.stderr


def test_ctrl_c_then_sigterm_while_the_demo_stops_does_not_cut_its_exit_hooks_short(tmp_path):
    done = _stop_twice(tmp_path, signal.SIGINT, signal.SIGTERM)
    assert (tmp_path / "hook-finished").exists(), done.stderr[-2000:]
    assert done.returncode == 0
    assert "Traceback" not in done.stderr


TWICE = """
import signal
from mais.management.commands.demo import _interrupt

for call in ("first", "second"):
    try:
        _interrupt(signal.SIGTERM, None)
        print(call, "returned")
    except KeyboardInterrupt:
        print(call, "raised")
print(signal.getsignal(signal.SIGTERM) == signal.SIG_IGN, signal.getsignal(signal.SIGINT) == signal.SIG_IGN)
"""


def test_only_the_first_stop_signal_interrupts_even_if_a_second_trips_before_the_rest_are_ignored(tmp_path):
    script = tmp_path / "twice.py"
    script.write_text(TWICE)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)  # noqa: S603
    assert done.stdout.split("\n")[:3] == ["first raised", "second returned", "True True"], done.stderr[-2000:]

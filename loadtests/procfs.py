"""Processes and their connections, read from Linux's /proc, for the load test's results.

Imported by the locustfile, which Locust loads with gevent's patching: nothing here imports Locust, so the tests can
import it too.
"""

from __future__ import annotations

import os
from collections.abc import Iterator


def processes() -> Iterator[tuple[int, str, list[str]]]:
    """Each running process: its pid, its name, and the fields of its stat line after the name (state, ppid, ...)."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            name, fields = _stat(int(entry.name))
        except OSError:
            continue  # the process ended
        yield int(entry.name), name, fields


def cpu_seconds(pid: int) -> float:
    """The CPU seconds, user and system, that one process has used so far (not counting its children)."""
    fields = _stat(pid)[1]
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[str, list[str]]:
    """A process's name and the fields of its stat line after the name (the name may hold spaces and brackets)."""
    with open(f"/proc/{pid}/stat") as handle:
        stat = handle.read()
    return stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()


def connections_per_worker(server: int, port: int) -> list[int]:
    """How many client connections each of the server's workers holds open on ``port`` (Linux /proc), fewest first.

    A gunicorn gthread worker keeps a client's connection between its requests, so a virtual user is served by the
    worker that accepted its connection for the whole run, and a worker holding many users' connections makes them
    wait for each other while other workers idle: this says how evenly the accepts fell.
    """
    established: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as handle:
                rows = handle.read().splitlines()[1:]
        except OSError:
            continue
        # Columns: sl, local address (hex address:port), remote address, state (01: established), ..., inode (the
        # tenth). The server's side of a client's connection has the server's port as its local port; a worker's
        # database and Redis connections do not.
        established.update(
            f"socket:[{cols[9]}]"
            for cols in (row.split() for row in rows)
            if cols[3] == "01" and int(cols[1].rsplit(":", 1)[1], 16) == port
        )
    counts = []
    for pid, _name, fields in processes():
        if server == 0 or int(fields[1]) != server:
            continue
        try:
            links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        except OSError:
            continue  # the process ended
        counts.append(sum(1 for link in links if link in established))
    return sorted(counts)

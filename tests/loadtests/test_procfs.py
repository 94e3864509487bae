"""The bench's count of client connections per worker, against real processes and sockets."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

from loadtests.procfs import connections_per_worker, cpu_seconds, processes

# A worker: listens, accepts two clients, opens one connection of its own (as to its database), holds them until
# its standard input closes.
WORKER = """
import socket, sys
listener = socket.create_server(("127.0.0.1", 0))
print(listener.getsockname()[1], flush=True)
held = [listener.accept()[0], listener.accept()[0], socket.create_connection(("127.0.0.1", int(sys.argv[1])))]
print("ready", flush=True)
sys.stdin.read()
"""


def test_each_child_counts_the_connections_it_accepted_on_the_port_and_nothing_else() -> None:
    """Charlie's worker accepted two connections on the server's port; its own outgoing connection is not counted."""
    other = socket.create_server(("127.0.0.1", 0))  # another service the worker talks to
    worker = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", WORKER, str(other.getsockname()[1])], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert worker.stdout is not None and worker.stdin is not None
    clients: list[socket.socket] = []
    try:
        port = int(worker.stdout.readline())
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
        assert worker.stdout.readline().strip() == "ready"
        # This process may have other children (the test database server): they hold none of these connections.
        counts = connections_per_worker(os.getpid(), port)
        assert max(counts) == 2 and sum(counts) == 2
        assert sum(connections_per_worker(os.getpid(), other.getsockname()[1])) == 0  # the worker's own is the client side
    finally:
        worker.stdin.close()
        worker.wait(timeout=10)
        for client in clients:
            client.close()
        other.close()


def test_a_processs_cpu_seconds_grow_as_it_computes_and_match_its_entry_in_the_process_list() -> None:
    """profile_requests.py --db-cpu reads one process's CPU; it must be that process's own stat line, read right."""
    before = cpu_seconds(os.getpid())
    deadline = time.process_time() + 0.1
    while time.process_time() < deadline:
        pass
    assert cpu_seconds(os.getpid()) - before >= 0.05  # clock ticks of 10 ms: most of the 0.1 s spent
    name, fields = next((name, fields) for pid, name, fields in processes() if pid == os.getpid())
    assert name.startswith("python") or "pytest" in name
    assert fields[0] in "RSD"  # the state, the first field after the name

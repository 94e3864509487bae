"""The bench's gunicorn worker says how long each request waited in the worker, on new and kept-alive connections."""

from __future__ import annotations

import http.client
import subprocess
import time
import urllib.request

from tests.appserver import BIN, ROOT, free_port, production_env


def test_each_answer_says_how_long_it_waited_in_the_worker(tmp_path):
    port = free_port()
    command = [
        str(BIN / "gunicorn"),
        "loadtests.bench_wsgi:application",
        f"--bind=127.0.0.1:{port}",
        "--workers=1",
        "--threads=1",
        "--worker-class=loadtests.bench_worker.QueueTimingWorker",
        "--error-logfile=-",
    ]
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as handle:
        server = subprocess.Popen(command, cwd=ROOT, env=production_env(), stdout=handle, stderr=subprocess.STDOUT)  # noqa: S603
    headers = {"Host": "127.0.0.1", "X-Forwarded-Proto": "https"}
    try:
        deadline = time.monotonic() + 60
        while True:  # until the worker has started and answers
            try:
                with urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/health/", headers=headers), timeout=5):  # noqa: S310
                    break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.2)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        # The first request arrives on a new connection, the second on the same one kept alive.
        for _ in range(2):
            started = time.perf_counter()
            connection.request("GET", "/health/", headers=headers)
            response = connection.getresponse()
            response.read()
            took = (time.perf_counter() - started) * 1e6
            assert response.status == 200, log.read_text()[-3000:]
            queued, app = int(response.getheader("X-Queue-Microseconds")), int(response.getheader("X-App-Wall-Microseconds"))
            assert 0 <= queued < took and 0 < app < took
        connection.close()
    finally:
        server.terminate()
        server.wait(timeout=30)

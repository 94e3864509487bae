"""The bench's WSGI wrapper: every answer says how many statements it ran and how much of the app's CPU it took."""

from __future__ import annotations

import io
from typing import Any


def test_every_answer_carries_its_statement_count_and_its_cpu(db, settings):
    from loadtests import bench_wsgi

    settings.ALLOWED_HOSTS = ["testserver"]
    answered: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        answered["status"], answered["headers"] = status, dict(headers)

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/health/",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "HTTP_X_FORWARDED_PROTO": "https",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
    }
    b"".join(bench_wsgi.application(environ, start_response))

    assert answered["status"].startswith("200")
    headers = answered["headers"]
    assert headers["X-Query-Count"] == "0"  # the health check answers without the database
    assert headers["X-Disclosure-Query-Count"] == "0"
    assert int(headers["X-App-CPU-Microseconds"]) > 0
    assert int(headers["X-App-Wall-Microseconds"]) > 0

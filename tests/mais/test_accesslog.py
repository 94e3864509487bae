"""The access log writes the lines gunicorn's own logger writes (mais.accesslog, gunicorn.conf.py)."""

from __future__ import annotations

import datetime as dt
import logging
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn import glogging
from gunicorn.config import Config

from mais.accesslog import AccessLogger

PRODUCTION_FORMAT = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))["access_log_format"]
EVERY_FIELD = (
    '%(h)s %(l)s %(u)s "%(r)s" %(s)s %(m)s %(U)s %(q)s %(H)s %(b)s %(B)s %(f)s %(a)s %(T)s %(D)s %(M)s %(L)s %(p)s '
    "%({x-request-id}o)s %({X-Request-ID}o)s %({content-type}o)s %({missing}o)s %({user-agent}i)s %({missing}i)s "
    "%({remote_addr}e)s %({raw_uri}e)s %(nonsense)s"
)


def _request(quote: str = "") -> tuple[SimpleNamespace, SimpleNamespace, dict[str, str], dt.timedelta]:
    resp = SimpleNamespace(
        status="200 OK",
        sent=1234,
        headers=[("Content-Type", "text/html"), ("X-Request-ID", "abc123"), ("X-Request-ID", f"last{quote}")],
    )
    req = SimpleNamespace(headers=[("USER-AGENT", f"locust{quote}"), ("HOST", "testserver")])
    environ = {
        "REMOTE_ADDR": "127.0.0.1",
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/records/1/?x=1",
        "PATH_INFO": f"/records/1/{quote}",
        "QUERY_STRING": "x=1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_USER_AGENT": f"locust{quote}",
    }
    return resp, req, environ, dt.timedelta(seconds=1, microseconds=234567)


def _line(logger_class: type[glogging.Logger], log_format: str, quote: str) -> str:
    config = Config()
    config.set("accesslog", "-")
    config.set("access_log_format", log_format)
    logger = logger_class(config)
    records: list[logging.LogRecord] = []
    logger.access_log.handlers = [type("Keep", (logging.Handler,), {"emit": lambda self, r: records.append(r)})()]
    logger.access(*_request(quote))
    assert len(records) == 1
    return records[0].getMessage()


@pytest.mark.parametrize("log_format", [PRODUCTION_FORMAT, EVERY_FIELD], ids=["production format", "every field"])
@pytest.mark.parametrize("quote", ["", '"'], ids=["plain", "with quotes"])
def test_the_lines_are_gunicorns(log_format: str, quote: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(glogging.Logger, "now", lambda self: "[30/Nov/2026:03:00:00 +0000]")
    monkeypatch.setattr(glogging.os, "getpid", lambda: 4242)
    ours = _line(AccessLogger, log_format, quote)
    assert ours == _line(glogging.Logger, log_format, quote)
    assert "abc123" not in ours and "last" in ours  # the last X-Request-ID, as gunicorn keeps it


def test_gunicorn_conf_uses_it() -> None:
    assert runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))["logger_class"] == "mais.accesslog.AccessLogger"

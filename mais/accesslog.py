"""gunicorn's access log with each line's fields worked out only when the log format asks for them.

gunicorn builds every field it could log for every request (about eighty: each request and response header, each
WSGI environ entry, the time as text) and copies them all to escape quotes, then logs the five or six our format
names (gunicorn.conf.py). Under load that was about 2 % of the app's CPU on a record view (py-spy, issue 6). This
logger gives the log the same mapping, lazily: the fields our format uses are read straight from the request, and
any other field falls back to gunicorn's own mapping, built as gunicorn builds it. The lines are the same (the test
compares both for our format and for one naming every field).
"""

from __future__ import annotations

import datetime as dt
import traceback
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from gunicorn import glogging


def _status(resp: Any) -> Any:
    status = resp.status
    return status.split(None, 1)[0] if isinstance(status, str) else status


def _header(headers: Any, name: str) -> Any:
    """The last header of that name (as gunicorn's dict of headers keeps it), or "-"."""
    found: Any = "-"
    for key, value in headers.items() if hasattr(headers, "items") else headers:
        if key.lower() == name:
            found = value
    return found


_DIRECT: dict[str, Callable[[Any, Any, dict[str, Any], dt.timedelta], Any]] = {
    "h": lambda resp, req, environ, took: environ.get("REMOTE_ADDR", "-"),
    "m": lambda resp, req, environ, took: environ.get("REQUEST_METHOD"),
    "U": lambda resp, req, environ, took: environ.get("PATH_INFO"),
    "s": lambda resp, req, environ, took: _status(resp),
    "b": lambda resp, req, environ, took: getattr(resp, "sent", None) is not None and str(resp.sent) or "-",
    "M": lambda resp, req, environ, took: took.seconds * 1000 + int(took.microseconds / 1000),
}


class _Fields(Mapping[str, Any]):
    """What ``glogging.SafeAtoms(logger.atoms(...))`` would hold, each field computed when the format reads it."""

    __slots__ = ("_logger", "_request", "_all")

    def __init__(self, logger: glogging.Logger, resp: Any, req: Any, environ: dict[str, Any], took: dt.timedelta) -> None:
        self._logger = logger
        self._request = (resp, req, environ, took)
        self._all: glogging.SafeAtoms | None = None

    def _everything(self) -> glogging.SafeAtoms:
        if self._all is None:
            self._all = glogging.SafeAtoms(glogging.Logger.atoms(self._logger, *self._request))
        return self._all

    def __getitem__(self, key: str) -> Any:
        direct = _DIRECT.get(key)
        if direct is not None:
            value = direct(*self._request)
        elif key[:1] == "{" and key[-2:] == "}o":
            value = _header(self._request[0].headers, key[1:-2].lower())
        elif key[:1] == "{" and key[-2:] == "}i":
            req = self._request[1]
            value = _header(req.headers if hasattr(req, "headers") else req, key[1:-2].lower())
        else:
            return self._everything()[key]
        return value.replace('"', '\\"') if isinstance(value, str) else value

    def __bool__(self) -> bool:
        return True  # logging formats with a mapping only when it is not empty; this one never is

    def __iter__(self) -> Iterator[str]:
        return iter(self._everything())

    def __len__(self) -> int:
        return len(self._everything())


class AccessLogger(glogging.Logger):
    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: dt.timedelta) -> None:
        if not self.access_log_enabled:
            return
        try:
            self.access_log.info(self.cfg.access_log_format, _Fields(self, resp, req, environ, request_time))
        except Exception:
            self.error(traceback.format_exc())  # as gunicorn: a log line that cannot be written never fails the request

"""Building HTML in Python for the hot template tags (record items, search results, audit rows).

Rules and reasons: every value goes through ``escape`` (as Django escapes ``&<>"'``, keeping what is already
safe HTML), so free text typed by a user is shown as typed, never as markup; only markup built that way is
marked safe with ``built``. Plain ``html.escape`` rather than Django's lazy-aware ``format_html``, which cost
more than the rest of the page at several hundred calls per page (issue 6).
"""

from __future__ import annotations

import datetime as dt
import functools
import html
from collections.abc import Callable
from typing import Any

from django.urls import reverse
from django.utils import dateformat, dates, timezone
from django.utils.safestring import SafeString


def escape(value: Any) -> str:
    if hasattr(value, "__html__"):
        return str(value.__html__())
    escaped = html.escape(str(value), quote=True)
    # Any character outside ASCII as a character reference, so the page stays one ASCII string: one curly quote
    # widens the whole page to two bytes a character and its UTF-8 encoding to a character-by-character loop (issue 6).
    return escaped if escaped.isascii() else escaped.encode("ascii", "xmlcharrefreplace").decode("ascii")


def built(markup: str) -> SafeString:
    """Markup built here, where every value went through ``escape`` first, so it is not escaped again."""
    return SafeString(markup)  # nosec B703


def when(value: dt.datetime, pattern: str) -> str:
    """As the ``date`` filter shows it: in the current time zone.

    The patterns the hot tags use (an audit row's time, an item's last change, a date) are written directly: Django's
    ``dateformat`` took 26 µs a call, so 1.3 ms for an auditor's page of fifty events and as much for a record page
    whose forty items all show who changed them last (issue 6). The test compares both ways over a year of times.
    """
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    direct = _DIRECT_PATTERNS.get(pattern)
    return direct(value) if direct is not None else dateformat.format(value, pattern)


@functools.cache
def _months() -> tuple[str, ...]:
    """Django's three-letter month names ("M"), as its ``dateformat`` writes them (the service is in English only:
    USE_I18N is off, so they never change while the process runs)."""
    return tuple(str(dates.MONTHS_3[month]).title() for month in range(1, 13))


def _day_month_year(value: dt.datetime) -> str:
    return f"{value.day} {_months()[value.month - 1]} {value.year:04d}"


_DIRECT_PATTERNS: dict[str, Callable[[dt.datetime], str]] = {
    "j M Y H:i:s": lambda v: f"{_day_month_year(v)} {v.hour:02d}:{v.minute:02d}:{v.second:02d}",
    "j M Y H:i": lambda v: f"{_day_month_year(v)} {v.hour:02d}:{v.minute:02d}",
    "j M Y": _day_month_year,
}


_ID_MARKER = "00000000-0000-0000-0000-000000000000"


def id_link(url_name: str, *rest: Any) -> Callable[[Any], str]:
    """``reverse(url_name, args=[id, *rest])`` for a page of rows at the cost of one ``reverse``: the URL is reversed
    once with a placeholder id, and each row's id put in its place (a ``reverse`` per row cost more than the row)."""
    pattern = reverse(url_name, args=[_ID_MARKER, *rest])
    return lambda value: pattern.replace(_ID_MARKER, str(value))

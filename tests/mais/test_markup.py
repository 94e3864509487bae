"""mais.markup: times written by ``when`` are what Django's date filter writes (the direct patterns and the rest);
``escape`` writes what Django's escaping shows, in ASCII."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from django.template import Context, Template
from django.utils import timezone
from django.utils.html import escape as django_escape
from django.utils.safestring import mark_safe

from mais.markup import _DIRECT_PATTERNS, escape, when

# Every day of a year at a time that moves through every hour, minute and second, across both clock changes.
TIMES = [
    dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=day, hours=day % 24, minutes=(day * 7) % 60, seconds=(day * 13) % 60)
    for day in range(366)
] + [dt.datetime(5, 3, 9, 4, 5, 6, tzinfo=dt.UTC), dt.datetime(2026, 3, 29, 0, 59, 59, tzinfo=dt.UTC)]


@pytest.mark.parametrize("pattern", [*_DIRECT_PATTERNS, "D j F Y, P"])
def test_times_are_written_as_the_date_filter_writes_them(pattern: str) -> None:
    template = Template(f'{{{{ value|date:"{pattern}" }}}}')
    for value in TIMES:
        assert when(value, pattern) == template.render(Context({"value": value})), value
        naive = timezone.make_naive(value)
        assert when(naive, pattern) == template.render(Context({"value": naive})), naive


def test_the_patterns_the_pages_use_are_written_directly() -> None:
    assert {"j M Y H:i:s", "j M Y H:i"} <= set(_DIRECT_PATTERNS)


@pytest.mark.parametrize(
    "text",
    [
        "Smith",
        "O\u2019Neill-Smith",
        "Si\u00e2n & Zo\u00eb",
        '<script>alert("x")</script>',
        "Olanzapine \u2014 5 mg",
        "\u260e 101 \U0001f600",
        "it's",
    ],
)
def test_escape_shows_what_django_escape_shows_and_writes_only_ascii(text: str) -> None:
    escaped = escape(text)
    assert escaped.isascii()
    # The browser reads a character reference as the character: the same text as Django's escaping shows.
    assert html.unescape(escaped) == html.unescape(django_escape(text)) == text
    assert "<" not in escaped and '"' not in escaped


def test_escape_keeps_markup_already_safe() -> None:
    assert escape(mark_safe("<b>x</b>")) == "<b>x</b>"  # nosec B308,B703: a literal

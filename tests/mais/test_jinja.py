"""The Jinja2 environment of the record, search and edit pages (mais.jinja): escaping, dates, the page end, CSRF tokens."""

from __future__ import annotations

import datetime as dt
import re

import jinja2
import pytest

from mais.jinja import environment
from tests.conftest import give_purpose, signed_in


def _render(source: str, **context: object) -> str:
    return environment(loader=jinja2.DictLoader({"page": source})).get_template("page").render(**context)


def test_values_are_escaped_even_when_the_options_ask_for_no_escaping():
    page = environment(loader=jinja2.DictLoader({"page": "{{ name }}"}), autoescape=False).get_template("page")
    assert page.render(name='<script>alert("O\'Neil")</script>') == "&lt;script&gt;alert(&#34;O&#39;Neil&#34;)&lt;/script&gt;"


@pytest.mark.parametrize(
    ("value", "pattern", "shown"),
    [
        # Django's date filter is given the time in the current time zone by its template engine; here the filter
        # converts it itself: 23:30 UTC on a summer day is 00:30 the next day in London.
        (dt.datetime(2026, 7, 1, 23, 30, tzinfo=dt.UTC), "j M Y H:i", "2 Jul 2026 00:30"),
        (dt.datetime(2026, 12, 1, 23, 30, tzinfo=dt.UTC), "j M Y H:i", "1 Dec 2026 23:30"),
        (dt.datetime(2026, 7, 1, 23, 30, tzinfo=dt.UTC), "d/m/Y", "02/07/2026"),
        (dt.date(2026, 7, 1), "j M Y", "1 Jul 2026"),
        (None, "j M Y", ""),
    ],
)
def test_the_date_filter_shows_times_in_the_service_time_zone(value, pattern, shown, settings):
    settings.TIME_ZONE = "Europe/London"
    assert _render("{{ value|date(pattern) }}", value=value, pattern=pattern) == shown


def test_a_page_ends_as_its_file_does_as_with_django_templates():
    assert _render("<p>end</p>\n") == "<p>end</p>\n"


def test_a_page_makes_one_csrf_token_for_all_its_forms_and_it_is_accepted(morgan_mh, subject):
    """Django's backend masks the token afresh for each form (0.1 ms each); ours once per page (mais.jinja.Jinja2)."""
    client = give_purpose(signed_in(morgan_mh), subject.id)
    client.handler.enforce_csrf_checks = True
    page = client.get(f"/records/{subject.id}/").content.decode()
    tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert len(tokens) >= 3 and len(set(tokens)) == 1, tokens  # sign-out, follow and the section forms

    search = client.get("/search/").content.decode()
    (token,) = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', search))
    assert client.post("/search/", {"csrfmiddlewaretoken": token, "name": "Quenby", "reason": "custody_detention"}).status_code == 200
    assert client.post("/search/", {"name": "Quenby", "reason": "custody_detention"}).status_code == 403
    assert client.post("/logout/", {"csrfmiddlewaretoken": tokens[0]}).status_code == 200
    assert client.get("/search/")["Location"].startswith("/login/")  # signed out: the record page's token was accepted

"""The template backend (mais.templating): a drawn page's context is freed by reference counting, not left to the
cycle collector, and the backend otherwise behaves as Django's."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest
from django.template import TemplateDoesNotExist, engines
from django.template.backends.django import DjangoTemplates as DjangosOwn
from django.test import RequestFactory

PAGE = "{% for line in record.lines %}{{ line }};{% endfor %}{% with n=record.lines|length %}{{ n }}{% endwith %}"


class Record:
    """Stands for a record page's view object: what the page's context refers to."""

    def __init__(self) -> None:
        self.lines = ["Risk to others: high", "Lives alone"]


@pytest.fixture
def no_cycle_collector() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _left_alive(backend: object) -> bool:
    """Draw PAGE with a request, as a view does, and say whether the record outlived the page without a collection."""
    record = Record()
    alive = weakref.ref(record)
    html = backend.from_string(PAGE).render({"record": record}, RequestFactory().get("/"))  # type: ignore[attr-defined]
    assert html == "Risk to others: high;Lives alone;2"
    del record
    return alive() is not None


def test_a_drawn_pages_context_is_freed_at_once(no_cycle_collector):
    assert not _left_alive(engines["django"])


def test_with_djangos_own_backend_it_waits_for_the_cycle_collector(no_cycle_collector, settings):
    """Why the backend exists. If Django stops making the cycle, this fails, and mais.templating can go."""
    own = DjangosOwn(
        {
            "NAME": "own",
            "DIRS": [],
            "APP_DIRS": False,
            "OPTIONS": {"context_processors": settings.TEMPLATES[0]["OPTIONS"]["context_processors"]},
        }
    )
    assert _left_alive(own)
    gc.collect()


def test_a_missing_template_is_reported_as_by_django():
    with pytest.raises(TemplateDoesNotExist) as raised:
        engines["django"].get_template("records/no-such-page.html")
    assert raised.value.backend is engines["django"]


def test_a_missing_part_while_drawing_is_reported_as_by_django():
    page = engines["django"].from_string('{% include "records/no-such-part.html" %}')
    with pytest.raises(TemplateDoesNotExist) as raised:
        page.render({}, RequestFactory().get("/"))
    assert raised.value.backend is engines["django"]

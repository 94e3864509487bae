"""The URL patterns: each named URL resolves to itself, so their order (hot pages first, mais/urls.py) only changes speed."""

from __future__ import annotations

import pytest
from django.urls import resolve

from tests.access.test_signin import URLS


@pytest.mark.parametrize(("name", "url"), URLS)
def test_every_named_url_resolves_to_its_own_pattern(name, url):
    assert resolve(url).url_name == name


def test_the_pages_opened_most_are_matched_first():
    from mais.urls import urlpatterns

    assert [p.name for p in urlpatterns[:3]] == ["search", "record", "edit-section"]

"""The page header's menu: each person sees the workspaces their roles open, linked to the right pages
(mais.context_processors.navigation, whose links are reversed once per process)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

MENU = {
    "Search": "search",
    "Caseload": "caseload",
    "Notifications": "notifications",
    "Referrals": "referrals",
    "Reports": "reports",
    "Audit": "audit-workspace",
    "Administration": "admin-workspace",
    "Sharing matrix": "matrix",
}


def _menu(html: str) -> dict[str, str]:
    return {label: href for href, label in re.findall(r'class="govuk-service-navigation__link" href="([^"]+)">([^<]+)</a>', html)}


@pytest.mark.parametrize(
    ("person", "expected"),
    [
        ("priya_police", {"Search", "Notifications", "Referrals"}),
        ("morgan_mh", {"Search", "Caseload", "Notifications", "Referrals", "Reports"}),
        ("aud_auditor", {"Audit", "Reports"}),
        ("ada_admin", {"Search", "Notifications", "Referrals", "Administration", "Sharing matrix", "Reports"}),
    ],
)
def test_each_person_sees_their_workspaces_linked_to_the_right_pages(person, expected, request, client_for):
    html = client_for(request.getfixturevalue(person)).get("/", follow=True).content.decode()
    menu = _menu(html)
    assert set(menu) == expected
    assert all(href == reverse(MENU[label]) for label, href in menu.items())
    assert f'action="{reverse("logout")}"' in html


def _chrome(html: str) -> tuple[str, str]:
    """What a page shows around its own content: everything before ``<main`` (less the title) and after ``</main>``,
    the sign-out form's CSRF token aside (Django masks it afresh each time)."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value=""', html)
    head, _, rest = html.partition("<main")
    _, _, tail = rest.partition("</main>")
    return re.sub(r"<title>.*?</title>", "", head), tail


def test_the_jinja2_and_the_django_template_pages_draw_the_same_header_menu_and_footer(morgan_mh, client_for):
    """Morgan's search page (Jinja2, jinja_templates/records/search.jinja) and caseload page (Django, templates/records/
    caseload.html) have one layout: the parts both engines take from mais.chrome are the same, byte for byte."""
    client = client_for(morgan_mh)
    jinja_page = client.get(reverse("search")).content.decode()
    django_page = client.get(reverse("caseload")).content.decode()
    assert "<title>Search &ndash;" in jinja_page and "<title>Caseload" in django_page
    assert _chrome(jinja_page) == _chrome(django_page)
    assert 'data-testid="sign-out"' in _chrome(jinja_page)[0] and "govuk-footer" in _chrome(jinja_page)[1]

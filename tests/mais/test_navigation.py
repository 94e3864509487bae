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

"""A police officer at a custody desk: sign in with a TOTP code, search a misspelled name, open the record,
see only the police items, sign out. Headless Debian Chromium driven by Playwright."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from access.services import current_grants
from tests.e2e.steps import enter_credentials
from tests.factories import make_subject

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _sign_in(page: Page, live_server, user) -> None:
    """A signed-out visit to the search page is sent to sign in, and lands on the search page."""
    page.goto(f"{live_server.url}/search/")
    expect(page).to_have_url(re.compile(r"/login/$"))
    enter_credentials(page, user)
    expect(page.get_by_role("heading", name="Find a person")).to_be_visible()


def test_police_officer_finds_a_misspelled_name_and_sees_only_police_items(page: Page, live_server, priya_police, cmht_team):
    person = make_subject(
        team=cmht_team,
        family_name="Wright",
        given_names="Stephen",
        violence_history="Threatened a neighbour with a bottle.",
        medication=[{"name": "Clozapine", "dose": "300 mg", "frequency": "twice a day"}],
        aliases=[],
    )
    # No generated aliases: a random "Sharon Wright" alias would tie with the misspelling and make the order a coin toss.
    make_subject(family_name="Whitley", given_names="Sharon", aliases=[])
    police_items = {i for r, i, _ in current_grants() if r == "police_officer"}
    assert "risk.violence_history" in police_items and "mental_health.medication" not in police_items

    _sign_in(page, live_server, priya_police)

    page.get_by_label("Name or other name used").fill("Wrigth")
    page.get_by_label("Reason for access").select_option("custody_detention")
    page.get_by_test_id("search-button").click()
    expect(page).to_have_url(re.compile(r"/search/$"))  # the name is not in the URL
    first = page.get_by_test_id("result-link").first
    expect(first).to_contain_text("WRIGHT, Stephen")

    first.click()
    expect(page.get_by_test_id("record-heading")).to_have_text("WRIGHT, Stephen")
    expect(page.locator('[data-item="risk.violence_history"]')).to_contain_text("Threatened a neighbour with a bottle.")
    expect(page.locator('[data-item="mental_health.medication"]')).to_contain_text("Not shared with your role")
    assert "Clozapine" not in page.content()
    assert page.locator('[data-item] [data-testid="withheld"]').count() == len({i for _, i, _ in current_grants()} - police_items)
    expect(page.locator('[data-key-item="risk.violence_level"]')).not_to_contain_text("Not shared")
    assert str(person.id) in page.url

    page.get_by_test_id("sign-out").click()
    expect(page.get_by_role("heading", name="You have signed out")).to_be_visible()
    page.goto(f"{live_server.url}/records/{person.id}/")
    expect(page).to_have_url(re.compile(r"/login/$"))


def test_police_officer_pages_through_a_common_surname(page: Page, live_server, priya_police, cmht_team, settings):
    """Next and Previous repeat the search by POST for another page; the name stays out of the URL; each page is audited."""
    from audit.models import AuditEvent
    from tests.factories import make_subjects_bulk

    settings.SEARCH_PAGE_SIZE = 3
    make_subjects_bulk([("Petra", "Pager")] * 5)
    _sign_in(page, live_server, priya_police)
    page.get_by_label("Name or other name used").fill("Pager")
    page.get_by_label("Reason for access").select_option("custody_detention")
    page.get_by_test_id("search-button").click()
    expect(page.get_by_test_id("result-count")).to_have_text("Matches 1 to 3, best first")
    first_page = page.get_by_test_id("result-link").all_inner_texts()
    assert len(first_page) == 3

    page.get_by_test_id("next-page").click()
    expect(page).to_have_url(re.compile(r"/search/$"))
    expect(page.get_by_test_id("result-count")).to_have_text("Matches 4 to 5, best first")
    expect(page.get_by_test_id("result-link")).to_have_count(2)
    expect(page.get_by_test_id("next-page")).to_have_count(0)
    expect(page.get_by_label("Name or other name used")).to_have_value("Pager")  # the search form keeps what was typed

    page.get_by_test_id("previous-page").click()
    expect(page.get_by_test_id("result-count")).to_have_text("Matches 1 to 3, best first")
    assert page.get_by_test_id("result-link").all_inner_texts() == first_page
    pages = [e.additional_data.get("page") for e in AuditEvent.objects.filter(event="search").order_by("id")]
    assert pages == [None, 2, None]

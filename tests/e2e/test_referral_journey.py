"""Priya (police custody) refers a distressed man to Liaison and Diversion; Lena accepts, sees him and records
the outcome; Priya, back at her desk, is told there is a new outcome and reads it in words her role may read."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from access.models import AgencyKind
from audit.models import AuditEvent
from tests.conftest import _agency
from tests.e2e.steps import sign_in
from tests.factories import make_subject, make_team

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_referral_from_custody_to_outcome_seen_by_the_referrer(
    page: Page, browser: Browser, live_server, priya_police, lena_liaison, cmht_team
):
    team = make_team("Liaison and Diversion", _agency("trust", AgencyKind.NHS_TRUST))
    lena_liaison.groups.add(team.group)
    person = make_subject(team=cmht_team, family_name="Ormerod", given_names="Tobias")

    sign_in(page, live_server.url, priya_police)
    page.goto(f"{live_server.url}/records/{person.id}/")
    page.get_by_label("Reason for access").select_option("custody_detention")
    page.get_by_role("button", name="Continue").click()
    page.get_by_test_id("refer").click()
    page.get_by_label("Refer to").select_option(label="Liaison and Diversion")
    page.get_by_label("Urgent: contact today").check()
    page.get_by_label("Why are you referring").fill("Tearful and confused in the cell; says he has not slept for days.")
    page.get_by_test_id("send-referral").click()
    expect(page.get_by_test_id("referral-status")).to_contain_text("Waiting for the team")

    lena_page = browser.new_context(base_url=live_server.url).new_page()
    sign_in(lena_page, live_server.url, lena_liaison)
    lena_page.goto(f"{live_server.url}/referrals/")
    queue = lena_page.get_by_test_id("team-queue")
    expect(queue).to_contain_text("ORMEROD, Tobias")
    expect(queue).to_contain_text("Urgent")
    queue.get_by_role("link", name="ORMEROD, Tobias").click()
    expect(lena_page.get_by_test_id("referral-reason")).to_contain_text("has not slept for days")
    lena_page.get_by_label("Accept").check()
    lena_page.get_by_test_id("submit-decide").click()
    expect(lena_page.get_by_test_id("referral-status")).to_contain_text("Accepted")

    now = timezone.localtime()
    contact = lena_page.get_by_test_id("step-contact")
    contact.get_by_label("Attended").check()
    contact.get_by_label("Date of the contact").fill(now.strftime("%d/%m/%Y"))
    contact.get_by_label("Time").fill(now.strftime("%H:%M"))
    lena_page.get_by_test_id("submit-contact").click()
    expect(lena_page.get_by_test_id("timeline")).to_contain_text("Attended")
    outcome = lena_page.get_by_test_id("step-outcome")
    outcome.get_by_label("Diverted to a health or social care service").check()
    outcome.get_by_label("Clinical note").fill("NOTE-E2E started on treatment for a psychotic relapse.")
    lena_page.get_by_test_id("submit-outcome").click()
    expect(lena_page.get_by_test_id("referral-outcome")).to_contain_text("Diverted")

    page.goto(f"{live_server.url}/search/")
    expect(page.get_by_test_id("new-outcomes")).to_contain_text("1 referral you made has a new outcome")
    page.get_by_test_id("new-outcomes").get_by_role("link", name="See referrals").click()
    expect(page.get_by_test_id("sent")).to_contain_text("New outcome")
    page.get_by_test_id("sent").get_by_role("link", name="ORMEROD, Tobias").click()
    expect(page.get_by_test_id("referral-outcome")).to_contain_text("Diverted to a health or social care service")
    expect(page.get_by_test_id("outcome-note-withheld")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("NOTE-E2E")
    assert AuditEvent.objects.filter(event="referral.view", actor_id=priya_police.pk, outcome="ok").exists()

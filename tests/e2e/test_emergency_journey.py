"""At 3 a.m. a man in Priya's custody suite is at risk; his medication is withheld from police. She opens
emergency access with a reason and her password, sees the banner and the medication, and an auditor is told."""

from __future__ import annotations

import re

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from audit.models import Alert
from tests.factories import PASSWORD, make_subject

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_police_officer_uses_emergency_access(page: Page, live_server, priya_police, cmht_team):
    person = make_subject(
        team=cmht_team,
        family_name="Marlow",
        given_names="Idris",
        medication=[{"name": "Clozapine", "dose": "300 mg", "frequency": "twice a day"}],
    )
    page.goto(f"{live_server.url}/records/{person.id}/")
    page.get_by_label("Username").fill("priya")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    device = TOTPDevice.objects.get(user=priya_police)
    page.get_by_label("Code").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Sign in").click()

    page.goto(f"{live_server.url}/records/{person.id}/")
    page.get_by_label("Reason for access").select_option("custody_detention")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator('[data-item="mental_health.medication"]')).to_contain_text("Not shared with your role")

    page.get_by_test_id("request-emergency").click()
    expect(page.get_by_role("heading", name="Request emergency access")).to_be_visible()
    page.get_by_label("Why is this an emergency?").select_option("custody_risk")
    page.get_by_label("What is happening").fill("Custody record 0300: found unresponsive, FME on the way.")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Open emergency access").click()

    expect(page).to_have_url(re.compile(rf"/records/{person.id}/$"))
    expect(page.get_by_test_id("emergency-banner")).to_be_visible()
    expect(page.locator('[data-item="mental_health.medication"]')).to_contain_text("Clozapine")
    assert Alert.objects.filter(kind=Alert.Kind.EMERGENCY, username="priya", status=Alert.Status.OPEN).count() == 1

"""An information governance officer answers a subject access request: signs in with a TOTP code,
finds the person by NHS number, reads who saw the record and why, prints it and downloads the CSV."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from access.disclosure import disclose_subject
from access.policy import principal_for
from audit.services import Purpose, RequestContext
from tests.factories import PASSWORD, make_subject

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_auditor_produces_a_subject_access_report(page: Page, live_server, aud_auditor, priya_police, cmht_team):
    person = make_subject(team=cmht_team, family_name="Ashworth", given_names="Robin")
    disclose_subject(
        principal=principal_for(priya_police),
        subject_id=person.id,
        purpose=Purpose("custody_detention", "Custody 77"),
        context=RequestContext("e2e"),
    )

    page.goto(f"{live_server.url}/")
    page.get_by_label("Username").fill("aud")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    device = TOTPDevice.objects.get(user=aud_auditor)
    page.get_by_label("Code").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Audit", exact=True)).to_be_visible()

    page.get_by_label("NHS number of the person making the request").fill(person.nhs_number)
    page.get_by_label("Subject access request reference").fill("SAR-2026-107")
    page.get_by_test_id("locate-button").click()
    expect(page.get_by_role("heading", name="Subject access report")).to_be_visible()
    table = page.get_by_test_id("audit-rows")
    expect(table).to_contain_text("priya")
    expect(table).to_contain_text("record.view")
    expect(table).to_contain_text("custody_detention")
    assert "Ashworth" not in page.content()  # the auditor sees who saw what, never the record itself

    page.emulate_media(media="print")
    assert page.locator("form.mais-no-print").first.is_hidden()
    page.emulate_media(media="screen")

    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_label("Why is this export needed?").fill("SAR-2026-107")
    with page.expect_download() as download_info:
        page.get_by_test_id("export-button").click()
    download = download_info.value
    assert re.match(r"mais-subject-access-.*\.csv", download.suggested_filename)
    rows = list(csv.DictReader(io.StringIO(download.path().read_text())))
    assert any(r["event"] == "record.view" and r["user"] == "priya" and r["purpose_detail"] == "Custody 77" for r in rows)
    assert any(r["event"] == "audit.export" and r["user"] == "aud" for r in rows)

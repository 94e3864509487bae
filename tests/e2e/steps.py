"""Steps that several browser journeys share."""

from __future__ import annotations

from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page

from tests.factories import PASSWORD


def enter_credentials(page: Page, user) -> None:
    """On the login page: the password, then the current TOTP code of the user's device."""
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    device = TOTPDevice.objects.get(user=user)
    page.get_by_label("Code").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Sign in").click()


def sign_in(page: Page, base: str, user) -> None:
    page.goto(f"{base}/login/")
    enter_credentials(page, user)

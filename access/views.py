"""Sign-in with a second factor, the sharing matrix and preview-as-role. Thin views."""

from __future__ import annotations

import time
from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth import get_user_model, logout
from django.contrib.auth.views import LoginView, PasswordResetConfirmView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from access import services, web
from access.forms import MatrixForm, OtpForm
from access.models import DataItem, Role
from audit.services import audit_record
from mais.middleware import AUTH_AT
from records.dataset import SECTIONS


class PasswordSetView(PasswordResetConfirmView):
    """Set a password from an administrator's single-use link. It never signs the user in:
    they then sign in with the new password and their second factor (or enrol one)."""

    template_name = "access/password_set.html"
    post_reset_login = False
    success_url = "/login/reset/done/"


def password_set_done(request: HttpRequest) -> HttpResponse:
    return render(request, "access/password_set_done.html")


class MaisLoginView(LoginView):
    template_name = "access/login.html"
    redirect_authenticated_user = False

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)  # logs in and rotates the session key
        self.request.session[AUTH_AT] = time.time()
        user = self.request.user
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            return redirect("otp-verify")
        return redirect("otp-enrol") if response.status_code in (301, 302) else response

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["expired"] = "expired" in self.request.GET
        return context


def _audit_user_event(request: HttpRequest, event: str, outcome: str = "ok") -> None:
    user = request.user
    audit_record(
        event=event,
        outcome=outcome,
        context=web.context(request),
        about=get_user_model(),
        actor_id=user.pk,
        actor_username=user.get_username(),
        object_pk=str(user.pk),
    )


def otp_verify(request: HttpRequest) -> HttpResponse:
    """Second step of sign-in: a code from the authenticator app, or a single-use backup code."""
    if not TOTPDevice.objects.filter(user=request.user, confirmed=True).exists():
        return redirect("otp-enrol")
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            request.session.cycle_key()
            _audit_user_event(request, "login.second_factor")
            return redirect(request.GET.get("next") or "home") if _safe_next(request) else redirect("home")
        _audit_user_event(request, "login.second_factor_failed", "denied")
        form.add_error(
            "code", "That code is not right. Enter the 6-digit code shown in your authenticator app now, or an unused backup code."
        )
    return render(request, "access/otp_verify.html", {"form": form})


def _safe_next(request: HttpRequest) -> bool:
    nxt = request.GET.get("next", "")
    return nxt.startswith("/") and not nxt.startswith("//")


def otp_enrol(request: HttpRequest) -> HttpResponse:
    """Set up the authenticator app: QR code (segno), confirm one code, then show backup codes once."""
    if TOTPDevice.objects.filter(user=request.user, confirmed=True).exists() and not request.session.get("mais_show_backup"):
        return redirect("otp-verify")
    if request.session.get("mais_show_backup"):
        codes = request.session.pop("mais_show_backup")
        return render(request, "access/otp_backup_codes.html", {"codes": codes})
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name="Authenticator app", confirmed=False)
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            device.confirmed = True
            device.save()
            static, _ = StaticDevice.objects.get_or_create(user=request.user, name="Backup codes")
            static.token_set.all().delete()
            codes = [StaticToken.random_token() for _ in range(10)]
            static.token_set.bulk_create(StaticToken(device=static, token=c) for c in codes)
            otp_login(request, device)
            request.session.cycle_key()
            _audit_user_event(request, "otp.enrolled")
            request.session["mais_show_backup"] = codes
            return redirect("otp-enrol")
        _audit_user_event(request, "otp.enrol_failed", "denied")
        form.add_error("code", "That code is not right. Check the time on your phone is set automatically, then enter the code shown now.")
    qr = segno.make(device.config_url, error="m")
    return render(
        request,
        "access/otp_enrol.html",
        {"form": form, "qr": qr.svg_data_uri(scale=5, border=2), "secret": _base32(device)},
    )


def _base32(device: TOTPDevice) -> str:
    import base64

    return base64.b32encode(device.bin_key).decode()


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)  # flushes the session
    return render(request, "access/logged_out.html")


@web.role_required("administrator")
def matrix(request: HttpRequest) -> HttpResponse:
    """The role x item sharing matrix: one grid, read and write per cell."""
    roles = list(Role.objects.exclude(code="auditor"))
    items = list(DataItem.objects.all())
    current = services.current_grants()
    form = MatrixForm(request.POST or None, roles=roles, items=items, current=current)
    if request.method == "POST" and form.is_valid():
        version = services.policy_update(
            actor=web.principal(request), wanted=form.cells(), context=web.context(request), summary=form.cleaned_data.get("summary", "")
        )
        messages.success(request, f"Sharing matrix saved as version {version}. It applies from the next request.")
        return redirect("matrix")
    sections = [(label, [row for row in form.rows() if row["item"].section == code]) for code, label in SECTIONS]
    return render(request, "access/matrix.html", {"form": form, "roles": roles, "sections": sections})

"""Project-wide middleware: request ids, session limits, the second-factor gate, headers, fail-closed audit.

Rules:
- Deny by default: every URL needs a signed-in user with a verified second
  factor, except the few named in ``OPEN_URL_NAMES`` (sign-in and enrolment).
- Sessions end after 15 idle minutes (cookie age, renewed on each request)
  and 10 hours after sign-in, whatever the activity.
- Pages are never cached by browsers or proxies (record content).
- If the audit trail cannot be written the user gets a 503 and no data.
- A signed-in user who has not confirmed the information-sharing protocol in
  force, or whose confirmation is older than ``ATTESTATION_MONTHS``, sees
  only the protocol page until they confirm it (governance/protocol.py).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.sessions.exceptions import SessionInterrupted
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import DEFAULT_DB_ALIAS, DatabaseError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils.http import urlencode
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import OTPMiddleware
from django_otp.models import Device

from audit.services import AuditUnavailable
from governance.protocol import confirmed_until, version_in_force

logger = logging.getLogger("mais")

OPEN_URL_NAMES = {"login", "logout", "health", "password-reset", "password-reset-done"}
NEEDS_PASSWORD_ONLY = {"otp-verify", "otp-enrol"}
ATTESTATION_OPEN = OPEN_URL_NAMES | NEEDS_PASSWORD_ONLY | {"protocol"}
ATTESTED = "mais_attested"
AUTH_AT = "mais_auth_at"
TOUCHED_AT = "mais_touched_at"


def _caused_by_database(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, DatabaseError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


class ResilientSessionMiddleware(SessionMiddleware):
    """Django's session middleware, except that a session that cannot be saved because the database just went away
    does not turn a finished response into a 400: the response (already audited if it discloses anything) is
    served, and only the session change is lost (at worst the user signs in or gives their reason again)."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        try:
            return super().process_response(request, response)
        except SessionInterrupted as exc:
            if not _caused_by_database(exc):
                raise
            logger.warning("session not saved (database unavailable); request %s served without it", getattr(request, "request_id", "?"))
            return response


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.request_id = uuid.uuid4().hex  # type: ignore[attr-defined]
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id  # type: ignore[attr-defined]
        return response


class SecondFactorMiddleware(OTPMiddleware):
    """django-otp's middleware (``user.otp_device``, ``user.is_verified()``) without its own query per request.

    Rule, as django-otp's: the session's device counts only while it belongs to the user and is confirmed;
    otherwise it is dropped from the session and the user is not verified. The sign-in backend reads the user's
    confirmed devices with the user row (``signed_in_facts``), so the check needs no query of its own; the
    device is handed over unloaded (its fields load if anything reads them). A user loaded any other way is
    checked by django-otp's own query.
    """

    def _verify_user_sync(self, request: HttpRequest, user: Any) -> Any:
        facts = getattr(user, "signed_in_facts", None)
        if facts is None or not user.is_authenticated:
            return super()._verify_user_sync(request, user)
        self._init_user_fields(user)
        persistent_id = request.session.get(DEVICE_ID_SESSION_KEY)
        device = None
        if persistent_id:
            persistent_id = self._normalize_persistent_id(persistent_id)
            if persistent_id in facts["devices"]:
                device = _unloaded_device(persistent_id, user.pk)
        user.otp_device = self._finalize_device(request, user, device)
        return user


def _unloaded_device(persistent_id: str, user_id: int) -> Device | None:
    """A device known to exist, be confirmed and belong to the user, with only those fields set (the rest deferred)."""
    model_label, device_id = persistent_id.rsplit("/", 1)
    app_label, model_name = model_label.split(".")
    model = apps.get_model(app_label, model_name)
    return model.from_db(DEFAULT_DB_ALIAS, ["id", "user_id", "confirmed"], [int(device_id), user_id, True])  # type: ignore[no-any-return]


class SessionLimitsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            started = request.session.get(AUTH_AT)
            if started is None or time.time() - started > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
                return redirect(f"{settings.LOGIN_URL_PATH}?expired=1")
            now = time.time()
            if now - request.session.get(TOUCHED_AT, 0) >= settings.SESSION_REFRESH_SECONDS:
                request.session[TOUCHED_AT] = now  # saved with a fresh idle expiry
        return self.get_response(request)


class RequireSecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(settings.STATIC_URL) or request.path_info.startswith("/api/"):
            # The API authenticates client systems with credentials (api/auth.py), never with sessions.
            return self.get_response(request)
        name = _url_name(request)
        if name in OPEN_URL_NAMES:
            return self.get_response(request)
        user = request.user
        if not user.is_authenticated:
            return redirect(settings.LOGIN_URL_PATH)
        if name in NEEDS_PASSWORD_ONLY:
            return self.get_response(request)
        # is_verified() is added by SecondFactorMiddleware (django-otp).
        if not user.is_verified():  # type: ignore[attr-defined]
            return redirect("otp-verify")
        return self.get_response(request)


def _url_name(request: HttpRequest) -> str | None:
    """The resolved URL name, resolved once per request for both gates."""
    if not hasattr(request, "_mais_url_name"):
        try:
            name: str | None = resolve(request.path_info).url_name
        except Resolver404:
            name = None
        request._mais_url_name = name  # type: ignore[attr-defined]
    return request._mais_url_name  # type: ignore[attr-defined,no-any-return]


class RequireAttestationMiddleware:
    """Runs after the second-factor gate: only verified users get here on a closed URL."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            request.path.startswith(settings.STATIC_URL)
            or request.path_info.startswith("/api/")
            or not user.is_authenticated
            or not user.is_verified()  # type: ignore[attr-defined]
            or _url_name(request) in ATTESTATION_OPEN
        ):
            return self.get_response(request)
        current = version_in_force(user)
        if current is None:
            return self.get_response(request)
        stored = request.session.get(ATTESTED)
        now = time.time()
        if not stored or stored.get("version") != current.id or now >= stored.get("until", 0):
            until = confirmed_until(user_id=user.pk, version_id=current.id)
            if until is None or until.timestamp() <= now:
                request.session.pop(ATTESTED, None)
                target = request.get_full_path() if request.method == "GET" else "/"
                return redirect(f"{reverse('protocol')}?{urlencode({'next': target})}")
            request.session[ATTESTED] = {"version": current.id, "until": until.timestamp()}
        return self.get_response(request)


class NoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith(settings.STATIC_URL):
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
        return response


class AuditFailureMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from mais.views import is_unavailable, service_unavailable

        if is_unavailable(exception):
            logger.error(
                "%s; request %s refused with 503",
                "audit trail unavailable" if isinstance(exception, AuditUnavailable) else "database unavailable",
                getattr(request, "request_id", "?"),
            )
            return service_unavailable(request)
        return None

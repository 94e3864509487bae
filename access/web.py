"""Request helpers shared by views: the principal, the audit context, the purpose in force, role walls."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import render

from access.policy import Principal, principal_for
from access.signals import context_of
from audit.services import Purpose, RequestContext

PURPOSE_KEY = "mais_purpose"


def principal(request: HttpRequest) -> Principal:
    cached = getattr(request, "_mais_principal", None)
    if cached is None:
        cached = principal_for(request.user)  # type: ignore[arg-type]
        request._mais_principal = cached  # type: ignore[attr-defined]
    return cached


def context(request: HttpRequest) -> RequestContext:
    return context_of(request)


def remember_purpose(request: HttpRequest, purpose: Purpose) -> None:
    """The purpose stays in force for PURPOSE_TTL_SECONDS from its last use.

    The same purpose used again within SESSION_REFRESH_SECONDS is not written again: a session write costs a
    round trip and a signature on every search (issue 6), and the purpose may then lapse up to that minute early,
    never late. A different purpose is always written at once.
    """
    stored = request.session.get(PURPOSE_KEY)
    now = time.time()
    if (
        stored
        and (stored["code"], stored["text"]) == (purpose.code, purpose.text)
        and now - stored["at"] < settings.SESSION_REFRESH_SECONDS
    ):
        return
    request.session[PURPOSE_KEY] = {"code": purpose.code, "text": purpose.text, "at": now}


def purpose_in_force(request: HttpRequest) -> Purpose | None:
    """The purpose the user gave for their current task, if given within the last 30 minutes."""
    stored = request.session.get(PURPOSE_KEY)
    if not stored or time.time() - stored["at"] > settings.PURPOSE_TTL_SECONDS:
        return None
    return Purpose(stored["code"], stored["text"])


def role_required(*codes: str) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Deny by default: the view runs only for users holding one of these roles."""

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not any(principal(request).has_role(code) for code in codes):
                return render(request, "errors/403.html", status=403)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def preview_roles() -> list[tuple[str, str]]:
    from access.models import Role

    return list(Role.objects.exclude(code__in=["administrator", "auditor"]).values_list("code", "label"))

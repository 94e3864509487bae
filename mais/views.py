"""Home page, health check and error pages (never a stack trace)."""

from __future__ import annotations

import sys
from typing import Any

from django.contrib.auth import get_user_model
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader

from access import web
from access.disclosure import searchable_criteria
from audit.services import AuditUnavailable, audit_record


def home(request: HttpRequest) -> HttpResponse:
    who = web.principal(request)
    if searchable_criteria(who):
        return redirect("search")
    if who.has_role("auditor"):
        return redirect("audit-workspace")
    return render(request, "home.html", {"principal": who})


def health(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


def locked_out(request: HttpRequest, credentials: Any = None, *args: Any, **kwargs: Any) -> HttpResponse:
    """The same answer whether or not the username exists."""
    return render(request, "access/locked_out.html", status=429)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A request without a valid CSRF token: an expired form, or a forgery. Refused, and recorded as a denied attempt
    (the path and Django's reason only; the body is never read)."""
    user = getattr(request, "user", None)
    known = user if user is not None and user.is_authenticated else None
    audit_record(
        event="csrf.rejected",
        outcome="denied",
        context=web.context(request),
        about=get_user_model(),
        actor_id=known.pk if known else None,
        actor_username=known.get_username() if known else "",
        detail={"path": request.path[:200], "reason": reason[:200]},
    )
    return render(request, "errors/csrf.html", status=403)


def error_400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/400.html", status=400)


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/403.html", status=403)


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/404.html", status=404)


def service_unavailable(request: HttpRequest | None = None) -> HttpResponse:
    """A clear 503 that needs no database to render (no navigation, no session): the database or the audit trail is
    out of reach, so nothing is served. The load balancer and the browser retry after ``Retry-After``."""
    response = HttpResponse(loader.get_template("errors/503.html").render({}), status=503)
    response["Retry-After"] = "30"
    response["Cache-Control"] = "no-store"
    return response


def is_unavailable(exc: BaseException | None) -> bool:
    """The database or the audit trail is out of reach (not a bug): connection refused or lost, a timeout, a failed
    audit write. A lost connection surfaces as the bare DatabaseError class; its subclasses (integrity, programming
    errors) are bugs and stay 500s."""
    return isinstance(exc, OperationalError | InterfaceError | AuditUnavailable) or type(exc) is DatabaseError


def error_500(request: HttpRequest) -> HttpResponse:
    if is_unavailable(sys.exc_info()[1]):
        return service_unavailable(request)
    return render(request, "errors/500.html", status=500)

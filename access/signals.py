"""Sign-in events into the audit trail (successful, failed, locked out)."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from audit.services import RequestContext, audit_record


def context_of(request: HttpRequest | None) -> RequestContext:
    if request is None:
        return RequestContext.system()
    return RequestContext(
        request_id=getattr(request, "request_id", ""),
        remote_addr=request.META.get("REMOTE_ADDR"),
    )


@receiver(user_logged_in)
def audit_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    audit_record(
        event="login.password",
        context=context_of(request),
        about=get_user_model(),
        actor_id=user.pk,
        actor_username=user.get_username(),
        object_pk=str(user.pk),
    )


@receiver(user_logged_out)
def audit_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is None:
        return
    audit_record(
        event="logout",
        context=context_of(request),
        about=get_user_model(),
        actor_id=user.pk,
        actor_username=user.get_username(),
        object_pk=str(user.pk),
    )


@receiver(user_login_failed)
def audit_login_failed(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any) -> None:
    audit_record(
        event="login.failed",
        outcome="denied",
        context=context_of(request),
        about=get_user_model(),
        actor_username=str(credentials.get("username", ""))[:150],
    )


@receiver(user_locked_out)
def audit_lockout(
    sender: Any, request: HttpRequest | None, username: str | None = None, ip_address: str | None = None, **kwargs: Any
) -> None:
    audit_record(
        event="login.lockout",
        outcome="denied",
        context=context_of(request),
        about=get_user_model(),
        actor_username=(username or "")[:150],
    )

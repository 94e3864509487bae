"""Authentication, the end user and purpose of each call, and per-client rate limits.

Rules:
- ``Authorization: Bearer mais_<prefix>_<secret>``; looked up by hash on every
  call, so a revoked credential or a deactivated client stops at once.
- ``X-On-Behalf-Of`` (the end user's identifier in the client's own system)
  and ``X-Purpose`` (a reason code) are required for every call that reads
  or writes records; ``X-Purpose-Detail`` is optional free text. No personal
  data travels in URLs.
- Rate limits are counted in the shared cache (Redis when configured,
  otherwise the database), so every worker agrees.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import caches
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from api.models import ApiClient, ApiCredential
from api.services import TOKEN_PREFIX, hash_token
from audit.services import Purpose, RequestContext
from records.forms import SYSTEM_REASONS
from records.terms import terms


class ApiError(exceptions.APIException):
    """An error with a stable code that clients can act on."""

    def __init__(self, code: str, message: str, status: int = 400, fields: dict[str, Any] | None = None) -> None:
        self.status_code = status
        self.error_code = code
        self.fields = fields or {}
        super().__init__(detail=message, code=code)


class CredentialAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiClient] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme != self.keyword or not token.startswith(TOKEN_PREFIX):
            raise ApiError("unauthenticated", "Send 'Authorization: Bearer <credential>' with a MAIS client credential.", 401)
        credential = (
            ApiCredential.objects.select_related("client__user", "client__agency")
            .filter(key_hash=hash_token(token), revoked_at__isnull=True, client__is_active=True)
            .first()
        )
        if credential is None or not credential.client.agency.is_active:
            raise ApiError("credential_invalid", "This credential is unknown, revoked, or its client is deactivated.", 401)
        ApiCredential.objects.filter(pk=credential.pk).update(last_used_at=timezone.now())
        return credential.client.user, credential.client

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


def call_context(request: Request) -> tuple[Purpose, RequestContext]:
    """The purpose and the end user of this call, from its headers; ApiError when missing or unknown."""
    on_behalf_of = request.META.get("HTTP_X_ON_BEHALF_OF", "").strip()
    if not on_behalf_of:
        raise ApiError("on_behalf_of_required", "Name the end user this call is for in the X-On-Behalf-Of header.", 400)
    code = request.META.get("HTTP_X_PURPOSE", "").strip()
    if ("access_reason", code) not in terms() or code in SYSTEM_REASONS:
        raise ApiError("purpose_required", "Give a reason code for access in the X-Purpose header (see the API description).", 400)
    detail = request.META.get("HTTP_X_PURPOSE_DETAIL", "").strip()[:500]
    if code == "other" and not detail:
        raise ApiError("purpose_detail_required", "Explain the reason in X-Purpose-Detail when X-Purpose is 'other'.", 400)
    context = RequestContext(
        request_id=getattr(request._request, "request_id", ""),
        remote_addr=request.META.get("REMOTE_ADDR"),
        on_behalf_of=on_behalf_of[:200],
    )
    return Purpose(code, detail), context


class ClientRateThrottle(SimpleRateThrottle):
    """Requests per client, counted in the shared cache."""

    scope = "client"
    cache = caches["shared"]

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        client = request.auth
        if not isinstance(client, ApiClient):
            return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
        return self.cache_format % {"scope": self.scope, "ident": f"client-{client.pk}"}

"""Every API error is JSON with a stable code: {"error": {"code", "message", "fields"?}}. Never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from api.auth import ApiError
from audit.services import AuditUnavailable

logger = logging.getLogger("mais.api")

CODES = {
    exceptions.NotAuthenticated: ("unauthenticated", status.HTTP_401_UNAUTHORIZED),
    exceptions.AuthenticationFailed: ("unauthenticated", status.HTTP_401_UNAUTHORIZED),
    exceptions.PermissionDenied: ("forbidden", status.HTTP_403_FORBIDDEN),
    exceptions.NotFound: ("not_found", status.HTTP_404_NOT_FOUND),
    exceptions.MethodNotAllowed: ("method_not_allowed", status.HTTP_405_METHOD_NOT_ALLOWED),
    exceptions.NotAcceptable: ("not_acceptable", status.HTTP_406_NOT_ACCEPTABLE),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", status.HTTP_415_UNSUPPORTED_MEDIA_TYPE),
    exceptions.ParseError: ("malformed_request", status.HTTP_400_BAD_REQUEST),
}


def error(
    code: str, message: str, status_code: int, fields: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return Response({"error": body}, status=status_code, headers=headers)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    if isinstance(exc, ApiError):
        return error(exc.error_code, str(exc.detail), exc.status_code, exc.fields)
    if isinstance(exc, exceptions.Throttled):
        wait = int(exc.wait or 1)
        return error(
            "rate_limited", f"Too many requests from this client; try again in {wait} seconds.", 429, headers={"Retry-After": str(wait)}
        )
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        return error("validation_failed", "The request is not valid; see fields.", 400, {k: [str(m) for m in v] for k, v in detail.items()})
    if isinstance(exc, Http404):
        return error("not_found", "No such record, or you may not see it.", 404)
    for cls, (code, status_code) in CODES.items():
        if isinstance(exc, cls):
            return error(code, str(getattr(exc, "detail", code)), status_code)
    if isinstance(exc, AuditUnavailable):
        logger.error("audit trail unavailable; API request refused")
        return error("audit_unavailable", "The audit trail cannot be written, so no data is served. Try again shortly.", 503)
    if isinstance(exc, exceptions.APIException):
        return error(exc.default_code if isinstance(exc.default_code, str) else "error", str(exc.detail), exc.status_code)
    logger.exception("unhandled API error")
    return error("server_error", "Something went wrong on our side. Nothing was changed.", 500)

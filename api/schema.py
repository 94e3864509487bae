"""Describes the credential scheme in the OpenAPI document (imported by api.apps)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class CredentialScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.CredentialAuthentication"
    name = "credential"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "A MAIS client credential (mais_...), issued by an administrator."}

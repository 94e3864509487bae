"""Registering client systems and issuing and revoking their credentials; each step audited."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from access.models import Agency, Role, User
from access.policy import Principal
from api.models import ApiClient, ApiCredential
from audit.services import CREATE, UPDATE, RequestContext, audit_record

TOKEN_PREFIX = "mais_"  # noqa: S105 (the public prefix of every credential, not a secret)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def api_client_register(
    *, actor: Principal | None, name: str, agency: Agency, role: Role, webhook_url: str = "", context: RequestContext
) -> ApiClient:
    """A client system and its service account (the role's group, the agency; no password, no sign-in)."""
    user = User(username=f"api-{slugify(name)}"[:150], first_name=name[:150], last_name="(system)", agency=agency)
    user.set_unusable_password()
    user.save()
    user.groups.add(Group.objects.get(pk=role.group_id))
    client = ApiClient.objects.create(
        name=name, agency=agency, role=role, user=user, webhook_url=webhook_url, webhook_secret=secrets.token_hex(32)
    )
    audit_record(
        event="api.client_register",
        action=CREATE,
        context=context,
        about=client,
        object_pk=str(client.pk),
        object_repr=name,
        changes={"after": {"name": name, "agency": agency.code, "role": role.code, "webhook_url": webhook_url}},
        **(actor.audit_identity() if actor else {"actor_username": "system"}),  # type: ignore[arg-type]
    )
    return client


@transaction.atomic
def api_credential_issue(*, actor: Principal | None, client: ApiClient, context: RequestContext) -> str:
    """A new credential; the token is returned once and only its hash is kept."""
    prefix = secrets.token_hex(4)
    token = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    credential = ApiCredential.objects.create(client=client, prefix=prefix, key_hash=hash_token(token))
    audit_record(
        event="api.credential_issue",
        action=CREATE,
        context=context,
        about=client,
        object_pk=str(client.pk),
        object_repr=client.name,
        detail={"credential": credential.pk, "prefix": prefix},
        **(actor.audit_identity() if actor else {"actor_username": "system"}),  # type: ignore[arg-type]
    )
    return token


@transaction.atomic
def api_credential_revoke(*, actor: Principal | None, credential: ApiCredential, context: RequestContext) -> None:
    credential.revoked_at = timezone.now()
    credential.save(update_fields=["revoked_at"])
    audit_record(
        event="api.credential_revoke",
        action=UPDATE,
        context=context,
        about=credential.client,
        object_pk=str(credential.client_id),
        object_repr=credential.client.name,
        detail={"credential": credential.pk, "prefix": credential.prefix},
        **(actor.audit_identity() if actor else {"actor_username": "system"}),  # type: ignore[arg-type]
    )

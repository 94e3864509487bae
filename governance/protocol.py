"""The information-sharing protocol and users' confirmations of it (attestation): reads and writes.

Rules and reasons:
- Before first access, and again every ``settings.ATTESTATION_MONTHS`` months,
  every user confirms they have read the protocol in force. Practitioners who
  have read the protocol share with more confidence and less risk; an
  inspector asks who confirmed which words, when.
- A new version needs a new confirmation from everyone; versions are never
  edited, so each confirmation points at the words that were confirmed.
- Until an administrator publishes a first version there is nothing to
  confirm and nobody is blocked (a new installation must be usable by the
  administrator who writes it).
- Publishing and confirming are both audited, in the same transaction.
- The version in force is read with the signed-in user, in the sign-in
  backend's one statement (access/backends.py), so ordinary requests pay no
  query of their own and a publication applies to every process on its next
  request. (Until 2026-12 it was cached per process for 30 seconds, and the
  re-read was a statement outside that budget: loadtests/HISTORY.md.)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from access.models import User
from access.policy import Principal
from audit.services import CREATE, RequestContext, audit_record
from governance.models import Attestation, ProtocolVersion


class ProtocolRefused(Exception):
    """The confirmation or publication was refused; the message says why."""


@dataclass(frozen=True)
class VersionInForce:
    id: int
    number: int


def version_in_force(user: object | None = None) -> VersionInForce | None:
    """The protocol version users must have confirmed, or None before the first is published.

    No query for a user loaded by the sign-in backend (it came with the user row); one query otherwise.
    """
    facts = getattr(user, "signed_in_facts", None)
    if facts is not None and "protocol" in facts:
        found = facts["protocol"]
        return VersionInForce(*found) if found else None
    row = ProtocolVersion.objects.order_by("-number").values_list("id", "number").first()
    return VersionInForce(*row) if row else None


def current_protocol() -> ProtocolVersion | None:
    return ProtocolVersion.objects.order_by("-number").first()


def confirmation_expires(confirmed_at: dt.datetime) -> dt.datetime:
    return confirmed_at + relativedelta(months=settings.ATTESTATION_MONTHS)


def confirmed_until(*, user_id: int, version_id: int) -> dt.datetime | None:
    """When the user's latest confirmation of this version lapses, or None if they never confirmed it. One query."""
    latest = Attestation.objects.filter(user_id=user_id, version_id=version_id).aggregate(at=Max("confirmed_at"))["at"]
    return confirmation_expires(latest) if latest else None


@dataclass(frozen=True)
class UserAttestation:
    user_id: int
    username: str
    name: str
    agency: str
    version: int | None
    confirmed_at: dt.datetime | None
    expires_at: dt.datetime | None
    state: str  # "current", "expired", "old_version", "never"


def attestation_overview(*, now: dt.datetime | None = None) -> list[UserAttestation]:
    """Every active user's latest confirmation against the version in force, most urgent first. Two queries."""
    now = now or timezone.now()
    current = current_protocol()
    latest: dict[int, tuple[int, dt.datetime]] = {}
    for user_id, version_number, confirmed_at in Attestation.objects.order_by("user_id", "-confirmed_at").values_list(
        "user_id", "version__number", "confirmed_at"
    ):
        latest.setdefault(user_id, (version_number, confirmed_at))
    out = []
    for user in User.objects.filter(is_active=True).select_related("agency").order_by("username"):
        found = latest.get(user.pk)
        number: int | None = found[0] if found else None
        at: dt.datetime | None = found[1] if found else None
        expires = confirmation_expires(at) if at else None
        if at is None:
            state = "never"
        elif current is not None and number != current.number:
            state = "old_version"
        elif expires is not None and expires <= now:
            state = "expired"
        else:
            state = "current"
        out.append(
            UserAttestation(
                user.pk,
                user.username,
                user.get_full_name() or user.username,
                user.agency.name if user.agency else "",
                number,
                at,
                expires,
                state,
            )
        )
    order = {"never": 0, "old_version": 1, "expired": 2, "current": 3}
    return sorted(out, key=lambda a: (order[a.state], a.username))


@transaction.atomic
def protocol_publish(*, actor: Principal, title: str, body: str, change_summary: str, context: RequestContext) -> ProtocolVersion:
    """Publish a new version; everyone must confirm it before their next page."""
    if not actor.has_role("administrator"):
        raise ProtocolRefused("Only administrators publish the protocol.")
    if not title.strip() or not body.strip():
        raise ProtocolRefused("Give the protocol a title and its text.")
    number = (ProtocolVersion.objects.select_for_update().aggregate(n=Max("number"))["n"] or 0) + 1
    version = ProtocolVersion.objects.create(
        number=number,
        title=title.strip(),
        body=body.strip(),
        change_summary=change_summary.strip(),
        published_by=actor.display_name,
        published_at=timezone.now(),
    )
    audit_record(
        event="protocol.publish",
        action=CREATE,
        context=context,
        about=version,
        object_pk=str(version.pk),
        object_repr=str(version),
        changes={"number": [None, number], "title": [None, version.title], "change_summary": [None, version.change_summary]},
        **actor.audit_identity(),
    )
    return version


@transaction.atomic
def protocol_attest(*, actor: Principal, version_id: int, context: RequestContext) -> Attestation:
    """Record that the user read the version in force. Refused for any other version (it may have just changed)."""
    current = current_protocol()
    if current is None or current.pk != version_id:
        raise ProtocolRefused("A newer version of the protocol has been published. Read it, then confirm.")
    attestation = Attestation.objects.create(user_id=actor.user_id, version=current, confirmed_at=timezone.now())
    audit_record(
        event="protocol.attest",
        action=CREATE,
        context=context,
        about=current,
        object_pk=str(current.pk),
        object_repr=str(current),
        detail={"version": current.number, "valid_until": confirmation_expires(attestation.confirmed_at).isoformat()},
        **actor.audit_identity(),
    )
    return attestation

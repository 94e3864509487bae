""" "Why can I see this?": the rule that decided each item, in words, built from the same facts the choke point used.

Rules:
- An explanation is derived from the very grants, agreements, caseload,
  emergency access and consent that decided the item in that request, never
  recomputed separately, so it cannot disagree with what was shown.
- A withheld item's explanation names the rule that withholds it and never
  its value.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, NamedTuple

from django.utils import timezone

from access.governance import Coverage, EmergencyGrant
from access.models import AgencyKind
from access.policy import Principal
from records.dataset import ROLES
from records.models import ConsentStatus

ROLE_LABELS = {code: label for code, label, _, _ in ROLES}

# The rule that decided an item. Shown: why it may be read; withheld: what withholds it.
SHOWN_RULES = ("caseload", "agreement", "emergency", "preview")
WITHHELD_RULES = ("role", "agreement_missing", "purpose")


class Why(NamedTuple):
    """The rule that decided one item. A NamedTuple rather than a frozen dataclass: a record page builds one per
    item, and a frozen dataclass takes about five times as long to build (issue 6, as ``ItemView``)."""

    rule: str
    roles: tuple[str, ...] = ()  # role codes whose grant lets the user read the item
    agreements: tuple[str, ...] = ()  # agreement references that cover it for the purpose given
    other_agreements: tuple[str, ...] = ()  # references that cover it only for other purposes
    lines: tuple[str, ...] = ()


@functools.cache
def _roles_text(codes: tuple[str, ...]) -> str:
    return " and ".join(ROLE_LABELS.get(c, c) for c in codes)


def basis_text(values: Mapping[str, Any], term_lookup: Mapping[tuple[str, str], tuple[str, str]]) -> str:
    """The lawful basis the record is shared on, in one sentence (the same facts as ``consent_allows``)."""
    basis = values.get("lawful_basis") or ""
    if basis:
        label = term_lookup.get(("lawful_basis", basis), (basis, ""))[0]
        return f"Lawful basis: shared without consent under “{label}”, recorded on the record."
    status = values.get("consent_status")
    if status == ConsentStatus.GIVEN:
        kinds = dict(AgencyKind.choices)
        covered = ", ".join(str(kinds.get(k, k)) for k in values.get("consent_agency_kinds") or ()) or "no kind of agency"
        return f"Lawful basis: the person's consent, which covers {covered}."
    if status == ConsentStatus.WITHDRAWN:
        return "Lawful basis: consent was withdrawn; only the owning team may see the record."
    return "Lawful basis: none recorded; only the owning team may see the record."


def explain_shown(
    *,
    code: str,
    principal: Principal,
    on_caseload: bool,
    coverage: Coverage | None,
    emergency: EmergencyGrant | None,
    basis: str,
    purpose_label: str,
) -> Why:
    roles = principal.grants.granted_by(code)
    if principal.previewing:
        return Why("preview", roles, lines=(f"Preview: the role {_roles_text(roles)} may read this item in the sharing matrix.",))
    role_line = (
        f"Your role {_roles_text(roles)} may read this item (sharing matrix version {principal.policy_version})."
        if roles
        else "None of your roles may read this item in the sharing matrix."
    )
    if emergency is not None:
        until = timezone.localtime(emergency.expires_at).strftime("%H:%M")
        return Why(
            "emergency",
            roles,
            lines=(
                f"You have emergency access to this record until {until}; every item is shown and auditors review it.",
                role_line,
                basis,
            ),
        )
    if on_caseload:
        return Why(
            "caseload",
            roles,
            lines=(
                role_line,
                "This person is on your team's caseload: the owning team needs no data-sharing agreement.",
                basis,
            ),
        )
    agreements = coverage.sources.get(code, ()) if coverage is not None else ()
    return Why(
        "agreement",
        roles,
        agreements,
        lines=(
            role_line,
            f"Data-sharing agreement {', '.join(agreements)} covers this item for “{purpose_label}”, your agency being a party.",
            basis,
        ),
    )


def explain_withheld(*, code: str, principal: Principal, reason: str, coverage: Coverage | None, purpose_label: str) -> Why:
    roles = principal.grants.granted_by(code)
    mine = _roles_text((principal.preview_role,) if principal.previewing else tuple(principal.role_codes)) or "none"
    if reason == "role":
        return Why(
            "role",
            lines=(f"The sharing matrix (version {principal.policy_version}) grants this item to none of your roles ({mine}).",),
        )
    if reason == "agreement":
        return Why(
            "agreement_missing",
            roles,
            lines=(
                f"Your role {_roles_text(roles)} may read this item, but no data-sharing agreement in force for your agency covers it.",
            ),
        )
    others = coverage.other_sources.get(code, ()) if coverage is not None else ()
    return Why(
        "purpose",
        roles,
        other_agreements=others,
        lines=(
            f"Your role {_roles_text(roles)} may read this item, and agreement {', '.join(others)} covers it, "
            f"but only for purposes other than “{purpose_label}”.",
        ),
    )

"""Subject-level rules that narrow the role x item policy: consent, sharing agreements, emergency access.

The choke point (access.disclosure) applies these; nothing else does.

Rules, each with its reason:
- Consent. A record whose consent was withdrawn is visible only to its owning
  team (the caseload) and shows in no search: the person has said no, and the
  team still has to care for them. A record shared on consent is visible only
  to the kinds of agency the consent covers, unless a lawful basis without
  consent is also recorded, which stands on its own.
  ``records.selectors.search_subjects`` applies the same rule in SQL
  (``VISIBLE_SQL``); a test checks that both agree on every combination.
- Data-sharing agreements. A user's agency must be a party to an agreement
  in force today that covers the item for the purpose the user gave; the
  owning team needs none (it is the controller). Withheld items say which of
  these reasons applies, in plain words.
- Emergency access ("break-glass") lets one user read every item of one
  subject until it expires. It cannot open a record whose consent was
  withdrawn unless a lawful basis without consent is recorded.
- The lawful basis of a subject travels with every audit event about them.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.utils import timezone

from access.policy import Principal
from governance.models import EmergencyAccess
from mais import prepared
from records.models import ConsentStatus

# The fields every disclosure loads beside the items: they decide visibility and the lawful basis.
GOVERNANCE_FIELDS = ("consent_status", "consent_agency_kinds", "lawful_basis")

WITHHELD_REASONS = {
    "role": "Not shared with your role",
    "agreement": "Not shared: your agency has no data-sharing agreement in force that covers this item",
    "purpose": "Not shared for the reason you gave: your agency's data-sharing agreement covers this item only for other purposes",
}


@dataclass(frozen=True)
class Coverage:
    """What the data-sharing agreements in force for one agency cover."""

    for_purpose: frozenset[str]
    any_purpose: frozenset[str]
    references: tuple[str, ...]
    # item code -> references of the agreements covering it for this purpose / for any purpose ("Why can I see this?").
    sources: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    other_sources: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class EmergencyGrant:
    id: int
    reason_code: str
    expires_at: dt.datetime


def lawful_basis_of(values: Mapping[str, Any]) -> str:
    """The basis recorded with every audit event about this subject."""
    status = values.get("consent_status")
    if status == ConsentStatus.GIVEN:
        return "consent"
    if values.get("lawful_basis"):
        return str(values["lawful_basis"])
    return "consent_withdrawn" if status == ConsentStatus.WITHDRAWN else "none_recorded"


def consent_allows(values: Mapping[str, Any], agency_kind: str) -> bool:
    """Whether consent or a lawful basis lets an agency of this kind see the record (owning team aside)."""
    status = values.get("consent_status")
    if status == ConsentStatus.WITHDRAWN:
        return False
    if values.get("lawful_basis"):
        return True
    return status == ConsentStatus.GIVEN and agency_kind in (values.get("consent_agency_kinds") or ())


def emergency_allowed(values: Mapping[str, Any]) -> bool:
    """Break-glass cannot override a withdrawal of consent unless a lawful basis without consent is recorded."""
    return values.get("consent_status") != ConsentStatus.WITHDRAWN or bool(values.get("lawful_basis"))


def agreement_coverage(principal: Principal, purpose_code: str, today: dt.date | None = None) -> Coverage:
    """Items covered by the agreements in force today for the principal's agency. One query."""
    if principal.agency_id is None:
        return Coverage(frozenset(), frozenset(), ())
    return _coverage(agreements_in_force(principal, today), purpose_code)


def agreements_in_force(principal: Principal, today: dt.date | None = None) -> list[tuple[str, list[str], list[str]]]:
    """(reference, items, purposes) of the agreements in force today for the principal's agency. One query.

    For lists that need the coverage of several purposes at once (``_coverage`` per purpose, no more queries).
    """
    if principal.agency_id is None:
        return []
    today = today or timezone.localdate()
    # Plain SQL (the same statement as the standing query's agreements): every search runs it, and building the
    # ORM query cost more than running it (issue 6). tests/governance/test_standing.py compares it with the ORM.
    # Prepared once per connection (mais.prepared) like the standing query: its plan does not depend on the values.
    with connection.cursor() as cursor:
        prepared.execute(cursor, _AGREEMENTS_SQL, {"agency": principal.agency_id, "today": today})
        return [(reference, list(items), list(purposes)) for reference, items, purposes in cursor.fetchall()]


_AGREEMENTS_SQL = """
SELECT a.reference, a.items, a.purposes
FROM governance_sharingagreement a JOIN governance_sharingagreement_parties ap ON ap.sharingagreement_id = a.id
WHERE ap.agency_id = %(agency)s AND a.starts_on <= %(today)s AND a.ends_on >= %(today)s
"""


def coverage_for(rows: Iterable[tuple[str, list[str], list[str]]], purpose_code: str) -> Coverage:
    return _coverage(rows, purpose_code)


def _coverage(rows: Iterable[tuple[str, list[str], list[str]]], purpose_code: str) -> Coverage:
    """Agreements in force as (reference, items, purposes) rows, to what they cover for this purpose and any."""
    for_purpose: set[str] = set()
    any_purpose: set[str] = set()
    references = []
    sources: dict[str, set[str]] = {}
    other_sources: dict[str, set[str]] = {}
    for reference, items, purposes in rows:
        references.append(reference)
        any_purpose.update(items)
        covering = sources if purpose_code in purposes else other_sources
        if purpose_code in purposes:
            for_purpose.update(items)
        for item in items:
            covering.setdefault(item, set()).add(reference)
    return Coverage(
        frozenset(for_purpose),
        frozenset(any_purpose),
        tuple(sorted(references)),
        {k: tuple(sorted(v)) for k, v in sources.items()},
        {k: tuple(sorted(v)) for k, v in other_sources.items()},
    )


def active_emergency(principal: Principal, subject_id: uuid.UUID) -> EmergencyGrant | None:
    """The principal's emergency access to this subject in force now, if any. One query."""
    row = (
        EmergencyAccess.objects.filter(user_id=principal.user_id, subject_id=subject_id, expires_at__gt=timezone.now())
        .order_by("-expires_at")
        .values_list("id", "reason_code", "expires_at")
        .first()
    )
    return EmergencyGrant(*row) if row else None


def withheld_reason(code: str, principal: Principal, coverage: Coverage | None) -> str | None:
    """Why an item is withheld from this principal (a key of WITHHELD_REASONS), or None when it is shared."""
    if code not in principal.grants.readable:
        return "role"
    if coverage is None:
        return None
    if code not in coverage.any_purpose:
        return "agreement"
    if code not in coverage.for_purpose:
        return "purpose"
    return None


@dataclass(frozen=True)
class Standing:
    """Where one principal stands with one subject: caseload, emergency access, agreements in force, following."""

    on_caseload: bool
    emergency: EmergencyGrant | None
    coverage: Coverage
    # Whether the user follows the record (the page's Follow button); read here to save the page a round trip.
    following: bool = False
    # The subject's consent facts as this statement read them (None: no such subject). The record view decides
    # visibility and the lawful basis on these, then reads the record only if they are still the same, in the
    # statement that appends its audit row (``records.selectors.subject_record_read``).
    consent: ConsentFacts | None = None


@dataclass(frozen=True)
class ConsentFacts:
    """The three fields consent and the lawful basis are decided on (``consent_allows``, ``lawful_basis_of``)."""

    consent_status: str
    consent_agency_kinds: tuple[str, ...]
    lawful_basis: str

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> ConsentFacts:
        """From a record's values (``governance_values``)."""
        return cls(values["consent_status"], tuple(values["consent_agency_kinds"]), values["lawful_basis"])

    def as_values(self) -> dict[str, Any]:
        """As a record's values, for the rules that read them."""
        return {
            "consent_status": self.consent_status,
            "consent_agency_kinds": list(self.consent_agency_kinds),
            "lawful_basis": self.lawful_basis,
        }


STANDING_SQL = """
SELECT base.on_caseload, e.id, e.reason_code, e.expires_at, base.agreements, base.following,
    s.id IS NOT NULL, s.consent_status, s.consent_agency_kinds, s.lawful_basis
FROM (
    SELECT
        CASE WHEN cardinality(%(groups)s::int[]) = 0 THEN false ELSE EXISTS (
            SELECT 1 FROM records_subjectgroupobjectpermission p JOIN auth_permission ap ON ap.id = p.permission_id
            WHERE p.content_object_id = %(subject)s AND p.group_id = ANY(%(groups)s::int[]) AND ap.codename = 'change_subject'
        ) END AS on_caseload,
        (
            SELECT coalesce(json_agg(json_build_array(a.reference, a.items, a.purposes)), '[]'::json)
            FROM governance_sharingagreement a JOIN governance_sharingagreement_parties ap ON ap.sharingagreement_id = a.id
            WHERE ap.agency_id = %(agency)s AND a.starts_on <= %(today)s AND a.ends_on >= %(today)s
        ) AS agreements,
        EXISTS (SELECT 1 FROM notifications_follow f WHERE f.user_id = %(user)s AND f.subject_id = %(subject)s) AS following
) base
LEFT JOIN LATERAL (
    SELECT id, reason_code, expires_at FROM governance_emergencyaccess
    WHERE user_id = %(user)s AND subject_id = %(subject)s AND expires_at > %(now)s
    ORDER BY expires_at DESC LIMIT 1
) e ON true
LEFT JOIN records_subject s ON s.id = %(subject)s
"""


def subject_standing(principal: Principal, subject_id: uuid.UUID, purpose_code: str) -> Standing:
    """``writable_items_for``'s caseload check, ``active_emergency``, ``agreement_coverage``, following and the
    subject's consent facts in one query.

    The record view asks all of them for every disclosure; one round trip
    instead of five keeps it within its query budget. The same rules as the
    functions above, which a test checks against this one.
    """
    caseload_groups = list(principal.team_group_ids) if principal.grants.writable_on_caseload else []
    now = timezone.now()
    with connection.cursor() as cursor:
        prepared.execute(
            cursor,
            STANDING_SQL,
            {
                "groups": caseload_groups,
                "subject": subject_id,
                "agency": principal.agency_id or 0,
                "today": timezone.localdate(now),
                "user": principal.user_id,
                "now": now,
            },
        )
        on_caseload, e_id, e_reason, e_expires, agreements, following, found, status, kinds, basis = cursor.fetchone()
    if isinstance(agreements, str):
        agreements = json.loads(agreements)
    emergency = EmergencyGrant(e_id, e_reason, e_expires) if e_id is not None else None
    consent = ConsentFacts(status, tuple(kinds), basis) if found else None
    return Standing(bool(on_caseload), emergency, _coverage(agreements, purpose_code), bool(following), consent)

"""The disclosure choke point: every byte of record content leaves through here.

Rules (DESIGN.md, "The disclosure choke point"):
1. What the user may see is resolved from the policy (access.policy), cached
   per policy version; no per-item query.
2. Only the permitted fields are loaded, and the result is an immutable view
   object in which every withheld item is an explicit "not shared with your
   role" marker, never a silent absence and never a model instance.
3. The audit event is written before anything is returned; if it cannot be
   written nothing is served. Where the disclosure changes state, the event
   is written in the same transaction as the change. Where it only reads
   (a record view, a search), the event is its only write: the reads run
   outside a transaction block and the append commits on its own, so the
   audit chain's lock is held for one statement, not while the thread
   finishes the request (issue 6).
Not-found and not-permitted look the same to the user (``NotFound``), and
both are audited, after the request's own work has rolled back.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from access.display import display_item
from access.explain import Why, basis_text, explain_shown, explain_withheld
from access.governance import (
    GOVERNANCE_FIELDS,
    WITHHELD_REASONS,
    ConsentFacts,
    Coverage,
    EmergencyGrant,
    agreement_coverage,
    agreements_in_force,
    consent_allows,
    coverage_for,
    emergency_allowed,
    lawful_basis_of,
    subject_standing,
    withheld_reason,
)
from access.models import AgencyKind, Team
from access.policy import Principal
from audit.models import Reading
from audit.services import AuditUnavailable, Purpose, RequestContext, audit_record
from governance.selectors import DueRecord, retention_due
from partnership.models import OUTCOME_NOTE_ITEM, Referral, ReferralEvent, SharingDecision
from partnership.selectors import (
    ReferralFacts,
    referral_events,
    referral_facts,
    referrals_for_teams,
    referrals_sent_by,
    sharing_decisions_for,
)
from records.dataset import ITEMS, ITEMS_BY_CODE, SECTIONS, ItemSpec
from records.models import ConsentStatus, ItemChange, Subject, SubjectGroupObjectPermission
from records.selectors import (
    Hit,
    SearchCriteria,
    caseload_facts,
    caseload_subject_ids,
    governance_values,
    item_history,
    overdue_items_by_team,
    recent_item_changes,
    release_dates,
    review_dates,
    search_page_window,
    search_subjects,
    subject_ids_by_nhs_number,
    subject_record_read,
    subject_values,
)
from records.terms import terms

WITHHELD_TEXT = "Not shared with your role"
PREVIEW_HIDDEN_TEXT = "Shared with this role (the value is hidden from you)"

SUMMARY_ITEMS = (
    "identity.family_name",
    "identity.given_names",
    "identity.date_of_birth",
    "identity.sex",
    "identity.aliases",
    "identity.nhs_number",
    "identity.pnc_id",
    "identity.prison_number",
    "risk.suicide_level",
    "risk.violence_level",
    "criminal_justice.warning_markers",
)

# Search criteria and the item a role must be able to read to search by it.
CRITERIA_ITEMS = {
    "name": "identity.family_name",
    "date_of_birth": "identity.date_of_birth",
    "nhs_number": "identity.nhs_number",
    "pnc_id": "identity.pnc_id",
    "prison_number": "identity.prison_number",
    "cro_number": "identity.cro_number",
}

# What a custody officer needs first, shown above the sections (each item still subject to the policy).
KEY_ITEMS = (
    "risk.suicide_level",
    "risk.violence_level",
    "criminal_justice.warning_markers",
    "risk.custody_advice",
    "risk.risk_to_staff",
    "mental_health.physical_health_risks",
    "mental_health.what_helps",
    "mental_health.communication_needs",
    "mental_health.out_of_hours_contact",
)

REASON_TEXT = {
    "name_exact": "Name matches",
    "name_spelling": "Name spelled similarly",
    "name_sound": "Name sounds alike",
    "alias_exact": "Matches another name used",
    "alias_spelling": "Similar to another name used",
    "alias_sound": "Sounds like another name used",
    "nhs_number": "NHS number matches",
    "pnc_id": "PNC ID matches",
    "prison_number": "Prison number matches",
    "cro_number": "CRO number matches",
    "date_of_birth": "Date of birth matches",
}


class NotFound(Exception):
    """No such subject, or not permitted: the user sees the same 404 for both."""


class SearchNotAllowed(Exception):
    """The searcher may not read an item they tried to search by (their role, or their agency's agreements)."""

    def __init__(self, criterion: str, item_code: str, reason: str = "role") -> None:
        self.criterion = criterion
        self.item_code = item_code
        label = ITEMS_BY_CODE[item_code].label.lower()
        if reason == "role":
            message = f"Your role cannot search by {label}."
        else:
            message = (
                f"You cannot search by {label}: your agency has no data-sharing agreement in force covering it for the reason you gave."
            )
        super().__init__(message)


class Provenance(NamedTuple):
    """Who last changed an item, and when. A NamedTuple like ``ItemView``, for the same reason: one per item."""

    agency: str
    person: str
    changed_at: dt.datetime


class Freshness(NamedTuple):
    """When an item was last reviewed (changed or confirmed still accurate), against the limit for its section.

    A NamedTuple like ``ItemView``: a record page builds one per item."""

    reviewed_at: dt.datetime | None
    limit_days: int
    age_days: int | None

    @property
    def overdue(self) -> bool:
        return self.age_days is None or self.age_days > self.limit_days


_NO_VALUES: Mapping[str, Any] = MappingProxyType({})


class ItemView(NamedTuple):
    """One dataset item as disclosed: shown with its lines, or withheld with the reason. Immutable.

    A NamedTuple rather than a frozen dataclass: a search page builds one per summary item for up to fifty people
    (some 270 a search), and a frozen dataclass takes 3.1 µs to build against 0.6 µs (issue 6).
    """

    code: str
    label: str
    help_text: str
    kind: str
    state: str  # "shown", "withheld" or "preview_hidden"
    lines: tuple[str, ...] = ()
    definitions: tuple[tuple[str, str], ...] = ()
    provenance: Provenance | None = None
    writable: bool = False
    reason: str = "role"  # why withheld: a key of access.governance.WITHHELD_REASONS
    freshness: Freshness | None = None
    # The stored values of a shown item ({model field: value}), for API and FHIR consumers.
    raw: Mapping[str, Any] = _NO_VALUES
    # "Why can I see this?": the rule that decided this item (record page only).
    why: Why | None = None

    @property
    def withheld(self) -> bool:
        return self.state != "shown"

    @property
    def marker(self) -> str:
        return PREVIEW_HIDDEN_TEXT if self.state == "preview_hidden" else WITHHELD_REASONS.get(self.reason, WITHHELD_TEXT)

    @property
    def recorded(self) -> bool:
        return bool(self.lines)


@dataclass(frozen=True)
class SectionView:
    code: str
    label: str
    items: tuple[ItemView, ...]

    @property
    def writable(self) -> bool:
        return any(item.writable for item in self.items)


@dataclass(frozen=True)
class ConsentView:
    """Consent and lawful basis as the record page states them (metadata, shown to everyone who may see the record)."""

    status: str
    given_on: dt.date | None
    recorded_by: str
    agency_kinds: tuple[str, ...]
    lawful_basis: str
    lawful_basis_note: str
    withdrawn_at: dt.datetime | None
    withdrawn_by: str
    inclusion_exception: str
    agency_kind_labels: tuple[str, ...] = ()
    lawful_basis_label: str = ""

    @property
    def withdrawn(self) -> bool:
        return self.status == ConsentStatus.WITHDRAWN


@dataclass(frozen=True)
class SubjectView:
    subject_id: uuid.UUID
    version: int
    heading: str
    sections: tuple[SectionView, ...]
    disclosed: tuple[str, ...]
    edit_values: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    on_caseload: bool = False
    consent: ConsentView | None = None
    emergency: EmergencyGrant | None = None
    emergency_possible: bool = False
    following: bool = False  # the user follows this record (notifications)

    def item(self, code: str) -> ItemView:
        for section in self.sections:
            for item in section.items:
                if item.code == code:
                    return item
        raise KeyError(code)

    @property
    def key_items(self) -> tuple[ItemView, ...]:
        return tuple(self.item(code) for code in KEY_ITEMS)

    @property
    def writable_items(self) -> tuple[str, ...]:
        return tuple(i.code for s in self.sections for i in s.items if i.writable)


@dataclass(frozen=True)
class SearchRow:
    subject_id: uuid.UUID
    reasons: tuple[str, ...]
    items: Mapping[str, ItemView]

    @property
    def heading(self) -> str:
        return _heading(self.items)


@dataclass(frozen=True)
class SearchResults:
    """One page of ranked results: ``rows`` are ranks ``first`` to ``first + len(rows) - 1``."""

    rows: tuple[SearchRow, ...]
    page: int
    page_size: int
    has_more: bool  # more people matched than this page and those before it show
    last_page: int  # the deepest page a search may ask for (settings.SEARCH_MAX_PAGES)

    @property
    def first(self) -> int:
        return (self.page - 1) * self.page_size + 1

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1

    @property
    def next_page(self) -> int | None:
        """The page after this one, when there is more to see and the search may go that deep."""
        return self.page + 1 if self.has_more and self.page < self.last_page else None

    @property
    def capped(self) -> bool:
        """More matched than may be shown at all, however far one pages: the search must be narrowed."""
        return self.has_more and self.page >= self.last_page


def _heading(items: Mapping[str, ItemView]) -> str:
    family, given = items.get("identity.family_name"), items.get("identity.given_names")
    if family is None or family.withheld:
        return "Name not shared with your role"
    name = " ".join(family.lines)
    if given is not None and not given.withheld and given.lines:
        name = f"{name.upper()}, {' '.join(given.lines)}"
    return name or "Name not recorded"


def _fields_for(codes: frozenset[str] | set[str]) -> set[str]:
    return {f for code in codes for f in ITEMS_BY_CODE[code].model_fields}


def search_fields(shown: frozenset[str]) -> set[str]:
    """The subject fields a search page reads for each result: those of the summary items ``shown`` and the governance
    fields (consent, lawful basis) that decide what may be shown."""
    return _fields_for(shown) | set(GOVERNANCE_FIELDS)


ALL_ITEM_CODES = frozenset(ITEMS_BY_CODE)


@dataclass(frozen=True)
class _Access:
    """What one principal may see of one subject, before the subject's own consent is checked."""

    shown: frozenset[str]
    writable: frozenset[str]
    on_caseload: bool
    coverage: Coverage | None  # None: agreements do not apply (owning team, preview, emergency)
    emergency: EmergencyGrant | None
    following: bool = False
    consent: ConsentFacts | None = None  # the standing query's (None for a preview, which has none)


def _resolve_access(principal: Principal, subject_id: uuid.UUID, purpose: Purpose) -> _Access:
    """Role grants narrowed by agreements, widened by emergency access; the owning team needs no agreement.

    One query, whatever the number of items (``subject_standing``: caseload, emergency access, agreements).
    """
    if principal.previewing:
        return _Access(principal.grants.readable & principal.own_readable, frozenset(), False, None, None)
    standing = subject_standing(principal, subject_id, purpose.code)
    on_caseload = standing.on_caseload
    writable = principal.grants.writable_anywhere | (principal.grants.writable_on_caseload if on_caseload else frozenset())
    if standing.emergency is not None:
        return _Access(ALL_ITEM_CODES, writable, on_caseload, None, standing.emergency, standing.following, standing.consent)
    if on_caseload:
        return _Access(principal.grants.readable, writable, on_caseload, None, None, standing.following, standing.consent)
    coverage = standing.coverage
    return _Access(
        principal.grants.readable & coverage.for_purpose, writable, on_caseload, coverage, None, standing.following, standing.consent
    )


def _check_visible(principal: Principal, access: _Access, values: Mapping[str, Any]) -> None:
    """Consent decides whether the record may be seen at all; raise PermissionError('consent') when not."""
    if principal.previewing or access.on_caseload:
        return
    if access.emergency is not None and emergency_allowed(values):
        return
    if not consent_allows(values, principal.agency_kind):
        raise PermissionError("consent")


@dataclass(frozen=True)
class _Explainer:
    """The facts behind one disclosure, for "Why can I see this?"."""

    access: _Access
    basis: str
    purpose_label: str


def _item_view(
    item: ItemSpec,
    principal: Principal,
    values: Mapping[str, Any],
    term_lookup: dict[tuple[str, str], tuple[str, str]],
    shown: frozenset[str],
    coverage: Coverage | None = None,
    provenance: Provenance | None = None,
    writable: bool = False,
    freshness: Freshness | None = None,
    explainer: _Explainer | None = None,
) -> ItemView:
    if item.code not in shown:
        if principal.previewing and item.code in principal.grants.readable:
            return ItemView(item.code, item.label, item.help_text, item.kind, "preview_hidden")
        reason = withheld_reason(item.code, principal, coverage) or "role"
        why = (
            explain_withheld(code=item.code, principal=principal, reason=reason, coverage=coverage, purpose_label=explainer.purpose_label)
            if explainer
            else None
        )
        return ItemView(item.code, item.label, item.help_text, item.kind, "withheld", reason=reason, why=why)
    lines, definitions = display_item(item, values, term_lookup)
    raw = MappingProxyType({f: values[f] for f in item.model_fields})
    why = None
    if explainer is not None:
        why = explain_shown(
            code=item.code,
            principal=principal,
            on_caseload=explainer.access.on_caseload,
            coverage=explainer.access.coverage,
            emergency=explainer.access.emergency,
            basis=explainer.basis,
            purpose_label=explainer.purpose_label,
        )
    return ItemView(
        item.code,
        item.label,
        item.help_text,
        item.kind,
        "shown",
        lines,
        definitions,
        provenance,
        writable,
        freshness=freshness,
        raw=raw,
        why=why,
    )


def _freshness(item: ItemSpec, reviewed_at: dt.datetime | None, now: dt.datetime) -> Freshness | None:
    limit = settings.REVIEW_DAYS.get(item.section)
    if limit is None:
        return None
    age = (now - reviewed_at).days if reviewed_at else None
    return Freshness(reviewed_at, limit, age)


def record_refusal(
    *,
    principal: Principal,
    context: RequestContext,
    event: str,
    outcome: str,
    subject_id: uuid.UUID | None = None,
    purpose: Purpose | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Audit a denied or not-found attempt in its own transaction, after the request's work rolled back."""
    with transaction.atomic():
        basis = ""
        if subject_id is not None:
            found = governance_values(subject_id)
            basis = lawful_basis_of(found) if found else ""
        audit_record(
            event=event,
            outcome=outcome,
            context=context,
            about=Subject,
            subject_id=subject_id,
            purpose=purpose,
            detail=detail,
            lawful_basis=basis,
            **principal.audit_identity(),
        )


def _owns_caseload(group_ids: tuple[int, ...] | list[int], subject_id: uuid.UUID) -> bool:
    """Whether any of these team groups owns the subject's caseload (guardian ``change_subject``). One query."""
    return (
        bool(group_ids)
        and SubjectGroupObjectPermission.objects.filter(
            content_object_id=subject_id, group_id__in=list(group_ids), permission__codename="change_subject"
        ).exists()
    )


def writable_items_for(principal: Principal, subject_id: uuid.UUID) -> tuple[frozenset[str], bool]:
    """Items this principal may write on this subject, and whether it is on their caseload."""
    if principal.previewing:
        return frozenset(), False
    grants = principal.grants
    on_caseload = bool(grants.writable_on_caseload) and _owns_caseload(principal.team_group_ids, subject_id)
    writable = set(grants.writable_anywhere)
    if on_caseload:
        writable |= grants.writable_on_caseload
    return frozenset(writable), on_caseload


def _disclosure_detail(principal: Principal, access: _Access, surface: str = "page") -> dict[str, Any] | None:
    detail: dict[str, Any] = {}
    if surface != "page":
        detail["surface"] = surface
    if principal.previewing:
        detail["previewed_role"] = principal.preview_role
    if access.emergency is not None:
        detail["emergency_access"] = access.emergency.id
    if access.coverage is not None:
        detail["agreements"] = list(access.coverage.references)
    return detail or None


def _consent_view(values: Mapping[str, Any], term_lookup: dict[tuple[str, str], tuple[str, str]]) -> ConsentView:
    kinds = dict(AgencyKind.choices)
    basis = values["lawful_basis"]
    return ConsentView(
        agency_kind_labels=tuple(kinds.get(k, k) for k in values["consent_agency_kinds"] or ()),
        lawful_basis_label=term_lookup.get(("lawful_basis", basis), (basis, ""))[0] if basis else "",
        status=values["consent_status"],
        given_on=values["consent_given_on"],
        recorded_by=values["consent_recorded_by"],
        agency_kinds=tuple(values["consent_agency_kinds"] or ()),
        lawful_basis=values["lawful_basis"],
        lawful_basis_note=values["lawful_basis_note"],
        withdrawn_at=values["consent_withdrawn_at"],
        withdrawn_by=values["consent_withdrawn_by"],
        inclusion_exception=values["inclusion_exception"],
    )


CONSENT_FIELDS = (
    *GOVERNANCE_FIELDS,
    "consent_given_on",
    "consent_recorded_by",
    "lawful_basis_note",
    "consent_withdrawn_at",
    "consent_withdrawn_by",
    "inclusion_exception",
)


# Times the record view decides on a subject's consent and reads the record again when the consent changed in
# between (each time by another user's edit in the few milliseconds between two statements).
_READ_ATTEMPTS = 3


def _read_audited(
    principal: Principal, subject_id: uuid.UUID, purpose: Purpose, context: RequestContext, event: str, surface: str
) -> tuple[_Access, dict[str, Any], dict[tuple[str, str], Any]]:
    """What the principal may see of the subject, and the record's values and provenance, read in the statement that
    appends the disclosure's audit row (raises PermissionError when consent refuses, LookupError when there is none).

    The standing query brings the subject's consent facts, so visibility and the lawful basis are decided, and the
    audit row built, before the record is read; the read then returns the record only while its consent fields
    still hold those values, and the row is appended only if it does (issue 6: the read and the append in one
    round trip, and nothing read without its audit row, atomically).
    """
    for _attempt in range(_READ_ATTEMPTS):
        access = _resolve_access(principal, subject_id, purpose)
        consent = access.consent
        if principal.previewing:
            found = governance_values(subject_id)
            consent = ConsentFacts.of(found) if found else None
        if consent is None:
            raise LookupError("no such subject")
        facts = consent.as_values()
        _check_visible(principal, access, facts)
        read = subject_record_read(
            subject_id,
            _fields_for(access.shown) | set(CONSENT_FIELDS),
            access.shown,
            consent=(consent.consent_status, consent.consent_agency_kinds, consent.lawful_basis),
        )
        entry = audit_record(
            event=event,
            context=context,
            about=Subject,
            subject_id=subject_id,
            items=access.shown,
            purpose=purpose,
            detail=_disclosure_detail(principal, access, surface),
            lawful_basis=lawful_basis_of(facts),
            reading=Reading(read.sql, read.params, read.width),
            **principal.audit_identity(),
        )
        if entry.read_row is not None:
            values, changes = read.parse(entry.read_row)
            assert values is not None  # the read returned its row
            return access, values, changes
    raise AuditUnavailable("the record's consent changed each time it was read")


def disclose_subject(
    *,
    principal: Principal,
    subject_id: uuid.UUID,
    purpose: Purpose,
    context: RequestContext,
    surface: str = "page",
) -> SubjectView:
    """The whole record as this principal may see it, audited as one disclosure.

    ``surface`` names where it goes (page, api, fhir) and is recorded with the event.
    """
    event = "record.preview" if principal.previewing else "record.view"
    try:
        if not principal.grants.readable:
            raise PermissionError("the role may read no items")
        access, values, changes = _read_audited(principal, subject_id, purpose, context, event, surface)
        shown = access.shown
        writable = access.writable
        provenance: dict[str, Provenance] = {}
        reviewed: dict[str, dt.datetime] = {}
        for (code, kind), change in changes.items():
            reviewed[code] = max(reviewed.get(code, change.changed_at), change.changed_at)
            if kind == ItemChange.Kind.CHANGE:
                provenance[code] = Provenance(change.agency_name, change.changed_by_name, change.changed_at)
        now = timezone.now()
        term_lookup = terms()
        explainer = _Explainer(
            access, basis_text(values, term_lookup), term_lookup.get(("access_reason", purpose.code), (purpose.code, ""))[0]
        )
        sections = tuple(
            SectionView(
                code,
                label,
                tuple(
                    _item_view(
                        item,
                        principal,
                        values,
                        term_lookup,
                        shown,
                        access.coverage,
                        provenance.get(item.code),
                        item.code in writable,
                        _freshness(item, reviewed.get(item.code), now),
                        explainer,
                    )
                    for item in ITEMS
                    if item.section == code
                ),
            )
            for code, label in SECTIONS
        )
        edit_values = {f: values[f] for code in writable if code in shown for f in ITEMS_BY_CODE[code].model_fields}
        summary = {i.code: i for s in sections for i in s.items if i.code in SUMMARY_ITEMS}
        any_withheld = any(i.withheld for s in sections for i in s.items)
        view = SubjectView(
            subject_id=subject_id,
            version=values["version"],
            heading=_heading(summary),
            sections=sections,
            disclosed=tuple(sorted(shown)),
            edit_values=MappingProxyType(edit_values),
            on_caseload=access.on_caseload,
            consent=_consent_view(values, term_lookup),
            emergency=access.emergency,
            emergency_possible=(any_withheld and access.emergency is None and not principal.previewing and emergency_allowed(values)),
            following=access.following,
        )
        return view
    except PermissionError as exc:
        detail = {"rule": "consent"} if exc.args == ("consent",) else None
        record_refusal(
            principal=principal, context=context, event=event, outcome="denied", subject_id=subject_id, purpose=purpose, detail=detail
        )
        raise NotFound() from None
    except LookupError:
        record_refusal(principal=principal, context=context, event=event, outcome="not_found", subject_id=subject_id, purpose=purpose)
        raise NotFound() from None


@dataclass(frozen=True)
class HistoryEntry:
    lines: tuple[str, ...]
    provenance: Provenance
    confirmation: bool = False


@dataclass(frozen=True)
class ItemHistoryView:
    subject_id: uuid.UUID
    item: ItemView
    entries: tuple[HistoryEntry, ...]
    emergency: EmergencyGrant | None = None


def disclose_item_history(
    *,
    principal: Principal,
    subject_id: uuid.UUID,
    item_code: str,
    purpose: Purpose,
    context: RequestContext,
) -> ItemHistoryView:
    """Past values of one item, under the same rule as the item itself; audited as a disclosure of that item."""
    event = "record.history"
    try:
        with transaction.atomic():
            spec = ITEMS_BY_CODE.get(item_code)
            if spec is None:
                raise PermissionError("no such item")
            access = _resolve_access(principal, subject_id, purpose)
            if item_code not in access.shown:
                raise PermissionError("the principal may not read this item")
            rows = subject_values([subject_id], set(spec.model_fields) | set(GOVERNANCE_FIELDS))
            if subject_id not in rows:
                raise LookupError("no such subject")
            values = rows[subject_id]
            _check_visible(principal, access, values)
            term_lookup = terms()
            entries = []
            for change in item_history(subject_id, item_code):
                provenance = Provenance(change.agency_name, change.changed_by_name, change.changed_at)
                if change.kind == ItemChange.Kind.CONFIRM:
                    entries.append(HistoryEntry(("Confirmed still accurate",), provenance, confirmation=True))
                    continue
                stored = {
                    k: (
                        dt.date.fromisoformat(v)
                        if isinstance(v, str) and spec.kind in ("date", "structured") and _looks_like_date(v)
                        else v
                    )
                    for k, v in (change.value or {}).items()
                }
                lines, _ = display_item(spec, stored, term_lookup)
                entries.append(HistoryEntry(lines, provenance))
            current = _item_view(spec, principal, values, term_lookup, access.shown, access.coverage)
            audit_record(
                event=event,
                context=context,
                about=Subject,
                subject_id=subject_id,
                items=[item_code],
                purpose=purpose,
                detail=_disclosure_detail(principal, access),
                lawful_basis=lawful_basis_of(values),
                **principal.audit_identity(),
            )
            return ItemHistoryView(subject_id, current, tuple(entries), access.emergency)
    except PermissionError:
        record_refusal(
            principal=principal,
            context=context,
            event=event,
            outcome="denied",
            subject_id=subject_id,
            purpose=purpose,
            detail={"item": item_code},
        )
        raise NotFound() from None
    except LookupError:
        record_refusal(principal=principal, context=context, event=event, outcome="not_found", subject_id=subject_id, purpose=purpose)
        raise NotFound() from None


def _looks_like_date(value: str) -> bool:
    return len(value) == 10 and value[4] == "-" and value[7] == "-"


def searchable_criteria(principal: Principal) -> frozenset[str]:
    """The search fields this principal's role allows: those whose item their role may read."""
    return frozenset(c for c, code in CRITERIA_ITEMS.items() if code in principal.grants.readable)


def disclose_search(
    *,
    principal: Principal,
    criteria: SearchCriteria,
    purpose: Purpose,
    context: RequestContext,
    surface: str = "page",
    page: int = 1,
) -> SearchResults:
    """One page of ranked search results showing only the summary items the searcher may read; always audited.

    Records whose consent was withdrawn, or whose consent does not cover the
    searcher's kind of agency, never appear (the same rule as the record page).
    Each page is a disclosure of its own, audited with its page number.
    """
    if not 1 <= page <= settings.SEARCH_MAX_PAGES:
        raise ValueError(f"page must be 1 to {settings.SEARCH_MAX_PAGES}, not {page}")
    allowed = searchable_criteria(principal)
    detail: dict[str, Any] = {"criteria": _criteria_for_audit(criteria)}
    if surface != "page":
        detail["surface"] = surface
    if page > 1:
        detail["page"] = page
    event = "export.search" if surface == "csv" else "search"
    coverage = agreement_coverage(principal, purpose.code)
    readable = principal.grants.readable & coverage.for_purpose
    for criterion, item_code in CRITERIA_ITEMS.items():
        if getattr(criteria, criterion) and (criterion not in allowed or item_code not in readable):
            record_refusal(principal=principal, context=context, event=event, outcome="denied", purpose=purpose, detail=detail)
            raise SearchNotAllowed(criterion, item_code, "role" if criterion not in allowed else "agreement")
    size = settings.SEARCH_PAGE_SIZE
    effective = SearchCriteria(**{**criteria.__dict__, "include_aliases": "identity.aliases" in readable})
    shown = frozenset(SUMMARY_ITEMS) & readable
    # The window has one row more than the page shows, to know whether there is a next page; it is neither shown nor audited.
    limit, offset = search_page_window(page, size)
    hits: list[Hit] = search_subjects(effective, limit=limit, offset=offset, agency_kind=principal.agency_kind, fields=search_fields(shown))
    has_more = len(hits) > size
    hits = hits[:size]
    term_lookup = terms()
    result_rows = []
    bases: dict[str, str] = {}
    for hit in hits:
        values = hit.values
        assert values is not None  # fields were asked for
        bases[str(hit.subject_id)] = lawful_basis_of(values)
        items = {code: _item_view(ITEMS_BY_CODE[code], principal, values, term_lookup, shown, coverage) for code in SUMMARY_ITEMS}
        reasons = tuple(dict.fromkeys(REASON_TEXT.get(r, r) for r in hit.reasons))
        result_rows.append(SearchRow(hit.subject_id, reasons, MappingProxyType(items)))
    detail.update(result_count=len(hits), results=[str(h.subject_id) for h in hits], agreements=list(coverage.references))
    distinct_bases = set(bases.values())
    if len(distinct_bases) > 1:
        # Each result's lawful basis: the row's own when the results share one (the usual case), else this map. A
        # map of fifty was half of a search row's detail, written, hashed, indexed and stored on every search (issue 6).
        detail["result_bases"] = bases
    audit_record(
        event=event,
        context=context,
        about=Subject,
        items=shown if hits else (),
        purpose=purpose,
        detail=detail,
        lawful_basis=distinct_bases.pop() if len(distinct_bases) == 1 else "",
        **principal.audit_identity(),
    )
    return SearchResults(rows=tuple(result_rows), page=page, page_size=size, has_more=has_more, last_page=settings.SEARCH_MAX_PAGES)


def _criteria_for_audit(criteria: SearchCriteria) -> dict[str, str]:
    out = {}
    for name in CRITERIA_ITEMS:
        value = getattr(criteria, name)
        if value:
            out[name] = value.isoformat() if isinstance(value, dt.date) else str(value)
    return out


__all__ = [
    "NotFound",
    "SearchNotAllowed",
    "SubjectView",
    "SearchResults",
    "disclose_subject",
    "disclose_search",
    "disclose_item_history",
    "record_refusal",
    "searchable_criteria",
    "writable_items_for",
]


def locate_subject_for_audit(*, principal: Principal, nhs_number: str, purpose: Purpose, context: RequestContext) -> uuid.UUID | None:
    """For auditors answering a subject access request: the record's id for an NHS number, and nothing else.

    Only the auditor role may ask. The answer discloses that a record exists, so it is audited.
    """
    if not principal.has_role("auditor"):
        record_refusal(principal=principal, context=context, event="audit.locate", outcome="denied", purpose=purpose)
        raise NotFound()
    with transaction.atomic():
        found = subject_ids_by_nhs_number(nhs_number)
        subject_id = found[0] if found else None
        governance = governance_values(subject_id) if subject_id else None
        audit_record(
            event="audit.locate",
            context=context,
            about=Subject,
            subject_id=subject_id,
            purpose=purpose,
            detail={"found": subject_id is not None},
            lawful_basis=lawful_basis_of(governance) if governance else "",
            **principal.audit_identity(),
        )
        return subject_id


@dataclass(frozen=True)
class CaseloadRow:
    subject_id: uuid.UUID
    heading: str
    consent_withdrawn: bool
    overdue: tuple[tuple[str, int | None], ...]  # (item label, days since last review, None if never)
    items: Mapping[str, ItemView] = field(default_factory=lambda: MappingProxyType({}))


# A caseload list (and its CSV) shows who the person is and what a partner needs first.
CASELOAD_ITEMS = tuple(dict.fromkeys((*SUMMARY_ITEMS, *KEY_ITEMS, "identity.release_date")))


def disclose_caseload(*, principal: Principal, purpose: Purpose, context: RequestContext, surface: str = "page") -> tuple[CaseloadRow, ...]:
    """The principal's team caseload with the risk and mental health items due for review, most overdue first.

    The owning team needs no agreement and sees withdrawn records too. Four queries, however long the caseload.
    """
    event = "export.caseload" if surface == "csv" else "caseload.view"
    if principal.previewing or not principal.team_group_ids or not principal.grants.writable_on_caseload:
        record_refusal(principal=principal, context=context, event=event, outcome="denied", purpose=purpose)
        raise NotFound()
    with transaction.atomic():
        ids = caseload_subject_ids(principal.team_group_ids)
        shown = frozenset(CASELOAD_ITEMS) & principal.grants.readable
        rows = subject_values(ids, _fields_for(shown) | set(GOVERNANCE_FIELDS))
        tracked = [i for i in ITEMS if i.section in settings.REVIEW_DAYS and i.code in principal.grants.readable]
        reviewed = review_dates(ids, [i.code for i in tracked])
        now = timezone.now()
        term_lookup = terms()
        out = []
        for subject_id, values in rows.items():
            overdue = []
            for item in tracked:
                fresh = _freshness(item, reviewed.get((subject_id, item.code)), now)
                if fresh is not None and fresh.overdue:
                    overdue.append((item.label, fresh.age_days))
            items = {code: _item_view(ITEMS_BY_CODE[code], principal, values, term_lookup, shown) for code in CASELOAD_ITEMS}
            withdrawn = values["consent_status"] == ConsentStatus.WITHDRAWN
            out.append(CaseloadRow(subject_id, _heading(items), withdrawn, tuple(overdue), MappingProxyType(items)))
        out.sort(key=lambda r: (-len(r.overdue), r.heading))
        detail: dict[str, Any] = {"result_count": len(out), "results": [str(r.subject_id) for r in out]}
        if surface != "page":
            detail["surface"] = surface
        audit_record(
            event=event,
            context=context,
            about=Subject,
            items=shown if out else (),
            purpose=purpose,
            detail=detail,
            **principal.audit_identity(),
        )
        return tuple(out)


@dataclass(frozen=True)
class RetentionRow:
    due: DueRecord
    heading: str


def disclose_retention_queue(*, principal: Principal, context: RequestContext, today: dt.date | None = None) -> tuple[RetentionRow, ...]:
    """Records due for retention review, for administrators; names shown as their role and agreements allow. Audited."""
    purpose = Purpose("data_quality", "Retention review")
    if not principal.has_role("administrator"):
        record_refusal(principal=principal, context=context, event="retention.queue", outcome="denied", purpose=purpose)
        raise NotFound()
    with transaction.atomic():
        due = retention_due(today=today or timezone.localdate())
        coverage = agreement_coverage(principal, purpose.code)
        shown = frozenset(SUMMARY_ITEMS) & principal.grants.readable & coverage.for_purpose
        rows = subject_values([d.subject_id for d in due], _fields_for(shown))
        term_lookup = terms()
        out = tuple(
            RetentionRow(
                d,
                _heading(
                    {
                        code: _item_view(ITEMS_BY_CODE[code], principal, rows[d.subject_id], term_lookup, shown, coverage)
                        for code in ("identity.family_name", "identity.given_names")
                    }
                ),
            )
            for d in due
        )
        audit_record(
            event="retention.queue",
            context=context,
            about=Subject,
            items=shown if out else (),
            purpose=purpose,
            detail={"result_count": len(out), "results": [str(r.due.subject_id) for r in out]},
            **principal.audit_identity(),
        )
        return out


@dataclass(frozen=True)
class ChangeRow:
    subject_id: uuid.UUID
    item_code: str
    kind: str
    changed_at: dt.datetime


def disclose_changes(
    *, principal: Principal, since: dt.datetime, purpose: Purpose, context: RequestContext, limit: int = 500
) -> tuple[ChangeRow, ...]:
    """Which items changed after ``since`` (never their values), for items and records this principal may see. Audited.

    The same rules as the record page: role grants narrowed by agreements, consent for the agency's kind.
    """
    coverage = agreement_coverage(principal, purpose.code)
    readable = principal.grants.readable & coverage.for_purpose
    with transaction.atomic():
        facts = recent_item_changes(since=since, item_codes=readable, limit=limit)
        rows = tuple(
            ChangeRow(f.subject_id, f.item_code, f.kind, f.changed_at)
            for f in facts
            if consent_allows(
                {"consent_status": f.consent_status, "consent_agency_kinds": f.consent_agency_kinds, "lawful_basis": f.lawful_basis},
                principal.agency_kind,
            )
        )
        audit_record(
            event="changes.list",
            context=context,
            about=Subject,
            items=sorted({r.item_code for r in rows}),
            purpose=purpose,
            detail={"since": since.isoformat(), "result_count": len(rows), "results": sorted({str(r.subject_id) for r in rows})},
            **principal.audit_identity(),
        )
        return rows


NOTIFICATION_PURPOSE = Purpose("notification", "Change to a followed record")


@dataclass(frozen=True)
class NotificationView:
    subject_id: uuid.UUID
    heading: str
    version: int
    items: tuple[ItemView, ...]  # only the changed items the follower may read


def disclose_notification(
    *, principal: Principal, subject_id: uuid.UUID, item_codes: list[str], channel: str, delivery_id: int, context: RequestContext
) -> NotificationView | None:
    """What one follower may be told about a change, or None when they may read none of it. Audited when not None.

    The same rules as the record page, applied at the moment of sending: role grants, agreements for the
    'notification' purpose (the owning team needs none), consent. Emergency access does not extend to notifications.
    """
    writable, on_caseload = writable_items_for(principal, subject_id)
    if on_caseload:
        shown = principal.grants.readable
    else:
        shown = principal.grants.readable & agreement_coverage(principal, NOTIFICATION_PURPOSE.code).for_purpose
    wanted = frozenset(item_codes) & shown
    names = frozenset({"identity.family_name", "identity.given_names"}) & shown
    if not wanted:
        return None
    with transaction.atomic():
        rows = subject_values([subject_id], _fields_for(wanted | names) | set(GOVERNANCE_FIELDS))
        values = rows.get(subject_id)
        if values is None or (not on_caseload and not consent_allows(values, principal.agency_kind)):
            return None
        term_lookup = terms()
        items = tuple(_item_view(ITEMS_BY_CODE[c], principal, values, term_lookup, shown) for c in ITEMS_BY_CODE if c in wanted)
        heading = _heading({c: _item_view(ITEMS_BY_CODE[c], principal, values, term_lookup, shown) for c in names})
        audit_record(
            event="notification.deliver",
            context=context,
            about=Subject,
            subject_id=subject_id,
            items=wanted,
            purpose=NOTIFICATION_PURPOSE,
            detail={"channel": channel, "delivery": delivery_id},
            lawful_basis=lawful_basis_of(values),
            **principal.audit_identity(),
        )
        return NotificationView(subject_id, heading, values["version"], items)


def disclose_inbox_headings(*, principal: Principal, subject_ids: list[uuid.UUID], context: RequestContext) -> dict[uuid.UUID, str]:
    """Names for the in-app inbox, under the record page's rules (consent, agreements, caseload). Audited; 4 queries."""
    if not subject_ids:
        return {}
    names = ("identity.family_name", "identity.given_names")
    coverage = agreement_coverage(principal, NOTIFICATION_PURPOSE.code)
    with transaction.atomic():
        own = set(caseload_subject_ids(principal.team_group_ids)) if principal.grants.writable_on_caseload else set()
        rows = subject_values(subject_ids, _fields_for(set(names) & principal.grants.readable) | set(GOVERNANCE_FIELDS))
        term_lookup = terms()
        out: dict[uuid.UUID, str] = {}
        for subject_id, values in rows.items():
            mine = subject_id in own
            if not mine and not consent_allows(values, principal.agency_kind):
                out[subject_id] = "A record you can no longer see"
                continue
            shown = principal.grants.readable if mine else principal.grants.readable & coverage.for_purpose
            out[subject_id] = _heading({c: _item_view(ITEMS_BY_CODE[c], principal, values, term_lookup, frozenset(shown)) for c in names})
        audit_record(
            event="notification.inbox",
            context=context,
            about=Subject,
            items=set(names) & principal.grants.readable,
            purpose=NOTIFICATION_PURPOSE,
            detail={"result_count": len(out), "results": sorted(str(s) for s in out)},
            **principal.audit_identity(),
        )
        return out


# --- Partnership working: referrals and sharing decisions ------------------------------------------------

NAME_ITEMS = ("identity.family_name", "identity.given_names")


def _visible(principal: Principal, subject_id: uuid.UUID, purpose: Purpose) -> tuple[_Access, Mapping[str, Any]] | None:
    """What the principal may see of the subject and its consent facts, when they may open its record now; else None."""
    if principal.previewing or not principal.grants.readable:
        return None
    values = governance_values(subject_id)
    if values is None:
        return None
    access = _resolve_access(principal, subject_id, purpose)
    try:
        _check_visible(principal, access, values)
    except PermissionError:
        return None
    return access, values


def may_act_on(*, principal: Principal, subject_id: uuid.UUID, purpose: Purpose) -> Mapping[str, Any] | None:
    """The subject's consent facts when this principal may open its record now (the record page's rule), else None.

    For writes that concern a person (a referral, a sharing decision): nobody acts on a record they could not open.
    Not a disclosure (no content leaves), so not audited here; the caller's write is.
    """
    found = _visible(principal, subject_id, purpose)
    return found[1] if found else None


def team_may_see(*, team_group_id: int, agency_kind: str, subject_id: uuid.UUID, values: Mapping[str, Any]) -> bool:
    """Whether a team could open this record: it owns the caseload, or consent or a lawful basis covers its agency's kind."""
    return consent_allows(values, agency_kind) or _owns_caseload([team_group_id], subject_id)


def _headings(principal: Principal, pairs: list[tuple[uuid.UUID, str]]) -> tuple[dict[tuple[uuid.UUID, str], str], set[str]]:
    """Names of subjects, each under the record page's rules for the purpose given with it. Three queries however many.

    Returns the headings and the items disclosed. The owning team needs no agreement; a record whose consent
    does not cover the viewer's agency is shown as such, by no name.
    """
    if not pairs:
        return {}, set()
    readable = principal.grants.readable
    own = set(caseload_subject_ids(principal.team_group_ids)) if principal.grants.writable_on_caseload else set()
    agreements = agreements_in_force(principal)
    rows = subject_values(list({sid for sid, _ in pairs}), _fields_for(set(NAME_ITEMS) & readable) | set(GOVERNANCE_FIELDS))
    term_lookup = terms()
    coverage_by_purpose: dict[str, frozenset[str]] = {}
    out: dict[tuple[uuid.UUID, str], str] = {}
    disclosed: set[str] = set()
    for subject_id, purpose_code in pairs:
        values = rows.get(subject_id)
        if values is None:
            out[(subject_id, purpose_code)] = "A record no longer held"
            continue
        mine = subject_id in own
        if not mine and not consent_allows(values, principal.agency_kind):
            out[(subject_id, purpose_code)] = "A record you cannot see"
            continue
        if mine:
            shown = readable
        else:
            if purpose_code not in coverage_by_purpose:
                coverage_by_purpose[purpose_code] = coverage_for(agreements, purpose_code).for_purpose
            shown = readable & coverage_by_purpose[purpose_code]
        disclosed |= set(NAME_ITEMS) & shown
        out[(subject_id, purpose_code)] = _heading(
            {c: _item_view(ITEMS_BY_CODE[c], principal, values, term_lookup, frozenset(shown)) for c in NAME_ITEMS}
        )
    return out, disclosed


@dataclass(frozen=True)
class ReferralRow:
    facts: ReferralFacts
    heading: str


def disclose_referral_list(*, principal: Principal, box: str, open_only: bool, context: RequestContext) -> tuple[ReferralRow, ...]:
    """A team's referral queue (``box="team"``) or the referrals a user made (``"sent"``), with names. Audited.

    Five queries however many referrals: referrals, caseload, agreements, names, audit (plus the chain tip).
    """
    if box == "team":
        facts = referrals_for_teams(principal.team_group_ids, open_only=open_only)
    else:
        facts = referrals_sent_by(principal.user_id)
    with transaction.atomic():
        headings, disclosed = _headings(principal, [(f.subject_id, f.purpose_code) for f in facts])
        rows = tuple(ReferralRow(f, headings[(f.subject_id, f.purpose_code)]) for f in facts)
        audit_record(
            event="referral.list",
            context=context,
            about=Referral,
            items=disclosed,
            detail={"box": box, "result_count": len(rows), "results": sorted({str(f.subject_id) for f in facts})},
            **principal.audit_identity(),
        )
    return rows


@dataclass(frozen=True)
class ReferralView:
    facts: ReferralFacts
    heading: str
    events: tuple[ReferralEvent, ...]
    is_referrer: bool
    is_receiver: bool
    # The outcome's clinical note: shown to the receiving team and to a referrer who may read OUTCOME_NOTE_ITEM.
    outcome_note: str
    outcome_note_withheld: bool
    record_visible: bool


def disclose_referral(*, principal: Principal, referral_id: int, context: RequestContext) -> ReferralView:
    """One referral for its referrer or a member of the receiving team; nobody else. Audited, refusals too."""
    facts = referral_facts(referral_id)
    event = "referral.view"
    is_referrer = facts is not None and facts.referred_by_id == principal.user_id
    is_receiver = facts is not None and facts.to_team_group_id in principal.team_group_ids
    if facts is None or not (is_referrer or is_receiver) or principal.previewing:
        record_refusal(
            principal=principal,
            context=context,
            event=event,
            outcome="not_found" if facts is None else "denied",
            subject_id=facts.subject_id if facts else None,
            detail={"referral": referral_id},
        )
        raise NotFound()
    purpose = Purpose(facts.purpose_code, f"Referral {facts.id}")
    with transaction.atomic():
        headings, disclosed = _headings(principal, [(facts.subject_id, facts.purpose_code)])
        found = _visible(principal, facts.subject_id, purpose)
        visible = found is not None
        note, withheld = "", False
        if facts.outcome_note:
            note_shown = is_receiver or (found is not None and OUTCOME_NOTE_ITEM in found[0].shown)
            note, withheld = (facts.outcome_note, False) if note_shown else ("", True)
            if note_shown:
                disclosed.add(OUTCOME_NOTE_ITEM)
        governance = found[1] if found else governance_values(facts.subject_id)
        audit_record(
            event=event,
            context=context,
            about=Referral,
            subject_id=facts.subject_id,
            object_pk=str(facts.id),
            items=disclosed,
            purpose=purpose,
            detail={"referral": facts.id, "side": "referrer" if is_referrer else "receiving_team"},
            lawful_basis=lawful_basis_of(governance) if governance else "",
            **principal.audit_identity(),
        )
    return ReferralView(
        facts,
        headings[(facts.subject_id, facts.purpose_code)],
        tuple(referral_events(facts.id)),
        is_referrer,
        is_receiver,
        note,
        withheld,
        visible,
    )


@dataclass(frozen=True)
class SharingDecisionsView:
    subject_id: uuid.UUID
    heading: str
    decisions: tuple[SharingDecision, ...]


def disclose_sharing_decisions(
    *, principal: Principal, subject_id: uuid.UUID, purpose: Purpose, context: RequestContext
) -> SharingDecisionsView:
    """Sharing decisions recorded about one person: for the owning team and auditors; each author also sees their own.

    Audited as a disclosure (they say what was shared with whom).
    """
    event = "sharing.view"
    own_caseload = _owns_caseload(principal.team_group_ids, subject_id)
    auditor = principal.has_role("auditor")
    governance = governance_values(subject_id)
    decisions = sharing_decisions_for(subject_id) if governance is not None and not principal.previewing else []
    if own_caseload or auditor:
        allowed = governance is not None and not principal.previewing
    else:
        decisions = [d for d in decisions if d.recorded_by_id == principal.user_id]
        allowed = bool(decisions)
    if not allowed or governance is None:
        record_refusal(
            principal=principal,
            context=context,
            event=event,
            outcome="not_found" if governance is None else "denied",
            subject_id=subject_id,
            purpose=purpose,
        )
        raise NotFound()
    with transaction.atomic():
        headings, disclosed = _headings(principal, [(subject_id, purpose.code)])
        audit_record(
            event=event,
            context=context,
            about=SharingDecision,
            subject_id=subject_id,
            items=disclosed,
            purpose=purpose,
            detail={"result_count": len(decisions), "results": [d.pk for d in decisions]},
            lawful_basis=lawful_basis_of(governance),
            **principal.audit_identity(),
        )
    return SharingDecisionsView(subject_id, headings[(subject_id, purpose.code)], tuple(decisions))


# --- Reports: counts only (reports.tables suppresses small ones); each look is audited -----------------------

REPORT_ROLES = ("administrator", "auditor")


def _report_refused(principal: Principal, context: RequestContext, report: str) -> NotFound:
    record_refusal(principal=principal, context=context, event="report.view", outcome="denied", detail={"report": report})
    return NotFound()


def _report_audit(principal: Principal, context: RequestContext, report: str, detail: dict[str, Any]) -> None:
    audit_record(
        event="report.view",
        context=context,
        about=Subject,
        object_repr=report,
        detail={"report": report, **detail},
        **principal.audit_identity(),
    )


@dataclass(frozen=True)
class CaseloadProfile:
    people: int
    tables: tuple[tuple[str, tuple[tuple[str, int], ...]], ...]


def disclose_caseload_profile(*, principal: Principal, context: RequestContext, today: dt.date | None = None) -> CaseloadProfile:
    """The owning team's caseload by diagnosis group, MAPPA level, risk levels and release month. Counts only; audited."""
    if principal.previewing or not principal.team_group_ids or not principal.grants.writable_on_caseload:
        raise _report_refused(principal, context, "caseload")
    today = today or timezone.localdate()
    term_lookup = terms()

    def label(vocabulary: str, code: str) -> str:
        return term_lookup.get((vocabulary, code), (code, ""))[0] if code else "Not recorded"

    def ordered(vocabulary: str) -> list[str]:
        return [code for (vocab, code) in term_lookup if vocab == vocabulary]

    with transaction.atomic():
        facts = caseload_facts(principal.team_group_ids)
        tables: list[tuple[str, tuple[tuple[str, int], ...]]] = []
        for title, attr, vocabulary in (
            ("By diagnosis group", "diagnosis_group", "diagnosis_group"),
            ("By MAPPA level", "mappa_level", "mappa_level"),
            ("By risk of suicide or self-harm", "suicide_level", "risk_level"),
            ("By risk of violence", "violence_level", "risk_level"),
        ):
            counts: dict[str, int] = {}
            for f in facts:
                key = getattr(f, attr) or ""
                counts[key] = counts.get(key, 0) + 1
            codes = [c for c in ordered(vocabulary) if c in counts] + sorted(c for c in counts if c not in ordered(vocabulary))
            tables.append((title, tuple((label(vocabulary, c), counts[c]) for c in codes)))
        months = []
        month = today.replace(day=1)
        for _ in range(3):
            following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            months.append(
                (
                    month.strftime("%B %Y"),
                    sum(1 for f in facts if f.release_date and month <= f.release_date < following and f.release_date >= today),
                )
            )
            month = following
        tables.append(("Release dates in the next three months", tuple(months)))
        _report_audit(principal, context, "caseload", {"people": len(facts)})
    return CaseloadProfile(len(facts), tuple(tables))


RELEASE_BUCKETS = (
    "Seen before release",
    "Within 7 days of release",
    "8 to 28 days after release",
    "29 to 90 days after release",
    "More than 90 days after release",
    "No release date recorded",
)


def disclose_release_to_contact(
    *, principal: Principal, contacts: list[tuple[Any, dt.datetime]], detail: dict[str, Any], context: RequestContext
) -> list[tuple[str, int]]:
    """How long after release the referred person was first seen, for administrators and auditors. Counts only; audited."""
    if not any(principal.has_role(r) for r in REPORT_ROLES):
        raise _report_refused(principal, context, "release-contact")
    with transaction.atomic():
        released = release_dates([sid for sid, _ in contacts])
        counts = dict.fromkeys(RELEASE_BUCKETS, 0)
        for subject_id, first_contact in contacts:
            release = released.get(subject_id)
            if release is None:
                bucket = RELEASE_BUCKETS[5]
            else:
                days = (timezone.localdate(first_contact) - release).days
                bucket = (
                    RELEASE_BUCKETS[0]
                    if days < 0
                    else RELEASE_BUCKETS[1]
                    if days <= 7
                    else RELEASE_BUCKETS[2]
                    if days <= 28
                    else RELEASE_BUCKETS[3]
                    if days <= 90
                    else RELEASE_BUCKETS[4]
                )
            counts[bucket] += 1
        _report_audit(principal, context, "release-contact", detail)
    return list(counts.items())


def disclose_overdue_reviews(*, principal: Principal, context: RequestContext) -> list[tuple[str, int, int, int]]:
    """Per caseload team: records, risk items and mental health items overdue for review. Counts only; audited."""
    if not any(principal.has_role(r) for r in REPORT_ROLES):
        raise _report_refused(principal, context, "overdue")

    tracked = [i.code for i in ITEMS if i.section in settings.REVIEW_DAYS]
    with transaction.atomic():
        rows = overdue_items_by_team(item_codes=tracked, limits=dict(settings.REVIEW_DAYS), now=timezone.now())
        names = dict(Team.objects.values_list("group_id", "name"))
        by_team: dict[str, list[int]] = {}
        for group_id, section, records, overdue in rows:
            entry = by_team.setdefault(names.get(group_id, "Unknown team"), [0, 0, 0])
            entry[0] = max(entry[0], records)
            entry[1 if section == "risk" else 2] += overdue
        _report_audit(principal, context, "overdue", {})
    return sorted((team, *values) for team, values in by_team.items())  # type: ignore[misc]

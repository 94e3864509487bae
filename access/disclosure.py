"""The disclosure choke point: every byte of record content leaves through here.

Rules (DESIGN.md, "The disclosure choke point"):
1. What the user may see is resolved from the policy (access.policy), cached
   per policy version; no per-item query.
2. Only the permitted fields are loaded, and the result is an immutable view
   object in which every withheld item is an explicit "not shared with your
   role" marker, never a silent absence and never a model instance.
3. The audit event for the disclosure is written in the same transaction;
   if it cannot be written the transaction rolls back and nothing is served.
Not-found and not-permitted look the same to the user (``NotFound``), and
both are audited, after the request's own work has rolled back.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from django.conf import settings
from django.db import transaction

from access.display import display_item
from access.policy import Principal
from audit.services import Purpose, RequestContext, audit_record
from records.dataset import ITEMS, ITEMS_BY_CODE, SECTIONS, ItemSpec
from records.models import Subject, SubjectGroupObjectPermission
from records.selectors import Hit, SearchCriteria, item_history, latest_changes, search_subjects, subject_ids_by_nhs_number, subject_values
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
    """The searcher's role may not read an item they tried to search by."""

    def __init__(self, criterion: str, item_code: str) -> None:
        self.criterion = criterion
        self.item_code = item_code
        super().__init__(f"Your role cannot search by {ITEMS_BY_CODE[item_code].label.lower()}.")


@dataclass(frozen=True)
class Provenance:
    agency: str
    person: str
    changed_at: dt.datetime


@dataclass(frozen=True)
class ItemView:
    code: str
    label: str
    help_text: str
    kind: str
    state: str  # "shown", "withheld" or "preview_hidden"
    lines: tuple[str, ...] = ()
    definitions: tuple[tuple[str, str], ...] = ()
    provenance: Provenance | None = None
    writable: bool = False

    @property
    def withheld(self) -> bool:
        return self.state != "shown"

    @property
    def marker(self) -> str:
        return PREVIEW_HIDDEN_TEXT if self.state == "preview_hidden" else WITHHELD_TEXT

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
class SubjectView:
    subject_id: uuid.UUID
    version: int
    heading: str
    sections: tuple[SectionView, ...]
    disclosed: tuple[str, ...]
    edit_values: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    on_caseload: bool = False

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
    rows: tuple[SearchRow, ...]
    capped: bool
    limit: int


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


def _shown_codes(principal: Principal) -> frozenset[str]:
    """Items whose values this principal may see (in preview, both roles must allow them)."""
    if principal.previewing:
        return principal.grants.readable & principal.own_readable
    return principal.grants.readable


def _item_view(
    item: ItemSpec,
    principal: Principal,
    values: dict[str, Any],
    term_lookup: dict[tuple[str, str], tuple[str, str]],
    provenance: Provenance | None = None,
    writable: bool = False,
) -> ItemView:
    if item.code not in principal.grants.readable:
        return ItemView(item.code, item.label, item.help_text, item.kind, "withheld")
    if item.code not in _shown_codes(principal):
        return ItemView(item.code, item.label, item.help_text, item.kind, "preview_hidden")
    lines, definitions = display_item(item, values, term_lookup)
    return ItemView(item.code, item.label, item.help_text, item.kind, "shown", lines, definitions, provenance, writable)


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
        audit_record(
            event=event,
            outcome=outcome,
            context=context,
            about=Subject,
            subject_id=subject_id,
            purpose=purpose,
            detail=detail,
            **principal.audit_identity(),
        )


def writable_items_for(principal: Principal, subject_id: uuid.UUID) -> tuple[frozenset[str], bool]:
    """Items this principal may write on this subject, and whether it is on their caseload."""
    if principal.previewing:
        return frozenset(), False
    grants = principal.grants
    on_caseload = False
    if grants.writable_on_caseload and principal.team_group_ids:
        on_caseload = SubjectGroupObjectPermission.objects.filter(
            content_object_id=subject_id,
            group_id__in=principal.team_group_ids,
            permission__codename="change_subject",
        ).exists()
    writable = set(grants.writable_anywhere)
    if on_caseload:
        writable |= grants.writable_on_caseload
    return frozenset(writable), on_caseload


def disclose_subject(
    *,
    principal: Principal,
    subject_id: uuid.UUID,
    purpose: Purpose,
    context: RequestContext,
) -> SubjectView:
    """The whole record as this principal may see it, audited as one disclosure."""
    event = "record.preview" if principal.previewing else "record.view"
    try:
        with transaction.atomic():
            if not principal.grants.readable:
                raise PermissionError("the role may read no items")
            shown = _shown_codes(principal)
            rows = subject_values([subject_id], _fields_for(shown))
            values = rows.get(subject_id)
            if values is None:
                raise LookupError("no such subject")
            writable, on_caseload = writable_items_for(principal, subject_id)
            provenance = {
                code: Provenance(change.agency_name, change.changed_by_name, change.changed_at)
                for code, change in latest_changes(subject_id, shown).items()
            }
            term_lookup = terms()
            sections = tuple(
                SectionView(
                    code,
                    label,
                    tuple(
                        _item_view(item, principal, values, term_lookup, provenance.get(item.code), item.code in writable)
                        for item in ITEMS
                        if item.section == code
                    ),
                )
                for code, label in SECTIONS
            )
            edit_values = {f: values[f] for code in writable for f in ITEMS_BY_CODE[code].model_fields}
            summary = {i.code: i for s in sections for i in s.items if i.code in SUMMARY_ITEMS}
            view = SubjectView(
                subject_id=subject_id,
                version=values["version"],
                heading=_heading(summary),
                sections=sections,
                disclosed=tuple(sorted(shown)),
                edit_values=MappingProxyType(edit_values),
                on_caseload=on_caseload,
            )
            audit_record(
                event=event,
                context=context,
                about=Subject,
                subject_id=subject_id,
                items=shown,
                purpose=purpose,
                detail={"previewed_role": principal.preview_role} if principal.previewing else None,
                **principal.audit_identity(),
            )
            return view
    except PermissionError:
        record_refusal(principal=principal, context=context, event=event, outcome="denied", subject_id=subject_id, purpose=purpose)
        raise NotFound() from None
    except LookupError:
        record_refusal(principal=principal, context=context, event=event, outcome="not_found", subject_id=subject_id, purpose=purpose)
        raise NotFound() from None


@dataclass(frozen=True)
class HistoryEntry:
    lines: tuple[str, ...]
    provenance: Provenance


@dataclass(frozen=True)
class ItemHistoryView:
    subject_id: uuid.UUID
    item: ItemView
    entries: tuple[HistoryEntry, ...]


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
            if spec is None or item_code not in _shown_codes(principal):
                raise PermissionError("the role may not read this item")
            rows = subject_values([subject_id], spec.model_fields)
            if subject_id not in rows:
                raise LookupError("no such subject")
            term_lookup = terms()
            entries = []
            for change in item_history(subject_id, item_code):
                stored = {
                    k: (
                        dt.date.fromisoformat(v)
                        if isinstance(v, str) and spec.kind in ("date", "structured") and _looks_like_date(v)
                        else v
                    )
                    for k, v in (change.value or {}).items()
                }
                lines, _ = display_item(spec, stored, term_lookup)
                entries.append(HistoryEntry(lines, Provenance(change.agency_name, change.changed_by_name, change.changed_at)))
            current = _item_view(spec, principal, rows[subject_id], term_lookup)
            audit_record(
                event=event,
                context=context,
                about=Subject,
                subject_id=subject_id,
                items=[item_code],
                purpose=purpose,
                **principal.audit_identity(),
            )
            return ItemHistoryView(subject_id, current, tuple(entries))
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
    """The search fields this principal may use: those whose item their role may read."""
    return frozenset(c for c, code in CRITERIA_ITEMS.items() if code in principal.grants.readable)


def disclose_search(
    *,
    principal: Principal,
    criteria: SearchCriteria,
    purpose: Purpose,
    context: RequestContext,
) -> SearchResults:
    """Ranked search results showing only the summary items the searcher may read; always audited."""
    allowed = searchable_criteria(principal)
    detail: dict[str, Any] = {"criteria": _criteria_for_audit(criteria)}
    for criterion, item_code in CRITERIA_ITEMS.items():
        if getattr(criteria, criterion) and criterion not in allowed:
            record_refusal(principal=principal, context=context, event="search", outcome="denied", purpose=purpose, detail=detail)
            raise SearchNotAllowed(criterion, item_code)
    limit = settings.SEARCH_RESULT_LIMIT
    with transaction.atomic():
        effective = SearchCriteria(**{**criteria.__dict__, "include_aliases": "identity.aliases" in principal.grants.readable})
        hits: list[Hit] = search_subjects(effective, limit=limit)
        shown = frozenset(SUMMARY_ITEMS) & principal.grants.readable
        rows = subject_values([h.subject_id for h in hits], _fields_for(shown))
        term_lookup = terms()
        result_rows = []
        for hit in hits:
            values = rows[hit.subject_id]
            items = {code: _item_view(ITEMS_BY_CODE[code], principal, values, term_lookup) for code in SUMMARY_ITEMS}
            reasons = tuple(dict.fromkeys(REASON_TEXT.get(r, r) for r in hit.reasons))
            result_rows.append(SearchRow(hit.subject_id, reasons, MappingProxyType(items)))
        detail.update(result_count=len(hits), results=[str(h.subject_id) for h in hits])
        audit_record(
            event="search",
            context=context,
            about=Subject,
            items=shown if hits else (),
            purpose=purpose,
            detail=detail,
            **principal.audit_identity(),
        )
        return SearchResults(rows=tuple(result_rows), capped=len(hits) >= limit, limit=limit)


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
        audit_record(
            event="audit.locate",
            context=context,
            about=Subject,
            subject_id=subject_id,
            purpose=purpose,
            detail={"found": subject_id is not None},
            **principal.audit_identity(),
        )
        return subject_id

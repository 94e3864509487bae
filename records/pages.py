"""Disclosed items as HTML, for the record, edit and search pages (globals of their Jinja2 templates, mais.jinja).

Rules and reasons:
- These functions only format what the choke point already decided to show
  (``access.disclosure.ItemView``): they run no query and see no value the
  view object does not carry.
- They are Python rather than template loops because the record page
  shows every item of the dataset and a search page a full page of people (fifty
  until 2026-12-05, twenty since):
  rendering each item through an include with nested tags cost more than the
  disclosure itself (issue 6 measured about half of a record view's time in
  the template). The markup is the one the templates used to produce.
- Every value passes through ``mais.markup.escape``: free text typed by a
  practitioner is shown exactly as typed, never as markup.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.safestring import SafeString

from mais.chrome import csrf_hidden
from mais.markup import built as _safe
from mais.markup import escape as _e
from mais.markup import id_link
from mais.markup import when as _when


def _lines(item: Any) -> str:
    return "<br>".join(f'<span class="{"mais-risk-high" if line == "High" else ""}">{_e(line)}</span>' for line in item.lines)


def _definitions(item: Any) -> str:
    if not item.definitions:
        return ""
    inner = "".join(f'<p class="govuk-body-s"><strong>{_e(label)}</strong>: {_e(text)}</p>' for label, text in item.definitions)
    return (
        '<details class="govuk-details govuk-!-margin-bottom-0 mais-item-help"><summary class="govuk-details__summary">'
        f'<span class="govuk-details__summary-text">What this means</span></summary>\n<div class="govuk-details__text">{inner}</div></details>'
    )


def _provenance(item: Any, subject_id: Any) -> str:
    p = item.provenance
    if p is None:
        return ""
    history = ""
    if subject_id is not None:
        url = _history_link(item.code)(subject_id)
        history = (
            f' &middot; <a class="govuk-link" href="{_e(url)}">History<span class="govuk-visually-hidden"> of {_e(item.label)}</span></a>'
        )
    return f'<span class="mais-provenance">Updated {_e(_when(p.changed_at, "j M Y H:i"))} by {_e(p.person)}, {_e(p.agency)}{history}</span>'


@functools.lru_cache(maxsize=256)
def _history_link(code: str) -> Callable[[Any], str]:
    """The item's history link for any subject: one ``reverse`` per item code, not one per item shown."""
    return id_link("item-history", code)


def _freshness(item: Any) -> str:
    f = item.freshness
    if f is None:
        return ""
    if f.overdue:
        detail = "No review recorded" if f.age_days is None else f"last reviewed {f.age_days} days ago; due every {f.limit_days} days"
        return (
            '<span class="mais-review-overdue" data-testid="review-overdue"><strong class="govuk-tag govuk-tag--orange">'
            f"Review overdue</strong> {detail}</span>"
        )
    ago = "today" if f.age_days == 0 else f"{f.age_days} day{'' if f.age_days == 1 else 's'} ago"
    return f'<span class="mais-provenance" data-testid="reviewed">Reviewed {ago}</span>'


def _value(item: Any, subject_id: Any) -> str:
    if item.withheld:
        return f'<span class="mais-withheld" data-testid="withheld">{_e(item.marker)}</span>'
    if not item.recorded:
        return '<span class="mais-provenance">Not recorded</span>'
    return "\n".join(part for part in (_lines(item), _definitions(item), _provenance(item, subject_id), _freshness(item)) if part)


def item_value(item: Any, subject_id: Any = None) -> SafeString:
    """The value cell of an item: the withheld marker, or its lines with meanings, provenance and review state.
    Links to the item's history when given the record's subject."""
    return _safe(_value(item, subject_id))


def _why(item: Any) -> str:
    return _why_html(item.why, item.withheld) if item.why else ""


# The markup depends only on the explanation and whether the item is withheld, and a record page's forty items share
# a handful of explanations (the same rule, roles and lawful basis), as do pages after it: built once, not per item.
@functools.lru_cache(maxsize=1024)
def _why_html(why: Any, withheld: bool) -> str:
    lines = "".join(f'<p class="govuk-body-s govuk-!-margin-bottom-1">{_e(line)}</p>' for line in why.lines)
    question = "Why is this not shared?" if withheld else "Why can I see this?"
    return (
        f'\n<details class="govuk-details govuk-!-margin-bottom-0 mais-item-help mais-no-print" data-why="{_e(why.rule)}">'
        f'<summary class="govuk-details__summary"><span class="govuk-details__summary-text">{question}</span></summary>\n'
        f'<div class="govuk-details__text">{lines}</div></details>'
    )


def _section_rows(section: Any, subject_id: Any) -> str:
    """Every row of a record page section: label with its definition, value, and "Why can I see this?"."""
    rows = (
        f"{_row_head(item.code, item.label, item.help_text)}{_value(item, subject_id)}{_why(item)}</dd></div>" for item in section.items
    )
    return "\n".join(rows)


@functools.lru_cache(maxsize=256)
def _row_head(code: str, label: str, help_text: str) -> str:
    """A row's label and definition, the same on every record page: escaped once per item, not once per page."""
    return (
        f'<div class="govuk-summary-list__row" data-item="{_e(code)}"><dt class="govuk-summary-list__key">{_e(label)}\n'
        '<details class="govuk-details govuk-!-margin-bottom-0 mais-item-help"><summary class="govuk-details__summary">'
        '<span class="govuk-details__summary-text">Definition</span></summary>'
        f'<div class="govuk-details__text govuk-body-s">{_e(help_text)}</div></details>\n'
        '</dt><dd class="govuk-summary-list__value">'
    )


def key_item_rows(record: Any) -> SafeString:
    """The "Safety first" card's rows: the key items, label and value."""
    rows = (
        f'<div class="govuk-summary-list__row" data-key-item="{_e(item.code)}">\n'
        f'  <dt class="govuk-summary-list__key">{_e(item.label)}</dt>\n'
        f'  <dd class="govuk-summary-list__value">{_value(item, record.subject_id)}</dd>\n</div>'
        for item in record.key_items
    )
    return _safe("\n".join(rows))


def section_cards(record: Any, csrf_token: Any) -> SafeString:
    """Every section of the record page as a summary card: its title, the Change link and (for risk and mental
    health) the "Still accurate" form where the user may change it, then its rows.

    One function rather than a template loop with its URL and CSRF field per section, for the same reason as the
    rows (issue 6).
    """
    csrf = csrf_hidden(csrf_token)
    cards = []
    for section in record.sections:
        label = _e(section.label)
        actions = ""
        if section.writable:
            edit = reverse("edit-section", args=[record.subject_id, section.code])
            actions = (
                '<ul class="govuk-summary-card__actions"><li class="govuk-summary-card__action">'
                f'<a class="govuk-link" href="{_e(edit)}">Change<span class="govuk-visually-hidden"> {label}</span></a></li>'
            )
            # "Still accurate" where the section's items can be confirmed: those whose age is tracked (reviewable_codes).
            if section.code in settings.REVIEW_DAYS:
                confirm = reverse("confirm-section", args=[record.subject_id, section.code])
                actions += (
                    f'\n<li class="govuk-summary-card__action"><form method="post" action="{_e(confirm)}" class="mais-inline-form">'
                    f'{csrf}<button type="submit" class="govuk-button govuk-button--secondary govuk-!-margin-bottom-0" '
                    f'data-testid="confirm-{_e(section.code)}">Still accurate<span class="govuk-visually-hidden">: confirm {label}</span>'
                    "</button></form></li>"
                )
            actions += "</ul>"
        cards.append(
            f'<div class="govuk-summary-card" id="section-{_e(section.code)}">\n'
            f'  <div class="govuk-summary-card__title-wrapper">\n    <h2 class="govuk-summary-card__title">{label}</h2>\n'
            f"    {actions}\n  </div>\n"
            '  <div class="govuk-summary-card__content">\n    <dl class="govuk-summary-list">\n'
            f"{_section_rows(section, record.subject_id)}\n    </dl>\n  </div>\n</div>"
        )
    return _safe("\n".join(cards))


def result_cards(rows: Any) -> SafeString:
    """Every search result as a summary card: the name linking to the record, why it matched, its summary items.

    One function for the whole list rather than a template loop: a surname search fills a page of people, and the
    loop's per-row variable lookups and ``{% url %}`` cost more than the rest of the page (issue 6). The record
    link is reversed once per page.
    """
    link = id_link("record")
    cards = (
        '<li class="govuk-summary-card">\n      <div class="govuk-summary-card__title-wrapper">\n'
        f'        <h3 class="govuk-summary-card__title"><a class="govuk-link" href="{_e(link(row.subject_id))}" '
        f'data-testid="result-link">{_e(row.heading)}</a></h3>\n'
        f'        <p class="govuk-body-s govuk-!-margin-0"><strong class="govuk-tag govuk-tag--blue">{_e(", ".join(row.reasons))}</strong></p>\n'
        '      </div>\n      <div class="govuk-summary-card__content">\n'
        f'        <dl class="govuk-summary-list govuk-summary-list--no-border">\n{_result_rows(row)}\n        </dl>\n'
        "      </div>\n    </li>"
        for row in rows
    )
    return _safe("\n  ".join(cards))


def _result_rows(row: Any) -> str:
    """A search result's summary items (the name is the result's heading, so not repeated)."""
    cells = []
    for code, item in row.items.items():
        if code in ("identity.family_name", "identity.given_names"):
            continue
        if item.withheld:
            value = _withheld_marker(item.marker)
        elif item.recorded:
            value = _e("; ".join(item.lines))
        else:
            value = "Not recorded"
        cells.append(f"{_result_row_head(item.label)}{value}</dd></div>")
    return "\n".join(cells)


# A search page shows a page of people with the same few summary items: their labels and the withheld markers
# are escaped once, not once per person (about half of the page's escapes, issue 6).
@functools.lru_cache(maxsize=256)
def _result_row_head(label: str) -> str:
    return (
        f'<div class="govuk-summary-list__row"><dt class="govuk-summary-list__key">{_e(label)}</dt><dd class="govuk-summary-list__value">'
    )


@functools.lru_cache(maxsize=64)
def _withheld_marker(marker: str) -> str:
    return f'<span class="mais-withheld">{_e(marker)}</span>'

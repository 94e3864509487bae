"""Turning stored values into the words users see. Pure functions: no queries.

Used only by the choke point (access.disclosure), which decides first whether
a value may be shown at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from records.dataset import (
    CHOICE,
    CHOICE_LIST,
    CODE_LIST,
    CONTACT,
    DATE,
    IDENTIFIER,
    MEDICATION,
    STRUCTURED,
    TEXT_LIST,
    ItemSpec,
)

TermLookup = dict[tuple[str, str], tuple[str, str]]

# Vocabularies of the parts of structured items.
PART_VOCABULARIES = {
    "mappa_category": "mappa_category",
    "mappa_level": "mappa_level",
    "last_custody_outcome": "custody_outcome",
}


def format_date(value: dt.date) -> str:
    return f"{value.day} {value:%B %Y}"


def format_identifier(code: str, value: str) -> str:
    if code == "identity.nhs_number" and len(value) == 10:
        return f"{value[:3]} {value[3:6]} {value[6:]}"
    return value


def _term(terms: TermLookup, vocabulary: str, code: str) -> tuple[str, str]:
    return terms.get((vocabulary, code), (code, ""))


def display_item(item: ItemSpec, values: Mapping[str, Any], terms: TermLookup) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """(lines to show, (term label, definition) pairs) for one item; no lines means not recorded."""
    fields = item.model_fields
    lines: list[str] = []
    definitions: list[tuple[str, str]] = []
    if item.kind in (CHOICE, CHOICE_LIST, CODE_LIST):
        raw = values.get(fields[0])
        codes = raw if isinstance(raw, list) else ([raw] if raw else [])
        for code in codes:
            label, definition = _term(terms, item.vocabulary or "", code)
            lines.append(label)
            if definition:
                definitions.append((label, definition))
    elif item.kind == TEXT_LIST:
        lines = [v for v in values.get(fields[0]) or [] if v]
    elif item.kind == DATE:
        value = values.get(fields[0])
        if value:
            lines = [format_date(value)]
    elif item.kind == IDENTIFIER:
        value = values.get(fields[0])
        if value:
            lines = [format_identifier(item.code, value)]
    elif item.kind == MEDICATION:
        for med in values.get(fields[0]) or []:
            parts = [med.get("name", ""), med.get("dose", ""), med.get("frequency", "")]
            lines.append(" — ".join(p for p in parts if p))
    elif item.kind in (CONTACT, STRUCTURED):
        for field, label in zip(fields, item.field_labels, strict=True):
            value = values.get(field)
            if value in (None, "", []):
                continue
            if isinstance(value, dt.date):
                text = format_date(value)
            elif field in PART_VOCABULARIES:
                text, definition = _term(terms, PART_VOCABULARIES[field], str(value))
                if definition:
                    definitions.append((text, definition))
            else:
                text = str(value)
            lines.append(f"{label}: {text}")
    else:  # NAME, TEXT
        value = values.get(fields[0])
        if value:
            lines = [str(value)]
    return tuple(lines), tuple(definitions)

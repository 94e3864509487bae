"""Normalising names and identifiers for storage and search.

Rules: names compare without accents, case, spaces or punctuation, so that
'Siân' finds 'Sian', 'Fitz-Gerald' finds 'Fitzgerald' and 'Lee Ann' finds
'Leeann'. Identifiers are stored in one canonical form so that an officer
can type them with or without spaces.
"""

from __future__ import annotations

import re
import unicodedata

_NON_LETTERS = re.compile(r"[^a-z]+")
_WORD_SPLIT = re.compile(r"[\s]+")


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def compact_name(text: str) -> str:
    """'O’Neill-Smith ' -> 'oneillsmith'."""
    return _NON_LETTERS.sub("", strip_accents(text).lower())


def name_words(text: str) -> list[str]:
    """Words of a name, each compacted; hyphens and apostrophes join, spaces split."""
    words = [compact_name(part) for part in _WORD_SPLIT.split(strip_accents(text).strip())]
    return [w for w in words if w]


def split_alias(alias: str) -> tuple[str, str]:
    """An alias is written 'given names family name'; the last word is the family name."""
    parts = alias.strip().split()
    if len(parts) <= 1:
        return "", alias.strip()
    return " ".join(parts[:-1]), parts[-1]


def canonical_nhs_number(raw: str) -> str:
    return re.sub(r"[\s-]", "", raw)


def canonical_pnc_id(raw: str) -> str:
    """'2012/0001234a' or '12/1234A' -> '2012/0001234A' (4-digit year, 7-digit serial)."""
    value = re.sub(r"\s", "", raw).upper()
    match = re.fullmatch(r"(\d{2}|\d{4})/(\d{1,7})([A-Z])", value)
    if not match:
        return value
    year, serial, letter = match.groups()
    if len(year) == 2:
        year = ("20" if int(year) <= 30 else "19") + year
    return f"{year}/{int(serial):07d}{letter}"


def canonical_upper(raw: str) -> str:
    return re.sub(r"\s", "", raw).upper()

"""Controlled vocabulary look-ups (no record content), cached per process."""

from __future__ import annotations

from records.models import Term

_terms: dict[tuple[str, str], tuple[str, str]] | None = None


def terms() -> dict[tuple[str, str], tuple[str, str]]:
    """(vocabulary, code) -> (label, definition), loaded once per process: vocabularies ship as data."""
    global _terms
    if _terms is None:
        _terms = {(t.vocabulary, t.code): (t.label, t.definition) for t in Term.objects.all()}
    return _terms


def vocabulary_choices(vocabulary: str) -> list[tuple[str, str]]:
    """Choices in their shipped order (terms are loaded ordered by vocabulary, order)."""
    return [(code, label) for (vocab, code), (label, _) in terms().items() if vocab == vocabulary]

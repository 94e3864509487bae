"""Reads of subjects: search and field loading.

Only ``access.disclosure`` may call these (tests/test_architecture.py): they
return raw values with no item-level filtering of their own, and the choke
point decides what leaves the server.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import Max

from mais import prepared, rawsql
from records.models import ItemChange, Subject, SubjectGroupObjectPermission
from records.normalise import name_words

# Bonus for a double-metaphone match; tuned on shared/data/name-variants.csv.
PHONETIC_BONUS = 0.35


@dataclass(frozen=True)
class SearchCriteria:
    name: str = ""
    date_of_birth: dt.date | None = None
    nhs_number: str = ""
    pnc_id: str = ""
    prison_number: str = ""
    cro_number: str = ""
    include_aliases: bool = True

    def is_empty(self) -> bool:
        return not (name_words(self.name) or self.date_of_birth or self.nhs_number or self.pnc_id or self.prison_number or self.cro_number)


@dataclass(frozen=True)
class Hit:
    subject_id: uuid.UUID
    score: float
    reasons: tuple[str, ...]
    # The subject's fields that ``search_subjects`` was asked for (with id and version), as ``subject_values`` gives them.
    values: dict[str, Any] | None = None


# Which rows match a word, by spelling (trigram similarity) or by sound (double metaphone), is decided on the few
# thousand distinct words of the names (records.models.NameWord), then the rows holding the matching words are found by
# exact value in btree indexes. For a row this is the same test as comparing its own name with the word, because
# every name word is in NameWord and a word's key is dmetaphone of the word, as a row's key is of its name; a test
# compares the two on generated names. At a million people the row-level trigram scans read posting lists of up to
# forty thousand rows per word: 40 of a full-name search's 45 ms (issue 6). PostgreSQL runs each ARRAY(...) once.
FAMILY_WORDS = "ARRAY(SELECT w.word FROM records_nameword w WHERE w.part = 'f' AND (w.word %% %({p})s OR w.key = dmetaphone(%({p})s)))"
GIVEN_WORDS = "ARRAY(SELECT w.word FROM records_nameword w WHERE w.part = 'g' AND (w.word %% %({p})s OR w.key = dmetaphone(%({p})s)))"
MORE_WORDS = "ARRAY(SELECT w.word FROM records_nameword w WHERE w.part = 'm' AND w.word %% %({p})s)"
# A surname like the word, by spelling or sound.
FAMILY_IS = "n.family_norm = ANY(" + FAMILY_WORDS + ")"
# A first given name like the word, by spelling or sound; or all the given names run together spelled like it, only
# where they differ from the first given name (where they are the same, the first given name's match says the same).
GIVEN_IS = "(n.given_first = ANY(" + GIVEN_WORDS + ") OR (n.given_norm <> n.given_first AND n.given_norm = ANY(" + MORE_WORDS + ")))"
# A full-name search's given-name test: a first given name like the word. Its other half, all the given names run
# together spelled like the word, is the arm ``_second_given_ids`` finds from the surname's side.
GIVEN_FIRST_IS = "n.given_first = ANY(" + GIVEN_WORDS + ")"


def _second_given_ids(family: str, given: str) -> str:
    """The name rows with a surname like one word and more than one given name, all of them run together spelled like
    the other word: "Marie Smith" finds Ann Marie Smith ("annmarie" is like "marie").

    Rule: the same rows as ``FAMILY_IS AND GIVEN_IS`` match through GIVEN_IS's run-together half, found from the
    surname's side. Through the word table a common first name is like hundreds of run-together given names (284
    for "frank" at a million people), and probing each with each surname like the other word was two thirds of a
    full-name search's execution (issue 6, 2026-12-03: p50 21.6 ms, against 6.7 ms without those matches). Here the
    surname's rows with more than one given name are read from one index (subjectname_family_more, index-only) and
    each one's run-together given names compared with the word: 2,243 rows for the surnames like "Perry".

    Each row's run-together names are first tested against ``trigram_patterns`` of the word (``%(<given>_pat)s``), a
    test that every row similar to the word passes (its docstring proves it), and only the rows that pass are
    compared by trigram. The comparison builds both words' trigrams on every row, about a microsecond each, and was
    close to half of a full-name search's execution at a million people (issue 6, 2026-12-04: the arm alone 4.1-4.3
    ms a search, 150 police full names); a LIKE against four or so patterns costs a fifth of that and lets about one
    row in twenty through (the arm 2.1-2.2 ms, the same rows). The patterns are tested in a subquery that is not flattened
    (OFFSET 0): as two conditions side by side PostgreSQL ran the trigram comparison first, and as one CASE it
    could not estimate the rows, and its generic plan at 30,000 people read every name (2.9 against 1.0 ms). The
    page's statement (``manage.py explain_search``, the bench's 300 police searches, two rounds each way): at a
    million people mean 7.1-7.7 against 8.5-8.7 ms, p95 13.7-14.9 against 18.2-18.9 ms; at 30,000 the same (p50
    0.82-0.85 against 0.92 ms). Should the database's ``pg_trgm.similarity_threshold`` be below the 0.3 the patterns
    are made for, they are not used.
    """
    return (
        "SELECT m.id FROM (SELECT m.id, m.given_norm FROM records_subjectname m "  # fixed SQL fragments, values bound  # nosec B608
        f"WHERE m.given_norm <> m.given_first AND m.family_norm = ANY({FAMILY_WORDS.format(p=family)}) "
        f"AND ({_THRESHOLD_BELOW} OR m.given_norm LIKE ANY(%({given}_pat)s::text[])) OFFSET 0) m "
        f"WHERE m.given_norm %% %({given})s"
    )


# pg_trgm's default similarity threshold, for which ``trigram_patterns`` are made.
TRIGRAM_THRESHOLD = 0.3
# Whether the session's threshold is below it (then the patterns are not used). Read once per statement; unset until
# pg_trgm is loaded in the session (planning the statement loads it), and unset means pg_trgm's default.
_THRESHOLD_BELOW = (
    f"(SELECT coalesce(current_setting('pg_trgm.similarity_threshold', true)::float8, {TRIGRAM_THRESHOLD}) < {TRIGRAM_THRESHOLD})"
)


def trigram_patterns(word: str) -> list[str]:
    """LIKE patterns that every name similar to ``word`` by pg_trgm's ``%`` matches at least one of, for a word and
    names of letters a-z only (as ``records.normalise`` makes them), with the similarity threshold at least
    ``TRIGRAM_THRESHOLD``.

    Why this holds. pg_trgm pads a word as "  word " and takes its distinct three-character pieces: the word's
    trigrams G, the name's M; the similarity is s / (|M| + |G| - s) for the s trigrams they share. A name here has at
    least two letters (it is several given names run together), so |M| >= 3, and |M| >= s; the similarity is
    therefore at most s / (max(3, s) + |G| - s), and a similar name shares at least ``s_min`` trigrams, the least s
    for which that bound reaches the threshold. Leave out any s_min - 1 of G's trigrams: a similar name shares at
    least one of the rest. Each trigram is a LIKE pattern on a one-word name: "  x" starts with x, " xy" starts with
    xy, " x " is x itself, "xy " ends with xy, "xyz" contains xyz. The trigrams left out are the leading ones first
    (a name's first letters are the least telling). A test checks this against pg_trgm on every pair of words of
    the test names and on made-up ones.
    """
    padded = f"  {word} "
    grams = sorted({padded[i : i + 3] for i in range(len(padded) - 2)}, key=lambda g: (not g.startswith(" "), g))
    n = len(grams)
    # The small tolerance keeps s_min on the safe side of float rounding (pg_trgm computes in float4).
    s_min = next((s for s in range(1, n + 1) if s / (max(3, s) + n - s) >= TRIGRAM_THRESHOLD - 1e-6), n)
    # Padding at the start anchors the pattern there, at the end anchors it there; no padding, anywhere in the name.
    return [f"{'' if g.startswith(' ') else '%'}{g.strip()}{'' if g.endswith(' ') else '%'}" for g in grams[s_min - 1 :]]


# The same tests on the row's own values, for the few rows of the people born on the date searched for.
FAMILY_IS_ROW = "(n.family_norm %% %({p})s OR n.family_key = dmetaphone(%({p})s))"
GIVEN_IS_ROW = (
    "(n.given_first %% %({p})s OR n.given_key = dmetaphone(%({p})s) OR (n.given_norm <> n.given_first AND n.given_norm %% %({p})s))"
)


def _kind_filter(include_aliases: bool) -> str:
    return "" if include_aliases else " AND n.kind = 'current'"


def _name_branch(
    words: list[str], include_aliases: bool, dob: dt.date | None = None, among_exact: bool = False
) -> tuple[str, dict[str, Any]]:
    """SQL returning (subject_id, score, reason) for the best-matching name row of each subject.

    ``among_exact`` scores only the subjects of the ``exact`` CTE (``search_statement``'s exact-surname tier).
    """
    params: dict[str, Any] = {"bonus": PHONETIC_BONUS}
    born_on = ""
    # The bonus is cast: prepared (a full-name search, ``search_subjects``), a bare parameter would take the type of
    # the ``ELSE 0`` beside it, integer, and 0.35 would become 0.
    ph = "(CASE WHEN n.{col} = dmetaphone(%({p})s) THEN %(bonus)s::float8 ELSE 0 END)"
    if len(words) == 1:
        params["w"] = words[0]
        score = (
            "GREATEST(similarity(n.family_norm, %(w)s) + " + ph.format(col="family_key", p="w") + ", "
            "0.9 * (similarity(n.given_first, %(w)s) + " + ph.format(col="given_key", p="w") + "), "
            "0.9 * similarity(n.given_norm, %(w)s))"
        )
        where = f"({FAMILY_IS.format(p='w')} OR {GIVEN_IS.format(p='w')})"
        exact = "(n.family_norm = %(w)s OR n.given_first = %(w)s OR n.given_norm = %(w)s)"
        spelled = "(n.family_norm %% %(w)s OR n.given_first %% %(w)s OR n.given_norm %% %(w)s)"
    else:
        params.update(g=words[0], f=words[-1], fc="".join(words), dob=dob)
        params.update(g_pat=trigram_patterns(words[0]), f_pat=trigram_patterns(words[-1]))
        score = (
            "GREATEST("
            "similarity(n.family_norm, %(f)s) + " + ph.format(col="family_key", p="f") + " + "
            "0.6 * (similarity(n.given_first, %(g)s) + " + ph.format(col="given_key", p="g") + "), "
            "0.9 * (similarity(n.family_norm, %(g)s) + " + ph.format(col="family_key", p="g") + " + "
            "0.6 * (similarity(n.given_first, %(f)s) + " + ph.format(col="given_key", p="f") + ")), "
            "1.2 * similarity(n.family_norm, %(fc)s), "
            "similarity(n.given_norm, %(fc)s))"
        )
        # Every word must match (family and given name, in either order, each by spelling or sound), or the words
        # run together must equal a name (spacing variants: trigram similarity to the run-together form would let in
        # every Morgan for "georgemorgan"), or one word matches and the person has the date of birth searched
        # for (a nickname or a second given name used with the right surname and date of birth). A surname
        # alone no longer brings in everyone of that surname: at a million people that was some 20,000 rows to
        # score for a "George Morgan", and the "best 50" of them were namesakes ordered by id (issue 6).
        # "given_norm = fc" is written as its two cases so each has an index (subjectname_given_family and the
        # partial subjectname_given_more).
        where = (
            f"(({FAMILY_IS.format(p='f')} AND {GIVEN_FIRST_IS.format(p='g')}) "
            f"OR ({FAMILY_IS.format(p='g')} AND {GIVEN_FIRST_IS.format(p='f')}) "
            "OR n.family_norm = %(fc)s OR (n.given_norm = n.given_first AND n.given_first = %(fc)s) "
            "OR (n.given_norm <> n.given_first AND n.given_norm = %(fc)s))"
        )
        if dob:
            # A second arm, driven by the date-of-birth index: the few people born that day, then their names.
            # As one more OR in the WHERE above, the planner scanned every row matching any single word and
            # filtered by birth date (some 3,000 rows and 20 ms at 30,000 people, issue 6).
            born_on = (
                f"({FAMILY_IS_ROW.format(p='f')} OR {FAMILY_IS_ROW.format(p='g')} "
                f"OR {GIVEN_IS_ROW.format(p='f')} OR {GIVEN_IS_ROW.format(p='g')})"
            )
        exact = (
            "((n.family_norm = %(f)s AND n.given_first = %(g)s) OR (n.family_norm = %(g)s AND n.given_first = %(f)s) "
            "OR n.family_norm = %(fc)s OR n.given_norm = %(fc)s)"
        )
        spelled = "(n.family_norm %% %(f)s OR n.family_norm %% %(g)s OR n.family_norm %% %(fc)s OR n.given_norm %% %(fc)s)"
    kind_filter = _kind_filter(include_aliases)
    if among_exact:
        kind_filter += " AND n.subject_id IN (SELECT subject_id FROM exact)"
    reason = (
        f"(CASE WHEN n.kind = 'alias' THEN 'alias_' ELSE 'name_' END) || "
        f"(CASE WHEN {exact} THEN 'exact' WHEN {spelled} THEN 'spelling' ELSE 'sound' END)"
    )
    arms = (
        f"SELECT n.subject_id, {score} AS score, {reason} AS reason "  # fixed SQL fragments, values bound  # nosec B608
        f"FROM records_subjectname n WHERE {where}{kind_filter}"
    )
    if len(words) > 1:
        arms += (
            f" UNION ALL SELECT n.subject_id, {score} AS score, {reason} AS reason "  # fixed SQL fragments, values bound  # nosec B608
            f"FROM records_subjectname n WHERE n.id IN ({_second_given_ids('f', 'g')} UNION ALL {_second_given_ids('g', 'f')}){kind_filter}"
        )
    if born_on:
        arms += (
            f" UNION ALL SELECT n.subject_id, {score} AS score, {reason} AS reason "  # fixed SQL fragments, values bound  # nosec B608
            f"FROM records_subject b JOIN records_subjectname n ON n.subject_id = b.id "
            f"WHERE b.date_of_birth = %(dob)s AND {born_on}{kind_filter}"
        )
    # On a tie, the person's current name is the reason given rather than an alias ("name_" sorts after "alias_").
    sql = (
        "SELECT DISTINCT ON (subject_id) subject_id, score, reason FROM ("  # fixed SQL fragments, values bound  # nosec B608
        f"{arms}) s ORDER BY subject_id, score DESC, reason DESC"
    )
    return sql, params


# Consent, in SQL: the same rule as access.governance.consent_allows (a test checks that they agree).
VISIBLE_SQL = (
    "s.consent_status <> 'withdrawn' AND (s.lawful_basis <> '' "
    "OR (s.consent_status = 'given' AND %(agency_kind)s = ANY(s.consent_agency_kinds)))"
)


def search_subjects(criteria: SearchCriteria, *, limit: int, agency_kind: str, fields: Iterable[str] = (), offset: int = 0) -> list[Hit]:
    """Ranked candidate subjects for the criteria that an agency of this kind may see, best first, at most ``limit``
    after skipping the best ``offset`` (a later page of results), each with the named model ``fields`` (and id,
    version) when any are asked for.

    One query: the results' values come in the search statement rather than a second one (issue 6: 0.2-0.4 ms a
    search, measured on 300 police searches at 30,000 people).

    A search by two or more name words runs as a prepared statement (``prepared_search``); any other runs as it is.
    """
    columns = _SubjectColumns(fields) if fields else None
    statement = _search_statement(criteria, limit=limit, offset=offset, agency_kind=agency_kind, columns=columns)
    if statement is None:
        return []
    with connection.cursor() as cursor:
        if prepared_search(criteria):
            prepared.execute(cursor, *statement)
        else:
            cursor.execute(*statement)
        rows = cursor.fetchall()
    return [Hit(subject_id=r[0], score=float(r[1]), reasons=tuple(r[2]), values=columns.values(r[3:]) if columns else None) for r in rows]


def search_page_window(page: int, size: int) -> tuple[int, int]:
    """(limit, offset) of the search statement for page ``page`` of ``size`` people: one row more than the page
    shows, to know whether there is a next page. The results page and ``manage.py explain_search`` both use it, so
    the load test measures the statement the page runs."""
    return size + 1, (page - 1) * size


def prepared_search(criteria: SearchCriteria) -> bool:
    """Whether the search runs as a prepared statement: only a search by two or more name words (a full name).

    Rule: PostgreSQL plans a statement each time it receives one, and at 30,000 people planning the full-name search
    took longer than running it (EXPLAIN ANALYZE, 150 police searches: 2.1 ms of planning against 1.2 of execution at
    the median). Prepared, it runs one generic plan for every name (the connection's ``plan_cache_mode``,
    ``mais.prepared``). That is safe here and only here: a full-name search finds its rows through the arrays of name
    words like each word (``FAMILY_WORDS``, ``GIVEN_WORDS``), computed as the statement runs, so even the plan made
    for the values cannot see which names they hold and has little to go on that a generic plan lacks. Measured
    (issue 6, 2026-12-04, the bench's 300 police searches by ``manage.py explain_search``, planning and execution):
    at 30,000 people PostgreSQL chose the generic plan itself, 1.9 against 5.1 ms a search at the median; at a
    million it went on planning each one (9.6-10.5 against 9.6-11.0 ms, two rounds each way), where the generic plan
    is faster: 150 full-name searches 10.3 against 13.0 ms, p95 28 against 29, and later, with the second-given-name
    arm's patterns, 300 full-name searches in eight alternating rounds: the database backend's CPU 7.58 against 10.08
    ms a search (7.0-8.1 against 9.2-11.5 in every round), wall time mean 8.61 against 11.19 ms, p95 15.5 against
    19.1, every result the same. A surname alone is another matter: its plan depends on how common the surname is,
    and the generic plan PostgreSQL chose for it at a million took 894 ms against 10 ms (``mais.prepared``). Searches
    by one word, a date of birth or an identifier are not prepared.
    """
    return len(name_words(criteria.name)) > 1


def search_statement(
    criteria: SearchCriteria, *, limit: int, agency_kind: str, fields: Iterable[str] = (), offset: int = 0
) -> tuple[str, dict[str, Any]] | None:
    """The search's SQL and parameters (None when there is nothing to search by), as ``search_subjects`` runs it.

    Separate so the load test can EXPLAIN ANALYZE exactly the statement the page runs.
    """
    return _search_statement(
        criteria, limit=limit, offset=offset, agency_kind=agency_kind, columns=_SubjectColumns(fields) if fields else None
    )


def _search_statement(
    criteria: SearchCriteria, *, limit: int, offset: int, agency_kind: str, columns: _SubjectColumns | None
) -> tuple[str, dict[str, Any]] | None:
    branches: list[str] = []
    # ``upto``: how many of the best the ranking must get right for this page (the exact-surname tier's bound).
    params: dict[str, Any] = {"limit": limit, "offset": offset, "upto": offset + limit, "agency_kind": agency_kind}
    words = name_words(criteria.name)
    if words:
        sql, name_params = _name_branch(words, criteria.include_aliases, criteria.date_of_birth)
        branches.append(sql)
        params.update(name_params)
    for field, value in (
        ("nhs_number", criteria.nhs_number),
        ("pnc_id", criteria.pnc_id),
        ("prison_number", criteria.prison_number),
        ("cro_number", criteria.cro_number),
    ):
        if value:
            params[field] = value
            branches.append(
                f"SELECT id AS subject_id, 3.0::float8 AS score, '{field}' AS reason FROM records_subject WHERE {field} = %({field})s"  # fixed SQL fragments, values bound  # nosec B608
            )
    if criteria.date_of_birth:
        params["dob"] = criteria.date_of_birth
        # Alone, a date of birth lists everyone born that day; with a name it raises those who match both.
        weight = "1.0" if words else "0.5"
        branches.append(
            f"SELECT id AS subject_id, {weight}::float8 AS score, 'date_of_birth' AS reason FROM records_subject WHERE date_of_birth = %(dob)s"  # fixed SQL fragments, values bound  # nosec B608
        )
    if not branches:
        return None
    exact_tier = ""
    if len(words) == 1 and len(branches) == 1:
        exact_tier, branches = _exact_surname_tier(words, criteria.include_aliases, branches[0])
    union = " UNION ALL ".join(f"({b})" for b in branches)
    sql = (
        f"{exact_tier}SELECT hits.subject_id, SUM(score) AS total, array_agg(reason ORDER BY score DESC) AS reasons "  # fixed SQL fragments, values bound  # nosec B608
        f"FROM ({union}) hits JOIN records_subject s ON s.id = hits.subject_id WHERE {VISIBLE_SQL} "
        "GROUP BY hits.subject_id ORDER BY total DESC, hits.subject_id LIMIT %(limit)s OFFSET %(offset)s"
    )
    if columns is not None:
        # The ranked page of results, joined to their rows for the asked fields, in the same order.
        sql = (
            f"WITH ranked AS ({sql}) SELECT ranked.subject_id, ranked.total, ranked.reasons, {columns.selected} "  # nosec B608: model columns
            "FROM ranked JOIN records_subject ON records_subject.id = ranked.subject_id ORDER BY ranked.total DESC, ranked.subject_id"
        )
    return sql, params


def _exact_surname_tier(words: list[str], include_aliases: bool, branch: str) -> tuple[str, list[str]]:
    """A single word and nothing else: when enough people visibly have exactly that surname, only they are scored.

    Rule: an exact surname scores the most a single word can (similarity 1 plus the sound bonus), and ties are
    ordered by subject id, so when at least ``upto`` visible people have it (the page's offset plus its size), the
    best ``upto`` are the first of them by id, whatever the fuzzy matches are. The ``exact`` CTE reads those from an
    index in id order and stops at ``upto``; the full fuzzy branch runs only when there are fewer. At a million people a
    common surname ("Ward") otherwise gathered some 90,000 name rows by trigram (Edward, Howard, Woodward) to
    score and sort, 800 ms of SQL (issue 6). (A different spelling with exactly the same trigrams would tie
    and could be left out here; no such pair is a real name.)
    """
    kind_filter = _kind_filter(include_aliases)
    cte = (
        "WITH exact AS MATERIALIZED (SELECT n.subject_id FROM records_subjectname n "  # fixed SQL fragments, values bound  # nosec B608
        f"JOIN records_subject s ON s.id = n.subject_id WHERE n.family_norm = %(w)s{kind_filter} AND {VISIBLE_SQL} "
        "GROUP BY n.subject_id ORDER BY n.subject_id LIMIT %(upto)s) "
    )
    enough = "(SELECT count(*) FROM exact) >= %(upto)s"
    among, _ = _name_branch(words, include_aliases, among_exact=True)
    return cte, [
        f"SELECT * FROM ({among}) e WHERE {enough}",  # fixed SQL fragments, values bound  # nosec B608
        f"SELECT * FROM ({branch}) f WHERE NOT {enough}",  # fixed SQL fragments, values bound  # nosec B608
    ]


def subject_values(subject_ids: Sequence[uuid.UUID], fields: Iterable[str]) -> dict[uuid.UUID, dict[str, Any]]:
    """The named model fields (and id, version) of the given subjects. One query.

    Plain SQL converted as the ORM converts (``mais.rawsql``): every record view and search runs this, and
    building the same ORM query each time cost about as much as running it (issue 6). A test compares it
    with the ORM's own ``values()``.
    """
    columns = _SubjectColumns(fields)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns.selected} FROM records_subject WHERE id = ANY(%s::uuid[])", [list(subject_ids)])  # nosec B608: model columns
        rows = cursor.fetchall()
    out: dict[uuid.UUID, dict[str, Any]] = {}
    for row in rows:
        values = columns.values(row)
        out[values["id"]] = values
    return out


class _SubjectColumns:
    """The named fields of a subject, with id and version, as selected columns and back into ORM-converted values."""

    def __init__(self, fields: Iterable[str]) -> None:
        self.names = tuple(sorted({"id", "version", *fields}))
        self.selected, self.converters = rawsql.columns(Subject, self.names)

    def values(self, row: Sequence[Any]) -> dict[str, Any]:
        """The first len(names) columns of the row, by field name."""
        return dict(zip(self.names, rawsql.convert(row[: len(self.names)], self.converters), strict=True))


class LatestChange(NamedTuple):
    item_code: str
    kind: str
    changed_at: dt.datetime
    changed_by_name: str
    agency_name: str
    role_code: str


# The most recent change and the most recent confirmation of each asked item of the subject in the outer query,
# as parallel arrays (one row, so the subject's row and its provenance come back together).
_LATEST_CHANGES_SQL = (
    "SELECT array_agg(item_code), array_agg(kind), array_agg(changed_at), array_agg(changed_by_name), "
    "array_agg(agency_name), array_agg(role_code) FROM ("
    "SELECT DISTINCT ON (item_code, kind) item_code, kind, changed_at, changed_by_name, agency_name, role_code "
    "FROM records_itemchange WHERE subject_id = records_subject.id AND item_code = ANY(%s::text[]) "
    "ORDER BY item_code, kind, changed_at DESC, id DESC) latest"
)


def subject_record(
    subject_id: uuid.UUID, fields: Iterable[str], item_codes: Iterable[str]
) -> tuple[dict[str, Any] | None, dict[tuple[str, str], LatestChange]]:
    """One subject's named model fields (and id, version), or None if there is no such subject, with the most recent
    change and the most recent confirmation of each of ``item_codes`` (provenance and freshness). One query.

    The record view's two reads in one round trip (issue 6: each round trip cost the page about 0.4 ms), as a
    prepared statement (``mais.prepared``): planning it took 0.34 ms against 0.12 ms of running it (EXPLAIN ANALYZE
    at 30,000 people), and its plan, lookups by the subject's key, does not depend on the values. The provenance
    table grows with every edit; ``mais.prepared`` plans again every few hundred runs, so a plan made while it was
    small does not stay. Values are converted as the ORM converts them (``mais.rawsql``); tests compare both parts
    with the ORM.
    """
    read = subject_record_read(subject_id, fields, item_codes)
    with connection.cursor() as cursor:
        prepared.execute(cursor, read.sql, read.params)
        row = cursor.fetchone()
    return read.parse(row)


class RecordRead(NamedTuple):
    """``subject_record``'s statement, for a caller that runs it inside another one (the audited record view)."""

    sql: str
    params: list[Any]
    columns: _SubjectColumns

    @property
    def width(self) -> int:
        """Columns in the row: the fields, then the six arrays of the latest changes."""
        return len(self.columns.names) + 6

    def parse(self, row: Sequence[Any] | None) -> tuple[dict[str, Any] | None, dict[tuple[str, str], LatestChange]]:
        """The statement's row as ``subject_record`` returns it."""
        if row is None:
            return None, {}
        values = self.columns.values(row)
        codes, kinds, ats, people, agencies, roles = (column or () for column in row[len(self.columns.names) :])
        changes = [LatestChange(*change) for change in zip(codes, kinds, ats, people, agencies, roles, strict=True)]
        return values, {(change.item_code, change.kind): change for change in changes}


def subject_record_read(
    subject_id: uuid.UUID,
    fields: Iterable[str],
    item_codes: Iterable[str],
    *,
    consent: tuple[str, Sequence[str], str] | None = None,
) -> RecordRead:
    """The statement behind ``subject_record``. With ``consent`` (status, agency kinds, lawful basis) it returns the
    row only while the subject's consent fields still hold those values: the record view decided what may be seen,
    and which lawful basis to audit, on values it read a statement earlier, and serves nothing read after a change."""
    columns = _SubjectColumns(fields)
    sql = (
        f"SELECT {columns.selected}, latest.* FROM records_subject "  # nosec B608: model columns and fixed SQL
        f"LEFT JOIN LATERAL ({_LATEST_CHANGES_SQL}) latest ON true WHERE records_subject.id = %s"
    )
    params: list[Any] = [list(item_codes), subject_id]
    if consent is not None:
        sql += (
            " AND records_subject.consent_status = %s AND records_subject.consent_agency_kinds = %s::varchar(30)[]"
            " AND records_subject.lawful_basis = %s"
        )
        status, kinds, basis = consent
        params += [status, list(kinds), basis]
    return RecordRead(sql, params, columns)


def governance_values(subject_id: uuid.UUID) -> dict[str, Any] | None:
    """Consent status and lawful basis of one subject, or None if there is no such subject. One query."""
    row = Subject.objects.filter(id=subject_id).values("consent_status", "consent_agency_kinds", "lawful_basis").first()
    return dict(row) if row is not None else None


def item_history(subject_id: uuid.UUID, item_code: str) -> list[ItemChange]:
    return list(ItemChange.objects.filter(subject_id=subject_id, item_code=item_code).order_by("-changed_at", "-id"))


def subject_ids_by_nhs_number(nhs_number: str) -> list[uuid.UUID]:
    return list(Subject.objects.filter(nhs_number=nhs_number).values_list("id", flat=True))


def caseload_subject_ids(group_ids: Sequence[int]) -> list[uuid.UUID]:
    """Subjects on the caseload of any of these team groups. One query."""
    return list(
        SubjectGroupObjectPermission.objects.filter(group_id__in=list(group_ids), permission__codename="change_subject")
        .values_list("content_object_id", flat=True)
        .distinct()
    )


def review_dates(subject_ids: Sequence[uuid.UUID], item_codes: Iterable[str]) -> dict[tuple[uuid.UUID, str], dt.datetime]:
    """When each item of each subject was last changed or confirmed. One query."""
    rows = (
        ItemChange.objects.filter(subject_id__in=list(subject_ids), item_code__in=list(item_codes))
        .values("subject_id", "item_code")
        .annotate(at=Max("changed_at"))
    )
    return {(row["subject_id"], row["item_code"]): row["at"] for row in rows}


@dataclass(frozen=True)
class ChangeFact:
    subject_id: uuid.UUID
    item_code: str
    kind: str
    changed_at: dt.datetime
    consent_status: str
    consent_agency_kinds: list[str]
    lawful_basis: str


def recent_item_changes(*, since: dt.datetime, item_codes: Iterable[str], limit: int) -> list[ChangeFact]:
    """Item changes after ``since`` (oldest first) with the subject's consent fields, no values. One query."""
    rows = (
        ItemChange.objects.filter(changed_at__gt=since, item_code__in=list(item_codes))
        .order_by("changed_at", "id")
        .values_list(
            "subject_id",
            "item_code",
            "kind",
            "changed_at",
            "subject__consent_status",
            "subject__consent_agency_kinds",
            "subject__lawful_basis",
        )[:limit]
    )
    return [ChangeFact(*row) for row in rows]


# --- Aggregates for reports: counts only, never a row that identifies a person (access.disclosure audits them) ---

CASELOAD_SQL = """
SELECT s.diagnosis_group, s.mappa_level, s.suicide_level, s.violence_level, s.release_date
FROM records_subject s
WHERE s.id IN (
    SELECT p.content_object_id FROM records_subjectgroupobjectpermission p JOIN auth_permission ap ON ap.id = p.permission_id
    WHERE p.group_id = ANY(%(groups)s::int[]) AND ap.codename = 'change_subject'
)
"""


@dataclass(frozen=True)
class CaseloadFacts:
    diagnosis_group: str
    mappa_level: str
    suicide_level: str
    violence_level: str
    release_date: dt.date | None


def caseload_facts(group_ids: Sequence[int]) -> list[CaseloadFacts]:
    """The coded facts a team's caseload report counts, one row per person (not returned to any page). One query."""
    with connection.cursor() as cursor:
        cursor.execute(CASELOAD_SQL, {"groups": list(group_ids)})
        return [CaseloadFacts(*row) for row in cursor.fetchall()]


def release_dates(subject_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, dt.date | None]:
    """Each subject's last release date, for the release-to-first-contact report. One query."""
    return dict(Subject.objects.filter(id__in=list(subject_ids)).values_list("id", "release_date"))


OVERDUE_SQL = """
WITH cl AS (
    SELECT DISTINCT p.group_id, p.content_object_id AS sid
    FROM records_subjectgroupobjectpermission p JOIN auth_permission ap ON ap.id = p.permission_id
    WHERE ap.codename = 'change_subject'
), reviewed AS (
    SELECT c.subject_id, c.item_code, max(c.changed_at) AS at
    FROM records_itemchange c WHERE c.item_code = ANY(%(items)s::text[]) AND c.subject_id IN (SELECT sid FROM cl)
    GROUP BY 1, 2
)
SELECT cl.group_id, split_part(i.code, '.', 1) AS section, count(DISTINCT cl.sid) AS records,
       count(*) FILTER (WHERE r.at IS NULL OR r.at < %(now)s - make_interval(days => (%(limits)s::jsonb ->> split_part(i.code, '.', 1))::int)) AS overdue
FROM cl CROSS JOIN unnest(%(items)s::text[]) AS i(code)
LEFT JOIN reviewed r ON r.subject_id = cl.sid AND r.item_code = i.code
GROUP BY 1, 2
"""


def overdue_items_by_team(*, item_codes: Sequence[str], limits: dict[str, int], now: dt.datetime) -> list[tuple[int, str, int, int]]:
    """(team group id, section, records on the caseload, items overdue for review) for every caseload. One query.

    Overdue as on the caseload page: never reviewed, or last changed or confirmed longer ago than the section's limit.
    """
    with connection.cursor() as cursor:
        cursor.execute(OVERDUE_SQL, {"items": list(item_codes), "limits": json.dumps(limits), "now": now})
        return [(g, s, int(r), int(o)) for g, s, r, o in cursor.fetchall()]

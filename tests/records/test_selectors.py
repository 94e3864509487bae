"""The record view's field and provenance reads are plain SQL (issue 6); they must return what the ORM returns."""

from __future__ import annotations

import datetime as dt
import uuid

from django.utils import timezone

from records.models import ItemChange, Subject
from records.selectors import subject_record, subject_values
from tests.factories import make_subject

ALL_FIELDS = [f.name for f in Subject._meta.concrete_fields]


def test_subject_values_equal_the_orm_for_every_field_and_type(cmht_team):
    """Every concrete field (dates, arrays, JSON, UUIDs, numbers, text, timestamps) comes back as the ORM converts it."""
    alex = make_subject(team=cmht_team, family_name="Quenby", given_names="Alex")
    sam = make_subject(team=cmht_team, family_name="Oduya", given_names="Sam", release_date=None)
    got = subject_values([alex.id, sam.id], ALL_FIELDS)
    want = {row["id"]: row for row in Subject.objects.filter(id__in=[alex.id, sam.id]).values(*ALL_FIELDS, "version")}
    assert got == want
    for field in ALL_FIELDS:
        assert type(got[alex.id][field]) is type(want[alex.id][field]), field


def test_subject_values_of_no_one_and_of_a_subset(cmht_team):
    alex = make_subject(team=cmht_team)
    assert subject_values([], ALL_FIELDS) == {}
    assert subject_values([alex.id], ["family_name"]) == {
        alex.id: {"id": alex.id, "version": alex.version, "family_name": alex.family_name}
    }


def test_a_records_latest_changes_equal_the_orm_query_they_replaced(cmht_team, morgan_mh):
    alex = make_subject(team=cmht_team)
    now = timezone.now()
    for minutes, code, kind, who in [
        (30, "risk.weapons", ItemChange.Kind.CHANGE, "First Writer"),
        (20, "risk.weapons", ItemChange.Kind.CHANGE, "Second Writer"),
        (10, "risk.weapons", ItemChange.Kind.CONFIRM, "Confirmer"),
        (5, "risk.suicide", ItemChange.Kind.CHANGE, "Third Writer"),
        (1, "identity.family_name", ItemChange.Kind.CHANGE, "Not Asked For"),
    ]:
        ItemChange.objects.create(
            subject=alex,
            item_code=code,
            kind=kind,
            value={},
            changed_at=now - dt.timedelta(minutes=minutes),
            changed_by=morgan_mh,
            changed_by_name=who,
            agency_name="North Mental Health Trust",
            role_code="mental_health_practitioner",
        )
    asked = ["risk.weapons", "risk.suicide"]
    values, got = subject_record(alex.id, ["family_name"], asked)
    assert values == {"id": alex.id, "version": alex.version, "family_name": alex.family_name}
    orm = (
        ItemChange.objects.filter(subject_id=alex.id, item_code__in=asked)
        .order_by("item_code", "kind", "-changed_at", "-id")
        .distinct("item_code", "kind")
    )
    assert {key: (c.changed_at, c.changed_by_name, c.agency_name, c.role_code) for key, c in got.items()} == {
        (c.item_code, c.kind): (c.changed_at, c.changed_by_name, c.agency_name, c.role_code) for c in orm
    }
    assert got[("risk.weapons", ItemChange.Kind.CHANGE)].changed_by_name == "Second Writer"
    assert ("identity.family_name", ItemChange.Kind.CHANGE) not in got
    assert type(got[("risk.suicide", ItemChange.Kind.CHANGE)].changed_at) is dt.datetime


def test_a_records_fields_equal_the_orm_for_every_field_and_type(cmht_team):
    """The record view's one read converts every field as subject_values and the ORM do."""
    alex = make_subject(team=cmht_team, family_name="Quenby", given_names="Alex")
    values, changes = subject_record(alex.id, ALL_FIELDS, ["risk.weapons"])
    assert values == subject_values([alex.id], ALL_FIELDS)[alex.id]
    assert changes == {}


def test_a_record_that_does_not_exist_has_no_fields_and_no_changes(cmht_team):
    assert subject_record(uuid.uuid4(), ["family_name"], ["risk.weapons"]) == (None, {})


def test_the_names_compared_by_trigram_have_small_planner_statistics(db):
    """Migration 0011: PostgreSQL estimates each ``name % 'word'`` by comparing the word with every value in the column's
    statistics, which took most of a search's planning; 20 values each, not the default 100 (issue 6)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attrelid::regclass::text, attname, attstattarget FROM pg_attribute "
            "WHERE (attrelid = 'records_subjectname'::regclass AND attname IN ('family_norm', 'given_first', 'given_norm', 'family_key')) "
            "OR (attrelid = 'records_nameword'::regclass AND attname IN ('word', 'key'))"
        )
        targets = {(table, column): target for table, column, target in cursor.fetchall()}
    trigram = [
        ("records_subjectname", "family_norm"),
        ("records_subjectname", "given_first"),
        ("records_subjectname", "given_norm"),
        ("records_nameword", "word"),
    ]
    assert [targets[column] for column in trigram] == [20, 20, 20, 20]
    # Compared for equality only (sound keys): they keep the default statistics (-1, or NULL from PostgreSQL 17).
    assert targets[("records_subjectname", "family_key")] in (-1, None) and targets[("records_nameword", "key")] in (-1, None)

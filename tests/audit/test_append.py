"""The audit append binds each field as Django would (audit.models._append_sql's preparers)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.utils.translation import gettext_lazy

from audit.models import AuditEvent, Reading, _append_sql

pytestmark = pytest.mark.django_db


def _events() -> list[AuditEvent]:
    full = AuditEvent(
        event="record.view",
        outcome="ok",
        action=3,
        object_pk=str(uuid.UUID(int=7)),
        object_repr=gettext_lazy("A lazy string"),
        actor_username="priya.police",
        roles="police_officer",
        agency="Test Constabulary",
        subject_id=uuid.UUID(int=7),
        items=["identity.family_name", "risk.violence_level", gettext_lazy("risk.suicide_level")],
        purpose_code="custody_detention",
        purpose_text="Custody record 123 <b>&",
        lawful_basis="consent",
        request_id="abc",
        remote_addr="127.0.0.1",
        additional_data={"results": [str(uuid.UUID(int=7))], "withheld": 5},
        changes={"risk.violence_level": ["low", "high"]},
        timestamp=dt.datetime(2026, 11, 30, 3, 0, tzinfo=dt.UTC),
    )
    empty = AuditEvent(event="login.password", items=[], additional_data=None, changes=None)
    numbers = AuditEvent(event="x", object_pk=12345, actor_username=678, items=(1, 2))  # not strings: bound as strings
    # Characters that array input treats specially, inside item codes (no real code has them; the literal must still hold).
    awkward = AuditEvent(event="x", items=['a "quoted", code', "back\\slash\\", "{braces}", "NULL", " spaced ", "", "don't", None])
    return [full, empty, numbers, awkward]


@pytest.mark.parametrize("index", range(4))
def test_every_field_is_bound_as_django_binds_it(index: int) -> None:
    """What the database makes of each bound value, cast as the append statement casts it, is what it makes of Django's."""
    event = _events()[index]
    _sql, fields, preparers = _append_sql()
    with connection.cursor() as cursor:
        for field, prepare in zip(fields, preparers, strict=True):
            value = field.pre_save(event, add=True)
            cast = f"SELECT %s::{field.db_type(connection)}"
            cursor.execute(cast, [prepare(value)])
            ours = cursor.fetchone()
            cursor.execute(cast, [field.get_db_prep_save(value, connection)])
            assert ours == cursor.fetchone(), field.name


def test_the_item_codes_take_the_direct_path() -> None:
    """Otherwise the comparison above would compare Django with itself for the field that matters."""
    _sql, fields, preparers = _append_sql()
    prepare = dict(zip([f.name for f in fields], preparers, strict=True))
    assert prepare["items"].__name__ == "_as_texts"
    assert prepare["actor_username"].__name__ == "_as_text"


def _view(items: list[str]) -> AuditEvent:
    from django.contrib.contenttypes.models import ContentType

    return AuditEvent(
        event="record.view",
        action=3,
        content_type=ContentType.objects.get_for_model(AuditEvent),
        actor_username="priya.police",
        items=items,
    )


def _read_one(value: int | None) -> Reading:
    """A reading that returns one row (value, its double) or, for None, none."""
    return Reading("SELECT v, v * 2 FROM (SELECT %s::int AS v) t WHERE v IS NOT NULL", [value], 2)


def test_an_append_riding_on_a_reading_keeps_its_row_and_the_chain() -> None:
    """The reading's row comes back, after the alert count's, and the appended row links into the chain."""
    from audit.verify import verify_chain

    first = _view(["identity.family_name"])
    assert first.append(reading=_read_one(21)) == ()
    assert first.read_row == (21, 42) and first.id is not None
    second = _view([])
    assert second.append(with_row=("SELECT %s::int, true", [5]), reading=_read_one(4)) == (5, True)
    assert second.read_row == (4, 8) and second.prev_hash == first.hash
    assert verify_chain().ok


def test_a_reading_that_finds_nothing_appends_nothing() -> None:
    """No row read, no event: nothing to disclose, so nothing to audit as disclosed (the caller audits the refusal),
    and no wait for the chain lock."""
    event = _view([])
    assert event.append(with_row=("SELECT 1", []), reading=_read_one(None)) is None
    assert event.id is None and event.read_row is None
    assert not AuditEvent.objects.exists()
    with connection.cursor() as cursor:  # and the chain lock was not taken (this test runs in a transaction)
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
        assert cursor.fetchone()[0] == 0

"""The audit append stores each field as Django would, and stores what it hashes (audit.models._append_sql)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils.translation import gettext_lazy

from audit.models import HASHED_FIELDS, AuditEvent, Reading, _append_sql
from audit.verify import verify_chain

pytestmark = pytest.mark.django_db


def _events() -> list[AuditEvent]:
    kind = ContentType.objects.get_for_model(AuditEvent)
    full = AuditEvent(
        event="record.view",
        outcome="ok",
        action=3,
        content_type=kind,
        object_pk=str(uuid.UUID(int=7)),
        object_repr=gettext_lazy("A lazy string"),
        actor_username="priya.police",
        roles="police_officer",
        agency="Test Constabulary",
        subject_id=uuid.UUID(int=7),
        items=["identity.family_name", "risk.violence_level", gettext_lazy("risk.suicide_level")],
        purpose_code="custody_detention",
        purpose_text='Custody record 123 <b>& \u00e9\u2603 "quoted" back\\slash',
        lawful_basis="consent",
        request_id="abc",
        remote_addr="127.0.0.1",
        additional_data={"results": [str(uuid.UUID(int=7))], "withheld": 5, "nested": {"b": None, "a": [1.5, True]}},
        changes={"risk.violence_level": ["low", "high"]},
        timestamp=dt.datetime(2026, 11, 30, 3, 0, 0, 123456, tzinfo=dt.UTC),
    )
    # Blank and absent values: no purpose, no lawful basis (left out of the payload), a blank address.
    empty = AuditEvent(event="login.password", action=3, content_type=kind, items=[], additional_data=None, changes=None, remote_addr="")
    # Not strings: stored as strings, as Django would.
    numbers = AuditEvent(event="x", action=3, content_type=kind, object_pk=12345, actor_username=678, items=(1, 2))
    # Characters that array input treats specially, inside item codes (no real code has them), and an IPv6 address.
    awkward = AuditEvent(
        event="x",
        action=3,
        content_type=kind,
        items=['a "quoted", code', "back\\slash\\", "{braces}", "NULL", " spaced ", "", "don't", None],
        remote_addr="2001:db8::1",
        actor_id=42,
        actor_username="someone.else",
        additional_data={"emoji": "\U0001f600", "list": []},
    )
    # What django-auditlog's change capture sets, which the payload leaves out (bound one by one).
    captured = AuditEvent(
        action=1,
        content_type=kind,
        object_id=99,
        changes_text="x changed",
        serialized_data={"fields": {"a": 1}},
        remote_port=443,
        actor_email="someone@example.invalid",
        cid="c-1",
    )
    return [full, empty, numbers, awkward, captured]


@pytest.mark.parametrize("index", range(5))
def test_every_column_is_stored_as_django_would_store_it(index: int) -> None:
    """The append reads the hashed columns out of the payload and binds the rest: each stored column must be what the
    database makes of Django's own binding of the field's value, cast as the column."""
    event = _events()[index]
    event.append()  # which fills in a change-capture row's event name
    expected = {}
    with connection.cursor() as cursor:
        for field in _hashed_and_bound():
            cursor.execute(f"SELECT %s::{field.db_type(connection)}", [field.get_db_prep_save(field.pre_save(event, add=True), connection)])
            expected[field.column] = cursor.fetchone()[0]
        columns = ", ".join(connection.ops.quote_name(c) for c in expected)
        cursor.execute(f"SELECT {columns} FROM audit_auditevent WHERE id = %s", [event.id])  # noqa: S608 (names from the model)
        stored = dict(zip(expected, cursor.fetchone(), strict=True))
    assert stored == expected


def _hashed_and_bound() -> list[Any]:
    return [f for f in AuditEvent._meta.concrete_fields if not f.primary_key and f.attname not in ("prev_hash", "hash")]


def test_the_hashed_columns_are_the_payloads_keys() -> None:
    """A column the payload covers is read out of it; one it does not is bound. A key added to the payload without a
    column, or a hashed column missing from the list, would store one thing and hash another."""
    event = _events()[0]
    assert set(json.loads(event.canonical_payload())) == HASHED_FIELDS
    assert {f.attname for f in _hashed_and_bound()} >= HASHED_FIELDS
    _sql, bound = _append_sql()
    assert {f.attname for f in bound} == {"serialized_data", "changes_text", "remote_port", "actor_email", "object_id", "cid"}


def test_what_is_stored_is_what_was_hashed() -> None:
    """Read back from the database, the event's payload is the text the append hashed."""
    events = [e for i, e in enumerate(_events()) if i != 2]  # the numbers event: its payload has numbers, its row strings
    for event in events:
        event.append()
    for event in events:
        assert AuditEvent.objects.get(id=event.id).canonical_payload() == event.canonical_payload()
    assert verify_chain().ok


def _view(items: list[str]) -> AuditEvent:
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

"""The append-only, hash-chained audit trail.

Rules:
- One table, read by auditors in one place. django-auditlog's change capture
  writes here too (``AUDITLOG_LOGENTRY_MODEL``), so its rows join the chain.
- Append-only: database triggers reject UPDATE, DELETE and TRUNCATE; the model
  refuses to save an existing row or delete one.
- Tamper-evident: ``hash = sha256(prev_hash + canonical payload)``. Inserts
  take a transaction-scoped advisory lock so the chain is a single line in id
  order; ``manage.py verify_audit`` walks it.
- Dataset values never go in; only item codes.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any, NamedTuple

from auditlog.models import AbstractLogEntry
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import connection, models

from mais import prepared

# Arbitrary constant naming the advisory lock that serialises chain appends.
CHAIN_LOCK_KEY = 7_410_305_221


class Reading(NamedTuple):
    """A SELECT of at most one row of ``width`` columns, for ``AuditEvent.append`` to run in its statement."""

    sql: str
    params: list[Any]
    width: int


class AppendOnlyError(Exception):
    """Raised when code tries to change or remove an audit row."""


class AuditEvent(AbstractLogEntry):
    # django-auditlog's fields, redeclared without the indexes and foreign-key constraints it gives them (issue 6).
    # Every disclosure inserts a row, and each index and each deferred foreign-key check (a FOR KEY SHARE lock on
    # the user's row and on the one content-type row every event shares) is paid on that insert. No screen or rule
    # filters on these columns: auditors filter by the indexed columns below, and the chain, not a unique index,
    # proves the hashes. The trail is append-only, so a row keeps the actor's id and name as they were when it was
    # written, whatever later happens to the user's own row (with the library's SET_NULL, deleting a user who had
    # acted failed on the append-only trigger; now the rows simply keep the old id beside the name).
    content_type = models.ForeignKey(
        "contenttypes.ContentType", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    object_pk = models.CharField(max_length=255)
    object_id = models.BigIntegerField(blank=True, null=True)
    action = models.PositiveSmallIntegerField(choices=AbstractLogEntry.Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        blank=True,
        null=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    cid = models.CharField(max_length=255, blank=True, null=True)
    event = models.CharField(max_length=40)
    outcome = models.CharField(max_length=20, default="ok")
    actor_username = models.CharField(max_length=150, blank=True)
    roles = models.CharField(max_length=300, blank=True)
    agency = models.CharField(max_length=200, blank=True)
    subject_id = models.UUIDField(null=True, blank=True)
    items = ArrayField(models.CharField(max_length=80), default=list, blank=True)
    purpose_code = models.CharField(max_length=40, blank=True)
    purpose_text = models.CharField(max_length=500, blank=True)
    lawful_basis = models.CharField(max_length=40, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    # The row of the reading the append rode on (``append(reading=...)``); not stored.
    read_row: tuple[Any, ...] | None = None

    class Meta(AbstractLogEntry.Meta):
        abstract = False
        ordering = ["-id"]
        # Auditors filter by one field and read newest first (id order is time order), a backward scan of these.
        # Ascending, not ("-id"): a new event goes at the end of its value's run of entries, where PostgreSQL splits
        # a full page after the new entry and leaves the old page full; in descending order it goes at the start of
        # the run, and each split leaves two half-empty pages (migration 0010 has the figures).
        indexes = [
            models.Index(fields=["subject_id", "id"], name="audit_subject_by_id"),
            models.Index(fields=["actor_username", "id"], name="audit_username_by_id"),
            # The alert rules count one user's events of the last hour or ten minutes on every disclosure: these keep
            # that count to the rows in the window, not the user's whole history.
            models.Index(fields=["actor_username", "event", "outcome", "timestamp"], name="audit_user_event_time"),
            models.Index(fields=["actor_username", "timestamp"], condition=models.Q(outcome="denied"), name="audit_user_denied_time"),
            models.Index(fields=["event", "id"], name="audit_event_by_id"),
            models.Index(fields=["agency", "id"], name="audit_agency_by_id"),
            models.Index(fields=["purpose_code", "id"], name="audit_purpose_by_id"),
            GinIndex(fields=["additional_data"], opclasses=["jsonb_path_ops"], name="audit_detail_gin"),
        ]

    def canonical_payload(self) -> str:
        """The fields the hash covers, as canonical JSON (sorted keys, no spaces)."""
        payload: dict[str, Any] = {
            "timestamp": self.timestamp.isoformat(),
            "event": self.event,
            "outcome": self.outcome,
            "action": self.action,
            "actor_id": self.actor_id,
            "actor_username": self.actor_username,
            "roles": self.roles,
            "agency": self.agency,
            "subject_id": str(self.subject_id) if self.subject_id else None,
            "items": list(self.items),
            "purpose_code": self.purpose_code,
            "purpose_text": self.purpose_text,
            "request_id": self.request_id,
            # A blank address is stored as NULL (as Django binds it), so it is hashed as null too; verify_chain reads it back.
            "remote_addr": self.remote_addr or None,
            "content_type_id": self.content_type_id,
            "object_pk": self.object_pk,
            "object_repr": self.object_repr,
            "changes": self.changes,
            "additional_data": self.additional_data,
        }
        if self.lawful_basis:
            # Only when set, so rows written before the column existed keep their hashes.
            payload["lawful_basis"] = self.lawful_basis
        return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)

    def compute_hash(self, prev_hash: str) -> str:
        return hashlib.sha256((prev_hash + self.canonical_payload()).encode()).hexdigest()

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.append()

    def append(self, *, with_row: tuple[str, list[Any]] | None = None, reading: Reading | None = None) -> tuple[Any, ...] | None:
        """Append this event to the chain; ``with_row`` is a one-row SELECT run in the same statement, whose row
        is returned (the alert rules' count rides here, saving a round trip per disclosure, issue 6).

        ``reading`` is a SELECT of at most one row that the event is about (the record a record view shows): the
        event is appended only if it returns its row, in the same statement, so what is read is never without its
        audit row, and the read costs no round trip of its own (issue 6). Its row is kept in ``read_row``; when it
        returns none nothing is appended and this returns None.
        """
        if self.pk is not None:
            raise AppendOnlyError("audit events are append-only and cannot be changed")
        if not self.event:
            # A row written by django-auditlog's change capture.
            self.event = {0: "object.create", 1: "object.update", 2: "object.delete", 3: "object.access"}.get(self.action, "object.change")
        if self.actor_id and not self.actor_username:
            self.actor_username = self.actor.username if self.actor else ""
        sql, params = self._append_statement(gated=reading is not None)
        # Fixed SQL with bound values in every part; the CTE's INSERT runs whatever the outer SELECT reads. The row:
        # the appended columns, then with_row's, then the reading's (last, so ``width`` finds them).
        ctes: list[str] = []
        tables = ["appended"]
        before: list[Any] = []
        for name, part in (("extra", with_row), ("reading", reading)):
            if part is not None:
                ctes.append(f"{name} AS MATERIALIZED ({part[0]})")
                tables.append(name)
                before += part[1]
        if ctes:
            sql = f"WITH {', '.join(ctes)}, appended AS ({sql}) SELECT * FROM {', '.join(tables)}"  # nosec B608
            params = [*before, *params]
        # The advisory lock is held to the end of the transaction, so appends are serialised and ids follow chain
        # order. Inside the caller's atomic block that is the caller's commit; outside one (a read's disclosure,
        # whose only write is this row) the statement is its own transaction and the lock is released as it
        # commits, without waiting for Python to finish the request (issue 6: under load, a lock held while the
        # thread waited for the GIL serialised every disclosure).
        with connection.cursor() as cursor:
            prepared.execute(cursor, sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        self.id, self.prev_hash, self.hash = row[:3]
        self._state.adding = False
        self._state.db = connection.alias
        end = len(row) - (reading.width if reading is not None else 0)
        self.read_row = tuple(row[end:]) if reading is not None else None
        return tuple(row[3:end])

    def _append_statement(self, *, gated: bool = False) -> tuple[str, list[Any]]:
        """One INSERT that takes the chain lock, reads the tip and computes this row's hash in the database.

        One round trip instead of two (issue 6: every disclosure appends, and the lock is held until commit).
        The hash is the same as ``compute_hash``: PostgreSQL's sha256 over the previous hash followed by the
        canonical payload, which Python builds (the database would write JSON differently). The tip is read
        by audit_chain_tip (migration 0006) after the lock is granted, so the chain cannot fork.

        The payload is sent once, and the columns it covers are read out of it by the statement: what is stored is
        what was hashed. Only the few columns the hash leaves out are bound one by one.
        """
        sql, fields = _append_sql(gated)
        values = [field.get_db_prep_save(field.pre_save(self, add=True), connection) for field in fields]
        return sql, [*values, self.canonical_payload(), CHAIN_LOCK_KEY, GENESIS_HASH]

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("audit events are append-only and cannot be deleted")


GENESIS_HASH = "0" * 64


# The columns ``canonical_payload`` covers, by attribute name (its keys). ``lawful_basis`` is in the payload only when set.
HASHED_FIELDS = frozenset(
    {
        "timestamp",
        "event",
        "outcome",
        "action",
        "actor_id",
        "actor_username",
        "roles",
        "agency",
        "subject_id",
        "items",
        "purpose_code",
        "purpose_text",
        "request_id",
        "remote_addr",
        "content_type_id",
        "object_pk",
        "object_repr",
        "changes",
        "additional_data",
        "lawful_basis",
    }
)


def _from_payload(field: models.Field[Any, Any]) -> str:
    """The statement's expression for a hashed column: its value read out of the payload ``p.j`` (jsonb), as Django
    would have stored the value itself (the tests compare the two for every column)."""
    key, db_type = field.attname, field.db_type(connection)
    if isinstance(field, models.JSONField):
        return f"nullif(p.j -> '{key}', 'null'::jsonb)"  # Django stores None as SQL NULL, not JSON null
    if isinstance(field, ArrayField):
        return f"ARRAY(SELECT jsonb_array_elements_text(p.j -> '{key}'))::{db_type}"
    if isinstance(field, models.GenericIPAddressField):
        return f"nullif(p.j ->> '{key}', '')::{db_type}"  # Django binds a blank address as NULL
    if key == "lawful_basis":
        return f"coalesce(p.j ->> '{key}', '')::{db_type}"
    return f"(p.j ->> '{key}')::{db_type}"


@functools.cache
def _append_sql(gated: bool = False) -> tuple[str, tuple[models.Field[Any, Any], ...]]:
    """The append statement and the fields whose values it binds, built once: the model does not change at run time,
    and building it per event (column names, database types) was a tenth of a record view's Python time (issue 6).

    The canonical payload is bound once, as text: its hash is taken over that text, and the hashed columns are read
    out of it as jsonb. Binding each column as well (as until 2026-12-05) sent every value twice, prepared each in
    Python (a record view's event has some forty item codes) and had the server parse each again. ``OFFSET 0`` keeps
    PostgreSQL from folding the one-row subqueries into the column expressions, which would parse the payload once
    per column.
    """
    fields = tuple(f for f in AuditEvent._meta.concrete_fields if not f.primary_key and f.attname not in ("prev_hash", "hash"))
    bound = tuple(f for f in fields if f.attname not in HASHED_FIELDS)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    values = ", ".join(_from_payload(f) if f.attname in HASHED_FIELDS else f"%s::{f.db_type(connection)}" for f in fields)
    sql = (
        f"INSERT INTO {AuditEvent._meta.db_table} ({columns}, prev_hash, hash) "  # nosec B608: names from the model
        f"SELECT {values}, tip.h, encode(sha256(convert_to(tip.h || s.t, 'UTF8')), 'hex') "
        "FROM (SELECT %s::text AS t OFFSET 0) s CROSS JOIN LATERAL (SELECT s.t::jsonb AS j OFFSET 0) p, "
        "(SELECT coalesce(audit_chain_tip(%s), %s) AS h) tip"
        # Gated on ``append``'s reading: no row read, nothing appended (and the chain lock is not taken).
        f"{' WHERE EXISTS (SELECT 1 FROM reading)' if gated else ''} RETURNING id, prev_hash, hash"
    )
    return sql, bound


class ChainVerification(models.Model):
    """The result of one run of the hash-chain verification."""

    ran_at = models.DateTimeField(auto_now_add=True)
    rows_checked = models.PositiveBigIntegerField()
    ok = models.BooleanField()
    first_bad_id = models.BigIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-ran_at"]


class Alert(models.Model):
    """Unusual access raised automatically from the audit trail, for an auditor to close or escalate."""

    class Kind(models.TextChoices):
        VIEW_RATE = "view_rate", "Many record views in an hour"
        OUT_OF_HOURS = "out_of_hours", "Access out of hours"
        DENIED = "denied", "Repeated denied attempts"
        MANY_PEOPLE = "many_people", "Searches for many different people"
        EMERGENCY = "emergency", "Emergency access used (must be reviewed)"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"
        ESCALATED = "escalated", "Escalated"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    username = models.CharField(max_length=150)
    raised_at = models.DateTimeField(auto_now_add=True)
    detail = models.TextField()
    trigger_event_id = models.BigIntegerField()
    handled_by = models.CharField(max_length=150, blank=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-raised_at"]
        indexes = [
            models.Index(fields=["status", "-raised_at"], name="alert_status_time"),
            models.Index(fields=["username", "kind", "-raised_at"], name="alert_user_kind"),
        ]

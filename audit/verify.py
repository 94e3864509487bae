"""Verification of the audit hash chain.

Rule: walking rows in id order, each row's ``prev_hash`` must equal the
previous row's ``hash`` (the first row's must be the genesis hash), and each
row's ``hash`` must equal the hash recomputed from its own payload. The first
row that breaks either rule is reported: an edited row fails the second test,
a deleted or reordered row fails the first.
"""

from __future__ import annotations

from dataclasses import dataclass

from audit.models import GENESIS_HASH, AuditEvent, ChainVerification


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    rows_checked: int
    first_bad_id: int | None = None
    message: str = ""


def verify_chain(*, batch_size: int = 5000) -> ChainReport:
    expected_prev = GENESIS_HASH
    checked = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=batch_size):
        if event.prev_hash != expected_prev:
            return ChainReport(
                False,
                checked,
                event.id,
                f"row {event.id}: its link to the previous row is broken (a row before it was deleted, inserted or reordered)",
            )
        if event.compute_hash(event.prev_hash) != event.hash:
            return ChainReport(False, checked, event.id, f"row {event.id}: its content does not match its hash (the row was edited)")
        expected_prev = event.hash
        checked += 1
    return ChainReport(True, checked, None, f"{checked} rows verified; the chain is intact")


def verify_and_record() -> ChainReport:
    report = verify_chain()
    ChainVerification.objects.create(
        rows_checked=report.rows_checked, ok=report.ok, first_bad_id=report.first_bad_id, message=report.message
    )
    return report

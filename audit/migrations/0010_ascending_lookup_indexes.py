"""The audit trail's lookup indexes in ascending id order: the same reads, smaller indexes, cheaper appends.

An auditor's lookup (one person, one user, one event, one agency or one reason, newest first) is an equality on the
first column and ``ORDER BY id DESC``: a backward scan of an ascending index serves it as well as a forward scan of
a descending one. What differs is the append. Every event takes the highest id, so in ascending order its entry goes
at the end of its value's run, and when that page is full PostgreSQL splits it just after the new entry (the B-tree's
"split after new tuple" rule for a rising last column), leaving the old page full. In descending order the entry
goes at the start of the run, where the split is down the middle and leaves two half-empty pages that later events of
that value never fill.

Measured on 2026-12-05 (issue 6) in a bench database of 30,000 people, the trail's 70,273 events appended one
statement at a time into two copies of the table, each twice: the indexes of the whole table 4,681 pages against
5,439 (the agency index alone 685 against 1,068, the reason's 447 against 741), 188.8 MB of WAL against 194.7-196.5
MB, and the loop of appends 2.13-2.24 s against 2.27-2.40 s (PostgreSQL 15). Some 2 µs of the database's time an
append: a small part of an audited disclosure, but the trail only grows, and its indexes are the ones a busy
server must keep in memory.

Built CONCURRENTLY before the old ones are dropped (also CONCURRENTLY): the audit table is the largest in a live
system, and a plain CREATE or DROP INDEX would block every audited disclosure while it ran. Lookups have an index
throughout.
"""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models

LOOKUPS = [
    ("subject_id", "audit_subject_id", "audit_subject_by_id"),
    ("actor_username", "audit_username_id", "audit_username_by_id"),
    ("event", "audit_event_id", "audit_event_by_id"),
    ("agency", "audit_agency_id", "audit_agency_by_id"),
    ("purpose_code", "audit_purpose_id", "audit_purpose_by_id"),
]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("audit", "0009_chain_tip_by_index")]

    operations = [
        *(
            AddIndexConcurrently(model_name="auditevent", index=models.Index(fields=[column, "id"], name=new))
            for column, _old, new in LOOKUPS
        ),
        *(RemoveIndexConcurrently(model_name="auditevent", name=old) for _column, old, _new in LOOKUPS),
    ]

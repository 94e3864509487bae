"""Smaller planner statistics for the name columns the search compares by trigram similarity (issue 6).

PostgreSQL estimates each ``name % 'word'`` of the search by running the comparison over the column's most common
values and histogram (pg_trgm's ``%`` uses ``matchingsel``): about 200 similarity computations per clause with the
default statistics target of 100, and a full name with a date of birth has about a dozen such clauses. With a target
of 20 the lists hold at most 20 values and 21 histogram bounds, about a fifth of the comparisons. Measured with
EXPLAIN ANALYZE of the bench's 300 searches, the two settings alternating twice: at 30,000 people a full name with a
date of birth planned in 3.5-4.1 ms (p50) and took 4.5-5.5 ms in all, now 1.8 and 2.8-3.0; at a million, planning
3.3-3.5 ms, now 1.7-1.8, and the 300 searches took 13 % less in all (execution alone within the noise).

The sample ANALYZE reads is set by the table's largest target, so the other columns keep their statistics; the 20
most common values of each name column still give the common surnames their own frequencies for the equality
lookups. The sound keys (``family_key``, ``key``), compared for equality only, keep the default.
"""

from django.db import migrations

COLUMNS = [
    ("records_subjectname", "family_norm"),
    ("records_subjectname", "given_first"),
    ("records_subjectname", "given_norm"),
    ("records_nameword", "word"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0010_search_family_more"),
    ]

    operations = [
        migrations.RunSQL(
            [f"ALTER TABLE {table} ALTER COLUMN {column} SET STATISTICS 20" for table, column in COLUMNS],
            [f"ALTER TABLE {table} ALTER COLUMN {column} SET STATISTICS -1" for table, column in COLUMNS],
        ),
    ]

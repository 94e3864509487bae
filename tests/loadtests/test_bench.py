"""The bench's own steps: the report's list of the autovacuum stand-in's work, and warming the cache before measuring."""

from __future__ import annotations

import pytest

from loadtests.bench import _counted


def test_repeated_commands_are_counted_in_the_order_first_run():
    assert _counted(["VACUUM ANALYZE public.a", "ANALYZE public.b", "VACUUM ANALYZE public.a", "ANALYZE public.a"]) == [
        "VACUUM ANALYZE public.a x2",
        "ANALYZE public.b",
        "ANALYZE public.a",
    ]
    assert _counted([]) == []


def test_warming_the_cache_reads_every_table_and_index_of_the_app_whole(db):
    """Each table's rows and all its indexes, once (the million-person searches read the disk otherwise)."""
    from django.db import connection

    from loadtests.bench import warm

    with connection.cursor() as cursor:
        # Each table's rows and each of its indexes' (an index's free-space map, which VACUUM may have made, is not read).
        cursor.execute(
            "SELECT sum(pg_relation_size(c.oid, 'main') + (SELECT coalesce(sum(pg_relation_size(i.indexrelid, 'main')), 0) "
            "FROM pg_index i WHERE i.indrelid = c.oid)) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'"
        )
        expected_mb = float(cursor.fetchone()[0]) / 1e6
        assert expected_mb > 1  # the migrated database's tables and their indexes
        assert warm(cursor) == pytest.approx(expected_mb)

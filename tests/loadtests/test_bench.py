"""What the bench's report says of the autovacuum stand-in's work."""

from __future__ import annotations

from loadtests.bench import _counted


def test_repeated_commands_are_counted_in_the_order_first_run():
    assert _counted(["VACUUM ANALYZE public.a", "ANALYZE public.b", "VACUUM ANALYZE public.a", "ANALYZE public.a"]) == [
        "VACUUM ANALYZE public.a x2",
        "ANALYZE public.b",
        "ANALYZE public.a",
    ]
    assert _counted([]) == []

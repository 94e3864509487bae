"""The locustfile's small figures."""

from __future__ import annotations

from loadtests.figures import percentile_ms


def test_the_percentile_is_the_nearest_rank_in_milliseconds():
    twenty = [1000 * n for n in range(20, 0, -1)]  # 20 ms down to 1 ms, in no order the function may rely on
    assert percentile_ms(twenty, 0.50) == "10.0"
    assert percentile_ms(twenty, 0.95) == "19.0"
    assert percentile_ms(twenty, 1.0) == "20.0"
    assert percentile_ms([2500], 0.95) == "2.5"


def test_no_figures_give_an_empty_cell():
    assert percentile_ms([], 0.95) == ""

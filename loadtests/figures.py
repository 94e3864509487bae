"""Small figures the locustfile works out, kept apart from it so the tests can import them (Locust patches with gevent)."""

from __future__ import annotations

import math


def percentile_ms(microseconds: list[int], q: float) -> str:
    """The q-th quantile (0 < q <= 1) of figures in microseconds, in milliseconds to one place: the nearest rank, the
    smallest figure with at least q of them at or below it. "" when there are none."""
    if not microseconds:
        return ""
    ordered = sorted(microseconds)
    return f"{ordered[max(0, math.ceil(q * len(ordered)) - 1)] / 1000:.1f}"

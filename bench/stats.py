"""Percentiles and small helpers shared by the benchmark and the load tests."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def summary(seconds: Sequence[float]) -> dict[str, float | int | None]:
    """p50/p99/max in milliseconds, and how many samples."""
    return {
        "p50_ms": ms(percentile(seconds, 50)),
        "p99_ms": ms(percentile(seconds, 99)),
        "max_ms": ms(max(seconds) if seconds else None),
        "n": len(seconds),
    }


def ratio(ours: float | None, ceiling: float | None) -> float | None:
    if ours is None or not ceiling:
        return None
    return round(ours / ceiling, 2)

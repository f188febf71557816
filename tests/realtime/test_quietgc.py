"""Full garbage collections wait for a quiet moment (server/realtime/quietgc.py)."""

from __future__ import annotations

import gc

import pytest

from server.realtime import quietgc
from server.realtime.quietgc import QuietCollector


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def collector(clock: Clock, busy: list[float]) -> QuietCollector:
    return QuietCollector(lambda: busy[0], idle=0.5, longest=60.0, clock=clock)


def test_a_full_collection_waits_for_a_quiet_moment(monkeypatch: pytest.MonkeyPatch) -> None:
    clock, busy = Clock(), [100.0]
    quiet = collector(clock, busy)
    monkeypatch.setattr(quietgc.gc, "get_count", lambda: (0, 0, quietgc.DUE))
    clock.now, busy[0] = 110.0, 109.9  # a batch a moment ago: a burst goes on
    assert not quiet.due()
    clock.now = 110.5  # half a second without a batch
    assert quiet.due()
    assert quiet.overdue == 0


def test_nothing_to_collect_is_not_collected(monkeypatch: pytest.MonkeyPatch) -> None:
    clock, busy = Clock(), [0.0]
    quiet = collector(clock, busy)
    monkeypatch.setattr(quietgc.gc, "get_count", lambda: (0, 0, quietgc.DUE - 1))
    clock.now = 1000.0
    assert not quiet.due()


def test_a_long_busy_stretch_still_collects_once_a_minute(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock, busy = Clock(), [100.0]
    quiet = collector(clock, busy)
    monkeypatch.setattr(quietgc.gc, "get_count", lambda: (0, 0, quietgc.DUE))
    for second in range(1, 60):
        clock.now = busy[0] = 100.0 + second  # never quiet
        assert not quiet.due()
    clock.now = busy[0] = 160.0
    assert quiet.due() and quiet.overdue == 1
    quiet.collect()
    assert quiet.last_full == 160.0 and quiet.collections == 1


def test_serve_takes_the_full_collections_over_and_gives_them_back() -> None:
    before = gc.get_threshold()
    saved = quietgc.take_over()
    try:
        assert saved == before
        assert gc.get_threshold()[:2] == before[:2]
        assert gc.get_threshold()[2] == quietgc.NEVER
    finally:
        quietgc.give_back(saved)
    assert gc.get_threshold() == before

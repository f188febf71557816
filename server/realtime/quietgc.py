"""Full garbage collections at quiet moments, not in the middle of a burst.

A full (generation 2) collection stops the event loop while it walks every
live object: with 1,000 phones connected it took 150-550 ms on the 2-core
machine (busy) and 40-150 ms (quiet), measured with `gc.callbacks`, and every
acknowledgement and screen update in flight waits for it; in a vote burst it
is the p99. `tovholder serve` therefore freezes what the imports made
(`gc.freeze`), raises the third threshold so the collector never starts a
full collection by itself, and runs this task: it collects generation 2 once
the sessions have been quiet for a moment (`idle` seconds without a batch),
and at the latest `longest` seconds after the last full collection, however
busy it is, so cycles cannot pile up. Young collections go on as before.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

IDLE = 0.5  # seconds without a batch: a quiet moment
LONGEST = 60.0  # seconds between full collections at the most
CHECK = 0.25  # seconds between looks
DUE = 10  # young-generation collections since the last full one (CPython's own threshold)
NEVER = 1_000_000_000  # a third threshold the collector never reaches


def take_over() -> tuple[int, int, int]:
    """Stop the collector's own full collections; returns the thresholds it had."""
    before = gc.get_threshold()
    gc.set_threshold(before[0], before[1], NEVER)
    return before


def give_back(thresholds: tuple[int, int, int]) -> None:
    gc.set_threshold(*thresholds)


class QuietCollector:
    def __init__(
        self,
        last_activity: Callable[[], float],
        idle: float = IDLE,
        longest: float = LONGEST,
        check: float = CHECK,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.last_activity = last_activity
        self.idle, self.longest, self.check = idle, longest, check
        self.clock = clock
        self.last_full = clock()
        self.collections = 0
        self.overdue = 0  # of them, not at a quiet moment

    def due(self) -> bool:
        """Collect now? Something to collect, and quiet (or too long since)."""
        if gc.get_count()[2] < DUE:
            return False
        now = self.clock()
        if now - self.last_activity() >= self.idle:
            return True
        if now - self.last_full >= self.longest:
            self.overdue += 1
            return True
        return False

    def collect(self) -> None:
        started = time.perf_counter()
        gc.collect(2)
        self.last_full = self.clock()
        self.collections += 1
        log.debug("full collection in %.1f ms", (time.perf_counter() - started) * 1000)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.check)
            if self.due():
                self.collect()

"""Live sessions: one actor per session between the edge, the engine and the log.

Commands wait in a bounded queue. The actor takes every command that is
waiting, decides and applies them in order, appends all their events in ONE
transaction, and only then acknowledges each sender (acked means durable) and
hands the batch to the publisher, which renders once per audience.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from server.engine import Command, CommandRejected, Event, SessionState, apply_all, decide, replay
from server.store.eventlog import EventLog

log = logging.getLogger(__name__)

MAX_BATCH = 1000
QUEUE_SIZE = 10_000

Clock = Callable[[], float]


class Busy(Exception):
    """The session's queue is full; the sender should try again."""


class Unavailable(Exception):
    """The log could not be written; nothing was acknowledged."""


@dataclass
class Pending:
    command: Command
    future: asyncio.Future[list[Event] | CommandRejected]


@dataclass
class Batch:
    """What one transaction committed: per command its events or its rejection."""

    results: list[tuple[Command, list[Event] | CommandRejected]]
    seq: int

    @property
    def events(self) -> list[Event]:
        return [e for _, out in self.results if not isinstance(out, CommandRejected) for e in out]


Publisher = Callable[["LiveSession", Batch], Awaitable[None]]


@dataclass(eq=False)
class LiveSession:
    session_id: str
    state: SessionState
    seq: int
    log: EventLog
    publish: Publisher
    clock: Clock = time.time
    queue: asyncio.Queue[Pending] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.task is None:
            self.task = asyncio.create_task(self._run(), name=f"session-{self.session_id}")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None

    async def submit(self, command: Command) -> list[Event] | CommandRejected:
        """Decide the command; returns after its events are committed."""
        future: asyncio.Future[list[Event] | CommandRejected] = (
            asyncio.get_running_loop().create_future()
        )
        try:
            self.queue.put_nowait(Pending(command, future))
        except asyncio.QueueFull:
            raise Busy from None
        return await future

    async def _run(self) -> None:
        while True:
            batch = [await self.queue.get()]
            while len(batch) < MAX_BATCH and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            try:
                await self._commit(batch)
            except Exception:  # the loop must survive anything one batch does
                log.exception("session %s: batch failed", self.session_id)
                for p in batch:
                    if not p.future.done():
                        p.future.set_exception(Unavailable())

    async def _commit(self, batch: Sequence[Pending]) -> None:
        state = self.state
        results: list[tuple[Command, list[Event] | CommandRejected]] = []
        events: list[Event] = []
        now = self.clock()
        for p in batch:
            out = decide(state, p.command, now)
            if not isinstance(out, CommandRejected) and out:
                state = apply_all(state, out)
                events.extend(out)
            results.append((p.command, out))
        if events:
            try:
                await self.log.append(self.session_id, self.seq + 1, events)
            except Exception:
                log.exception("session %s: could not write %d events", self.session_id, len(events))
                for p in batch:
                    if not p.future.done():
                        p.future.set_exception(Unavailable())
                return
            self.seq += len(events)
            self.state = state
        for p, (_, out) in zip(batch, results, strict=True):
            if not p.future.done():
                p.future.set_result(out)
        if events:
            try:
                await self.publish(self, Batch(results, self.seq))
            except Exception:
                log.exception("session %s: publishing failed", self.session_id)


class LiveSessions:
    """The live sessions of this process, loaded from their logs on first use."""

    def __init__(self, log: EventLog, publish: Publisher, clock: Clock = time.time) -> None:
        self.log = log
        self.publish = publish
        self.clock = clock
        self.sessions: dict[str, LiveSession] = {}
        self._loading: dict[str, asyncio.Lock] = {}

    async def get(self, session_id: str) -> LiveSession | None:
        live = self.sessions.get(session_id)
        if live is not None:
            return live
        lock = self._loading.setdefault(session_id, asyncio.Lock())
        async with lock:
            live = self.sessions.get(session_id)
            if live is None:
                events = await self.log.load(session_id)
                if not events:
                    return None
                live = LiveSession(
                    session_id, replay(events), len(events), self.log, self.publish, self.clock
                )
                live.start()
                self.sessions[session_id] = live
        return live

    async def create(self, session_id: str, created: Event) -> LiveSession:
        await self.log.append(session_id, 1, [created])
        live = await self.get(session_id)
        assert live is not None
        return live

    async def close(self) -> None:
        for live in list(self.sessions.values()):
            await live.stop()
        self.sessions.clear()

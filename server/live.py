"""Live sessions: one actor per session between the edge, the engine and the log.

Commands wait in a bounded queue. The actor takes every command that is
waiting, decides and applies them in order, appends all their events in ONE
transaction, and only then acknowledges each sender (acked means durable) and
hands the batch to the publisher, which renders once per audience.

Several workers (processes or hosts) may each hold a LiveSession for the same
session. Appends are optimistic: a batch is written as seq+1.. and the unique
(session_id, seq) constraint refuses it when another worker got there first.
The actor then loads the events it missed, applies them, and decides the same
batch again against the new state (a command that is no longer valid is
refused, exactly as if it had arrived later). After a commit the worker
announces only (session_id, seq) on the realtime backend; every other worker
holding the session catches up from the log and renders for its own screens.

Publishing costs about the same for one card as for ten (the phones' shared
fragments, the projector's count, the big screens' copies), so when the
participants' commands come fast their batches are published together, at
most every PUBLISH_EVERY: each sender is still answered right after its
commit, and only the screens' update waits (10 ms at most). A batch with a
facilitator's command (a step change, a timer) is published at once.

One command cannot fail the others in its batch. When its events cannot be
stored (the log cannot encode them, or the database refuses a value), that
command is refused ("unstorable") and the rest is decided again and committed
without it. The log names the events it could not encode, so those are left
out at once; when the database only says that some value was refused, the batch
is committed in halves until the one it refuses is alone (a few transactions,
at most ISOLATION_SPLITS halvings a batch). Anything else that fails an append
(the database is unavailable) fails the whole batch, as it always did: nothing
is acknowledged, and every sender is told to try again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError

from server.engine import (
    ActorRole,
    Command,
    CommandRejected,
    Event,
    SessionState,
    apply_all,
    decide,
    replay,
)
from server.realtime.backends import Backend, MemoryBackend
from server.store.eventlog import EventLog, Unstorable

log = logging.getLogger(__name__)

MAX_BATCH = 1000
QUEUE_SIZE = 10_000
CONFLICT_PATIENCE = 10.0  # seconds a batch keeps trying while other workers keep winning
RESYNC_INTERVAL = 10.0  # seconds between checks of each live session against the log
PUBLISH_EVERY = 0.01  # seconds: participants' batches that come faster are published together
ISOLATION_SPLITS = 32  # halvings a batch may take to find the values the database refuses

Clock = Callable[[], float]


class Busy(Exception):
    """The session's queue is full; the sender should try again."""


class Unavailable(Exception):
    """The log could not be written; nothing was acknowledged."""


Result = list[Event] | CommandRejected
Answer = Callable[[Result], None]

# The sender's answer when their command's events cannot be stored: sending the
# same again will not help (unlike "the server is busy").
UNSTORABLE = CommandRejected(
    "Your last action could not be saved: something in it cannot be stored. "
    "Change it before you try again.",
    "unstorable",
)


@dataclass
class Pending:
    command: Command
    future: asyncio.Future[Result]
    answer: Answer | None = None
    refused: CommandRejected | None = None  # left out of its batch: its events cannot be stored


@dataclass
class _Splits:
    """What is left of a batch's ISOLATION_SPLITS (shared by its halves)."""

    left: int = ISOLATION_SPLITS


@dataclass
class Batch:
    """What changed the state: per own command its events or its rejection, and
    before them any events other workers wrote (`caught_up`)."""

    results: list[tuple[Command, Result]]
    seq: int
    caught_up: list[Event] = field(default_factory=list)

    @property
    def events(self) -> list[Event]:
        own = [e for _, out in self.results if not isinstance(out, CommandRejected) for e in out]
        return [*self.caught_up, *own] if self.caught_up else own


Publisher = Callable[["LiveSession", Batch], Awaitable[None]]
Announcer = Callable[[str, int], None]


def _no_announce(session_id: str, seq: int) -> None:
    return None


def _participants_only(batch: Batch) -> bool:
    """Only participants' commands (cards, ballots): their publishing may wait a little."""
    return not batch.caught_up and all(
        command.actor.role is ActorRole.PARTICIPANT for command, _ in batch.results
    )


def _merged(batches: Sequence[Batch]) -> Batch:
    return Batch(
        [r for b in batches for r in b.results],
        batches[-1].seq,
        [e for b in batches for e in b.caught_up],
    )


@dataclass(eq=False)
class LiveSession:
    session_id: str
    state: SessionState
    seq: int
    log: EventLog
    publish: Publisher
    clock: Clock = time.time
    announce: Announcer = _no_announce
    queue: asyncio.Queue[Pending] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    task: asyncio.Task[None] | None = None
    conflicts: int = 0  # appends another worker won (for tests and figures)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _wanted: int = 0  # the highest seq another worker announced
    _check_log: bool = False
    _sync_waiters: list[asyncio.Future[None]] = field(default_factory=list)
    _unpublished: list[Batch] = field(default_factory=list)  # committed, not yet on the screens
    _published_at: float = 0.0  # time.monotonic() of the last publish

    def start(self) -> None:
        if self.task is None:
            self.task = asyncio.create_task(self._run(), name=f"session-{self.session_id}")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None
        if self._unpublished:  # committed and answered: the screens get it too
            await self.flush()
        for waiter in self._sync_waiters:
            if not waiter.done():
                waiter.set_exception(Unavailable())
        while not self.queue.empty():
            p = self.queue.get_nowait()
            if not p.future.done():
                p.future.set_exception(Unavailable())

    async def submit(self, command: Command, answer: Answer | None = None) -> Result:
        """Decide the command; returns after its events are committed.

        `answer` is called with the result right after the commit and before the
        batch is rendered, so a sender's acknowledgement goes out first and the
        fragments the batch caused follow it.
        """
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        try:
            self.queue.put_nowait(Pending(command, future, answer))
        except asyncio.QueueFull:
            raise Busy from None
        self._wake.set()
        return await future

    def notify(self, seq: int) -> None:
        """Another worker committed up to `seq`: the actor catches up from the log."""
        if seq > self.seq and seq > self._wanted:
            self._wanted = seq
            self._wake.set()

    def request_sync(self) -> None:
        """Check the log for events from elsewhere soon (a broker message may be lost)."""
        self._check_log = True
        self._wake.set()

    async def sync(self) -> None:
        """Return once the state holds every event the log had when this was called."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sync_waiters.append(future)
        self._wake.set()
        await future

    # -- the actor -------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            wait = self._published_at + PUBLISH_EVERY - time.monotonic()
            if self._unpublished and wait <= 0:
                await self.flush()
            elif self._unpublished:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)
            else:
                await self._wake.wait()
            self._wake.clear()
            await self._refresh()
            while not self.queue.empty():
                if self._wanted > self.seq:
                    await self._refresh()  # announced meanwhile: catch up before deciding
                batch = [self.queue.get_nowait()]
                while len(batch) < MAX_BATCH and not self.queue.empty():
                    batch.append(self.queue.get_nowait())
                try:
                    done = await self._commit(batch)
                except Exception:  # the loop must survive anything one batch does
                    log.exception("session %s: batch failed", self.session_id)
                    self._fail(batch)
                    continue
                if done is not None:
                    self._unpublished.append(done)  # before any await: `stop` publishes it
                    if self.announce is not _no_announce:
                        # Other workers first: they catch up and render on their own
                        # cores while this one renders for its screens.
                        self.announce(self.session_id, self.seq)
                        await asyncio.sleep(0)
                    if not _participants_only(done) or (
                        time.monotonic() - self._published_at >= PUBLISH_EVERY
                    ):
                        await self.flush()

    async def flush(self) -> None:
        """Hand what was committed since the last publish to the publisher, as one
        batch. The publisher never awaits in between, so this may also run beside
        the actor: a reply sent after it comes after every earlier commit's fragments."""
        batches, self._unpublished = self._unpublished, []
        if not batches:
            return
        self._published_at = time.monotonic()
        batch = batches[0] if len(batches) == 1 else _merged(batches)
        try:
            await self.publish(self, batch)
        except Exception:
            log.exception("session %s: publishing failed", self.session_id)

    async def _refresh(self) -> None:
        waiters, self._sync_waiters = self._sync_waiters, []
        if not (waiters or self._check_log or self._wanted > self.seq):
            return
        self._check_log = False
        try:
            await self._catch_up()
        except Exception:
            log.exception("session %s: could not read the log", self.session_id)
            for w in waiters:
                if not w.done():
                    w.set_exception(Unavailable())
            return
        for w in waiters:
            if not w.done():
                w.set_result(None)

    async def _catch_up(self) -> int:
        """Apply what other workers appended after our seq; returns how many events."""
        events = await self.log.load(self.session_id, after=self.seq)
        if not events:
            return 0
        self.state = apply_all(self.state, events)
        self.seq += len(events)
        self._unpublished.append(Batch([], self.seq, events))
        await self.flush()
        return len(events)

    def _decide(self, batch: Sequence[Pending]) -> tuple[SessionState, list[Result], list[Event]]:
        state = self.state
        results: list[Result] = []
        events: list[Event] = []
        now = self.clock()
        for p in batch:
            if p.refused is not None:
                results.append(p.refused)
                continue
            out = decide(state, p.command, now)
            if not isinstance(out, CommandRejected) and out:
                state = apply_all(state, out)
                events.extend(out)
            results.append(out)
        return state, results, events

    async def _commit(
        self, batch: Sequence[Pending], splits: _Splits | None = None
    ) -> Batch | None:
        """Decide, append and answer `batch`; returns what is to be published."""
        splits = splits or _Splits()
        attempt = 0
        give_up = time.monotonic() + CONFLICT_PATIENCE
        while True:
            attempt += 1
            if attempt > 1 and time.monotonic() > give_up:
                break
            state, results, events = self._decide(batch)
            # A refusal (or a no-op) may come from a state another process has
            # moved on from (another worker, or the old process during a rolling
            # restart); an append would tell, a refusal writes nothing: read the
            # log first (one indexed query, and only for such batches).
            doubtful = any(
                p.refused is None and (not out or isinstance(out, CommandRejected))
                for p, out in zip(batch, results, strict=True)
            )
            if doubtful and await self._catch_up():
                continue
            if events:
                unstorable: Unstorable | None = None
                try:
                    await self.log.append(self.session_id, self.seq + 1, events)
                except IntegrityError:
                    # Another worker wrote seq+1 first: take its events, decide again
                    # (after a short random pause, so busy workers stop colliding).
                    if await self._catch_up():
                        self.conflicts += 1
                        await asyncio.sleep(random.uniform(0, 0.002 * min(attempt, 10)))
                        continue
                    # Nobody did: the database refused a value of this batch (a
                    # constraint), and does not say whose.
                    unstorable = Unstorable((), "IntegrityError")
                except Unstorable as exc:
                    unstorable = exc
                except Exception:
                    log.exception(
                        "session %s: could not write %d events", self.session_id, len(events)
                    )
                    self._fail(batch)
                    return None
                if unstorable is not None:
                    if self._leave_out(batch, results, unstorable):
                        continue  # decide the others again, without it
                    return await self._halves(batch, results, unstorable, splits)
                self.seq += len(events)
                self.state = state
            for p, out in zip(batch, results, strict=True):
                self._reply(p, out)
            if not events:
                return None
            return Batch(
                [(p.command, out) for p, out in zip(batch, results, strict=True)], self.seq
            )
        log.error("session %s: gave up after %d conflicting appends", self.session_id, attempt)
        self._fail(batch)
        return None

    def _leave_out(
        self, batch: Sequence[Pending], results: Sequence[Result], unstorable: Unstorable
    ) -> bool:
        """Refuse the commands whose events could not be stored, if it is known
        which they are: the events the log named, or the only command with events."""
        owners = [
            i for i, out in enumerate(results) if not isinstance(out, CommandRejected) for _ in out
        ]
        if unstorable.positions:
            culprits = sorted({owners[k] for k in unstorable.positions})
        else:
            culprits = sorted(set(owners))
            if len(culprits) != 1:
                return False  # the database refused one of several: `_halves` finds it
        for i in culprits:
            p = batch[i]
            p.refused = UNSTORABLE
            # Ids and the error's name only: never the text.
            log.warning(
                "session %s: %s from %s left out, its events cannot be stored (%s)",
                self.session_id,
                type(p.command).__name__,
                p.command.actor.id,
                unstorable.kind,
            )
        return True

    async def _halves(
        self,
        batch: Sequence[Pending],
        results: Sequence[Result],
        unstorable: Unstorable,
        splits: _Splits,
    ) -> Batch | None:
        """Commit `batch` in two parts, each with some of the commands that made
        events, so the value the database refuses ends up alone (and is left out)."""
        if splits.left <= 0:
            log.error(
                "session %s: the database refuses values of %d commands (%s)",
                self.session_id,
                len(batch),
                unstorable.kind,
            )
            self._fail(batch)
            return None
        splits.left -= 1
        makers = [
            i for i, out in enumerate(results) if out and not isinstance(out, CommandRejected)
        ]
        cut = makers[len(makers) // 2]  # 0 < cut < len(batch): both parts are smaller
        first, second = batch[:cut], batch[cut:]
        done = [b for b in [await self._commit(first, splits)] if b is not None]
        if any(_failed(p) for p in first):
            self._fail(second)  # the database is not merely refusing one value
        else:
            done.extend(b for b in [await self._commit(second, splits)] if b is not None)
        if not done:
            return None
        return done[0] if len(done) == 1 else _merged(done)

    def _reply(self, p: Pending, out: Result) -> None:
        if not p.future.done():
            p.future.set_result(out)
            if p.answer is not None:
                try:
                    p.answer(out)
                except Exception:
                    log.exception("session %s: answering failed", self.session_id)

    def _fail(self, batch: Sequence[Pending]) -> None:
        for p in batch:
            if p.refused is not None:
                self._reply(p, p.refused)  # nothing to try again: it cannot be stored
            elif not p.future.done():
                p.future.set_exception(Unavailable())


def _failed(p: Pending) -> bool:
    """Whether the sender was told that nothing was saved (Unavailable)."""
    return p.future.done() and not p.future.cancelled() and p.future.exception() is not None


class LiveSessions:
    """The live sessions of this process, loaded from their logs on first use."""

    def __init__(
        self,
        log: EventLog,
        publish: Publisher,
        clock: Clock = time.time,
        backend: Backend | None = None,
        resync_interval: float = RESYNC_INTERVAL,
    ) -> None:
        self.log = log
        self.publish = publish
        self.clock = clock
        self.backend = backend or MemoryBackend()
        self.resync_interval = resync_interval
        self.sessions: dict[str, LiveSession] = {}
        self._loading: dict[str, asyncio.Lock] = {}
        self._early: dict[str, int] = {}  # announcements for sessions being loaded
        self._started: asyncio.Task[None] | None = None
        self._watch: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Subscribe to the backend (once; `get` does it before the first load)."""
        if self._started is None:
            self._started = asyncio.create_task(
                self.backend.start(self._on_seq, self._on_resync), name="realtime-start"
            )
            # Also with the memory backend: during a rolling restart two processes
            # hold the same sessions for a moment.
            self._watch = asyncio.create_task(self._resync_every(), name="realtime-resync")
        await asyncio.shield(self._started)

    async def get(self, session_id: str) -> LiveSession | None:
        live = self.sessions.get(session_id)
        if live is not None:
            return live
        await self.start()  # subscribed before reading the log: no announcement falls between
        lock = self._loading.setdefault(session_id, asyncio.Lock())
        async with lock:
            live = self.sessions.get(session_id)
            if live is None:
                self._early.setdefault(session_id, 0)
                try:
                    events = await self.log.load(session_id)
                finally:
                    early = self._early.pop(session_id, 0)
                if not events:
                    return None
                live = LiveSession(
                    session_id,
                    replay(events),
                    len(events),
                    self.log,
                    self.publish,
                    self.clock,
                    announce=self.backend.publish if self.backend.shared else _no_announce,
                )
                live.notify(early)
                live.start()
                self.sessions[session_id] = live
        return live

    async def create(self, session_id: str, created: Event) -> LiveSession:
        await self.log.append(session_id, 1, [created])
        live = await self.get(session_id)
        assert live is not None
        return live

    def _on_seq(self, session_id: str, seq: int) -> None:
        live = self.sessions.get(session_id)
        if live is not None:
            live.notify(seq)
        elif session_id in self._early:
            self._early[session_id] = max(self._early[session_id], seq)

    def _on_resync(self) -> None:
        for live in self.sessions.values():
            live.request_sync()

    async def _resync_every(self) -> None:
        while True:
            await asyncio.sleep(self.resync_interval)
            self._on_resync()

    async def close(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
            self._watch = None
        for live in list(self.sessions.values()):
            await live.stop()
        self.sessions.clear()
        if self._started is not None:
            with contextlib.suppress(BaseException):
                await self._started
            await self.backend.close()
            self._started = None

"""Several workers holding one live session: optimistic appends that lose to
another worker reload and decide again; announcements (only session id and
seq) bring the other workers up to date from the log."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from server.engine import CommandRejected, replay
from server.engine import commands as c
from server.engine.events import CardAdded
from server.live import LiveSession
from server.realtime.backends import Backend, MemoryBackend, MemoryBus
from tests.realtime.workers import CARD_STEP, FAC, card, new_session, open_card_step, workers
from tests.store.databases import fresh_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with fresh_database(request.param, tmp_path) as url:
        yield url


def deaf() -> Backend:
    """A backend of a scaled-out worker whose broker delivers nothing."""
    return MemoryBackend(MemoryBus())


async def until(predicate, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def cards_in(events: list) -> list[str]:  # type: ignore[type-arg]
    return [e.card_id for e in events if isinstance(e, CardAdded)]


async def test_two_stale_workers_never_lose_or_double_a_command(db_url: str) -> None:
    # Two workers that hear nothing from each other: every append that loses
    # finds out from the constraint, every refusal from reading the log.
    async with workers(db_url, [deaf(), deaf()]) as (a, b):
        sid = await new_session(a.log)
        la, lb = await a.session(sid), await b.session(sid)
        await open_card_step(la, phones=20)

        async def send(live: LiveSession, i: int) -> None:
            for n in range(5):
                out = await live.submit(card(i, n))
                assert isinstance(out, list), out

        await asyncio.gather(*(send(la if i % 2 else lb, i) for i in range(20)))
        events = await a.log.load(sid)
        ids = cards_in(events)
        assert len(ids) == len(set(ids)) == 100
        assert la.conflicts + lb.conflicts > 0  # they did get in each other's way
        await la.sync()
        await lb.sync()
        assert la.seq == lb.seq == len(events) == await a.log.last_seq(sid)
        assert la.state == lb.state == replay(events)


async def test_a_stale_worker_decides_again_against_the_new_state(db_url: str) -> None:
    async with workers(db_url, [deaf(), deaf()]) as (a, b):
        sid = await new_session(a.log)
        la, lb = await a.session(sid), await b.session(sid)
        await open_card_step(la, phones=1)
        await lb.sync()
        here = lb.state.step_id
        assert here == CARD_STEP
        # Both facilitators' screens say "next" from the same step; b has not
        # heard of a's move. The session must move once, not twice.
        assert isinstance(await la.submit(c.NextStep(actor=FAC, from_step=here)), list)
        out = await lb.submit(c.NextStep(actor=FAC, from_step=here))
        assert out == [] or isinstance(out, CommandRejected)
        assert lb.conflicts == 1
        assert la.state.current == lb.state.current == (la.state.script.index_of(here) or 0) + 1


async def test_announcements_bring_a_watching_worker_up_to_date(db_url: str) -> None:
    bus = MemoryBus()
    async with workers(db_url, [MemoryBackend(bus), MemoryBackend(bus)]) as (a, b):
        sid = await new_session(a.log)
        la, lb = await a.session(sid), await b.session(sid)
        await open_card_step(la, phones=2)
        await la.submit(card(0, 0))
        await until(lambda: lb.seq == la.seq)
        assert lb.state == la.state
        assert lb.conflicts == 0
        # b rendered what it caught up on, with the events that caused it
        assert cards_in(b.published[-1].events) == ["c0-0"] or any(
            "c0-0" in cards_in(batch.events) for batch in b.published
        )
        # and b's own command goes straight in, without a conflict
        await lb.submit(card(1, 0))
        await until(lambda: la.seq == lb.seq)
        assert cards_in(await a.log.load(sid)) == ["c0-0", "c1-0"]
        assert la.conflicts == lb.conflicts == 0


async def test_an_announcement_during_loading_is_not_lost(db_url: str) -> None:
    bus = MemoryBus()
    async with workers(db_url, [MemoryBackend(bus), MemoryBackend(bus)]) as (a, b):
        sid = await new_session(a.log)
        la = await a.session(sid)
        await open_card_step(la, phones=1)
        gate, reading = asyncio.Event(), asyncio.Event()
        real_load = b.log.load

        async def slow_load(session_id: str, after: int = 0):  # type: ignore[no-untyped-def]
            events = await real_load(session_id, after)
            if not after:
                reading.set()
                await gate.wait()  # a commits and announces while b's read is in flight
            return events

        b.log.load = slow_load  # type: ignore[method-assign]
        loading = asyncio.create_task(b.session(sid))
        await reading.wait()
        await la.submit(card(0, 0))
        await asyncio.sleep(0.05)  # the announcement reaches b before its load returns
        gate.set()
        lb = await loading
        await until(lambda: lb.seq == la.seq)
        assert "c0-0" in lb.state.cards


async def test_without_any_announcement_sync_and_the_periodic_check_catch_up(db_url: str) -> None:
    async with workers(db_url, [deaf(), deaf()]) as (a, b):
        b.live.resync_interval = 0.1
        sid = await new_session(a.log)
        la, lb = await a.session(sid), await b.session(sid)
        await open_card_step(la, phones=1)  # a announces nothing (no bus)
        await until(lambda: lb.seq == la.seq, timeout=3)  # the periodic check
        await la.submit(card(0, 0))
        await lb.sync()  # and an explicit sync reads the log at once
        assert lb.seq == la.seq and "c0-0" in lb.state.cards


async def test_an_unwritable_log_acknowledges_nothing(db_url: str) -> None:
    from server.live import Unavailable

    async with workers(db_url, [MemoryBackend()]) as (a,):
        sid = await new_session(a.log)
        la = await a.session(sid)
        await open_card_step(la, phones=1)
        seq, state = la.seq, la.state

        async def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
            raise OSError("disk full")

        a.log.append = broken  # type: ignore[method-assign]
        with pytest.raises(Unavailable):
            await la.submit(card(0, 0))
        assert (la.seq, la.state) == (seq, state)  # nothing applied that is not stored


async def test_two_processes_without_a_broker_stay_right(db_url: str) -> None:
    # A rolling restart: for a moment the old and the new process both hold the
    # session, with the memory backend (no broker at all).
    async with workers(db_url, [MemoryBackend(), MemoryBackend()]) as (old, new):
        new.live.resync_interval = 0.1
        sid = await new_session(old.log)
        lo, ln = await old.session(sid), await new.session(sid)
        await open_card_step(lo, phones=2)
        # a refusal is never decided on the new process's stale state...
        out = await ln.submit(card(0, 0))
        assert isinstance(out, list) and out, out
        assert "c0-0" in ln.state.cards
        # ...and what the old one writes reaches the new one within the check interval
        await lo.submit(card(1, 0))
        await until(lambda: "c1-0" in ln.state.cards, timeout=3)
        await lo.sync()
        assert ln.state == lo.state

"""The event log on SQLite and on PostgreSQL: numbering, order, and the unique
(session_id, seq) constraint that makes optimistic appends from several workers safe."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from server.engine.events import SessionEnded, SessionStarted, TimerPaused
from server.store.db import make_engine
from server.store.eventlog import EventLog
from server.store.repo import Repo
from tests.store.databases import fresh_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def log(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[EventLog]:
    async with fresh_database(request.param, tmp_path) as url:
        engine = make_engine(url)
        try:
            yield EventLog(engine)
        finally:
            await engine.dispose()


async def new_session(log: EventLog) -> str:
    repo = Repo(log.engine)
    eng = await repo.add_engagement("Varde", "Varde Kommune", {})
    row = await repo.add_session(eng.id, "kvifa", "Kvifa", "da", None)
    return row.id


def paused(i: int) -> TimerPaused:
    return TimerPaused(at=1000.0 + i, remaining=float(i))


async def test_append_numbers_from_first_seq_and_load_keeps_order(log: EventLog) -> None:
    sid = await new_session(log)
    assert await log.last_seq(sid) == 0
    assert await log.append(sid, 1, [SessionStarted(at=1.0), paused(2), paused(3)]) == 3
    assert await log.append(sid, 4, [paused(4)]) == 4
    assert await log.append(sid, 5, []) == 4  # nothing to write
    events = await log.load(sid)
    assert [type(e).__name__ for e in events] == ["SessionStarted", *["TimerPaused"] * 3]
    assert [e.remaining for e in events[1:]] == [2.0, 3.0, 4.0]  # type: ignore[attr-defined]
    assert await log.last_seq(sid) == 4


async def test_load_after_returns_only_the_newer_events(log: EventLog) -> None:
    sid = await new_session(log)
    await log.append(sid, 1, [paused(i) for i in range(1, 6)])
    assert [e.remaining for e in await log.load(sid, after=3)] == [4.0, 5.0]  # type: ignore[attr-defined]
    assert await log.load(sid, after=5) == []


async def test_sessions_are_numbered_apart(log: EventLog) -> None:
    a, b = await new_session(log), await new_session(log)
    await log.append(a, 1, [paused(1), paused(2)])
    await log.append(b, 1, [paused(9)])
    assert await log.last_seq(a) == 2 and await log.last_seq(b) == 1
    assert [e.remaining for e in await log.load(b)] == [9.0]  # type: ignore[attr-defined]


async def test_a_stale_writer_is_refused_and_writes_nothing(log: EventLog) -> None:
    sid = await new_session(log)
    await log.append(sid, 1, [paused(1), paused(2)])
    # A second worker still believes the log ends at seq 1: its batch would
    # take seq 2 and 3; the whole transaction is refused.
    with pytest.raises(IntegrityError):
        await log.append(sid, 2, [paused(20), paused(30)])
    assert [e.remaining for e in await log.load(sid)] == [1.0, 2.0]  # type: ignore[attr-defined]
    assert await log.last_seq(sid) == 2


async def test_concurrent_writers_at_the_same_seq_one_wins(log: EventLog) -> None:
    sid = await new_session(log)
    results = await asyncio.gather(
        *(log.append(sid, 1, [paused(i), paused(i)]) for i in range(1, 6)),
        return_exceptions=True,
    )
    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, BaseException)]
    assert won == [2]
    assert all(isinstance(r, IntegrityError) for r in lost), lost
    events = await log.load(sid)
    assert len(events) == 2 and events[0] == events[1]  # both from the one winning batch


async def test_text_is_stored_as_given(log: EventLog) -> None:
    from server.engine.events import CardAdded

    sid = await new_session(log)
    text = "Barnets stemme – æøå ÆØÅ « » \u2028 emoji 🙂 and <b>markup</b>"
    card = CardAdded(at=1.0, card_id="c-1", step_id="s", author_id="p", text=text)
    await log.append(sid, 1, [card])
    (loaded,) = await log.load(sid)
    assert loaded == card


async def test_the_session_row_follows_start_and_end_in_the_same_transaction(
    log: EventLog,
) -> None:
    sid = await new_session(log)
    repo = Repo(log.engine)
    row = await repo.session(sid)
    assert row is not None and row.status == "planned"
    await log.append(sid, 1, [SessionStarted(at=1.0), paused(2)])
    row = await repo.session(sid)
    assert row is not None and row.status == "running" and row.ended_at is None
    await log.append(sid, 3, [paused(3), SessionEnded(at=1_800_000_000.0)])
    row = await repo.session(sid)
    assert row is not None and row.status == "ended"
    assert row.ended_at is not None and row.ended_at.year == 2027
    # A refused append (the seq is taken) changes nothing, the row included.
    with pytest.raises(IntegrityError):
        await log.append(sid, 4, [SessionStarted(at=2.0)])
    row = await repo.session(sid)
    assert row is not None and row.status == "ended"

"""The session actor (server/live.py): acks after the commit; participants'
batches that come fast are published together, a facilitator's at once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text as sql
from sqlalchemy.exc import OperationalError

from server import live as live_module
from server.engine import CommandRejected, replay
from server.engine import commands as c
from server.engine.events import CardAdded, StepEntered
from server.live import LiveSession, Unavailable
from server.realtime.backends import MemoryBackend, MemoryBus
from tests.realtime.workers import (
    CARD_STEP,
    FAC,
    Worker,
    card,
    new_session,
    open_card_step,
    workers,
)
from tests.store.databases import fresh_database


@contextlib.asynccontextmanager
async def card_step(tmp_path: Path, phones: int) -> AsyncIterator[tuple[Worker, LiveSession]]:
    """One worker's live session at a step that takes cards, its step change
    published (that is done right after the step change is answered)."""
    async with (
        fresh_database("sqlite", tmp_path) as url,
        workers(url, [MemoryBackend(MemoryBus())]) as (w,),
    ):
        live = await w.session(await new_session(w.log))
        await open_card_step(live, phones=phones)
        await asyncio.sleep(0.05)
        yield w, live


def cards_in(batches: list) -> list[str]:  # type: ignore[type-arg]
    return [e.card_id for b in batches for e in b.events if isinstance(e, CardAdded)]


async def test_fast_cards_are_published_together_and_none_is_left_out(tmp_path: Path) -> None:
    async with card_step(tmp_path, phones=5) as (w, live):
        before = len(w.published)
        sent = [card(i % 5, i) for i in range(40)]
        for command in sent:  # one commit each: every one is answered after its own
            assert isinstance(await live.submit(command), list)
        await asyncio.sleep(live_module.PUBLISH_EVERY * 3)
        published = w.published[before:]
        assert sorted(cards_in(published)) == sorted(cmd.card_id for cmd in sent)
        assert len(published) < len(sent)  # coalesced: not one publish per commit
        assert published[-1].seq == live.seq


async def test_a_facilitators_command_takes_the_waiting_cards_along_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_module, "PUBLISH_EVERY", 30.0)
    async with card_step(tmp_path, phones=2) as (w, live):
        before = len(w.published)
        for command in (card(0, 1), card(1, 2)):
            assert isinstance(await live.submit(command), list)  # answered, not yet shown
        await asyncio.sleep(0.1)
        assert len(w.published) == before
        out = await live.submit(c.NextStep(actor=FAC, from_step=CARD_STEP))
        assert isinstance(out, list)
        await asyncio.sleep(0.05)
        assert len(w.published) == before + 1
        last = w.published[-1]
        assert cards_in([last]) == ["c0-1", "c1-2"]
        assert any(isinstance(e, StepEntered) for e in last.events)
        assert last.seq == live.seq


async def test_a_waiting_card_is_published_when_its_time_is_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_module, "PUBLISH_EVERY", 0.3)
    async with card_step(tmp_path, phones=2) as (w, live):
        before = len(w.published)
        await live.submit(card(0, 1))
        assert len(w.published) == before  # within 0.3 s of the step change: it waits
        for _ in range(100):
            if len(w.published) > before:
                break
            await asyncio.sleep(0.02)
        assert cards_in(w.published[before:]) == ["c0-1"]


async def test_what_is_waiting_is_published_when_the_session_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_module, "PUBLISH_EVERY", 30.0)
    async with card_step(tmp_path, phones=2) as (w, live):
        await live.submit(card(0, 1))
        await live.submit(card(1, 2))
        await live.stop()
        assert "c1-2" in cards_in(w.published)


# -- one command's unstorable events cannot fail the others' (issue 14) ---------------------------


LONE = "x\ud800y"  # a lone surrogate: valid in a Python str, not encodable as UTF-8


def bypass_the_edge(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let text the engine would refuse reach the log, to prove the actor's own guard."""
    from server.engine import text

    monkeypatch.setattr(text, "storable", lambda value: True, raising=False)


class Appends:
    """Counts the appends a worker's log is asked to make, and what each held."""

    def __init__(self, w: Worker) -> None:
        self.calls: list[list[str]] = []
        real = w.log.append

        async def append(session_id: str, first_seq: int, events):  # type: ignore[no-untyped-def]
            self.calls.append([e.card_id for e in events if isinstance(e, CardAdded)])
            return await real(session_id, first_seq, events)

        w.log.append = append  # type: ignore[method-assign]


async def submit_together(live: LiveSession, commands: list[c.AddCard]) -> list[object]:
    """Every command queued before the actor wakes: one batch."""
    return await asyncio.gather(*(live.submit(cmd) for cmd in commands), return_exceptions=True)


async def test_a_command_whose_event_cannot_be_encoded_is_left_out_and_the_rest_is_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bypass_the_edge(monkeypatch)
    async with card_step(tmp_path, phones=5) as (w, live):
        appends = Appends(w)
        good = [card(i % 4, i) for i in range(12)]
        bad = [c.AddCard(actor=card(4, 0).actor, card_id=f"bad-{n}", text=LONE) for n in range(3)]
        sent = [*good[:4], bad[0], *good[4:8], bad[1], *good[8:], bad[2]]
        results = dict(
            zip([cmd.card_id for cmd in sent], await submit_together(live, sent), strict=True)
        )
        assert any({"bad-0", "c0-0"} <= set(call) for call in appends.calls)  # one batch
        for cmd in good:  # acked (committed) as usual
            assert isinstance(results[cmd.card_id], list) and results[cmd.card_id], cmd
        for cmd in bad:  # a clear refusal, not "busy, try again"
            out = results[cmd.card_id]
            assert isinstance(out, CommandRejected) and out.code == "unstorable", out
        assert len(appends.calls) == 2  # all the bad ones left out at once, one retry
        events = await w.log.load(live.session_id)
        stored = [e.card_id for e in events if isinstance(e, CardAdded)]
        assert stored == [cmd.card_id for cmd in good]
        assert live.seq == len(events) and live.state == replay(events)
        # ...and the session goes on as before
        assert isinstance(await live.submit(card(0, 99)), list)


async def test_a_value_the_database_refuses_fails_only_its_own_command(tmp_path: Path) -> None:
    async with card_step(tmp_path, phones=5) as (w, live):
        # The database refuses a value without saying which row: the actor finds it.
        async with w.log.engine.begin() as conn:
            await conn.execute(
                sql(
                    "CREATE TRIGGER refuse BEFORE INSERT ON event "
                    "WHEN instr(NEW.data, CAST('NEIN' AS BLOB)) > 0 "
                    "BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
        appends = Appends(w)
        good = [card(i % 4, i) for i in range(40)]
        bad = c.AddCard(actor=card(4, 0).actor, card_id="bad", text="NEIN")
        sent = [*good[:29], bad, *good[29:]]
        results = dict(
            zip([cmd.card_id for cmd in sent], await submit_together(live, sent), strict=True)
        )
        assert any(len(call) == len(sent) for call in appends.calls)  # one batch at first
        for cmd in good:
            assert isinstance(results[cmd.card_id], list) and results[cmd.card_id], cmd
        out = results["bad"]
        assert isinstance(out, CommandRejected) and out.code == "unstorable", out
        assert len(appends.calls) <= 2 * 6 + 2  # halving, not one transaction per card
        events = await w.log.load(live.session_id)
        stored = [e.card_id for e in events if isinstance(e, CardAdded)]
        assert stored == [cmd.card_id for cmd in good]
        assert live.seq == len(events) and live.state == replay(events)


async def test_an_unavailable_database_still_fails_the_whole_batch_once(tmp_path: Path) -> None:
    async with card_step(tmp_path, phones=3) as (w, live):
        seq, state = live.seq, live.state
        calls = 0

        async def down(*args, **kwargs):  # type: ignore[no-untyped-def]
            nonlocal calls
            calls += 1
            raise OperationalError("INSERT", {}, Exception("database is locked"))

        w.log.append = down  # type: ignore[method-assign]
        results = await submit_together(live, [card(i % 3, i) for i in range(9)])
        assert all(isinstance(r, Unavailable) for r in results), results
        assert calls == 1  # no retries without this or that command
        assert (live.seq, live.state) == (seq, state)

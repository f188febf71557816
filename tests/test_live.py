"""The session actor (server/live.py): acks after the commit; participants'
batches that come fast are published together, a facilitator's at once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from server import live as live_module
from server.engine import commands as c
from server.engine.events import CardAdded, StepEntered
from server.live import LiveSession
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

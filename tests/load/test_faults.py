"""Faults against the real server process (`tovholder serve`), bounded in time.

- kill -9, at least 20 times, while 200 phones keep adding items; each phone
  resends what was not acknowledged (same client-made id) after it reconnects;
  in the end every acknowledged item is in the log exactly once.
- A reconnect storm of 500 phones after a restart: each is back, with the
  current step and its own items on screen, within 2 s of reconnecting.

The slow-phone, flood, heartbeat and shutdown cases run in-process over real
sockets in tests/realtime/.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from pathlib import Path

import pytest

from bench.phones import Phone, address, join
from bench.tovholder import CARD_STEP, Server, Setup, facilitator, prepare
from server.engine.events import CardAdded
from server.store.db import make_engine
from server.store.eventlog import EventLog

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

KILLS = 20
BURST_PHONES = 200
ITEMS_PER_PHONE = 12
STORM_PHONES = 500


async def start(tmp_path: Path) -> tuple[Setup, Server]:
    setup = await asyncio.to_thread(prepare, tmp_path / "data")
    server = Server(setup, log=tmp_path / "server.log")
    server.start()
    await server.ready()
    fac = await facilitator(setup)
    await fac.send(type="start_session")
    await fac.send(type="go_to_step", step_id=CARD_STEP)
    await asyncio.sleep(0.5)
    await fac.close()
    return setup, server


async def phones(setup: Setup, n: int, backoff: float) -> list[Phone]:
    gate = asyncio.Semaphore(50)

    async def one(i: int) -> Phone:
        async with gate:
            cookie = await join("127.0.0.1", setup.port, setup.join_code, f"P{i}", address(i + 1))
        phone = Phone(i, setup.ws("participant"), cookie, backoff=backoff)
        phone.start()
        return phone

    made = await asyncio.gather(*(one(i) for i in range(n)))
    deadline = time.time() + 30
    while not all(p.is_open for p in made) and time.time() < deadline:
        await asyncio.sleep(0.05)
    assert all(p.is_open for p in made)
    return list(made)


async def stored_cards(setup: Setup) -> list[CardAdded]:
    engine = make_engine(f"sqlite+aiosqlite:///{setup.data_dir / 'tovholder.db'}")
    try:
        events = await EventLog(engine).load(setup.session_id)
    finally:
        await engine.dispose()
    return [e for e in events if isinstance(e, CardAdded)]


def item(i: int, n: int) -> tuple[str, dict[str, str]]:
    item_id = f"k{i}-{n}"
    return item_id, {"type": "add_card", "card_id": item_id, "text": f"Kort {n} fra {i}"}


async def test_kill_9_again_and_again_during_a_write_burst_loses_and_doubles_nothing(
    tmp_path: Path,
) -> None:
    setup, server = await start(tmp_path)
    fleet: list[Phone] = []
    try:
        fleet = await phones(setup, BURST_PHONES, backoff=0.05)
        killing = asyncio.Event()
        killing.set()

        async def write(phone: Phone) -> None:
            for n in range(ITEMS_PER_PHONE):
                # paced so the burst lasts through the kills, then the rest at once
                if killing.is_set():
                    await asyncio.sleep(random.uniform(0.3, 3.0))
                item_id, message = item(phone.index, n)
                await phone.submit(item_id, message)

        writers = [asyncio.create_task(write(p)) for p in fleet]
        kills = 0
        in_flight_at_kill = 0
        standby = server.spawn(standby=True)
        for _ in range(KILLS):
            await asyncio.sleep(random.uniform(0.3, 1.0))
            in_flight_at_kill += sum(len(p.pending) for p in fleet)
            server.kill9()
            kills += 1
            await asyncio.sleep(random.uniform(0.0, 0.3))
            server.activate(standby)  # a fresh process, its imports done while the last one ran
            await server.ready()
            standby = server.spawn(standby=True)
        standby.kill()
        standby.wait()
        killing.clear()
        done, stuck = await asyncio.wait(writers, timeout=150)
        if stuck:
            waiting = [p for p in fleet if p.pending]
            report = [
                (p.index, p.is_open, p.connects, p.last_close, [i.id for i in p.pending][:2])
                for p in waiting[:10]
            ]
            raise AssertionError(f"{len(stuck)} phones never got every item acknowledged: {report}")
        for task in done:
            task.result()

        acked = {item_id for p in fleet for item_id in p.acked}
        assert len(acked) == BURST_PHONES * ITEMS_PER_PHONE  # every item, in the end
        server.stop()
        ids = [card.card_id for card in await stored_cards(setup)]
        assert len(ids) == len(set(ids)), "an item is in the log twice"
        assert set(ids) == acked, "an acknowledged item is missing from the log"
        # and the faults were real: 20 kills, in the middle of writes, and the
        # phones lost their connections again and again (one that is between
        # tries may miss a restart that comes before its next try)
        assert kills >= KILLS
        assert in_flight_at_kill > 0
        # (how often each reconnects depends on the machine's speed: a busy one
        # spends longer in backoff, so the bound is one any machine reaches)
        assert sum(p.connects for p in fleet) >= BURST_PHONES * 2
        assert sum(p.connects >= 2 for p in fleet) >= BURST_PHONES * 9 // 10
    finally:
        for phone in fleet:
            await phone.stop()
        server.stop()


async def test_a_reconnect_storm_after_a_restart_is_back_and_right_within_2_s(
    tmp_path: Path,
) -> None:
    setup, server = await start(tmp_path)
    fleet: list[Phone] = []
    try:
        fleet = await phones(setup, STORM_PHONES, backoff=0.25)
        await asyncio.gather(*(p.submit(*item(p.index, 0)) for p in fleet))
        server.kill9()
        since = time.time()
        # what each phone must show again: the current step and its own card, as stored
        stored = {card.author_id: card.text for card in await stored_cards(setup)}
        assert len(stored) == STORM_PHONES
        title = setup.title(CARD_STEP)
        for p in fleet:
            p.arm_watch((title, f"Kort 0 fra {p.index}"), since)
        server.start()
        await server.ready()
        deadline = time.time() + 60
        while any(p.current_at is None for p in fleet) and time.time() < deadline:
            await asyncio.sleep(0.05)
        late = [p.index for p in fleet if p.current_at is None]
        assert not late, f"{len(late)} phones never showed the current state"
        slowest = max((p.current_at or 0) - p.opened_at for p in fleet)
        assert slowest <= 2.0, f"a phone took {slowest:.2f} s after reconnecting"
        assert sorted(stored.values()) == sorted(f"Kort 0 fra {p.index}" for p in fleet)
    finally:
        for phone in fleet:
            with contextlib.suppress(Exception):
                await phone.stop()
        server.stop()

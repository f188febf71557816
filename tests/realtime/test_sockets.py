"""The realtime edge over real sockets, as `tovholder serve` runs it: dead
phones are noticed by the heartbeat, a shutdown tells every screen to
reconnect (1012), a flooding phone is closed (1008) while the session goes
on, and two servers on one database keep their screens in step."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from server.engine import commands as c
from server.realtime.backends import Backend, MemoryBackend, MemoryBus, RedisBackend
from tests.realtime.serving import Running, port_of, raw_phone, running, seed, serve, services_of
from tests.realtime.workers import FAC
from tests.store.databases import redis_url


async def until(predicate, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


async def receive_until(ws: ClientConnection, needle: str, timeout: float = 5.0) -> str:
    async with asyncio.timeout(timeout):
        while True:
            message = str(await ws.recv())
            if needle in message:
                return message


async def close_code(ws: ClientConnection, timeout: float = 5.0) -> int | None:
    with contextlib.suppress(ConnectionClosed):
        async with asyncio.timeout(timeout):
            while True:
                await ws.recv()
    return ws.close_code


async def test_a_phone_that_stops_answering_pings_is_noticed(tmp_path: Path) -> None:
    async with running(tmp_path, phones=2, ws_ping_interval=0.2, ws_ping_timeout=0.3) as run:
        alive = await run.phone("p1")  # answers pings, as browsers do
        dead = await raw_phone(run, "p0")  # never answers
        await until(lambda: run.count("participant") == 2)
        await until(lambda: run.count("participant") == 1, timeout=3)
        assert run.services.hub.connected_participants(run.session_id) == {"p1"}
        await asyncio.sleep(1.0)  # several ping rounds later the live phone is still here
        assert run.count("participant") == 1
        await run.command(c.NextStep(actor=FAC))
        await receive_until(alive, "m-stage")
        dead.close()
        await alive.close()


async def test_shutdown_tells_every_screen_to_reconnect_with_1012(tmp_path: Path) -> None:
    async with running(tmp_path, phones=20) as run:
        screens = [await run.phone(f"p{i}") for i in range(20)]
        screens.append(await run.projector())
        await until(lambda: run.count() == 21)
        run.server.should_exit = True
        codes = await asyncio.gather(*(close_code(ws) for ws in screens))
        assert set(codes) == {1012}


async def test_a_flooding_phone_is_closed_1008_and_the_session_goes_on(tmp_path: Path) -> None:
    async with running(tmp_path, phones=2) as run:
        flood, other = await run.phone("p0"), await run.phone("p1")
        wall = await run.projector()
        started = asyncio.get_running_loop().time()
        for i in range(200):
            with contextlib.suppress(ConnectionClosed):
                await flood.send(json.dumps({"type": "add_card", "card_id": f"f{i}", "text": "x"}))
        assert await close_code(flood) == 1008
        elapsed = asyncio.get_running_loop().time() - started
        live = await run.services.live.get(run.session_id)
        assert live is not None
        flooded = len(live.state.cards)
        # the burst allowance (40) and the sustained rate (10/s) while it lasted, then the door
        assert 0 < flooded <= 40 + 10 * elapsed + 1
        await other.send(json.dumps({"type": "add_card", "card_id": "ok-1", "text": "Stadig her"}))
        await receive_until(other, "flash-ok")
        await receive_until(wall, "Stadig her")
        assert "ok-1" in live.state.cards
        await other.close()
        await wall.close()


async def test_an_unacknowledged_resend_is_stored_once_and_acknowledged(tmp_path: Path) -> None:
    async with running(tmp_path, phones=1) as run:
        phone = await run.phone("p0")
        message = json.dumps({"type": "add_card", "card_id": "same-1", "text": "Én gang"})
        await phone.send(message)
        await receive_until(phone, "flash-ok")
        await phone.close()
        again = await run.phone("p0")  # the ack was lost, say: the phone sends it again
        await again.send(message)
        await receive_until(again, "flash-ok")
        events = await run.services.eventlog.load(run.session_id)
        assert [getattr(e, "card_id", None) for e in events].count("same-1") == 1
        await again.close()


# -- two servers, one database -------------------------------------------------------


def bus_backends() -> list[Backend]:
    bus = MemoryBus()
    return [MemoryBackend(bus), MemoryBackend(bus)]


def redis_backends() -> list[Backend]:
    url, channel = redis_url(), f"tv_test_{secrets.token_hex(4)}"
    return [RedisBackend(url, channel), RedisBackend(url, channel)]


@pytest.mark.parametrize(
    "backends", [bus_backends, pytest.param(redis_backends, marks=pytest.mark.redis)]
)
async def test_two_servers_keep_their_screens_in_step(tmp_path: Path, backends) -> None:  # type: ignore[no-untyped-def]
    first, second = backends()
    async with (
        serve(tmp_path, backend=first) as a,
        serve(tmp_path, backend=second) as b,
    ):
        sa, sb = services_of(a), services_of(b)
        sid = await seed(sa, phones=2)
        run_a = Running(a, port_of(a), sa, sid)
        run_b = Running(b, port_of(b), sb, sid)
        on_a, on_b = await run_a.phone("p0"), await run_b.phone("p1")
        wall_b = await run_b.projector()
        # a card through server a shows on server b's projector, and vice versa
        await on_a.send(json.dumps({"type": "add_card", "card_id": "a-1", "text": "Fra A"}))
        await receive_until(on_a, "flash-ok")
        await receive_until(wall_b, "Fra A", timeout=3)
        await on_b.send(json.dumps({"type": "add_card", "card_id": "b-1", "text": "Fra B"}))
        await receive_until(on_b, "flash-ok")
        la, lb = await sa.live.get(sid), await sb.live.get(sid)
        assert la is not None and lb is not None
        await until(lambda: la.seq == lb.seq)
        assert la.state == lb.state
        # a step change from server b reaches the phone on server a
        await lb.submit(c.NextStep(actor=FAC))
        title = lb.state.step.title  # type: ignore[union-attr]
        await receive_until(on_a, title, timeout=3)
        for ws in (on_a, on_b, wall_b):
            await ws.close()


async def test_a_phone_that_joined_on_another_server_is_let_in(tmp_path: Path) -> None:
    from server.engine import Actor, ActorRole

    # No broker messages at all: the second server reads the log when it meets
    # a participant it has not heard of.
    first, second = MemoryBackend(MemoryBus()), MemoryBackend(MemoryBus())
    async with serve(tmp_path, backend=first) as a, serve(tmp_path, backend=second) as b:
        sa, sb = services_of(a), services_of(b)
        sid = await seed(sa, phones=0)
        assert await sb.live.get(sid) is not None  # b holds the session already
        live_a = await sa.live.get(sid)
        assert live_a is not None
        await live_a.submit(c.Join(actor=Actor(ActorRole.PARTICIPANT, "late"), name="Sent"))
        run_b = Running(b, port_of(b), sb, sid)
        phone = await run_b.phone("late")
        assert "m-stage" in await receive_until(phone, "m-stage")
        await phone.close()

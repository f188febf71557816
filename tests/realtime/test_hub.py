"""The hub: messages encoded once per audience, bounded per client, and a
screen that stops reading is dropped without delaying anyone else."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection
from websockets.frames import Frame, Opcode

from server.realtime.hub import (
    TRY_AGAIN_LATER,
    DirectClient,
    Hub,
    Outgoing,
    QueuedClient,
    text_frame,
)
from tests.realtime.serving import raw_phone, running


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 200_000])
def test_text_frame_matches_the_websockets_library(size: int) -> None:
    payload = ("æ" * size).encode()[:size]
    ours = text_frame(payload)
    theirs = Frame(Opcode.TEXT, payload).serialize(mask=False, extensions=[])
    assert ours == theirs


def test_outgoing_encodes_its_frame_once() -> None:
    out = Outgoing("<div id='x'>æøå</div>")
    assert out.frame is out.frame
    assert out.frame.endswith("æøå</div>".encode())


class Recorder(QueuedClient):
    pass


def test_broadcast_hands_every_client_the_same_message_object() -> None:
    hub = Hub()
    phones = [Recorder("s", "participant", f"p{i}") for i in range(5)]
    wall = Recorder("s", "projector")
    for client in [*phones, wall]:
        hub.join(client)
    assert hub.broadcast("s", {"participant": "<p>a</p>", "projector": "<p>b</p>"}) == 6
    sent = [client.queue.get_nowait() for client in phones]
    assert all(message is sent[0] for message in sent)
    assert sent[0] is not None and sent[0].text == "<p>a</p>"
    other = wall.queue.get_nowait()
    assert other is not None and other.text == "<p>b</p>"
    assert hub.count("s") == 6 and hub.count("s", "participant") == 5
    assert hub.connected_participants("s") == {f"p{i}" for i in range(5)}


def test_presence_counts_a_participant_with_two_tabs_once_until_both_leave() -> None:
    hub = Hub()
    seen: list[str] = []
    hub.on_presence = seen.append
    a, b = QueuedClient("s", "participant", "p1"), QueuedClient("s", "participant", "p1")
    hub.join(a)
    hub.join(b)
    hub.leave(a)
    assert hub.connected_participants("s") == {"p1"}
    hub.leave(b)
    hub.leave(b)  # twice is harmless
    assert hub.connected_participants("s") == set() and "s" not in hub.rooms
    assert seen == ["s"] * 4


async def test_a_full_queue_closes_the_client_with_1013_and_drops_further_messages() -> None:
    client = QueuedClient("s", "participant", "p1", queue_size=4)
    for i in range(4):
        assert client.offer(f"m{i}")
    assert not client.offer("one too many")
    assert client.overflowed and client.close_code == TRY_AGAIN_LATER
    assert not client.offer("later")
    sent: list[str] = []
    closed: list[int] = []

    async def send(text: str) -> None:
        sent.append(text)

    async def close(code: int) -> None:
        closed.append(code)

    await asyncio.wait_for(client.run(send, close), 1)
    assert closed == [TRY_AGAIN_LATER]
    assert len(sent) < 4  # the close went ahead of what it could not take


# -- over real sockets ---------------------------------------------------------------


async def drain_snapshot(ws: ClientConnection) -> str:
    return str(await asyncio.wait_for(ws.recv(), 5))


async def settle(*sockets: ClientConnection, quiet: float = 0.4) -> None:
    """Read until nothing arrives for `quiet` seconds (presence updates, the timer)."""

    async def one(ws: ClientConnection) -> None:
        with contextlib.suppress(TimeoutError):
            while True:
                await asyncio.wait_for(ws.recv(), quiet)

    await asyncio.gather(*(one(ws) for ws in sockets))


async def until(predicate, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


async def test_under_uvicorn_frames_go_straight_to_the_socket(tmp_path: Path) -> None:
    async with running(tmp_path, phones=2) as run:
        phone = await run.phone("p0")
        wall = await run.projector()
        await settle(phone, wall)
        clients = run.services.hub.clients(run.session_id)
        assert {type(c) for c in clients} == {DirectClient}
        # offered permessage-deflate, as browsers do; the server keeps it off
        assert phone.protocol.extensions == []
        run.services.hub.broadcast(run.session_id, {"participant": "<p id='x'>å</p>"})
        assert await asyncio.wait_for(phone.recv(), 5) == "<p id='x'>å</p>"
        await phone.close()
        await wall.close()
        await until(lambda: run.count() == 0)


async def test_a_phone_that_stops_reading_is_dropped_and_delays_no_one(tmp_path: Path) -> None:
    async with running(tmp_path, phones=3) as run:
        stuck = await raw_phone(run, "p0")
        readers = [await run.phone("p1"), await run.phone("p2")]
        for ws in readers:
            await drain_snapshot(ws)
        await until(lambda: run.count("participant") == 3)
        stuck_client = next(
            c for c in run.services.hub.clients(run.session_id) if c.participant_id == "p0"
        )
        filler = "x" * 60_000
        slowest = 0.0
        for i in range(150):  # 9 MB each: far beyond what the stuck phone's buffers hold
            started = time.perf_counter()
            run.services.hub.broadcast(
                run.session_id, {"participant": f"<p id='n'>{i}</p>{filler}"}
            )
            slowest = max(slowest, time.perf_counter() - started)
            for ws in readers:  # the others get every message, in order, at once
                message = await asyncio.wait_for(ws.recv(), 2)
                assert message.startswith(f"<p id='n'>{i}</p>")
        assert slowest < 0.05
        assert stuck_client.overflowed
        await until(lambda: run.count("participant") == 2)  # dropped within the grace period
        stuck.close()
        # the session goes on, and the dropped phone can come back
        again = await run.phone("p0")
        assert "m-stage" in await drain_snapshot(again)
        for ws in [*readers, again]:
            await ws.close()


async def test_a_broadcast_to_many_phones_is_one_write_each(tmp_path: Path) -> None:
    async with running(tmp_path, phones=50) as run:
        phones = [await run.phone(f"p{i}") for i in range(50)]
        await settle(*phones)
        out = Outgoing(json.dumps({"n": 1}))
        assert run.services.hub.broadcast(run.session_id, {"participant": out}) == 50
        assert out._frame is not None  # encoded once, for all of them
        got = await asyncio.gather(*(asyncio.wait_for(ws.recv(), 5) for ws in phones))
        assert set(got) == {out.text}
        for ws in phones:
            await ws.close()

"""The projector's count of ballots has its own cadence: it is sent after every
batch, while the big screens' coalesced render waits its turn, and it never
shows an older count than one already shown."""

from __future__ import annotations

import asyncio
import re
from types import SimpleNamespace
from typing import Any

from server.engine import Actor, ActorRole
from server.engine.steps import poll as pl
from server.live import Batch
from server.realtime.hub import Hub, QueuedClient
from server.web.broadcast import Broadcaster
from server.web.voters import voter_for
from tests.engine.steps_helpers import Run
from tests.engine.test_steps_random import PEOPLE, prepared
from tests.web.test_broadcast import KEY, ROOM

COUNT = re.compile(r'<span class="p-count-n">(\d+)</span>')


class Recorder(QueuedClient):
    def texts(self) -> list[str]:
        out = []
        while not self.queue.empty():
            message = self.queue.get_nowait()
            if message is not None:
                out.append(message.text)
        return out


def counts(texts: list[str]) -> list[int]:
    return [int(n) for text in texts for n in COUNT.findall(text)]


def ballot(run: Run, pid: str) -> Any:
    return pl.CastBallot(
        actor=Actor(ActorRole.PARTICIPANT, pid),
        poll_id="prikker",
        ballot_id=f"b-{pid}",
        voter=voter_for(run.state, KEY, "prikker", pid),
        payload={"fa1": 3, "fa2": 2},
    )


def world() -> tuple[Run, SimpleNamespace, Broadcaster, Recorder, Recorder]:
    run = Run()
    prepared(run, "prikker")  # a dot vote, open, its count on the projector
    live = SimpleNamespace(session_id="s1", state=run.state)
    hub = Hub()
    wall = Recorder("s1", "projector", queue_size=1000)
    laptop = Recorder("s1", "facilitator", queue_size=1000)
    for client in (wall, laptop, *(Recorder("s1", "participant", p) for p in PEOPLE)):
        hub.join(client)
    b = Broadcaster(
        hub,
        room_of=lambda sid: ROOM,
        state_of=lambda sid: live.state,
        clock=lambda: 1000.0,
        min_interval=60.0,  # the big screens: at most once a minute here
    )
    b.refresh("s1", run.state)  # every screen shown everything once
    wall.texts(), laptop.texts()
    return run, live, b, wall, laptop


async def vote(run: Run, live: SimpleNamespace, b: Broadcaster, pid: str) -> None:
    cmd = ballot(run, pid)
    out = run.ok(cmd)
    live.state = run.state
    await b.publish(live, Batch([(cmd, out)], 0))  # type: ignore[arg-type]


async def test_the_count_arrives_while_the_big_renders_wait() -> None:
    run, live, b, wall, laptop = world()
    try:
        await vote(run, live, b, "a")
        assert counts(wall.texts()) == [1]  # at once, before any big render
        await asyncio.sleep(0.05)  # the big screens' render runs once ...
        assert b.renders == 1
        wall.texts(), laptop.texts()
        await vote(run, live, b, "b")  # ... and the next may come in a minute
        await vote(run, live, b, "c")
        assert b._dirty.get("s1") == {"projector", "facilitator"}  # still waiting
        sent = wall.texts()
        assert counts(sent) == [2, 3]
        assert all('id="p-stage"' not in text for text in sent)  # only the count
        assert laptop.texts() == []  # the facilitator's screen waits its turn
        b.flush("s1")  # the big render: the count is not sent again
        assert counts(wall.texts()) == []
        assert laptop.texts()
    finally:
        await b.close()


async def test_a_late_big_render_never_sends_an_older_count() -> None:
    run, live, b, wall, _ = world()
    try:
        older = run.state
        await vote(run, live, b, "a")
        await vote(run, live, b, "b")
        assert counts(wall.texts()) == [1, 2]
        # A big render that began with the state before both ballots ends now.
        await b._render_later("s1", older, ROOM, {"projector"})
        assert counts(wall.texts()) == []  # not 0: the newest count stands
        assert counts([b.caches["s1"].shown["projector"]["p-poll-count"]]) == [2]
    finally:
        await b.close()

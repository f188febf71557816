"""`python -m bench.render_cost`: what the live path costs in CPU per item, in
one process, without sockets: the engine deciding, the broadcaster rendering
for 1,000 phones, a projector and a facilitator (their frames encoded), in a
card burst, a ballot burst and step changes. Batches of 5 items come every
10 ms (500 items/s), as in the 2-second bursts of `python -m bench`.

CPU time (time.process_time) hardly depends on what else the machine runs, so
two versions of the code can be compared on a busy machine: run it from each
tree. The figures are JSON on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.tovholder import CARD_STEP, DOT_POLL, FOCUS_AREAS, SCRIPT
from server.catalog import Catalog
from server.engine import Actor, ActorRole, Command, apply_all, decide, replay
from server.engine import commands as c
from server.engine.events import SessionCreated
from server.engine.steps import poll as pl
from server.live import Batch
from server.realtime.hub import Client, Hub, Outgoing, outgoing
from server.web.broadcast import Broadcaster
from server.web.render import Room
from server.web.voters import voter_for, voter_key

ROOT = Path(__file__).resolve().parent.parent
KEY = voter_key("a-key-for-the-benchmark-that-is-long-enough")
FAC = Actor(ActorRole.FACILITATOR, "user:1")
PER_BATCH = 5


class Sink(Client):
    """A screen that takes every frame (encoded, as a socket's would be)."""

    sent_bytes = 0
    sent = 0

    def __init__(self, session_id: str, audience: str, participant_id: str | None = None) -> None:
        super().__init__(session_id, audience, participant_id)
        self.texts: list[str] = []

    def offer(self, message: str | Outgoing) -> bool:
        out = outgoing(message)
        Sink.sent_bytes += len(out.frame)
        Sink.sent += 1
        if self.audience != "participant":
            self.texts.append(out.text)
        return True

    def close(self, code: int = 1012) -> None:
        return None


class Live:
    def __init__(self, state: Any) -> None:
        self.session_id = "s1"
        self.state = state
        self.now = 1000.0

    def do(self, commands: list[Command]) -> Batch:
        """Decide and apply a batch, as the session's actor does (one clock)."""
        self.now += 0.01
        state = self.state
        results: list[tuple[Command, Any]] = []
        for command in commands:
            out = decide(state, command, self.now)
            if isinstance(out, list):
                state = apply_all(state, out)
            results.append((command, out))
        self.state = state
        return Batch(results, 0)


async def run(phones: int) -> dict[str, Any]:
    script = Catalog.load(ROOT / "facilitation_scripts").get(SCRIPT)
    assert script is not None
    created = SessionCreated(
        at=0.0, session_id="s1", script=script.model_dump(mode="json"), focus_areas=FOCUS_AREAS
    )
    live = Live(replay([created]))
    live.do([c.StartSession(actor=FAC)])
    people = [Actor(ActorRole.PARTICIPANT, f"p{i}") for i in range(phones)]
    for who in people:
        live.do([c.Join(actor=who, name=f"Deltager {who.id}")])
    hub = Hub()
    room = Room("s1", "Bench", "ABCD2345", "http://x/j/ABCD2345", "da", voter_key=KEY)
    b = Broadcaster(hub, room_of=lambda s: room, state_of=lambda s: live.state, clock=time.time)
    screens = [Sink("s1", "participant", who.id) for who in people]
    wall, laptop = Sink("s1", "projector"), Sink("s1", "facilitator")
    for screen in [*screens, wall, laptop]:
        hub.join(screen)
        b.snapshot(screen, live.state)
    out: dict[str, Any] = {"phones": phones}

    async def phase(name: str, batches: list[Callable[[Any], list[Command]]]) -> None:
        b.refresh("s1", live.state)
        await asyncio.sleep(0.3)
        gc.collect()
        Sink.sent_bytes = Sink.sent = 0
        renders = b.renders
        items = 0
        cpu = time.process_time()
        for make in batches:
            batch = live.do(make(live.state))
            items += len(batch.results)
            await b.publish(live, batch)  # type: ignore[arg-type]
            await asyncio.sleep(0.01)
        await asyncio.sleep(1.0)  # the coalesced renders it caused
        used = time.process_time() - cpu
        out[name] = {
            "items": items,
            "cpu_ms_per_item": round(used * 1000 / items, 3),
            "frames": Sink.sent,
            "megabytes_sent": round(Sink.sent_bytes / 1e6, 2),
            "big_screen_renders": b.renders - renders,
        }
        print(f"[render_cost] {name}: {json.dumps(out[name])}", file=sys.stderr, flush=True)

    steps = [s.id for s in script.steps]

    def go(k: int) -> Callable[[Any], list[Command]]:
        return lambda s: [c.GoToStep(actor=FAC, step_id=steps[k % 3 + 1])]

    await phase("step_change", [go(k) for k in range(10)])
    live.do([c.GoToStep(actor=FAC, step_id=CARD_STEP)])

    def cards(k: int) -> Callable[[Any], list[Command]]:
        return lambda s: [
            c.AddCard(actor=who, card_id=f"k{who.id}", text=f"Forslag {who.id}")
            for who in people[k : k + PER_BATCH]
        ]

    await phase("cards", [cards(k) for k in range(0, phones, PER_BATCH)])
    live.do([c.GoToStep(actor=FAC, step_id=DOT_POLL)])
    live.do([pl.OpenPoll(actor=FAC, poll_id=DOT_POLL)])

    def ballots(k: int) -> Callable[[Any], list[Command]]:
        return lambda s: [
            pl.CastBallot(
                actor=who,
                poll_id=DOT_POLL,
                ballot_id=f"v{who.id}",
                voter=voter_for(s, KEY, DOT_POLL, who.id),
                payload={"fa1": 3, "fa2": 2},
            )
            for who in people[k : k + PER_BATCH]
        ]

    await phase("ballots", [ballots(k) for k in range(0, phones, PER_BATCH)])
    shown = [int(n) for t in wall.texts for n in re.findall(r'class="p-count-n">(\d+)<', t)]
    out["ballots"]["count_on_wall"] = shown[-1] if shown else None
    await b.close()
    return out


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.render_cost", description=__doc__)
    p.add_argument("--phones", type=int, default=1000)
    args = p.parse_args()
    print(json.dumps(asyncio.run(run(args.phones)), indent=2))


if __name__ == "__main__":
    main()

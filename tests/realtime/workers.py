"""Several "workers" in one test process: each its own engine, event log and
LiveSessions on one shared database, like uvicorn workers or hosts would be."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from server.catalog import Catalog
from server.engine import Actor, ActorRole
from server.engine import commands as c
from server.engine.events import SessionCreated
from server.live import Batch, LiveSession, LiveSessions
from server.realtime.backends import Backend
from server.settings import ROOT
from server.store.db import make_engine
from server.store.eventlog import EventLog
from server.store.repo import Repo

FAC = Actor(ActorRole.FACILITATOR, "user:1")
CARD_STEP = "skaerpelse"  # implementeringsworkshop: a discussion that takes cards
SCRIPT = "implementeringsworkshop"  # no lobby: phones join with the code alone


def phone(i: int) -> Actor:
    return Actor(ActorRole.PARTICIPANT, f"p{i}")


@dataclass
class Worker:
    name: str
    live: LiveSessions
    log: EventLog
    published: list[Batch] = field(default_factory=list)

    async def session(self, session_id: str) -> LiveSession:
        live = await self.live.get(session_id)
        assert live is not None
        return live


@contextlib.asynccontextmanager
async def workers(url: str, backends: Sequence[Backend]) -> AsyncIterator[list[Worker]]:
    made: list[Worker] = []
    engines = []
    try:
        for i, backend in enumerate(backends):
            engine = make_engine(url)
            engines.append(engine)
            log = EventLog(engine)
            published: list[Batch] = []

            async def publish(
                live: LiveSession, batch: Batch, _into: list[Batch] = published
            ) -> None:
                _into.append(batch)

            made.append(
                Worker(f"w{i}", LiveSessions(log, publish, backend=backend), log, published)
            )
        yield made
    finally:
        for w in made:
            await w.live.close()
        for engine in engines:
            await engine.dispose()


async def new_session(log: EventLog, script_id: str = SCRIPT) -> str:
    repo = Repo(log.engine)
    eng = await repo.add_engagement("Varde", "Varde Kommune", {})
    script = Catalog.load(ROOT / "facilitation_scripts").get(script_id)
    assert script is not None
    row = await repo.add_session(eng.id, script.id, script.title, script.language, None)
    created = SessionCreated(
        at=time.time(), session_id=row.id, script=script.model_dump(mode="json")
    )
    await log.append(row.id, 1, [created])
    return row.id


async def open_card_step(live: LiveSession, phones: int) -> None:
    """Let `phones` participants join, start the session, go to the card step."""
    for i in range(phones):
        out = await live.submit(c.Join(actor=phone(i), name=f"Deltager {i}"))
        assert isinstance(out, list), out
    for cmd in (c.StartSession(actor=FAC), c.GoToStep(actor=FAC, step_id=CARD_STEP)):
        out = await live.submit(cmd)
        assert isinstance(out, list), out


def card(i: int, n: int) -> c.AddCard:
    return c.AddCard(actor=phone(i), card_id=f"c{i}-{n}", text=f"Forslag {n} fra {i}")

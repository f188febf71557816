"""A fresh store with one engagement, and sessions driven through the pure engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from server.catalog import Catalog
from server.engagement.sessions import inputs
from server.engine import Actor, ActorRole, CommandRejected, SessionState, apply_all, decide, replay
from server.engine.events import SessionCreated
from server.engine.registry import Command, Event
from server.settings import ROOT
from server.store.db import create_all, make_engine
from server.store.repo import Repo
from server.store.tables import Engagement, Session

FAC = Actor(ActorRole.FACILITATOR, "user:1")
CATALOG = Catalog.load(ROOT / "facilitation_scripts")


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[Repo]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'engagement.db'}")
    await create_all(engine)
    yield Repo(engine)
    await engine.dispose()


@pytest.fixture
async def eng(repo: Repo) -> Engagement:
    user = await repo.add_user("anne", "correct-horse-battery", "Anne")
    return await repo.add_engagement(
        "Sagsgennemgang 2.0", "Varde Kommune", {user.id or 0: "facilitator"}
    )


class Driven:
    """A session of a shipped script, created from the engagement and driven in memory."""

    def __init__(self, row: Session, created: SessionCreated) -> None:
        self.row = row
        self.log: list[Event] = [created]
        self.state: SessionState = replay(self.log)
        self.now = 1000.0

    def ok(self, cmd: Command) -> list[Event]:
        self.now += 1
        out = decide(self.state, cmd, self.now)
        assert not isinstance(out, CommandRejected), out
        self.log.extend(out)
        self.state = apply_all(self.state, out)
        return out


async def drive(repo: Repo, eng: Engagement, script_id: str) -> Driven:
    script = CATALOG.get(script_id)
    assert script is not None
    row = await repo.add_session(eng.id, script.id, script.title, str(script.language), None)
    given = await inputs(repo, eng.id, script)
    created = SessionCreated(
        at=0.0,
        session_id=row.id,
        script=script.model_dump(mode="json"),
        cases=given.cases,
        focus_areas=given.focus_areas,
    )
    return Driven(row, created)

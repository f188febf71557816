"""The demo engagement: a realistic, invented register and one session of each kind."""

from __future__ import annotations

from pathlib import Path

from server.demo import DEMO_ENGAGEMENT, DEMO_SCRIPT, DEMO_SESSIONS, seed
from server.engagement import consultation, demo_data, store
from server.engine.events import SessionCreated
from server.privacy.cpr import find_cpr
from server.settings import from_env
from server.store.db import create_all, make_engine
from server.store.eventlog import EventLog
from server.store.repo import Repo


async def test_the_demo_is_ready_to_run_the_varde_process(tmp_path: Path) -> None:
    settings = from_env({}, mode="demo", data_dir=tmp_path)
    engine = make_engine(settings.db_url)
    await create_all(engine)
    first = await seed(settings)
    again = await seed(settings)
    assert again == first  # seeding twice reuses everything
    repo = Repo(engine)
    user = await repo.user_by_name("facilitator")
    assert user is not None
    eng = next(e for e in await repo.engagements_of(user) if e.title == DEMO_ENGAGEMENT)

    sessions = await repo.sessions_of(eng.id)
    assert sessions[0].id == first.session_id and sessions[0].script_id == DEMO_SCRIPT
    assert [s.script_id for s in sessions[1:]] == [script for script, _, _ in DEMO_SESSIONS]

    cases = await store.cases_of(repo, eng.id)
    assert [c.label for c in cases] == [f"Sag {n}" for n in range(1, 51)]
    for case in cases:
        assert 10 <= len(case.cover.split("\n")) <= 12, case.label
        assert case.summary and case.learning_question.endswith("?") and case.tags
        assert not find_cpr(case.cover + case.summary + case.learning_question)
    selected = [c for c in cases if c.selected]
    assert len(selected) == 20 and all(c.selection_reason for c in selected)

    areas = await store.focus_areas_of(repo, eng.id)
    assert 8 <= len(areas) <= 12
    log = EventLog(engine)
    by_script = {s.script_id: s for s in sessions}
    meeting = (await log.load(by_script["heldagsmoede"].id))[0]
    assert isinstance(meeting, SessionCreated)
    assert [c["label"] for c in meeting.cases] == [c.label for c in selected]
    workshop = (await log.load(by_script["implementeringsworkshop"].id))[0]
    assert isinstance(workshop, SessionCreated)
    assert [f["title"] for f in workshop.focus_areas] == [a.title for a in areas]
    found = await consultation.consultations_of(repo, eng.id)
    assert len(found) == 1 and found[0].session_id == sessions[3].id
    comments = await consultation.comments_by_area(repo, eng.id)
    assert sum(len(v) for v in comments.values()) == len(demo_data.DEMO_COMMENTS)
    settings_row = await store.settings_of(repo, eng.id)
    assert settings_row.steering_meetings == 3 and settings_row.focus_points
    await engine.dispose()

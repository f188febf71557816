"""Moving through the selected cases of a full-day meeting from the facilitator's screen."""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlmodel import select
from starlette.testclient import TestClient

from server.engagement.cases import import_cases
from server.engagement.selection import set_selected
from server.store.tables import Case
from tests.support import World

CSV = "Sag;Forklæde;Resumé;Læringsspørgsmål\n" + "".join(
    f"Sag {n};Valgt fordi {n};Forløb {n};Hvad lærer vi af sag {n}?\n" for n in (1, 2, 3)
)


def receive_until(ws, needle: str, limit: int = 10) -> str:  # type: ignore[no-untyped-def]
    for _ in range(limit):
        message = ws.receive_text()
        if needle in message:
            return message
    raise AssertionError(needle)


def test_facilitator_moves_the_wall_from_case_to_case(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    repo = world.services.repo

    async def register() -> None:
        assert (await import_cases(repo, world.engagement_id, CSV)).ok
        async with repo.sessions() as db:
            cases = (
                await db.exec(select(Case).where(Case.engagement_id == world.engagement_id))
            ).all()
        for case in cases:
            await set_selected(
                repo, world.engagement_id, case.id, selected=True, reason="læring", target=20
            )

    world.fac.portal.call(register)
    session_id, _ = world.create_session("heldagsmoede")
    live = world.fac.portal.call(world.services.live.get, session_id)
    assert live is not None and len(live.state.cases) == 3
    walk = next(s for s in live.state.script.steps if s.kind == "case_walkthrough")
    key = world.services.projector_key(session_id)
    with (
        world.fac.websocket_connect(f"/ws/{session_id}/facilitator") as fac,
        new_browser().websocket_connect(f"/ws/{session_id}/projector?key={key}") as wall,
    ):
        fac.receive_text()
        wall.receive_text()
        fac.send_text(json.dumps({"type": "start_session"}))
        fac.send_text(json.dumps({"type": "go_to_step", "step_id": walk.id}))
        assert "Hvad lærer vi af sag 1?" in receive_until(wall, "sag 1?")
        first = live.state.cases[0].id
        fac.send_text(json.dumps({"type": "next_case", "from_case": first}))
        fac.send_text(json.dumps({"type": "next_case", "from_case": first}))  # double click
        assert "Hvad lærer vi af sag 2?" in receive_until(wall, "sag 2?")
        fac.send_text(json.dumps({"type": "go_to_case", "index": "2"}))
        assert "Hvad lærer vi af sag 3?" in receive_until(wall, "sag 3?")
        fac.send_text(json.dumps({"type": "go_to_case", "index": "x"}))
        assert 'id="flash"' in receive_until(fac, "flash")
    assert live.state.case_positions[walk.id] == 2

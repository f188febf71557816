"""The projector's signed link: the wall for whoever holds it while the session
lives, dead once it has ended (a member signed in may still open the wall)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from server.engine import Actor, ActorRole
from server.engine.commands import EndSession, StartSession
from tests.support import World

FAC = Actor(ActorRole.FACILITATOR, "user:1")


def end(world: World, session_id: str) -> None:
    live = world.fac.portal.call(world.services.live.get, session_id)
    for command in (StartSession(actor=FAC), EndSession(actor=FAC)):
        assert isinstance(world.fac.portal.call(live.submit, command), list)


def test_the_link_shows_the_wall_until_the_session_ends(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    session_id, _ = world.create_session("implementeringsworkshop")
    key = world.services.projector_key(session_id)
    link = f"/projector/{session_id}?key={key}"
    wall = new_browser()  # the projector's own browser: nobody signed in
    assert wall.get(link).status_code == 200
    with wall.websocket_connect(f"/ws/{session_id}/projector?key={key}") as ws:
        assert 'id="clock"' in ws.receive_text()

    end(world, session_id)

    gone = wall.get(link)
    assert gone.status_code == 404
    assert "Traceback" not in gone.text
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        wall.websocket_connect(f"/ws/{session_id}/projector?key={key}") as ws,
    ):
        ws.receive_text()
    assert closed.value.code == 1008


def test_a_member_signed_in_still_opens_the_wall_of_an_ended_session(world: World) -> None:
    session_id, _ = world.create_session("implementeringsworkshop")
    end(world, session_id)
    page = world.fac.get(f"/projector/{session_id}")
    assert page.status_code == 200
    key = world.services.projector_key(session_id)
    with world.fac.websocket_connect(f"/ws/{session_id}/projector?key={key}") as ws:
        assert 'id="clock"' in ws.receive_text()

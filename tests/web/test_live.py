"""A live session over the websocket: three screens, steps, cards, reconnects."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.support import World, join


def ids(message: str) -> list[str]:
    """The ids of a message's top-level fragments."""
    return re.findall(
        r'^<(?:div|section|ol|ul|p)\b[^>]*\bid="([^"]+)"', message, flags=re.M
    ) or re.findall(r'(?:^|>)\s*<\w+ id="([^"]+)"', message)


def receive_until(ws, needle: str, limit: int = 10) -> str:  # type: ignore[no-untyped-def]
    seen = []
    for _ in range(limit):
        message = ws.receive_text()
        seen.append(message)
        if needle in message:
            return message
    raise AssertionError(f"{needle!r} not in {len(seen)} messages: {seen!r}"[:2000])


def send(ws, **message: object) -> None:  # type: ignore[no-untyped-def]
    ws.send_text(json.dumps(message))


def test_step_change_reaches_all_three_screens(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    session_id, code = world.create_session("kvifa")
    phone = new_browser()
    assert "Tovholder" in join(phone, code, "Bo")
    projector_page = world.fac.get(f"/facilitator/sessions/{session_id}")
    key = re.search(r"/projector/\w+\?key=([^\"&]+)", projector_page.text)
    assert key
    with (
        world.fac.websocket_connect(f"/ws/{session_id}/facilitator") as fac,
        phone.websocket_connect(f"/ws/{session_id}/participant") as mob,
        new_browser().websocket_connect(f"/ws/{session_id}/projector?key={key.group(1)}") as wall,
    ):
        for ws in (fac, mob, wall):
            assert 'id="clock"' in ws.receive_text()  # the snapshot
        send(fac, type="start_session")
        first_step = world.services.catalog.get("kvifa").steps[0].title  # type: ignore[union-attr]
        assert first_step in receive_until(wall, first_step)
        assert first_step in receive_until(mob, first_step)
        send(fac, type="next_step", from_step="praesentation")
        send(fac, type="next_step", from_step="praesentation")  # a double click moves once
        second = world.services.catalog.get("kvifa").steps[1].title  # type: ignore[union-attr]
        assert second in receive_until(wall, second)
        live = world.fac.portal.call(world.services.live.get, session_id)
        assert live is not None and live.state.current == 1


def test_card_from_a_phone_appears_on_the_projector_and_is_stored(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    session_id, code = world.create_session("kvifa")
    phone = new_browser()
    join(phone, code, "Bo")
    key = world.services.projector_key(session_id)
    live = world.fac.portal.call(world.services.live.get, session_id)
    assert live is not None
    card_step = next(s for s in live.state.script.steps if s.cards)
    with (
        world.fac.websocket_connect(f"/ws/{session_id}/facilitator") as fac,
        phone.websocket_connect(f"/ws/{session_id}/participant") as mob,
        new_browser().websocket_connect(f"/ws/{session_id}/projector?key={key}") as wall,
    ):
        for ws in (fac, mob, wall):
            ws.receive_text()
        send(fac, type="start_session")
        send(fac, type="go_to_step", step_id=card_step.id)
        receive_until(mob, 'name="card_id"')
        send(mob, type="add_card", card_id="c-1", text="Barnets stemme <b>mangler</b> æøå")
        shown = receive_until(wall, "Barnets stemme")
        assert "&lt;b&gt;mangler&lt;/b&gt; æøå" in shown  # text, never markup
        assert "Saved" in receive_until(mob, "flash") or True
    events = world.fac.portal.call(world.services.eventlog.load, session_id)
    assert any(type(e).__name__ == "CardAdded" for e in events)


def test_reconnect_gets_the_current_state(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    session_id, code = world.create_session("kvifa")
    phone = new_browser()
    join(phone, code)
    with world.fac.websocket_connect(f"/ws/{session_id}/facilitator") as fac:
        fac.receive_text()
        send(fac, type="start_session")
        send(fac, type="next_step", from_step="praesentation")
        send(fac, type="next_step")
        third = world.services.catalog.get("kvifa").steps[2].title  # type: ignore[union-attr]
        receive_until(fac, f'class="stage-title">{third}')
    with phone.websocket_connect(f"/ws/{session_id}/participant") as mob:
        snapshot = receive_until(mob, third)
        assert third in snapshot


def test_hostile_messages_get_a_clear_message_and_no_crash(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    session_id, code = world.create_session("kvifa")
    phone = new_browser()
    join(phone, code)
    with phone.websocket_connect(f"/ws/{session_id}/participant") as mob:
        mob.receive_text()
        for raw in [
            "not json",
            "[]",
            '{"type": 5}',
            '{"type": "next_step"}',
            '{"type": "go_to_step", "step_id": "nope"}',
            '{"type": "add_card", "card_id": "<script>", "text": "x"}',
            "{" * 10000,
        ]:
            mob.send_text(raw)
            reply = mob.receive_text()
            assert 'id="flash"' in reply and "Traceback" not in reply
    with world.fac.websocket_connect(f"/ws/{session_id}/facilitator") as fac:
        fac.receive_text()
        send(fac, type="go_to_step", step_id="unknown-step")
        assert "flash" in fac.receive_text()


def test_oversized_message_closes_with_1009(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    session_id, code = world.create_session("kvifa")
    phone = new_browser()
    join(phone, code)
    with phone.websocket_connect(f"/ws/{session_id}/participant") as mob:
        mob.receive_text()
        mob.send_text("x" * (64 * 1024 + 1))
        with pytest.raises(WebSocketDisconnect) as closed:
            mob.receive_text()
        assert closed.value.code == 1009


def test_strangers_cannot_connect(world: World, new_browser: Callable[[], TestClient]) -> None:
    session_id, _ = world.create_session("kvifa")
    stranger = new_browser()
    for audience in ("facilitator", "participant", "projector", "nonsense"):
        with (
            pytest.raises(WebSocketDisconnect) as closed,
            stranger.websocket_connect(f"/ws/{session_id}/{audience}") as ws,
        ):
            ws.receive_text()
        assert closed.value.code == 1008
    with (
        pytest.raises(WebSocketDisconnect),
        world.fac.websocket_connect(
            f"/ws/{session_id}/facilitator", headers={"origin": "https://evil.example"}
        ) as ws,
    ):
        ws.receive_text()


def test_wrong_join_code_says_so(client: TestClient) -> None:
    page = client.get("/")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    r = client.post("/join", data={"code": "WRONG123", "csrf": token.group(1)})
    assert r.status_code == 404
    assert "kode" in r.text.lower() or "code" in r.text.lower()


def test_expired_login_goes_back_to_login(world: World) -> None:
    world.fac.cookies.clear()
    world.fac.cookies.set("tv_login", "not-a-valid-token")
    r = world.fac.get("/facilitator", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")

"""Open screens lose what their login or their place in the room gave them (issue 14).

A facilitator's screen receives case fragments for as long as it is open, so
it is closed (1008) when its login ends or its role is taken away: at once by
the logout (`Screens.logged_out`), and by the app's sweep, which asks every
open screen again (`Screens.sweep`, every minute; here called directly). The
facilitator can remove a participant: that phone is closed and its cookie
cannot bring it back into the session.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import col, delete, select
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from server.engine import Actor, ActorRole, CommandRejected, lobby
from server.engine.commands import Join, RemoveParticipant, SetCaseOwner, StartSession
from server.i18n import translations
from server.store.tables import AuditLog, EngagementMember
from server.web.pages.participant import cookie_name
from server.web.services import Services
from tests.security.sec_support import Cast, cast, log_in
from tests.support import join

GONE = "You are no longer logged in. Log in again to go on."
REMOVED = "The facilitator has removed you from this session."


@pytest.fixture
def people(client: TestClient, new_browser: Callable[[], TestClient]) -> Cast:
    return cast(client, new_browser)


def session(client: TestClient, people: Cast, script: str = "opstartsworkshop") -> tuple[str, str]:
    async def make() -> tuple[str, str]:
        row = await people.services.create_session(
            people.engagement_id, script, people.users["facilitator"]
        )
        return row.id, row.join_code

    result: tuple[str, str] = client.portal.call(make)
    return result


def said(svc: Services, session_id: str, msgid: str) -> str:
    """The text as the session's screens show it (translated, escaped)."""
    lang = svc.rooms[session_id].lang
    return html.escape(translations(lang).gettext(msgid), quote=False)


def until_closed(ws: Any) -> tuple[list[str], int]:
    """What the screen receives until the server closes it, and the close code."""
    seen: list[str] = []
    with pytest.raises(WebSocketDisconnect) as closed:
        for _ in range(200):
            seen.append(ws.receive_text())
    return seen, int(closed.value.code)


def still_open(ws: Any) -> bool:
    ws.send_text(json.dumps({"type": "pause_timer"}))
    return bool(ws.receive_text())


# -- the facilitator's screen and the login ---------------------------------------------------


def test_logging_out_closes_an_open_facilitator_screen_without_a_command(
    client: TestClient, people: Cast
) -> None:
    svc = people.services
    session_id, _ = session(client, people)
    fac = people.browsers["facilitator"]
    other = people.browsers["administrator"]  # another login, on the same session
    with (
        fac.websocket_connect(f"/ws/{session_id}/facilitator") as ws,
        other.websocket_connect(f"/ws/{session_id}/facilitator") as stays,
    ):
        ws.receive_text()
        stays.receive_text()
        # Logged out through another worker (this one's logout closes its screens
        # at once): nothing is sent from the screen, and the sweep finds the login gone.
        client.portal.call(svc.repo.logout, fac.cookies.get("tv_login"))
        assert client.portal.call(svc.screens.sweep) == 1
        seen, code = until_closed(ws)
        assert code == 1008
        assert any(said(svc, session_id, GONE) in m for m in seen)
        assert still_open(stays)


def test_the_logout_hook_closes_the_screens_of_that_login_at_once(
    client: TestClient, people: Cast, new_browser: Callable[[], TestClient]
) -> None:
    """`Screens.logged_out(token)`, which the logout handler calls with its cookie."""
    svc = people.services
    session_id, _ = session(client, people)
    fac = people.browsers["facilitator"]
    second = new_browser()  # the same person, logged in on a second laptop
    log_in(second, "facilitator")
    with (
        fac.websocket_connect(f"/ws/{session_id}/facilitator") as ws,
        second.websocket_connect(f"/ws/{session_id}/facilitator") as other_laptop,
    ):
        ws.receive_text()
        other_laptop.receive_text()
        assert svc.screens.logged_out(fac.cookies.get("tv_login")) == 1
        _, code = until_closed(ws)
        assert code == 1008
        assert still_open(other_laptop)  # that login was not ended
    assert svc.screens.logged_out(None) == 0


def test_a_facilitator_whose_role_is_taken_away_is_closed_at_the_next_sweep(
    client: TestClient, people: Cast
) -> None:
    svc = people.services
    session_id, _ = session(client, people)
    fac = people.browsers["facilitator"]

    async def demote() -> None:
        async with svc.repo.sessions() as db:
            await db.exec(
                delete(EngagementMember).where(
                    col(EngagementMember.user_id) == people.users["facilitator"].id
                )
            )
            await db.commit()

    with fac.websocket_connect(f"/ws/{session_id}/facilitator") as ws:
        ws.receive_text()
        assert client.portal.call(svc.screens.sweep) == 0  # nothing changed yet
        client.portal.call(demote)
        assert client.portal.call(svc.screens.sweep) == 1
        _, code = until_closed(ws)
        assert code == 1008


# -- removing a participant ---------------------------------------------------------------------


def test_a_removed_participant_is_closed_and_cannot_come_back(
    client: TestClient, people: Cast, new_browser: Callable[[], TestClient]
) -> None:
    svc = people.services
    session_id, code = session(client, people)
    phone = new_browser()
    join(phone, code, "Pia")
    pid = svc.participant_from(session_id, phone.cookies.get(cookie_name(session_id)))
    assert pid is not None
    fac = people.browsers["facilitator"]
    page = fac.get(f"/facilitator/sessions/{session_id}")
    assert '"type": "remove_participant", "participant_id": "' + pid in html.unescape(page.text)

    with (
        phone.websocket_connect(f"/ws/{session_id}/participant") as mine,
        fac.websocket_connect(f"/ws/{session_id}/facilitator") as screen,
    ):
        mine.receive_text()
        screen.receive_text()
        screen.send_text(json.dumps({"type": "remove_participant", "participant_id": pid}))
        seen, closed = until_closed(mine)
        assert closed == 1008
        assert any(said(svc, session_id, REMOVED) in m for m in seen)
        assert still_open(screen)
    live = client.portal.call(svc.live.get, session_id)
    assert pid not in live.state.participants

    # The same phone (its cookie) cannot join again, nor open the session's screen.
    csrf = re.search(r'name="csrf" value="([^"]+)"', phone.get(f"/j/{code}").text)
    assert csrf
    r = phone.post("/join", data={"code": code, "name": "Pia", "csrf": csrf.group(1)})
    assert r.status_code == 400 and said(svc, session_id, REMOVED) in r.text
    assert pid not in client.portal.call(svc.live.get, session_id).state.participants
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        phone.websocket_connect(f"/ws/{session_id}/participant") as ws,
    ):
        ws.receive_text()
    assert refused.value.code == 1008

    async def removals() -> list[AuditLog]:
        async with svc.repo.sessions() as db:
            query = select(AuditLog).where(AuditLog.action == "participant.remove")
            return list((await db.exec(query)).all())

    (entry,) = client.portal.call(removals)
    assert entry.user_id == people.users["facilitator"].id
    assert entry.target == f"session:{session_id} participant:Pia"


def test_a_removal_elsewhere_closes_the_phone_at_the_next_sweep(
    client: TestClient, people: Cast, new_browser: Callable[[], TestClient]
) -> None:
    """Removed through another worker: this worker's sweep finds the phone gone."""
    svc = people.services
    session_id, code = session(client, people)
    phone = new_browser()
    join(phone, code, "Bo")
    pid = svc.participant_from(session_id, phone.cookies.get(cookie_name(session_id)))
    assert pid is not None
    live = client.portal.call(svc.live.get, session_id)
    fac = Actor(ActorRole.FACILITATOR, f"user:{people.users['facilitator'].id}")
    with phone.websocket_connect(f"/ws/{session_id}/participant") as mine:
        mine.receive_text()
        assert client.portal.call(svc.screens.sweep) == 0
        removed = client.portal.call(live.submit, RemoveParticipant(actor=fac, participant_id=pid))
        assert isinstance(removed, list) and removed
        assert client.portal.call(svc.screens.sweep) == 1
        _, closed = until_closed(mine)
        assert closed == 1008


def test_the_engine_keeps_a_removed_participant_out(
    client: TestClient, people: Cast, new_browser: Callable[[], TestClient]
) -> None:
    """Whatever the edge sends: no Join, no knock at a case meeting's door; only the
    facilitator removes, and a removed case owner is no longer the case owner."""
    svc = people.services
    session_id, code = session(client, people, "kvifa")
    phone = new_browser()
    join(phone, code, "Hanne")  # through the lobby
    pid = svc.participant_from(session_id, phone.cookies.get(cookie_name(session_id)))
    assert pid is not None
    live = client.portal.call(svc.live.get, session_id)
    fac = Actor(ActorRole.FACILITATOR, "user:1")
    me = Actor(ActorRole.PARTICIPANT, pid)

    def submit(command: Any) -> Any:
        return client.portal.call(live.submit, command)

    assert isinstance(submit(StartSession(actor=fac)), list)
    assert isinstance(submit(SetCaseOwner(actor=fac, participant_id=pid)), list)
    refused = submit(RemoveParticipant(actor=me, participant_id=pid))
    assert isinstance(refused, CommandRejected) and refused.code == "forbidden"
    assert isinstance(
        submit(RemoveParticipant(actor=fac, participant_id="nobody")), CommandRejected
    )
    assert submit(RemoveParticipant(actor=fac, participant_id=pid))
    assert submit(RemoveParticipant(actor=fac, participant_id=pid)) == []  # a double click
    state = live.state
    assert pid not in state.participants and state.case_owner is None
    for command in (Join(actor=me, name="Hanne"), lobby.AskToJoin(actor=me, name="Hanne")):
        out = submit(command)
        assert isinstance(out, CommandRejected) and out.code == "removed", command
    # Another phone still joins through the door as before.
    other = new_browser()
    join(other, code, "Ole")
    assert [p.name for p in live.state.participants.values()] == ["Ole"]

"""Join codes and the case-meeting lobby: who gets into a room where a child's case is discussed."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pytest
from sqlmodel import select
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from server.catalog import Catalog
from server.engine import Actor, ActorRole, CommandRejected, lobby, replay
from server.engine.commands import EndSession, Join, StartSession
from server.i18n import translations
from server.privacy.cpr import MASK
from server.scripts.schema import SessionType
from server.settings import ROOT
from server.store.repo import CODE_ALPHABET
from server.store.tables import AuditLog
from server.web.pages import participant
from server.web.throttle import JOIN_LIMIT, Throttle
from tests.engine.steps_helpers import FAC, Run, p
from tests.security.sec_support import form_token, token_in
from tests.support import World, join

# -- the engine --------------------------------------------------------------------------

CATALOG = Catalog.load(ROOT / "facilitation_scripts")


def run_of(script_id: str) -> Run:
    script = CATALOG.get(script_id)
    assert script is not None
    return Run(script.model_dump(mode="json"))


def test_case_meetings_have_a_lobby_and_workshops_do_not(world: World) -> None:
    catalog = world.services.catalog
    for script in catalog.scripts.values():
        expected = script.session_type in (SessionType.CASE_MEETING, SessionType.KVIFA)
        assert lobby.required(script) is expected, script.id
    assert lobby.required(catalog.get("kvifa"))  # type: ignore[arg-type]
    assert lobby.required(catalog.get("heldagsmoede"))  # type: ignore[arg-type]


def test_nobody_joins_a_case_meeting_without_being_let_in() -> None:
    run = run_of("kvifa")
    refused = run.no(Join(actor=p("x"), name="Xena"))
    assert refused.code == "lobby"
    assert run.no(lobby.AskToJoin(actor=p("x"), name="  ")).code == "name_required"
    run.ok(lobby.AskToJoin(actor=p("x"), name="Xena 010203-1234"))
    assert lobby.status(run.state, "x") == "waiting"
    assert [k.name for k in lobby.waiting(run.state)] == [f"Xena {MASK}"]
    assert "x" not in run.state.participants
    # Only the facilitator decides.
    assert run.no(lobby.Admit(actor=p("x"), participant_id="x")).code == "forbidden"
    assert run.no(lobby.Admit(actor=FAC, participant_id="nobody")).code == "unknown_participant"
    run.ok(lobby.Admit(actor=FAC, participant_id="x"))
    assert lobby.status(run.state, "x") == "in"
    assert run.state.participants["x"].name == f"Xena {MASK}"
    assert run.do(lobby.Admit(actor=FAC, participant_id="x")) == []  # a double click
    # Once in, renaming works as everywhere.
    run.ok(Join(actor=p("x"), name="Xena K."))
    assert run.state.participants["x"].name == "Xena K."
    assert replay(run.log) == run.state


def test_a_refused_person_stays_out() -> None:
    run = run_of("heldagsmoede")
    run.ok(lobby.AskToJoin(actor=p("y"), name="Yrsa"))
    run.ok(lobby.Deny(actor=FAC, participant_id="y"))
    assert lobby.status(run.state, "y") == "denied"
    assert lobby.waiting(run.state) == []
    assert run.no(lobby.AskToJoin(actor=p("y"), name="Yrsa igen")).code == "denied"
    assert run.no(Join(actor=p("y"), name="Yrsa")).code == "lobby"
    # The facilitator can still change their mind.
    run.ok(lobby.Admit(actor=FAC, participant_id="y"))
    assert "y" in run.state.participants


def test_workshops_are_joined_directly_and_ended_sessions_not_at_all() -> None:
    run = run_of("opstartsworkshop")
    assert run.no(lobby.AskToJoin(actor=p("z"), name="Zia")).code == "no_lobby"
    run.ok(Join(actor=p("z"), name=None))
    run.ok(StartSession(actor=FAC))
    run.ok(EndSession(actor=FAC))
    assert run.no(Join(actor=p("w"), name=None)).code == "ended"
    case = run_of("kvifa")
    case.ok(EndSession(actor=FAC))
    assert case.no(lobby.AskToJoin(actor=p("w"), name="W")).code == "ended"


def test_the_waiting_list_is_bounded() -> None:
    run = run_of("kvifa")
    for i in range(lobby.MAX_WAITING):
        run.ok(lobby.AskToJoin(actor=p(f"w{i}"), name=f"W{i}"))
    out = run.no(lobby.AskToJoin(actor=p("late"), name="Late"))
    assert out.code == "full" and isinstance(out, CommandRejected)


# -- codes and links ------------------------------------------------------------------------


def test_codes_are_long_for_case_meetings_and_never_use_look_alikes(world: World) -> None:
    _, workshop = world.create_session("opstartsworkshop")
    _, case = world.create_session("kvifa")
    assert len(workshop) == 8 and len(case) == 16
    for code in (workshop, case):
        assert set(code) <= set(CODE_ALPHABET)
    assert not set("01258BILOSZ") & set(CODE_ALPHABET)


def da(msgid: str) -> str:
    """How the Danish page says it (a Danish script's pages follow the script)."""
    return html.escape(translations("da").gettext(msgid), quote=False)


def english(c: TestClient) -> TestClient:
    c.cookies.set("tv_lang", "en")
    return c


def ask(phone: TestClient, code: str, name: str) -> tuple[int, str, dict[str, str]]:
    page = phone.get(f"/j/{code}")
    assert 'id="name-why"' in page.text  # the form asks for a name, and says why
    r = phone.post(
        "/join",
        data={"code": code, "name": name, "csrf": token_in(page.text)},
        follow_redirects=True,
    )
    return r.status_code, r.text, dict(r.headers)


def test_the_lobby_on_the_phone_and_on_the_facilitator_screen(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    session_id, code = world.create_session("kvifa")
    phone = english(new_browser())
    status, html, _ = ask(phone, code, "")
    assert status == 400 and "Give your name" in html
    status, html, headers = ask(phone, code, "Bo <b>Hansen</b>")
    assert (
        status == 200
        and da("Hello %(name)s. The facilitator will let you in shortly.")
        % {"name": "Bo &lt;b&gt;Hansen&lt;/b&gt;"}
        in html
    )
    # No timed reload (it restarts a screen reader): app.js asks in the background.
    assert "refresh" not in headers and 'data-door="waiting"' in html
    assert "Bo &lt;b&gt;Hansen&lt;/b&gt;" in html
    # While waiting, the phone sees nothing of the meeting.
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        phone.websocket_connect(f"/ws/{session_id}/participant") as ws,
    ):
        ws.receive_text()
    assert closed.value.code == 1008
    with world.fac.websocket_connect(f"/ws/{session_id}/facilitator") as fac:
        snapshot = fac.receive_text()
        assert "Bo &lt;b&gt;Hansen&lt;/b&gt;" in snapshot and 'class="waiting"' in snapshot
        pid = re.search(r'name="participant_id" value="([^"]+)"', snapshot)
        assert pid
        page = world.fac.get(f"/facilitator/sessions/{session_id}")
        header = re.search(r"X-CSRF-Token&#34;: &#34;([^&]+)&#34;", page.text) or re.search(
            r'"X-CSRF-Token": "([^"]+)"', page.text
        )
        assert header
        # Without the token the door stays shut.
        r = world.fac.post(
            f"/facilitator/sessions/{session_id}/lobby",
            data={"participant_id": pid.group(1), "decision": "admit"},
        )
        assert r.status_code == 400
        r = world.fac.post(
            f"/facilitator/sessions/{session_id}/lobby",
            data={"participant_id": pid.group(1), "decision": "admit"},
            headers={"X-CSRF-Token": header.group(1), "HX-Request": "true"},
        )
        assert r.status_code == 204
    page = phone.get(f"/j/{code}")
    assert 'ws-connect="/ws/' in page.text  # in the meeting now
    with phone.websocket_connect(f"/ws/{session_id}/participant") as ws:
        assert ws.receive_text()
    audit = _audit(world)
    assert [(a.action, a.user_id) for a in audit if a.action == "participant.admit"] == [
        ("participant.admit", world.user.id)
    ]


def test_a_refused_phone_is_told_and_cannot_come_back(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    session_id, code = world.create_session("heldagsmoede")
    phone = english(new_browser())
    ask(phone, code, "Ukendt")
    live = world.fac.portal.call(world.services.live.get, session_id)
    assert live is not None
    (knock,) = lobby.waiting(live.state)
    r = world.fac.post(
        f"/facilitator/sessions/{session_id}/lobby",
        data={"participant_id": knock.id, "decision": "deny", "csrf": form_token(world.fac)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = phone.get(f"/j/{code}")
    assert da("The facilitator has not let you in.") in page.text
    assert "refresh" not in page.headers
    r = phone.post("/join", data={"code": code, "name": "Ukendt", "csrf": form_token(phone)})
    assert r.status_code == 400 and "The facilitator has not let you in." in r.text


def test_an_ended_session_refuses_joins_and_its_link_says_so(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    session_id, code = world.create_session("opstartsworkshop")
    inside = new_browser()
    join(inside, code, "Alma")
    with world.fac.websocket_connect(f"/ws/{session_id}/facilitator") as fac:
        fac.receive_text()
        fac.send_text('{"type": "start_session"}')
        fac.send_text('{"type": "end_session"}')
        for _ in range(20):
            if "Thank you" in fac.receive_text() or _ended(world, session_id):
                break
    assert _ended(world, session_id)
    late = english(new_browser())
    page = late.get(f"/j/{code}")
    assert da("This session has ended.") in page.text and 'name="code"' not in page.text
    r = late.post("/join", data={"code": code, "name": "Sen", "csrf": form_token(late)})
    assert (r.status_code in (404, 410) and "ended" in r.text.lower()) or "No session" in r.text
    # Someone who was there still sees the end of it.
    assert inside.get(f"/j/{code}").status_code == 200


def test_join_codes_are_throttled_per_address(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    throttles = world.fac.app.state.services.throttles
    throttles.join, throttles.missing_code = Throttle(5), Throttle(5)
    _, code = world.create_session("opstartsworkshop")
    guesser = english(new_browser())
    token = form_token(guesser)
    statuses = [
        guesser.post("/join", data={"code": f"WRONG{i:03d}", "csrf": token}).status_code
        for i in range(6)
    ]
    assert statuses == [404] * 5 + [429]
    r = guesser.post("/join", data={"code": code, "csrf": token})
    assert r.status_code == 429 and "Too many attempts" in r.text
    # Guessing by link is counted too, and a right code does not help then.
    for i in range(5):
        assert guesser.get(f"/j/WRONG{i:03d}").status_code == 404
    assert guesser.get(f"/j/{code}").status_code == 429
    assert guesser.get(f"/j/{code}/qr.svg").status_code == 429


def test_a_room_behind_one_address_joins_and_guessing_is_still_throttled(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    """Phones on the venue's wifi share one address: 25 of them join within the
    minute (the browser journey has 20). Only wrong codes count against it."""
    _, code = world.create_session("implementeringsworkshop")
    for i in range(JOIN_LIMIT + 5):
        assert "ws-connect" in join(new_browser(), code, f"Deltager {i}")
    guesser = english(new_browser())
    token = form_token(guesser)
    statuses = [
        guesser.post("/join", data={"code": f"WRONG{i:03d}", "csrf": token}).status_code
        for i in range(JOIN_LIMIT + 1)
    ]
    assert statuses == [404] * JOIN_LIMIT + [429]
    late = new_browser()
    r = late.post("/join", data={"code": code, "csrf": form_token(late)})
    assert r.status_code == 429  # the same address, so the right code waits a minute too


def _ended(world: World, session_id: str) -> bool:
    live = world.fac.portal.call(world.services.live.get, session_id)
    return live is not None and live.state.status == "ended"


def _audit(world: World) -> list[AuditLog]:
    async def go() -> list[AuditLog]:
        async with world.services.repo.sessions() as db:
            return list((await db.exec(select(AuditLog))).all())

    return world.fac.portal.call(go)


def test_participant_ids_in_cookies_are_signed(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    session_id, code = world.create_session("opstartsworkshop")
    phone = new_browser()
    join(phone, code, "Alma")
    forged = new_browser()
    forged.cookies.set(participant.cookie_name(session_id), "abcdef0123456789")
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        forged.websocket_connect(f"/ws/{session_id}/participant") as ws,
    ):
        ws.receive_text()
    assert closed.value.code == 1008
    # A token for one session does not open another.
    other_id, _ = world.create_session("opstartsworkshop")
    stolen = new_browser()
    stolen.cookies.set(
        participant.cookie_name(other_id),
        phone.cookies.get(participant.cookie_name(session_id)) or "",
    )
    with (
        pytest.raises(WebSocketDisconnect),
        stolen.websocket_connect(f"/ws/{other_id}/participant") as ws,
    ):
        ws.receive_text()
    assert Actor(ActorRole.PARTICIPANT, "x")  # (the actor type the cookie maps to)

"""Case walls and projector links (issue 14).

A wall with case material (a case meeting's covers, summaries and learnings,
Kvifa sparring, a family conference) is for members who may read cases:
an observer is refused it (404, as any refusal), and opening or streaming it
is audited as reading case material. A projector link is signed with its time
and the session's projector generation: it works for 12 hours, and the
facilitator's "Revoke projector links" ends every link at once and closes the
projectors that are open.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from html import escape, unescape

import pytest
from sqlmodel import select
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from server.engine import Actor, ActorRole
from server.engine.commands import EndSession, StartSession
from server.i18n import translations
from server.store.tables import AuditLog
from server.web.services import PROJECTOR_KEY_SECONDS, Services
from tests.security.sec_support import Cast, cast, token_in


@pytest.fixture
def people(client: TestClient, new_browser: Callable[[], TestClient]) -> Cast:
    return cast(client, new_browser)


def session(client: TestClient, people: Cast, script: str) -> str:
    async def make() -> str:
        row = await people.services.create_session(
            people.engagement_id, script, people.users["facilitator"]
        )
        return row.id

    return str(client.portal.call(make))


def end(client: TestClient, svc: Services, session_id: str) -> None:
    live = client.portal.call(svc.live.get, session_id)
    assert live is not None
    fac = Actor(ActorRole.FACILITATOR, "user:1")
    for command in (StartSession(actor=fac), EndSession(actor=fac)):
        assert isinstance(client.portal.call(live.submit, command), list)


def connects(c: TestClient, session_id: str, key: str | None) -> bool:
    url = f"/ws/{session_id}/projector" + (f"?key={key}" if key is not None else "")
    try:
        with c.websocket_connect(url) as ws:
            return 'id="clock"' in ws.receive_text()
    except WebSocketDisconnect as closed:
        assert closed.code == 1008
        return False


def closed_with(ws: object) -> int:
    """Read until the server closes the socket; its close code."""
    with pytest.raises(WebSocketDisconnect) as closed:
        for _ in range(200):
            ws.receive_text()  # type: ignore[attr-defined]
    return int(closed.value.code)


def audit_rows(client: TestClient, svc: Services) -> list[AuditLog]:
    async def go() -> list[AuditLog]:
        async with svc.repo.sessions() as db:
            return list((await db.exec(select(AuditLog))).all())

    return client.portal.call(go)


def projector_link(page_html: str) -> str:
    found = re.search(r'href="(/projector/[^"]+)"', page_html)
    assert found, page_html[:500]
    return unescape(found.group(1))


# -- who sees which wall ---------------------------------------------------------------------


@pytest.mark.parametrize("script", ["heldagsmoede", "kvifa", "familieraadslagning"])
def test_an_observer_is_refused_a_case_wall_but_watches_other_walls(
    client: TestClient, people: Cast, script: str
) -> None:
    svc = people.services
    observer = people.browsers["observer"]
    case_wall = session(client, people, script)
    workshop = session(client, people, "opstartsworkshop")

    # A case wall: 404 for the observer, as for anything they may not see.
    r = observer.get(f"/projector/{case_wall}")
    assert r.status_code == 404 and "Traceback" not in r.text
    assert not connects(observer, case_wall, None)
    for who in ("coordinator", "facilitator", "administrator", "admin"):
        assert people.browsers[who].get(f"/projector/{case_wall}").status_code == 200, who

    # Any other session's wall: the observer watches it, page and websocket.
    page = observer.get(f"/projector/{workshop}")
    assert page.status_code == 200
    key = re.search(r"projector\?key=([\w.-]+)", page.text)
    assert key and connects(observer, workshop, key.group(1))

    # A link that got to the observer: once the session has ended it works only
    # for a member who may see that wall, and a case wall is not the observer's.
    end(client, svc, case_wall)
    old_key = svc.projector_key(case_wall)
    assert observer.get(f"/projector/{case_wall}?key={old_key}").status_code == 404
    assert not connects(observer, case_wall, old_key)
    coordinator = people.browsers["coordinator"]
    assert coordinator.get(f"/projector/{case_wall}?key={old_key}").status_code == 200
    assert connects(coordinator, case_wall, old_key)


def test_opening_and_streaming_a_case_wall_is_audited_as_reading_cases(
    client: TestClient, people: Cast, new_browser: Callable[[], TestClient]
) -> None:
    svc = people.services
    case_wall = session(client, people, "heldagsmoede")
    workshop = session(client, people, "opstartsworkshop")
    coordinator = people.browsers["coordinator"]
    assert coordinator.get(f"/projector/{case_wall}").status_code == 200
    assert people.browsers["observer"].get(f"/projector/{workshop}").status_code == 200
    wall = new_browser()  # the projector's own browser, on the link alone
    key = svc.projector_key(case_wall)
    assert wall.get(f"/projector/{case_wall}?key={key}").status_code == 200
    assert connects(wall, case_wall, key)

    rows = audit_rows(client, svc)
    reads = [r for r in rows if r.action == "cases.read" and case_wall in r.target]
    assert any(r.user_id == people.users["coordinator"].id for r in reads)
    anonymous = [r for r in reads if r.user_id is None and r.actor == "projector link"]
    assert len(anonymous) == 2  # the page and the websocket
    assert all(r.engagement_id == people.engagement_id for r in reads)
    assert not [r for r in rows if r.action == "session.watch" and case_wall in r.target]
    watched = [r for r in rows if r.action == "session.watch" and workshop in r.target]
    assert [r.user_id for r in watched] == [people.users["observer"].id]


# -- projector links: 12 hours, revocable ------------------------------------------------------


def test_a_projector_link_expires_and_an_open_projector_then_closes(
    client: TestClient, people: Cast, new_browser: Callable[[], TestClient]
) -> None:
    svc = people.services
    session_id = session(client, people, "implementeringsworkshop")
    key = svc.projector_key(session_id)
    link = f"/projector/{session_id}?key={key}"
    wall = new_browser()
    assert wall.get(link).status_code == 200
    with wall.websocket_connect(f"/ws/{session_id}/projector?key={key}") as ws:
        ws.receive_text()
        svc.clock = lambda: time.time() + PROJECTOR_KEY_SECONDS - 60  # not yet
        assert client.portal.call(svc.screens.sweep) == 0
        assert wall.get(link).status_code == 200
        svc.clock = lambda: time.time() + PROJECTOR_KEY_SECONDS + 60  # the next morning
        assert client.portal.call(svc.screens.sweep) == 1
        assert closed_with(ws) == 1008
    assert wall.get(link).status_code == 404
    assert not connects(wall, session_id, key)
    # The facilitator's screen gives a fresh link, which works.
    fac = people.browsers["facilitator"]
    fresh = projector_link(fac.get(f"/facilitator/sessions/{session_id}").text)
    assert wall.get(fresh).status_code == 200


def test_revoking_the_projector_links_ends_them_and_closes_open_projectors(
    client: TestClient, people: Cast, new_browser: Callable[[], TestClient]
) -> None:
    svc = people.services
    session_id = session(client, people, "heldagsmoede")
    fac = people.browsers["facilitator"]
    page = fac.get(f"/facilitator/sessions/{session_id}")
    old = projector_link(page.text)
    old_key = old.split("key=", 1)[1]
    wall = new_browser()
    assert wall.get(old).status_code == 200
    for who in ("observer", "coordinator", "outsider"):  # only those who run the session
        c = people.browsers[who]
        r = c.post(
            f"/facilitator/sessions/{session_id}/projector/revoke",
            data={"csrf": token_in(c.get("/").text)},
            follow_redirects=False,
        )
        assert r.status_code == 404, who
    assert wall.get(old).status_code == 200
    with (
        wall.websocket_connect(f"/ws/{session_id}/projector?key={old_key}") as ws,
        fac.websocket_connect(f"/ws/{session_id}/facilitator") as screen,
    ):
        ws.receive_text()
        screen.receive_text()
        r = fac.post(
            f"/facilitator/sessions/{session_id}/projector/revoke",
            data={"csrf": token_in(page.text)},
            follow_redirects=False,
        )
        assert r.status_code == 303
        assert closed_with(ws) == 1008  # the open projector is closed at once
        screen.send_text('{"type": "pause_timer"}')  # the facilitator's screen stays
        assert screen.receive_text()
    assert wall.get(old).status_code == 404
    assert not connects(wall, session_id, old_key)

    again = fac.get(r.headers["location"])
    notice = "The projector links are closed. Open the projector again for a new link."
    lang = svc.rooms[session_id].lang
    assert escape(translations(lang).gettext(notice), quote=False) in again.text
    fresh = projector_link(again.text)
    assert fresh != old and wall.get(fresh).status_code == 200
    assert connects(wall, session_id, fresh.split("key=", 1)[1])
    revoked = [r for r in audit_rows(client, svc) if r.action == "projector.revoke"]
    assert [(r.user_id, r.target) for r in revoked] == [
        (people.users["facilitator"].id, f"session:{session_id}")
    ]

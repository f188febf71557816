"""Helpers the web tests share (import as tests.support)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.testclient import TestClient

from server.store.tables import User
from server.web.services import Services


def csrf_of(c: TestClient) -> str:
    page = c.get("/login" if "tv_login" not in c.cookies else "/facilitator")
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


@dataclass
class World:
    """A facilitator logged in, with an engagement to run sessions in."""

    fac: TestClient
    user: User
    engagement_id: str
    services: Services

    def create_session(self, script_id: str = "kvifa") -> tuple[str, str]:
        r = self.fac.post(
            "/facilitator/sessions",
            data={
                "csrf": csrf_of(self.fac),
                "engagement_id": self.engagement_id,
                "script_id": script_id,
            },
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        session_id = r.headers["location"].rsplit("/", 1)[1]
        row = self.fac.portal.call(self.services.repo.session, session_id)
        return session_id, row.join_code


PASSWORD = "correct-horse-battery"


def join(c: TestClient, code: str, name: str = "") -> str:
    """Join as a participant; returns the participant page's HTML.

    A case meeting has a lobby (server/engine/lobby.py): the person needs a
    name there, and is let in as the facilitator would.
    """
    page = c.get(f"/j/{code}")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    at_door = 'id="name-why"' in page.text
    r = c.post(
        "/join",
        data={
            "code": code,
            "name": name or ("Deltager" if at_door else ""),
            "csrf": token.group(1),
        },
        follow_redirects=True,
    )
    assert r.status_code == 200, r.text
    if 'class="phone lobby"' in r.text:
        let_in(c, code)
        r = c.get(f"/j/{code}")
        assert r.status_code == 200, r.text
    return r.text


def let_in(c: TestClient, code: str) -> None:
    """The facilitator lets this browser's participant into a case meeting."""
    from server.engine import Actor, ActorRole, lobby
    from server.web.pages.participant import cookie_name

    services: Services = c.app.state.services  # type: ignore[attr-defined]
    row = c.portal.call(services.repo.session_by_code, code)  # type: ignore[union-attr]
    assert row is not None
    pid = services.participant_from(row.id, c.cookies.get(cookie_name(row.id)))
    assert pid is not None
    live = c.portal.call(services.live.get, row.id)  # type: ignore[union-attr]
    assert live is not None
    admit = lobby.Admit(actor=Actor(ActorRole.FACILITATOR, "user:0"), participant_id=pid)
    c.portal.call(live.submit, admit)  # type: ignore[union-attr]

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
    """Join as a participant; returns the participant page's HTML."""
    page = c.get(f"/j/{code}")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    r = c.post(
        "/join", data={"code": code, "name": name, "csrf": token.group(1)}, follow_redirects=True
    )
    assert r.status_code == 200, r.text
    return r.text

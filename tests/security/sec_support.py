"""Helpers the security tests share: people in every role, logins, CSRF tokens."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.testclient import TestClient

from server.store.tables import User
from server.web.services import Services
from tests.support import PASSWORD

ROLES = ("administrator", "facilitator", "coordinator", "observer")


def token_in(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def form_token(c: TestClient) -> str:
    """This browser's CSRF token (the front page always has a form)."""
    return token_in(c.get("/").text)


def log_in(c: TestClient, username: str, password: str = PASSWORD) -> None:
    r = c.post(
        "/login",
        data={"username": username, "password": password, "csrf": form_token(c), "next": ""},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:500]


@dataclass
class Cast:
    """An engagement with one member per role, an outsider and a global administrator."""

    services: Services
    engagement_id: str
    users: dict[str, User] = field(default_factory=dict)
    browsers: dict[str, TestClient] = field(default_factory=dict)


def cast(client: TestClient, new_browser: Callable[[], TestClient], *, login: bool = True) -> Cast:
    services: Services = client.app.state.services  # type: ignore[attr-defined]

    async def seed() -> Cast:
        users = {}
        for role in ROLES:
            users[role] = await services.repo.add_user(role, PASSWORD, f"{role.title()} Person")
        users["outsider"] = await services.repo.add_user("outsider", PASSWORD, "Out Sider")
        users["admin"] = await services.repo.add_user("admin", PASSWORD, "Ad Min", is_admin=True)
        eng = await services.repo.add_engagement(
            "Varde", "Varde Kommune", {users[r].id or 0: r for r in ROLES}
        )
        return Cast(services, eng.id, users)

    result: Cast = client.portal.call(seed)
    if login:
        for name in result.users:
            browser = new_browser()
            log_in(browser, name)
            result.browsers[name] = browser
    return result

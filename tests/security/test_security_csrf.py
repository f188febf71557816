"""The CSRF token is bound to the login and made anew at login; under https
the login and CSRF cookies carry the `__Host-` prefix (issue 14)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.settings import from_env
from tests.conftest import _create_schema
from tests.security.sec_support import form_token, log_in
from tests.support import PASSWORD, World


def saved(c: TestClient, token: str) -> int:
    """POST /account (a change that needs the login and the token): its status."""
    return c.post(
        "/account", data={"language": "en", "csrf": token}, follow_redirects=False
    ).status_code


def test_a_token_from_before_the_login_is_worthless_after_it(world: World) -> None:
    c = TestClient(world.fac.app, base_url="http://testserver")
    c.portal = world.fac.portal
    before = form_token(c)
    cookie_before = c.cookies.get("tv_csrf")
    log_in(c, "anne")
    assert c.cookies.get("tv_csrf") != cookie_before  # the cookie is made anew at login
    assert saved(c, before) in (400, 403)
    assert saved(c, form_token(c)) == 303


def test_a_token_is_good_for_its_own_login_only(world: World) -> None:
    world.fac.portal.call(world.services.repo.add_user, "bo", PASSWORD, "Bo")
    anne = TestClient(world.fac.app, base_url="http://testserver")
    anne.portal = world.fac.portal
    log_in(anne, "anne")
    annes = form_token(anne)
    # Bo's login cookie, with Anne's CSRF cookie and form token: refused.
    bo = TestClient(world.fac.app, base_url="http://testserver")
    bo.portal = world.fac.portal
    log_in(bo, "bo")
    bo.cookies.set("tv_csrf", anne.cookies.get("tv_csrf") or "")
    assert saved(bo, annes) in (400, 403)
    assert saved(anne, annes) == 303


@pytest.fixture
def https_client(tmp_path: Path) -> Iterator[TestClient]:
    settings = from_env({}, mode="test", data_dir=tmp_path, base_url="https://tovholder.example.dk")
    _create_schema(settings)
    with TestClient(create_app(settings), base_url="https://tovholder.example.dk") as c:
        yield c


def test_https_cookies_are_this_hosts_alone(https_client: TestClient) -> None:
    c = https_client
    c.portal.call(c.app.state.services.repo.add_user, "anne", PASSWORD, "Anne")
    front = c.get("/")
    (csrf,) = [h for h in front.headers.get_list("set-cookie") if "csrf=" in h.split(";")[0]]
    assert (
        csrf.startswith("__Host-tv_csrf=") and "secure" in csrf.lower() and "path=/" in csrf.lower()
    )
    r = c.post(
        "/login",
        data={"username": "anne", "password": PASSWORD, "csrf": form_token(c), "next": ""},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:300]
    login = [h for h in r.headers.get_list("set-cookie") if "tv_login=" in h.split(";")[0]]
    assert login and login[0].startswith("__Host-tv_login=") and "secure" in login[0].lower()
    assert "domain=" not in login[0].lower()
    assert c.get("/facilitator", follow_redirects=False).status_code == 200

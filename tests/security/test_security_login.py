"""Logins: expiry, logout that really ends them, lockout with its time, the second factor."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from server.store.tables import LoginSession, User
from server.web import totp
from tests.security.sec_support import form_token, log_in, token_in
from tests.support import PASSWORD, World


def english(c: TestClient) -> TestClient:
    c.cookies.set("tv_lang", "en")
    return c


def test_logout_ends_the_login_on_the_server(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    fac = english(world.fac)
    old = fac.cookies.get("tv_login")
    assert old and fac.get("/facilitator", follow_redirects=False).status_code == 200
    r = fac.post("/logout", data={"csrf": form_token(fac)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    # The old cookie, replayed from another browser, is worth nothing.
    thief = new_browser()
    thief.cookies.set("tv_login", old)
    r = thief.get("/facilitator", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    rows = _rows(world, LoginSession)
    assert rows == []


def test_logout_ends_an_open_facilitator_screen(world: World) -> None:
    session_id, _ = world.create_session("opstartsworkshop")
    token = world.fac.cookies.get("tv_login")
    with world.fac.websocket_connect(f"/ws/{session_id}/facilitator") as ws:
        ws.receive_text()
        world.fac.portal.call(world.services.repo.logout, token)
        ws.send_text(json.dumps({"type": "start_session"}))
        assert "flash" in ws.receive_text()
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert closed.value.code == 1008
    live = world.fac.portal.call(world.services.live.get, session_id)
    assert live is not None and live.state.status == "planned"  # the command did nothing


def test_an_expired_login_is_refused_and_removed(world: World) -> None:
    async def expire() -> None:
        async with world.services.repo.sessions() as db:
            for row in (await db.exec(select(LoginSession))).all():
                row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
                db.add(row)
            await db.commit()

    world.fac.portal.call(expire)
    r = world.fac.get("/facilitator", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert _rows(world, LoginSession) == []


def test_login_cookie_is_httponly_and_expires_with_the_login(
    client: TestClient, world: World
) -> None:
    c = english(TestClient(client.app, base_url="http://testserver"))
    c.portal = client.portal
    r = c.post(
        "/login",
        data={"username": "anne", "password": PASSWORD, "csrf": form_token(c), "next": ""},
        follow_redirects=False,
    )
    header = next(h for h in r.headers.get_list("set-cookie") if h.startswith("tv_login="))
    assert "httponly" in header.lower() and "samesite=lax" in header.lower()
    hours = world.services.settings.login_ttl_hours
    assert f"max-age={int(hours * 3600)}" in header.lower()
    csrf_header = c.get("/").headers.get("set-cookie", "")
    assert "tv_csrf=" not in csrf_header or "samesite=strict" in csrf_header.lower()


def test_lockout_after_five_failures_says_for_how_long(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    c = english(new_browser())
    for _ in range(4):
        r = c.post(
            "/login",
            data={"username": "anne", "password": "wrong", "csrf": form_token(c), "next": ""},
        )
        assert r.status_code == 401 and "Wrong username or password." in r.text
    r = c.post(
        "/login", data={"username": "anne", "password": "wrong", "csrf": form_token(c), "next": ""}
    )
    assert r.status_code == 429
    assert "Too many failed attempts. Try again in 15 minutes." in r.text
    # Locked: even the right password does not log in, and the time left is shown.
    r = c.post(
        "/login", data={"username": "anne", "password": PASSWORD, "csrf": form_token(c), "next": ""}
    )
    assert r.status_code == 429 and re.search(r"Try again in 1[45] minutes", r.text)
    assert "tv_login" not in c.cookies

    async def unlock() -> None:
        async with world.services.repo.sessions() as db:
            user = (await db.exec(select(User).where(User.username == "anne"))).one()
            user.locked_until = datetime.now(UTC) - timedelta(seconds=1)
            db.add(user)
            await db.commit()

    world.fac.portal.call(unlock)
    log_in(c, "anne")


def test_unknown_user_and_wrong_password_read_the_same(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    c = english(new_browser())
    a = c.post(
        "/login", data={"username": "nobody", "password": "x", "csrf": form_token(c), "next": ""}
    )
    b = c.post(
        "/login", data={"username": "anne", "password": "x", "csrf": form_token(c), "next": ""}
    )
    assert a.status_code == b.status_code == 401
    assert "Wrong username or password." in a.text and "Wrong username or password." in b.text


@pytest.mark.parametrize(
    "nxt", ["//evil.example/x", "https://evil.example", "/\\evil.example", "javascript:alert(1)"]
)
def test_login_never_redirects_off_site(
    world: World, new_browser: Callable[[], TestClient], nxt: str
) -> None:
    c = new_browser()
    r = c.post(
        "/login",
        data={"username": "anne", "password": PASSWORD, "csrf": form_token(c), "next": nxt},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/facilitator"


def test_login_without_csrf_token_is_refused(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    c = new_browser()
    c.get("/")
    r = c.post("/login", data={"username": "anne", "password": PASSWORD, "next": ""})
    assert r.status_code == 400 and "tv_login" not in c.cookies


# -- the second factor -------------------------------------------------------------------


def _rows(world: World, table: type) -> list[object]:
    async def go() -> list[object]:
        async with world.services.repo.sessions() as db:
            return list((await db.exec(select(table))).all())

    return world.fac.portal.call(go)  # type: ignore[no-any-return]


def enrol(c: TestClient) -> str:
    """Turn on TOTP for the logged-in browser; returns the secret."""
    page = english(c).get("/account/totp")
    assert page.status_code == 200
    secret = re.search(r'<code class="code">([A-Z2-7 ]+)</code>', page.text)
    enrol_token = re.search(r'name="enrol" value="([^"]+)"', page.text)
    assert secret and enrol_token and 'src="data:image/svg+xml' in page.text
    key = secret.group(1).replace(" ", "")
    r = c.post(
        "/account/totp",
        data={
            "csrf": token_in(page.text),
            "enrol": enrol_token.group(1),
            "code": totp.code_at(key, time.time()),
        },
    )
    assert r.status_code == 200 and "Two-step login is on" in r.text
    return key


def next_code(secret: str, steps_ahead: int = 1) -> str:
    """A code for a later step (the one just used cannot be used again)."""
    return totp.hotp(totp._key(secret), totp.step_at(time.time()) + steps_ahead)


def password_step(c: TestClient, username: str = "anne") -> str:
    r = c.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf": form_token(c), "next": ""},
        follow_redirects=False,
    )
    assert r.status_code == 200, r.status_code
    assert "tv_login" not in c.cookies  # no login exists before the code
    pending = re.search(r'name="pending" value="([^"]+)"', r.text)
    assert pending
    return pending.group(1)


def test_totp_enrol_then_login_needs_the_code(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    secret = enrol(world.fac)
    c = english(new_browser())
    pending = password_step(c)
    assert _rows(world, LoginSession).__len__() == 1  # only anne's old one
    r = c.post("/login/totp", data={"csrf": form_token(c), "pending": pending, "code": "000000"})
    assert r.status_code == 401 and "That code is not right" in r.text
    code = next_code(secret)
    r = c.post(
        "/login/totp",
        data={"csrf": form_token(c), "pending": pending, "code": code[:3] + " " + code[3:]},
        follow_redirects=False,
    )
    assert r.status_code == 303 and "tv_login" in c.cookies
    assert c.get("/facilitator", follow_redirects=False).status_code == 200
    # The same code again (seen over a shoulder) does not log in a second time.
    other = english(new_browser())
    pending = password_step(other)
    r = other.post(
        "/login/totp", data={"csrf": form_token(other), "pending": pending, "code": code}
    )
    assert r.status_code == 401 and "tv_login" not in other.cookies


def test_wrong_codes_lock_the_account_even_after_a_right_password(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    secret = enrol(world.fac)
    c = english(new_browser())
    for attempt in range(5):
        pending = password_step(c)  # a right password does not reset wrong codes
        r = c.post(
            "/login/totp", data={"csrf": form_token(c), "pending": pending, "code": "123456"}
        )
        assert r.status_code == (429 if attempt == 4 else 401)
    assert "Try again in 15 minutes" in r.text
    r = c.post(
        "/login", data={"username": "anne", "password": PASSWORD, "csrf": form_token(c), "next": ""}
    )
    assert r.status_code == 429
    assert next_code(secret)  # the right code would not help now either


def test_a_forged_or_stale_pending_login_is_refused(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    secret = enrol(world.fac)
    c = english(new_browser())
    for pending in ("", "x" * 50, "WzEsICIvZmFjaWxpdGF0b3IiXQ.forged.sig", "a" * 600):
        r = c.post(
            "/login/totp",
            data={"csrf": form_token(c), "pending": pending, "code": next_code(secret)},
        )
        assert r.status_code == 400 and "tv_login" not in c.cookies


def test_totp_enrol_refuses_a_wrong_code_and_a_foreign_token(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    page = english(world.fac).get("/account/totp")
    enrol_token = re.search(r'name="enrol" value="([^"]+)"', page.text)
    assert enrol_token
    r = world.fac.post(
        "/account/totp",
        data={"csrf": token_in(page.text), "enrol": enrol_token.group(1), "code": "000000"},
    )
    assert r.status_code == 400
    r = world.fac.post(
        "/account/totp", data={"csrf": token_in(page.text), "enrol": "forged", "code": "000000"}
    )
    assert r.status_code == 400
    (user,) = [u for u in _rows(world, User) if u.username == "anne"]
    assert user.totp_secret is None


def test_totp_can_be_turned_off_with_a_code_only(world: World) -> None:
    secret = enrol(world.fac)
    csrf = form_token(world.fac)
    r = world.fac.post("/account/totp/disable", data={"csrf": csrf, "code": "000000"})
    assert r.status_code == 400
    r = world.fac.post(
        "/account/totp/disable",
        data={"csrf": csrf, "code": next_code(secret)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    (user,) = [u for u in _rows(world, User) if u.username == "anne"]
    assert user.totp_secret is None


def test_totp_matches_the_rfc_6238_test_vectors() -> None:
    key = b"12345678901234567890"
    for at, expected in [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ]:
        assert totp.hotp(key, at // 30, digits=8) == expected
    secret = totp.new_secret()
    now = 1_700_000_000.0
    step = totp.verify(secret, totp.code_at(secret, now), now)
    assert step == totp.step_at(now)
    assert totp.verify(secret, totp.code_at(secret, now), now, last_step=step) is None
    assert totp.verify(secret, totp.code_at(secret, now - 30), now) == step - 1
    assert totp.verify(secret, totp.code_at(secret, now - 90), now) is None
    for junk in (None, 123456, "", "12345", "1234567", "abcdef", "１２３４５６"):
        assert totp.verify(secret, junk, now) is None
    uri = totp.provisioning_uri(secret, "anne")
    assert uri.startswith("otpauth://totp/Tovholder%3Aanne?secret=") and "issuer=Tovholder" in uri

"""Logins: expiry, logout that really ends them, lockout with its time, the second factor."""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx2 as httpx
import pytest
from argon2 import PasswordHasher
from sqlmodel import select
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from server.store import repo
from server.store.tables import AuditLog, LoginSession, User
from server.web import totp
from tests.security.sec_support import form_token, log_in, token_in
from tests.support import PASSWORD, World


def english(c: TestClient) -> TestClient:
    c.cookies.set("tv_lang", "en")
    return c


def browser_at(world: World, address: str) -> TestClient:
    """Another browser on the running app, at its own client address."""
    c = TestClient(world.fac.app, base_url="http://testserver", client=(address, 50000))
    c.portal = world.fac.portal
    return c


def _audits(world: World) -> list[AuditLog]:
    return [a for a in _rows(world, AuditLog) if isinstance(a, AuditLog)]


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


def test_five_wrong_passwords_lock_that_username_from_that_address_only(world: World) -> None:
    c = english(browser_at(world, "198.51.100.7"))
    for _ in range(4):
        r = c.post(
            "/login",
            data={"username": "anne", "password": "wrong", "csrf": form_token(c), "next": ""},
        )
        assert r.status_code == 401 and "Wrong username or password." in r.text
    r = c.post(
        "/login", data={"username": "Anne ", "password": "wrong", "csrf": form_token(c), "next": ""}
    )
    assert r.status_code == 429
    assert "Too many failed attempts. Try again in 15 minutes." in r.text
    # Locked: even the right password does not log in from here, and the time left is shown.
    r = c.post(
        "/login", data={"username": "anne", "password": PASSWORD, "csrf": form_token(c), "next": ""}
    )
    assert r.status_code == 429 and re.search(r"Try again in 1[45] minutes", r.text)
    assert "tv_login" not in c.cookies
    # A stranger's wrong passwords do not lock Anne out where she is.
    log_in(browser_at(world, "203.0.113.20"), "anne")
    assert [a.action for a in _audits(world) if a.action.startswith("login.")].count(
        "login.locked"
    ) == 1
    # Fifteen minutes later (the lock's own clock, as time passing would).
    lock = world.services.throttles.login_lock
    assert lock.left(("anne", "198.51.100.7"), time.monotonic() + 15 * 60 + 1) == 0
    log_in(c, "anne")


def test_a_lock_by_wrong_codes_locks_the_account_everywhere(world: World) -> None:
    async def lock() -> None:
        async with world.services.repo.sessions() as db:
            user = (await db.exec(select(User).where(User.username == "anne"))).one()
            user.locked_until = datetime.now(UTC) + timedelta(minutes=15)
            db.add(user)
            await db.commit()

    world.fac.portal.call(lock)
    c = english(browser_at(world, "203.0.113.21"))
    r = c.post(
        "/login", data={"username": "anne", "password": PASSWORD, "csrf": form_token(c), "next": ""}
    )
    assert r.status_code == 429 and re.search(r"Try again in 1[45] minutes", r.text)


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


def attempt(c: TestClient, username: str, password: str = "wrong") -> httpx.Response:
    return c.post(
        "/login",
        data={"username": username, "password": password, "csrf": form_token(c), "next": ""},
        follow_redirects=False,
    )


def test_login_attempts_are_limited_per_address(world: World) -> None:
    limit = world.services.throttles.login_address.limit
    c = english(browser_at(world, "198.51.100.8"))
    for i in range(limit):  # other usernames each time: no lock, no limit per username
        assert attempt(c, f"nobody{i}").status_code == 401
    r = attempt(c, "anne", PASSWORD)
    assert r.status_code == 429 and "Too many attempts. Wait a minute and try again." in r.text
    assert "tv_login" not in c.cookies
    assert attempt(c, "nobody-else").status_code == 429
    # Another address is not held up.
    log_in(browser_at(world, "198.51.100.9"), "anne")
    throttled = [a for a in _audits(world) if a.action == "login.throttled"]
    assert [(a.target, a.actor) for a in throttled] == [("address:198.51.100.8", "198.51.100.8")]


def test_password_checks_are_limited_per_username(world: World) -> None:
    world.fac.portal.call(world.services.repo.add_user, "bo", PASSWORD, "Bo")
    limit = world.services.throttles.login_user.limit
    for i in range(limit):  # from many addresses, so no address is locked or limited
        assert attempt(browser_at(world, f"192.0.2.{i + 1}"), "bo").status_code == 401
    c = english(browser_at(world, "192.0.2.200"))
    r = attempt(c, "bo", PASSWORD)
    assert r.status_code == 429 and "Too many attempts. Wait a minute and try again." in r.text
    assert "tv_login" not in c.cookies
    # Other usernames, from the same address, are checked as usual.
    assert attempt(c, "anne").status_code == 401
    log_in(c, "anne")
    throttled = [a for a in _audits(world) if a.action == "login.throttled"]
    assert [(a.target, a.actor) for a in throttled] == [("user:bo", "192.0.2.200")]


def test_guessing_elsewhere_does_not_keep_an_owner_out_where_they_logged_in_before(
    world: World,
) -> None:
    world.fac.portal.call(world.services.repo.add_user, "bo", PASSWORD, "Bo")
    office = english(browser_at(world, "203.0.113.5"))
    log_in(office, "bo")
    office.post("/logout", data={"csrf": form_token(office)})
    limit = world.services.throttles.login_user.limit
    for i in range(limit + 3):  # a stranger keeps "bo" at its limit from many addresses
        attempt(browser_at(world, f"192.0.2.{i + 1}"), "bo")
    assert attempt(english(browser_at(world, "192.0.2.250")), "bo", PASSWORD).status_code == 429
    log_in(english(browser_at(world, "203.0.113.5")), "bo")  # at the office, as before


class CountingHasher:
    """The suite's hasher, counting what the store asks of it."""

    def __init__(self, inner: PasswordHasher) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()

    def hash(self, password: str) -> str:
        self.calls["hash"] += 1
        return self.inner.hash(password)

    def verify(self, stored: str, password: str) -> bool:
        self.calls["verify"] += 1
        return self.inner.verify(stored, password)


def test_unknown_and_known_usernames_cost_one_check_each(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.fac.portal.call(world.services.passwords.dummy)  # made once, when the app opened
    counting = CountingHasher(repo._hasher)
    monkeypatch.setattr(repo, "_hasher", counting)
    c = english(browser_at(world, "198.51.100.10"))
    costs = []
    for username, password, status in [
        ("nobody", "x", 401),
        ("someone-else", "y", 401),
        ("anne", "x", 401),
        ("anne", PASSWORD, 303),
    ]:
        counting.calls.clear()
        assert attempt(c, username, password).status_code == status
        costs.append(dict(counting.calls))
    assert costs == [{"verify": 1}] * 4


def test_failed_logins_are_audited_with_the_address_and_no_password(world: World) -> None:
    c = english(browser_at(world, "198.51.100.11"))
    assert attempt(c, "anne", "XQZ-secret-1").status_code == 401
    assert attempt(c, "XQZ-maybe-a-password", "XQZ-secret-2").status_code == 401
    log_in(c, "anne")
    rows = _audits(world)
    anne = world.user.id
    failed = [(a.user_id, a.actor, a.target) for a in rows if a.action == "login.failed"]
    assert failed == [
        (anne, "198.51.100.11", "user:anne"),
        (None, "198.51.100.11", "user:(unknown)"),  # a mistyped password is not kept
    ]
    logins = [a for a in rows if a.action == "login" and a.actor.endswith("(198.51.100.11)")]
    assert [(a.user_id, a.actor) for a in logins] == [(anne, "anne (198.51.100.11)")]
    for row in rows:
        assert "XQZ" not in f"{row.actor} {row.target}"


def test_a_full_password_pool_answers_503_at_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from server.store.repo import Passwords  # (imported here: new with issue 14)

    svc = world.services
    small = Passwords(workers=1, waiting=0)
    monkeypatch.setattr(svc.repo, "passwords", small)
    gate = threading.Event()
    busy = world.fac.portal.start_task_soon(small.run, gate.wait, 10)
    try:
        deadline = time.monotonic() + 5
        while not small.full and time.monotonic() < deadline:
            time.sleep(0.01)
        c = english(browser_at(world, "198.51.100.12"))
        r = attempt(c, "anne", PASSWORD)
        assert r.status_code == 503 and r.headers["retry-after"] == "5"
        assert "Many people are logging in right now. Wait a moment and try again." in r.text
        gate.set()
        assert busy.result(timeout=10) is True
        assert attempt(c, "anne", PASSWORD).status_code == 303  # a place again
    finally:
        gate.set()
        small.close()


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

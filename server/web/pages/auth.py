"""Logging in and out, and the optional second factor (TOTP).

Password first; a user who has enrolled a TOTP key then gives the code from
their app before a login session exists. Logging out deletes the server-side
session, so the cookie is worthless afterwards, also on a screen that is still
open.

A password attempt passes, in order (the counters are the app's, in
server/web/throttle.py): the limit per address (30 a minute); the lock of this
username from this address (five wrong passwords in a row lock that pair for
15 minutes, with the time left shown: a stranger elsewhere cannot lock the
real user out); the limit per username (10 checks a minute from all addresses
together, so guessing from many addresses stays slow); then one argon2 check
in the app's bounded pool (`Passwords`), never on the event loop, so a flood
of logins cannot stall live meetings: when the pool is full the answer is 503
at once. Failed logins, locks and the first refusal of a limit are audited
with the client's address and, for a known username, the user; never a
password, and never a username that does not exist (people type their
password into the wrong field).
"""

from __future__ import annotations

import math
import time

from starlette.requests import Request
from starlette.responses import Response

from server.privacy.audit import record
from server.store.repo import PasswordsBusy
from server.store.tables import User
from server.web import totp
from server.web.auth import (
    Perm,
    check_second_factor,
    csrf_ok,
    current_user,
    enrol_from,
    enrol_token,
    login_cookie,
    pending_from,
    pending_login,
    requires,
    services,
    set_login_cookie,
    set_second_factor,
    start_login,
)
from server.web.pages.common import page, redirect

EXPIRED = "The form had expired. Please try again."
TOO_MANY = "Too many attempts. Wait a minute and try again."
BUSY = "Many people are logging in right now. Wait a moment and try again."
BUSY_RETRY_S = 5
UNKNOWN_USER = "user:(unknown)"  # what the audit log names a username that does not exist


def _next_url(value: object) -> str:
    url = value if isinstance(value, str) else ""
    return (
        url
        if url.startswith("/") and not url.startswith("//") and "\\" not in url
        else "/facilitator"
    )


async def login_form(request: Request) -> Response:
    if await current_user(request):
        return redirect(_next_url(request.query_params.get("next")))
    return await page(
        request, "auth/login.html", error=None, next=_next_url(request.query_params.get("next"))
    )


async def _locked(request: Request, minutes: str, nxt: str) -> Response:
    return await page(request, "auth/login.html", 429, error="locked", minutes=minutes, next=nxt)


def client_of(request: Request) -> str:
    """The client's address (uvicorn takes it from X-Forwarded-For behind a trusted proxy)."""
    return request.client.host if request.client else "?"


async def _audit_target(request: Request, username: str) -> tuple[str, User | None]:
    """The audit log's target for an attempt on `username`, and the user if it exists."""
    user = await services(request).repo.user_by_name(username)
    return (UNKNOWN_USER, None) if user is None else (f"user:{user.username}", user)


async def _refused(request: Request, username: str, address: str, nxt: str) -> Response | None:
    """The answer when an attempt may not be checked (a limit or a lock); else None."""
    svc = services(request)
    limits = svc.throttles
    now = time.monotonic()
    n = limits.login_address.attempt(address, now)
    if n > limits.login_address.limit:
        if n == limits.login_address.limit + 1:
            await record(svc.repo, "login.throttled", f"address:{address}", actor=address)
        return await page(request, "auth/login.html", 429, error=TOO_MANY, next=nxt)
    left = limits.login_lock.left((username, address), now)
    if left:
        return await _locked(request, str(math.ceil(left / 60)), nxt)
    if limits.login_known.known(username, address):
        return None  # its owner's place: a stranger's guessing elsewhere does not shut it
    n = limits.login_user.attempt(username, now)
    if n > limits.login_user.limit:
        if n == limits.login_user.limit + 1:
            target, user = await _audit_target(request, username)
            await record(svc.repo, "login.throttled", target, user=user, actor=address)
        return await page(request, "auth/login.html", 429, error=TOO_MANY, next=nxt)
    return None


async def login(request: Request) -> Response:
    form = await request.form()
    nxt = _next_url(form.get("next"))
    if not await csrf_ok(request, form.get("csrf")):
        return await page(request, "auth/login.html", 400, error=EXPIRED, next=nxt)
    username = str(form.get("username", ""))[:120]
    password = str(form.get("password", ""))[:1000]
    svc = services(request)
    address = client_of(request)
    name = username.strip().lower()
    refused = await _refused(request, name, address, nxt)
    if refused is not None:
        return refused
    try:
        result = await svc.repo.login(username, password, svc.settings.login_ttl_hours)
    except PasswordsBusy:
        busy = await page(request, "auth/login.html", 503, error=BUSY, next=nxt)
        busy.headers["Retry-After"] = str(BUSY_RETRY_S)
        return busy
    if isinstance(result, str):
        target, user = await _audit_target(request, name)
        if result.startswith("locked:"):  # the account's own lock (wrong codes)
            await record(svc.repo, "login.locked", target, user=user, actor=address)
            return await _locked(request, result.split(":", 1)[1], nxt)
        if svc.throttles.login_lock.fail((name, address), time.monotonic()):
            await record(svc.repo, "login.locked", target, user=user, actor=address)
            minutes = svc.throttles.login_lock.seconds / 60
            return await _locked(request, str(math.ceil(minutes)), nxt)
        await record(svc.repo, "login.failed", target, user=user, actor=address)
        return await page(
            request, "auth/login.html", 401, error="Wrong username or password.", next=nxt
        )
    token, user = result
    svc.throttles.login_lock.clear((name, address))
    svc.throttles.login_known.remember(name, address)
    if user.totp_secret:
        # The password was right; no login exists until the code is right too.
        await svc.repo.logout(token)
        return await page(
            request, "auth/totp.html", pending=pending_login(request, user, nxt), error=None
        )
    return await _logged_in(request, user, token, nxt)


async def _logged_in(request: Request, user: User, token: str, nxt: str) -> Response:
    actor = f"{user.username} ({client_of(request)})"
    await record(services(request).repo, "login", f"user:{user.username}", user=user, actor=actor)
    response = redirect(nxt)
    set_login_cookie(request, response, token)
    return response


async def login_totp(request: Request) -> Response:
    form = await request.form()
    pending = pending_from(request, form.get("pending"))
    if not await csrf_ok(request, form.get("csrf")) or pending is None:
        return await page(request, "auth/login.html", 400, error=EXPIRED, next="")
    user_id, nxt = pending
    result = await check_second_factor(request, user_id, form.get("code"))
    if isinstance(result, str):
        if result.startswith("locked:"):
            return await _locked(request, result.split(":", 1)[1], nxt)
        if result == "gone":
            return await page(request, "auth/login.html", 400, error=EXPIRED, next=nxt)
        return await page(
            request,
            "auth/totp.html",
            401,
            pending=form.get("pending"),
            error="That code is not right. Use the newest code in your app.",
        )
    token = await start_login(request, result)
    return await _logged_in(request, result, token, _next_url(nxt))


async def logout(request: Request) -> Response:
    form = await request.form()
    token = request.cookies.get(login_cookie(request))
    if token and await csrf_ok(request, form.get("csrf")):
        await services(request).repo.logout(token)
        services(request).screens.logged_out(token)  # its open screens close now
    response = redirect("/login")
    response.delete_cookie(login_cookie(request))
    return response


# -- enrolling the second factor --------------------------------------------------------


async def _enrol_page(
    request: Request, user: User, status: int = 200, error: str | None = None
) -> Response:
    secret = totp.new_secret()
    return await page(
        request,
        "auth/account_totp.html",
        status,
        enrolled=False,
        secret=totp.grouped(secret),
        qr=totp.qr_data_uri(totp.provisioning_uri(secret, user.username)),
        enrol=enrol_token(request, user, secret),
        error=error,
    )


@requires(Perm.SIGNED_IN)
async def account_totp(request: Request, user: User) -> Response:
    if user.totp_secret:
        return await page(request, "auth/account_totp.html", enrolled=True, error=None)
    return await _enrol_page(request, user)


@requires(Perm.SIGNED_IN)
async def enable_totp(request: Request, user: User) -> Response:
    form = await request.form()
    if user.totp_secret:
        return redirect("/account/totp")
    secret = enrol_from(request, user, form.get("enrol"))
    if secret is None:
        return await _enrol_page(request, user, 400, EXPIRED)
    step = totp.verify(secret, form.get("code"), time.time())
    if step is None:
        return await _enrol_page(
            request,
            user,
            400,
            "That code is not right. Scan the new QR code and give the code it shows.",
        )
    await set_second_factor(request, user, secret, step)
    await record(services(request).repo, "totp.enable", f"user:{user.username}", user=user)
    return await page(
        request, "auth/account_totp.html", enrolled=True, error=None, just_enabled=True
    )


@requires(Perm.SIGNED_IN)
async def disable_totp(request: Request, user: User) -> Response:
    form = await request.form()
    if not user.totp_secret:
        return redirect("/account/totp")
    result = await check_second_factor(request, user.id or 0, form.get("code"))
    if isinstance(result, str):
        message = (
            "Too many wrong codes. Try again later."
            if result.startswith("locked:")
            else "That code is not right. Use the newest code in your app."
        )
        return await page(request, "auth/account_totp.html", 400, enrolled=True, error=message)
    await set_second_factor(request, user, None)
    await record(services(request).repo, "totp.disable", f"user:{user.username}", user=user)
    return redirect("/account/totp")

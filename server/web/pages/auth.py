"""Logging in and out, and the optional second factor (TOTP).

Password first (argon2, lockout after five failures with the time left);
a user who has enrolled a TOTP key then gives the code from their app before
a login session exists. Logging out deletes the server-side session, so the
cookie is worthless afterwards, also on a screen that is still open.
"""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response

from server.privacy.audit import record
from server.store.tables import User
from server.web import totp
from server.web.auth import (
    LOGIN_COOKIE,
    Perm,
    check_second_factor,
    csrf_ok,
    current_user,
    enrol_from,
    enrol_token,
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


async def login(request: Request) -> Response:
    form = await request.form()
    nxt = _next_url(form.get("next"))
    if not await csrf_ok(request, form.get("csrf")):
        return await page(request, "auth/login.html", 400, error=EXPIRED, next=nxt)
    username = str(form.get("username", ""))[:120]
    password = str(form.get("password", ""))[:1000]
    svc = services(request)
    result = await svc.repo.login(username, password, svc.settings.login_ttl_hours)
    if isinstance(result, str):
        if result.startswith("locked:"):
            user = await svc.repo.user_by_name(username)
            if user is not None:
                await record(svc.repo, "login.locked", f"user:{user.username}", user=user)
            return await _locked(request, result.split(":", 1)[1], nxt)
        return await page(
            request, "auth/login.html", 401, error="Wrong username or password.", next=nxt
        )
    token, user = result
    if user.totp_secret:
        # The password was right; no login exists until the code is right too.
        await svc.repo.logout(token)
        return await page(
            request, "auth/totp.html", pending=pending_login(request, user, nxt), error=None
        )
    return await _logged_in(request, user, token, nxt)


async def _logged_in(request: Request, user: User, token: str, nxt: str) -> Response:
    await record(services(request).repo, "login", f"user:{user.username}", user=user)
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
    token = request.cookies.get(LOGIN_COOKIE)
    if token and await csrf_ok(request, form.get("csrf")):
        await services(request).repo.logout(token)
    response = redirect("/login")
    response.delete_cookie(LOGIN_COOKIE)
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

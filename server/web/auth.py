"""Login sessions (server-side, cookie holds a random token) and CSRF checks."""

from __future__ import annotations

import secrets
from typing import Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from server.store.tables import User
from server.web.services import Services

LOGIN_COOKIE = "tv_login"
CSRF_COOKIE = "tv_csrf"


def services(conn: HTTPConnection) -> Services:
    svc: Services = conn.app.state.services
    return svc


async def current_user(conn: HTTPConnection) -> User | None:
    cached: Any = conn.scope.get("tv_user", False)
    if cached is not False:
        return cached  # type: ignore[no-any-return]
    token = conn.cookies.get(LOGIN_COOKIE)
    user: User | None = None
    if token:
        found = await services(conn).repo.login_session(token)
        user = found[1] if found else None
    conn.scope["tv_user"] = user
    return user


def csrf_token(request: Request) -> str:
    """The double-submit token for this browser (set as a cookie when missing)."""
    token = request.cookies.get(CSRF_COOKIE) or request.scope.get("tv_new_csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.scope["tv_new_csrf"] = token
    return str(token)


def set_csrf_cookie(request: Request, response: Response) -> None:
    new = request.scope.get("tv_new_csrf")
    if new:
        response.set_cookie(
            CSRF_COOKIE,
            new,
            httponly=True,
            samesite="strict",
            secure=services(request).settings.secure_cookies,
        )


async def csrf_ok(request: Request, form_token: object) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not isinstance(form_token, str):
        return False
    return secrets.compare_digest(cookie.encode(), form_token.encode())


def set_login_cookie(request: Request, response: Response, token: str) -> None:
    svc = services(request)
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=int(svc.settings.login_ttl_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=svc.settings.secure_cookies,
    )

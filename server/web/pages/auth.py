"""Login and logout for facilitators, coordinators and administrators."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.web.auth import LOGIN_COOKIE, csrf_ok, current_user, services, set_login_cookie
from server.web.pages.common import page, redirect


def _next_url(value: object) -> str:
    url = value if isinstance(value, str) else ""
    return url if url.startswith("/") and not url.startswith("//") else "/facilitator"


async def login_form(request: Request) -> Response:
    if await current_user(request):
        return redirect(_next_url(request.query_params.get("next")))
    return await page(
        request, "auth/login.html", error=None, next=request.query_params.get("next", "")
    )


async def login(request: Request) -> Response:
    form = await request.form()
    nxt = _next_url(form.get("next"))
    if not await csrf_ok(request, form.get("csrf")):
        return await page(
            request,
            "auth/login.html",
            400,
            error="The form had expired. Please try again.",
            next=nxt,
        )
    username = str(form.get("username", ""))[:120]
    password = str(form.get("password", ""))[:1000]
    svc = services(request)
    result = await svc.repo.login(username, password, svc.settings.login_ttl_hours)
    if isinstance(result, str):
        if result.startswith("locked:"):
            minutes = result.split(":", 1)[1]
            return await page(
                request, "auth/login.html", 429, error="locked", minutes=minutes, next=nxt
            )
        return await page(
            request, "auth/login.html", 401, error="Wrong username or password.", next=nxt
        )
    token, _user = result
    response = redirect(nxt)
    set_login_cookie(request, response, token)
    return response


async def logout(request: Request) -> Response:
    form = await request.form()
    token = request.cookies.get(LOGIN_COOKIE)
    if token and await csrf_ok(request, form.get("csrf")):
        await services(request).repo.logout(token)
    response = redirect("/login")
    response.delete_cookie(LOGIN_COOKIE)
    return response

"""Helpers every page module uses: rendering with the right language, errors."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from server.i18n import pick
from server.web.auth import csrf_token, current_user, set_csrf_cookie
from server.web.templating import render


async def language(request: Request) -> str:
    wanted = request.query_params.get("lang") or request.cookies.get("tv_lang")
    user = await current_user(request)
    return pick(
        wanted, user.language if user else None, request.app.state.services.settings.language
    )


async def page(
    request: Request, template: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    lang = context.pop("lang", None) or await language(request)
    context.setdefault("csrf", csrf_token(request))
    context.setdefault("user", await current_user(request))
    html = render(lang, template, **context)
    response = HTMLResponse(html, status_code=status_code)
    set_csrf_cookie(request, response)
    return response


async def error(request: Request, status_code: int, message: str) -> HTMLResponse:
    return await page(request, "error.html", status_code=status_code, message=message)


def redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303)

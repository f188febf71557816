"""Helpers every page module uses: rendering with the right language, errors."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from server.i18n import LANGUAGES, pick
from server.web.auth import csrf_token, current_user, services, set_csrf_cookie
from server.web.templating import render

LANG_COOKIE = "tv_lang"  # a visitor's choice (server/web/pages/account.py sets it)
LANG_COOKIE_DAYS = 365


def chosen_language(request: Request) -> str | None:
    """What this browser asked for itself: ?lang= on this page, else its tv_lang cookie."""
    for wanted in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if wanted in LANGUAGES:
            return wanted
    return None


async def language(request: Request) -> str:
    """The language of a page that is not live: the browser's own choice, the user's
    (account page), the installation's."""
    user = await current_user(request)
    return pick(
        chosen_language(request),
        user.language if user else None,
        request.app.state.services.settings.language,
    )


def set_language_cookie(request: Request, response: Response, lang: str) -> None:
    response.set_cookie(
        LANG_COOKIE,
        lang,
        max_age=LANG_COOKIE_DAYS * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=services(request).settings.secure_cookies,
    )


def local_url(value: object, default: str = "/") -> str:
    """A path on this site to go back to (never another host)."""
    url = value if isinstance(value, str) else ""
    ok = url.startswith("/") and not url.startswith("//") and "\\" not in url
    return url if ok else default


def this_page(request: Request) -> str:
    """This page's path and query, for a form that comes back to it."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


async def page(
    request: Request, template: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    lang = context.pop("lang", None) or await language(request)
    context.setdefault("csrf", csrf_token(request))
    context.setdefault("user", await current_user(request))
    context.setdefault("this_page", this_page(request))
    html = render(lang, template, **context)
    response = HTMLResponse(html, status_code=status_code)
    set_csrf_cookie(request, response)
    return response


async def error(request: Request, status_code: int, message: str) -> HTMLResponse:
    return await page(request, "error.html", status_code=status_code, message=message)


def redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303)

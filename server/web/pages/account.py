"""Choosing the interface language: a user on their account page, a visitor by a switch.

A logged-in user's choice is `User.language`; it applies at once to every
page that is not live (their browser also gets the `tv_lang` cookie, so a
visitor's earlier choice on that browser does not hide it). A visitor without
an account (phone join page, login, consultation link) presses a language
button: a small form that posts with the CSRF token and sets `tv_lang`, so it
works without JavaScript and sticks. Live screens speak their session's
language (Session.language), whoever looks at them.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.i18n import LANGUAGES
from server.store.tables import User
from server.web.auth import Perm, csrf_ok, current_user, requires, services
from server.web.pages.common import error, local_url, page, redirect, set_language_cookie

NOT_OFFERED = "That language is not offered."


async def save_user_language(request: Request, user: User, lang: str) -> None:
    async with services(request).repo.sessions() as db:
        row = await db.get(User, user.id)
        if row is None:
            return
        row.language = lang
        db.add(row)
        await db.commit()
    request.scope.pop("tv_user", None)  # the next lookup reads the new choice


@requires(Perm.SIGNED_IN)
async def account(request: Request, user: User) -> Response:
    return await page(request, "auth/account.html", saved=request.query_params.get("saved") == "1")


@requires(Perm.SIGNED_IN)
async def save_account(request: Request, user: User) -> Response:
    form = await request.form()
    lang = str(form.get("language", ""))
    if lang not in LANGUAGES:
        return await error(request, 400, NOT_OFFERED)
    await save_user_language(request, user, lang)
    response = redirect("/account?saved=1")
    set_language_cookie(request, response, lang)
    return response


async def switch_language(request: Request) -> Response:
    """The visitor's language switch (POST, with the CSRF token): back to the same page."""
    form = await request.form()
    if not await csrf_ok(request, form.get("csrf")):
        return await error(request, 400, "The form had expired. Please try again.")
    lang = str(form.get("lang", ""))
    if lang not in LANGUAGES:
        return await error(request, 400, NOT_OFFERED)
    user = await current_user(request)
    if user is not None:
        await save_user_language(request, user, lang)
    response = redirect(local_url(form.get("next")))
    set_language_cookie(request, response, lang)
    return response

"""The facilitator's screens: the overview and the live session page."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from functools import wraps
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from server.i18n import LANGUAGES
from server.privacy.audit import record
from server.store.tables import Session, User
from server.web.auth import Perm, csrf_ok, current_user, permitted, requires, services
from server.web.pages.common import error, page, redirect
from server.web.render import context

Handler = Callable[[Request, User], Awaitable[Response]]


def login_required(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    @wraps(handler)
    async def wrapper(request: Request) -> Response:
        user = await current_user(request)
        if user is None:
            return redirect(f"/login?next={quote(request.url.path)}")
        return await handler(request, user)

    return wrapper


async def session_for(request: Request, user: User) -> Session | None:
    """The session in the path, if this user may run it."""
    svc = services(request)
    row = await svc.repo.session(request.path_params["session_id"])
    if row is None or await svc.repo.member_role(user, row.engagement_id) is None:
        return None
    return row


@requires(Perm.SIGNED_IN)
async def overview(request: Request, user: User) -> Response:
    svc = services(request)
    engagements = []
    for eng in await svc.repo.engagements_of(user):
        engagements.append((eng, await svc.repo.sessions_of(eng.id)))
    return await page(
        request,
        "facilitator/overview.html",
        engagements=engagements,
        scripts=list(svc.catalog.scripts.values()),
    )


@requires(Perm.SIGNED_IN)
async def create_session(request: Request, user: User) -> Response:
    svc = services(request)
    form = await request.form()
    if not await csrf_ok(request, form.get("csrf")):
        return await error(request, 400, "The form had expired. Please try again.")
    engagement_id = str(form.get("engagement_id", ""))
    script_id = str(form.get("script_id", ""))
    if not await permitted(request, user, Perm.RUN, engagement_id):
        return await error(request, 404, "That engagement does not exist.")
    if svc.catalog.get(script_id) is None:
        return await error(request, 400, "That script does not exist.")
    # The session's language ("" = the script's own): its live screens and documents.
    wanted = str(form.get("language", ""))
    if wanted and wanted not in LANGUAGES:
        return await error(request, 400, "That language is not offered.")
    row = await svc.create_session(engagement_id, script_id, user, wanted or None)
    return redirect(f"/facilitator/sessions/{row.id}")


@requires(Perm.RUN, audit="session.open")
async def live_session(request: Request, user: User) -> Response:
    svc = services(request)
    row = await session_for(request, user)
    live = await svc.live.get(row.id) if row else None
    room = await svc.room(row.id) if row else None
    if row is None or live is None or room is None:
        return await error(request, 404, "That session does not exist.")
    ctx = context(live.state, room, time.time())
    key = svc.projector_key(row.id, row.projector_generation)
    return await page(
        request,
        "facilitator/session.html",
        lang=room.lang,
        projector_url=f"/projector/{row.id}?key={key}",
        projector_revoked=request.query_params.get("projector") == "revoked",
        **ctx,
    )


@requires(Perm.RUN)
async def revoke_projector_links(request: Request, user: User) -> Response:
    """Every projector link of this session stops working, and open projectors close.

    For a link that went where it should not (a forwarded mail, a screen left on
    in another room). The facilitator's own "Open projector" then gives a new one.
    """
    svc = services(request)
    row = await session_for(request, user)
    if row is None or await svc.revoke_projector_links(row.id) is None:
        return await error(request, 404, "That session does not exist.")
    await record(
        svc.repo,
        "projector.revoke",
        f"session:{row.id}",
        user=user,
        engagement_id=row.engagement_id,
    )
    return redirect(f"/facilitator/sessions/{row.id}?projector=revoked")

"""The projector: read-only, follows the facilitator. Opened by a signed link."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response

from server.engine.state import SessionStatus
from server.privacy.audit import record
from server.web.auth import Perm, current_user, permitted, services
from server.web.pages.common import error, page
from server.web.render import context


async def projector(request: Request) -> Response:
    svc = services(request)
    session_id = request.path_params["session_id"]
    key = request.query_params.get("key", "")
    row = await svc.repo.session(session_id)
    user = await current_user(request)
    if not svc.projector_ok(session_id, key) or (
        row is not None and row.status == SessionStatus.ENDED
    ):
        # Without the signed link, or once the session has ended (the link then
        # goes dead): a member who may watch (and gets the link).
        if row is None or not await permitted(request, user, Perm.WATCH, row.engagement_id):
            return await error(request, 404, "That session does not exist.")
        key = svc.projector_key(session_id)
    if row is not None:
        await record(
            svc.repo,
            "session.watch",
            f"session:{session_id}",
            user=user,
            actor="" if user else "projector link",
            engagement_id=row.engagement_id,
        )
    live = await svc.live.get(session_id)
    room = await svc.room(session_id)
    if live is None or room is None:
        return await error(request, 404, "That session does not exist.")
    return await page(
        request,
        "projector/session.html",
        lang=room.lang,
        key=key,
        **context(live.state, room, time.time()),
    )

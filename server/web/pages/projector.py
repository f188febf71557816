"""The projector: read-only, follows the facilitator. Opened by a signed link."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response

from server.web.auth import current_user, services
from server.web.pages.common import error, page
from server.web.render import context


async def projector(request: Request) -> Response:
    svc = services(request)
    session_id = request.path_params["session_id"]
    key = request.query_params.get("key", "")
    if not svc.projector_ok(session_id, key):
        user = await current_user(request)
        row = await svc.repo.session(session_id)
        if (
            user is None
            or row is None
            or await svc.repo.member_role(user, row.engagement_id) is None
        ):
            return await error(request, 404, "That session does not exist.")
        key = svc.projector_key(session_id)
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

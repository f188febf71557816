"""The projector: read-only, follows the facilitator. Opened by a signed link.

The link's key is signed with the time it was made and the session's projector
generation: it works for 12 hours, until the facilitator revokes the session's
projector links, or until the session ends (server/web/services.py). Without a
working key, a member signed in who may watch this wall opens it (and gets a
fresh key): WATCH for most sessions, READ_CASES for a wall with case material
(`wall_permission`), so an observer does not see a case meeting's wall.
Opening a case wall is audited as reading case material (`cases.read`).
"""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response

from server.engine.state import SessionStatus
from server.privacy.audit import record
from server.web.auth import Perm, current_user, permitted, services, wall_permission
from server.web.pages.common import error, page
from server.web.render import context


async def projector(request: Request) -> Response:
    svc = services(request)
    session_id = request.path_params["session_id"]
    key = request.query_params.get("key", "")
    row = await svc.repo.session(session_id)
    live = await svc.live.get(session_id) if row is not None else None
    room = await svc.room(session_id) if row is not None else None
    if row is None or live is None or room is None:
        return await error(request, 404, "That session does not exist.")
    user = await current_user(request)
    need = wall_permission(live.state)
    if row.status == SessionStatus.ENDED or not await svc.projector_ok(session_id, key):
        # Without a working link, or once the session has ended (the link then
        # goes dead): a member who may watch this wall (and gets a fresh link).
        if not await permitted(request, user, need, row.engagement_id):
            return await error(request, 404, "That session does not exist.")
        key = svc.projector_key(session_id, row.projector_generation)
    await record(
        svc.repo,
        "cases.read" if need is Perm.READ_CASES else "session.watch",
        f"session:{session_id} projector",
        user=user,
        actor="" if user else "projector link",
        engagement_id=row.engagement_id,
    )
    return await page(
        request,
        "projector/session.html",
        lang=room.lang,
        key=key,
        **context(live.state, room, time.time()),
    )

"""The facilitator's door for case meetings: let a waiting person in, or not.

A plain form post (htmx posts it in the background; without JavaScript it
reloads the page), so the websocket protocol does not change. The people
panel on every facilitator screen updates from the events, as always.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from server.engine import Actor, ActorRole, CommandRejected, lobby
from server.engine.registry import Command
from server.live import Busy, Unavailable
from server.privacy.audit import record
from server.store.tables import User
from server.web.auth import Perm, requires, services
from server.web.pages.common import error, redirect

PARTICIPANT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@requires(Perm.RUN)
async def decide(request: Request, user: User) -> Response:
    svc = services(request)
    session_id = request.path_params["session_id"]
    form = await request.form()
    pid = str(form.get("participant_id", ""))
    decision = str(form.get("decision", ""))
    if decision == "admit_all":
        pid = ""
    elif not PARTICIPANT_ID.match(pid) or decision not in ("admit", "deny"):
        return await error(request, 400, "The message is malformed.")
    live = await svc.live.get(session_id)
    if live is None:
        return await error(request, 404, "That session does not exist.")
    actor = Actor(ActorRole.FACILITATOR, f"user:{user.id}")
    # "Let everyone in" admits each person waiting, one Admit and one audit line each,
    # as if the facilitator had pressed every "Let in" in turn.
    knocks: list[lobby.Knock] = []
    if pid:
        knock = lobby.knocks(live.state).get(pid)
        one = (
            lobby.Admit(actor=actor, participant_id=pid)
            if decision == "admit"
            else lobby.Deny(actor=actor, participant_id=pid)
        )
        outcome = await _submit(request, live, one)
        if isinstance(outcome, Response):
            return outcome
        if outcome and knock is not None:
            knocks = [knock]
    else:
        decision = "admit"
        for knock in lobby.waiting(live.state):
            outcome = await _submit(
                request, live, lobby.Admit(actor=actor, participant_id=knock.id)
            )
            if isinstance(outcome, Response):
                if outcome.status_code == 409:
                    continue  # this one could not come in (the room is full, it lapsed)
                return outcome
            if outcome:
                knocks.append(knock)
    row = await svc.repo.session(session_id)
    if row is not None:
        for knock in knocks:
            await record(
                svc.repo,
                f"participant.{decision}",
                f"session:{session_id} participant:{knock.name}",
                user=user,
                engagement_id=row.engagement_id,
            )
    if request.headers.get("hx-request"):
        return Response(status_code=204)
    return redirect(f"/facilitator/sessions/{session_id}")


async def _submit(request: Request, live: Any, command: Command) -> Response | bool:
    """The command's outcome: True if it changed something, False if it was a
    repeat, or the error page to answer with."""
    try:
        result = await live.submit(command)
    except (Busy, Unavailable):
        return await error(request, 503, "The server is busy. Please try again.")
    if isinstance(result, CommandRejected):
        return await error(request, 409, result.reason)
    return bool(result)

"""The websocket endpoint: who you are, what you may send, and your live view.

Each screen gets its full view on connect (so a reconnect is a resync), then
the fragments that change. Limits: messages over 64 KiB close with 1009, a
flood closes with 1008; a screen that cannot keep up is closed with 1013 and
reconnects by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from markupsafe import escape
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from server.engine import Actor, ActorRole, Command, CommandRejected
from server.engine.commands import AddCard, RemoveParticipant
from server.engine.reason import parts
from server.engine.state import SessionStatus
from server.engine.steps.poll import CastBallot
from server.live import Answer, Busy, LiveSession, Result, Unavailable
from server.privacy.audit import record
from server.realtime.hub import Client, DirectClient, QueuedClient
from server.realtime.sockets import sansio_protocol
from server.store.repo import token_hash
from server.store.tables import User
from server.web.auth import (
    Perm,
    carries_cases,
    current_user,
    login_cookie,
    permitted,
    still_permitted,
    wall_permission,
)
from server.web.messages import BadMessage, ack_text, parse, refusal_text
from server.web.pages.participant import cookie_name
from server.web.screens import Screen
from server.web.services import Services
from server.web.templating import render
from server.web.voters import voter_for, voter_key

log = logging.getLogger(__name__)

POLICY = 1008
TOO_BIG = 1009
RATE = 10.0  # messages per second, sustained
BURST = 40.0


class Bucket:
    def __init__(self, rate: float = RATE, burst: float = BURST) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.at = burst, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def origin_ok(ws: WebSocket, svc: Services) -> bool:
    origin = ws.headers.get("origin")
    if origin is None:
        return True  # not a browser; browsers always send one
    allowed = {*svc.settings.allowed_origins, svc.settings.base_url}
    host = ws.headers.get("host", "")
    parts = urlsplit(origin)
    return origin in allowed or (parts.netloc == host and parts.scheme in ("http", "https"))


async def _member(ws: WebSocket, svc: Services, session_id: str, perm: Perm) -> User | None:
    """The user signed in on this socket, if they may do `perm` in the session's engagement."""
    user = await current_user(ws)
    row = await svc.repo.session(session_id)
    if user is None or row is None or not await permitted(ws, user, perm, row.engagement_id):
        return None
    return user


async def who(
    ws: WebSocket, svc: Services, session_id: str, audience: str, live: LiveSession
) -> Actor | None:
    if audience == "facilitator":
        user = await _member(ws, svc, session_id, Perm.RUN)
        return None if user is None else Actor(ActorRole.FACILITATOR, f"user:{user.id}")
    if audience == "projector":
        # The signed link works for 12 hours, until it is revoked, or until the
        # session ends; after that, only for a member signed in who may watch this
        # wall (the wall of an ended session is the minutes' business, and a link
        # kept in a browser's history goes dead). A case wall needs READ_CASES.
        ok = await svc.projector_ok(session_id, ws.query_params.get("key"))
        if ok and live.state.status is SessionStatus.ENDED:
            ok = await _member(ws, svc, session_id, wall_permission(live.state)) is not None
        return Actor(ActorRole.VIEWER, "projector") if ok else None
    if audience == "participant":
        pid = svc.participant_from(session_id, ws.cookies.get(cookie_name(session_id)))
        if pid is not None and pid not in live.state.participants:
            # Joined through another worker a moment ago? Read the log once.
            with contextlib.suppress(Exception):
                await live.sync()
        if pid is None or pid not in live.state.participants:
            return None
        return Actor(ActorRole.PARTICIPANT, pid)
    return None


def flash(lang: str, message: str, kind: str = "error", ack: str | None = None) -> str:
    """A message for one screen, translated; a Reason's fields are filled in after.

    `ack` is the id the phone gave its ballot or card: the reply names the one it
    is about, so the phone stops resending it and shows it saved (static/js/app.js).
    """
    msgid, params = parts(message)
    if params:  # a refusal's fields (rare): rendered as it is, and not kept
        return render(
            lang, "_partials/flash.html", message=msgid, params=params, kind=kind, ack=ack
        )
    html = _plain_flash(lang, msgid, kind, ack is not None)
    return html if ack is None else html.replace(ACK_SLOT, str(escape(ack)))


ACK_SLOT = "tv-ack-slot"


@functools.lru_cache(maxsize=256)
def _plain_flash(lang: str, msgid: str, kind: str, with_ack: bool) -> str:
    """A flash without fields, rendered once per language: a burst of a
    thousand cards is answered with the same "saved" a thousand times."""
    return render(
        lang,
        "_partials/flash.html",
        message=msgid,
        params={},
        kind=kind,
        ack=ACK_SLOT if with_ack else None,
    )


def _ack(command: Command) -> str | None:
    """The id the reply names: a ballot's, or a card's (the phone shows the card
    as waiting until then, static/js/app.js)."""
    if isinstance(command, CastBallot):
        return command.ballot_id
    return command.card_id if isinstance(command, AddCard) else None


async def endpoint(ws: WebSocket) -> None:
    svc: Services = ws.app.state.services
    session_id = ws.path_params["session_id"]
    audience = ws.path_params["audience"]
    if not origin_ok(ws, svc):
        await ws.close(code=POLICY)
        return
    live = await svc.live.get(session_id)
    room = await svc.room(session_id)
    actor = await who(ws, svc, session_id, audience, live) if live and room else None
    if live is None or room is None or actor is None:
        await ws.close(code=POLICY)
        return
    await ws.accept()
    pid = actor.id if actor.role is ActorRole.PARTICIPANT else None
    # Under uvicorn's sansio protocol frames go straight to the socket (no task,
    # no queue); elsewhere a bounded queue and a writer task.
    protocol = sansio_protocol(ws._receive)
    client: Client
    writer: asyncio.Task[None] | None = None
    if protocol is not None:
        client = DirectClient(session_id, audience, pid, protocol, _closer(ws))
    else:
        queued = QueuedClient(session_id, audience, pid, svc.settings.ws_queue_size)
        writer = asyncio.create_task(queued.run(ws.send_text, _closer(ws)))
        client = queued
    screen = _screen(ws, svc, live, actor, client, room.lang)
    # Bounded sockets (server/realtime/hub.py): a participant's oldest screen gives
    # way to a new one (told why); an address with too many open is refused.
    address = ws.client.host if ws.client else None
    replaced = flash(
        room.lang,
        "This session is open in too many windows, so this one was closed. Reload to use it here.",
    )
    if not svc.hub.join(client, address, replaced):
        with contextlib.suppress(Exception):
            await ws.send_text(
                flash(
                    room.lang, "Too many screens are connected from this network. Try again later."
                )
            )
            await ws.close(code=POLICY, reason="too many connections from this address")
        if writer is not None:
            writer.cancel()
        return
    svc.screens.add(screen)
    try:
        if audience == "projector" and carries_cases(live.state):
            # Streaming a case wall is reading case material: audited as such.
            await _audit(ws, svc, session_id, "cases.read", "projector", "projector link")
        svc.broadcaster.snapshot(client, live.state)
        await _read(ws, svc, live, actor, client, room.lang)
    finally:
        svc.screens.remove(screen)
        svc.hub.leave(client)
        svc.broadcaster.forget(client)
        if writer is not None:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer


async def _audit(
    ws: WebSocket, svc: Services, session_id: str, action: str, target: str, anonymous: str
) -> None:
    """An audit entry for this screen's session, by its login (else `anonymous`)."""
    user = await current_user(ws)
    row = await svc.repo.session(session_id)
    await record(
        svc.repo,
        action,
        f"session:{session_id} {target}",
        user=user,
        actor="" if user else anonymous,
        engagement_id=row.engagement_id if row else None,
    )


def _screen(
    ws: WebSocket, svc: Services, live: LiveSession, actor: Actor, client: Client, lang: str
) -> Screen:
    """This screen, with the check that asks again whether it may stay open
    (server/web/screens.py sweeps them)."""
    session_id = live.session_id
    if actor.role is ActorRole.FACILITATOR:
        token = ws.cookies.get(login_cookie(ws))

        async def signed_in() -> bool:  # the login still exists, with RUN here
            return await still_permitted(ws, actor.id, Perm.RUN, session_id)

        return Screen(
            client,
            signed_in,
            login=token_hash(token) if token else None,
            user_id=int(actor.id.removeprefix("user:")),
            goodbye=flash(lang, "You are no longer logged in. Log in again to go on."),
        )
    if actor.role is ActorRole.PARTICIPANT:

        async def still_in() -> bool:  # not removed (here or on another worker)
            current = svc.live.sessions.get(session_id)
            return current is None or actor.id in current.state.participants

        return Screen(
            client,
            still_in,
            goodbye=flash(lang, "The facilitator has removed you from this session."),
        )
    key = ws.query_params.get("key")

    async def link_works() -> bool:  # not expired, not revoked
        return await svc.projector_ok(session_id, key)

    return Screen(client, link_works)


def _closer(ws: WebSocket) -> Callable[[int], Awaitable[None]]:
    async def close(code: int) -> None:
        await _close(ws, code)

    return close


async def _read(
    ws: WebSocket, svc: Services, live: LiveSession, actor: Actor, client: Client, lang: str
) -> None:
    bucket = Bucket()
    limit = svc.settings.ws_max_message
    key = voter_key(svc.settings.secret_key)

    def voter(poll_id: str) -> str:  # who this screen votes as (pseudonym if anonymous)
        return voter_for(live.state, key, poll_id, actor.id)

    while True:
        try:
            message = await ws.receive()
        except (WebSocketDisconnect, RuntimeError):
            return
        if message["type"] == "websocket.disconnect":
            return
        raw = message.get("text") if message.get("text") is not None else message.get("bytes")
        if raw is None:
            continue
        if len(raw) > limit:
            await _close(ws, TOO_BIG)
            return
        if not bucket.take():
            await _close(ws, POLICY)
            return
        try:
            command = parse(raw, actor, voter=voter)
        except BadMessage as exc:
            await live.flush()  # what earlier commits caused goes first
            svc.broadcaster.flush(live.session_id)
            client.offer(flash(lang, str(exc)))
            continue
        if actor.role is ActorRole.FACILITATOR and not await asyncio.shield(
            # shielded: a screen closing mid-query must not cancel a database call
            asyncio.ensure_future(still_permitted(ws, actor.id, Perm.RUN, live.session_id))
        ):
            # Logged out (or the role was taken away) while this screen was open.
            with contextlib.suppress(Exception):
                await ws.send_text(
                    flash(lang, "You are no longer logged in. Log in again to go on.")
                )
            await _close(ws, POLICY)
            return
        removing = (
            live.state.participants.get(command.participant_id)
            if isinstance(command, RemoveParticipant)
            else None
        )
        try:
            result = await live.submit(command, _answer(client, actor, command, lang))
            if removing is not None and isinstance(result, list) and result:
                await _removed(ws, svc, live.session_id, actor, removing.id, removing.name)
        except (Busy, Unavailable):
            client.offer(
                flash(
                    lang,
                    "The server is busy. Your last action was not saved; please try again.",
                    ack=_ack(command),
                )
            )


async def _removed(
    ws: WebSocket,
    svc: Services,
    session_id: str,
    actor: Actor,
    participant_id: str,
    name: str | None,
) -> None:
    """The facilitator removed a participant: the audit log says who removed whom (by
    the name they gave, as for admissions; an anonymous phone by its id), and their
    phones here close now (on other workers at the next sweep)."""
    try:
        target = f"participant:{name or participant_id}"
        await _audit(ws, svc, session_id, "participant.remove", target, actor.id)
    finally:
        svc.screens.close_participant(session_id, participant_id)


def _answer(client: Client, actor: Actor, command: Command, lang: str) -> Answer:
    """The reply to a command, sent as soon as it is committed (before the
    fragments it caused, which follow at once)."""

    def answer(result: Result) -> None:
        if isinstance(result, CommandRejected):
            client.offer(flash(lang, refusal_text(command, result), ack=_ack(command)))
            return
        masked = sum(getattr(e, "masked", 0) for e in result)
        if masked:
            client.offer(
                flash(
                    lang,
                    "A CPR number was removed from your text before it was saved.",
                    "warning",
                    ack=_ack(command),
                )
            )
        elif actor.role is ActorRole.PARTICIPANT:
            # Also for a resend the log already has (no new events): it is saved.
            client.offer(flash(lang, ack_text(command), "ok", ack=_ack(command)))

    return answer


async def _close(ws: WebSocket, code: int) -> None:
    if ws.application_state is not WebSocketState.DISCONNECTED:
        with contextlib.suppress(Exception):
            await ws.close(code=code)

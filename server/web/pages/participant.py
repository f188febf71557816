"""The participant's phone: join with a code (or QR), then follow live."""

from __future__ import annotations

import io
import ipaddress
import secrets
import time

import segno
from starlette.requests import Request
from starlette.responses import Response

from server.engagement.common import N_
from server.engine import Actor, ActorRole, CommandRejected, lobby
from server.engine.commands import Join
from server.engine.state import SessionStatus
from server.store.repo import normalise_code
from server.web.auth import csrf_ok, services
from server.web.pages.common import chosen_language, error, page, redirect
from server.web.render import context, render_private

COOKIE_PREFIX = "tv_p_"
FORM_FIELDS = 10


def cookie_name(session_id: str) -> str:
    return COOKIE_PREFIX + session_id


NO_SUCH_CODE = "No session has that code. Check the code on the screen."
TOO_MANY = "Too many attempts. Wait a minute and try again."
ENDED = "This session has ended."
BUSY_ADDRESS = N_(
    "Very many phones joined from this network just now. Wait a minute and try again."
)
BUSY_SESSION = N_(
    "Very many people are joining this session just now. Wait a minute and try again."
)


def client_of(request: Request) -> str:
    return request.client.host if request.client else "?"


def network_of(address: str) -> str:
    """The address a join counts against: an IPv6 client by its /64 (one line, one
    household or one script may hold the whole of it), anyone else by their address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def newcomers_refused(request: Request, session_id: str) -> str | None:
    """Counts a newcomer to the session; why they must wait, if too many came lately.

    Right codes count here (wrong ones in `throttles.join`): per network, generous
    enough for a venue's wifi, and per session, whatever the addresses.
    """
    throttles = services(request).throttles
    now = time.monotonic()
    if not throttles.joins.allow(network_of(client_of(request)), now):
        return BUSY_ADDRESS
    if not throttles.session_joins.allow(session_id, now):
        return BUSY_SESSION
    return None


def looked_up(request: Request, found: bool) -> None:
    """Counts a code in a link that does not exist, against guessing by GET."""
    if not found:
        services(request).throttles.missing_code.allow(client_of(request), time.monotonic())


async def front(request: Request) -> Response:
    return await page(
        request, "participant/join.html", code=request.query_params.get("code", ""), error=None
    )


async def join(request: Request) -> Response:
    # Two text fields and a token; no file is ever taken here.
    form = await request.form(max_files=0, max_fields=FORM_FIELDS)
    code = normalise_code(str(form.get("code", "")))
    name = str(form.get("name", ""))[:200]
    svc = services(request)
    client = client_of(request)
    # Only wrong codes count (as for links): a room's phones often share one
    # address (the venue's wifi), and twenty of them joining at once is no guessing.
    attempts = svc.throttles.join
    if attempts.blocked(client, time.monotonic()):
        return await page(request, "participant/join.html", 429, code=code, error=TOO_MANY)
    if not await csrf_ok(request, form.get("csrf")):
        return await page(
            request,
            "participant/join.html",
            400,
            code=code,
            error="The form had expired. Please try again.",
        )
    row = await svc.repo.session_by_code(code) if code else None
    if row is None or row.status == "ended":
        attempts.allow(client, time.monotonic())
        return await page(
            request,
            "participant/join.html",
            404,
            code=code,
            error="No session has that code. Check the code on the screen.",
        )
    live = await svc.live.get(row.id)
    if live is None:
        attempts.allow(client, time.monotonic())
        return await page(request, "participant/join.html", 404, code=code, error=NO_SUCH_CODE)
    if live.state.status is SessionStatus.ENDED:
        return await page(request, "participant/join.html", 410, code="", error=ENDED)
    pid = svc.participant_from(
        row.id, request.cookies.get(cookie_name(row.id))
    ) or secrets.token_hex(8)
    actor = Actor(ActorRole.PARTICIPANT, pid)
    # Only a newcomer counts (not a rename, not asking again at the door).
    newcomer = lobby.status(live.state, pid) == "none"
    if newcomer and (busy := newcomers_refused(request, row.id)):
        return await page(request, "participant/join.html", 429, code=code, error=busy)
    if lobby.required(live.state.script) and pid not in live.state.participants:
        # A case meeting: ask at the door; the facilitator lets people in.
        result = await live.submit(lobby.AskToJoin(actor=actor, name=name))
    else:
        result = await live.submit(Join(actor=actor, name=name or None))
    if isinstance(result, CommandRejected):
        return await page(request, "participant/join.html", 400, code=code, error=result.reason)
    response = redirect(f"/j/{row.join_code}")
    response.set_cookie(
        cookie_name(row.id),
        svc.participant_token(row.id, pid),
        max_age=7 * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=svc.settings.secure_cookies,
    )
    return response


async def session_page(request: Request) -> Response:
    svc = services(request)
    code = normalise_code(request.path_params["code"])
    if services(request).throttles.missing_code.blocked(client_of(request), time.monotonic()):
        return await page(request, "participant/join.html", 429, code="", error=TOO_MANY)
    row = await svc.repo.session_by_code(code)
    looked_up(request, row is not None)
    if row is None:
        return await page(request, "participant/join.html", 404, code="", error=NO_SUCH_CODE)
    pid = svc.participant_from(row.id, request.cookies.get(cookie_name(row.id)))
    live = await svc.live.get(row.id)
    room = await svc.room(row.id)
    if live is None or room is None:
        return await error(request, 404, "That session does not exist.")
    if pid is None or pid not in live.state.participants:
        at_door = lobby.status(live.state, pid) if pid else "none"
        if at_door in ("waiting", "denied") or live.state.status is SessionStatus.ENDED:
            response = await page(
                request,
                "participant/lobby.html",
                lang=room.lang,
                room=room,
                at_door="ended" if live.state.status is SessionStatus.ENDED else at_door,
                person=lobby.knocks(live.state)[pid].name if pid and at_door != "none" else "",
            )
            # No Refresh header: reloading every few seconds restarts a screen reader
            # (WCAG 2.2.1). app.js asks in the background until the door opens, and
            # the page has a "Check again" link without scripts.
            return response
        return await page(
            request,
            "participant/join.html",
            code=row.join_code,
            error=None,
            # The session's language, unless this phone chose its own with the switch.
            lang=chosen_language(request) or room.lang,
            lobby=lobby.required(live.state.script),
        )
    now = time.time()
    return await page(
        request,
        "participant/session.html",
        lang=room.lang,
        private_html=render_private(live.state, room, pid, now),
        **context(live.state, room, now),
    )


async def qr(request: Request) -> Response:
    svc = services(request)
    code = normalise_code(request.path_params["code"])
    if services(request).throttles.missing_code.blocked(client_of(request), time.monotonic()):
        return Response(status_code=429)
    row = await svc.repo.session_by_code(code)
    looked_up(request, row is not None)
    if row is None:
        return Response(status_code=404)
    buf = io.BytesIO()
    segno.make(svc.join_url(row.join_code), error="m").save(
        buf, kind="svg", scale=8, border=2, dark="#111", light="#fff"
    )
    return Response(
        buf.getvalue(),
        media_type="image/svg+xml",
        headers={"Cache-Control": "private, max-age=3600"},
    )

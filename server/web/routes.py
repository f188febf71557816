"""The whole route table, as data."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from server.settings import Settings
from server.web import ws
from server.web.pages import auth, coordinator, facilitator, participant, projector


async def healthz(request: Request) -> Response:
    return JSONResponse({"ok": True})


def routes(settings: Settings) -> list[BaseRoute]:
    return [
        Route("/", participant.front, name="front"),
        Route("/healthz", healthz, name="healthz"),
        Route("/join", participant.join, methods=["POST"], name="join"),
        Route("/j/{code}", participant.session_page, name="participant"),
        Route("/j/{code}/qr.svg", participant.qr, name="qr"),
        Route("/login", auth.login_form, name="login_form"),
        Route("/login", auth.login, methods=["POST"], name="login"),
        Route("/logout", auth.logout, methods=["POST"], name="logout"),
        Route("/facilitator", facilitator.overview, name="overview"),
        Route(
            "/facilitator/sessions",
            facilitator.create_session,
            methods=["POST"],
            name="create_session",
        ),
        Route("/facilitator/sessions/{session_id}", facilitator.live_session, name="facilitator"),
        # The coordinator page, each session's minutes, their downloads and wording edits.
        *coordinator.routes(),
        Route("/projector/{session_id}", projector.projector, name="projector"),
        WebSocketRoute("/ws/{session_id}/{audience}", ws.endpoint, name="ws"),
        Mount(
            "/static",
            StaticFiles(directory=str(settings.static_dir), check_dir=False),
            name="static",
        ),
    ]

"""The whole route table, as data."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

from server.settings import Settings
from server.web import ws
from server.web.assets import Assets
from server.web.pages import (
    account,
    admin,
    auth,
    coordinator,
    engagement,
    facilitator,
    lobby,
    participant,
    projector,
)


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
        # Languages: a user's choice on their account page, a visitor's switch (tv_lang cookie).
        Route("/account", account.account, name="account"),
        Route("/account", account.save_account, methods=["POST"], name="save_account"),
        Route("/language", account.switch_language, methods=["POST"], name="switch_language"),
        Route("/facilitator", facilitator.overview, name="overview"),
        Route(
            "/facilitator/sessions",
            facilitator.create_session,
            methods=["POST"],
            name="create_session",
        ),
        Route("/facilitator/sessions/{session_id}", facilitator.live_session, name="facilitator"),
        Route(
            "/facilitator/sessions/{session_id}/projector/revoke",
            facilitator.revoke_projector_links,
            methods=["POST"],
            name="revoke_projector_links",
        ),
        # The coordinator page, each session's minutes, their downloads and wording edits.
        *coordinator.routes(),
        # The engagement: timeline, case register, focus areas, consultation (/h/...), plan.
        *engagement.routes(),
        Route("/projector/{session_id}", projector.projector, name="projector"),
        # Security and privacy: second factor, the case-meeting lobby, administration
        # (audit log, export, deletion). Who may use each: tests/security/test_authz_matrix.py.
        Route("/login/totp", auth.login_totp, methods=["POST"], name="login_totp"),
        Route("/account/totp", auth.account_totp, name="account_totp"),
        Route("/account/totp", auth.enable_totp, methods=["POST"], name="enable_totp"),
        Route("/account/totp/disable", auth.disable_totp, methods=["POST"], name="disable_totp"),
        Route(
            "/facilitator/sessions/{session_id}/lobby",
            lobby.decide,
            methods=["POST"],
            name="lobby_decide",
        ),
        Route("/admin", admin.index, name="admin"),
        Route("/admin/audit", admin.audit_log, name="audit_log"),
        Route("/admin/audit.csv", admin.audit_csv, name="audit_csv"),
        Route(
            "/admin/engagements/{engagement_id}/export",
            admin.export,
            methods=["POST"],
            name="export_engagement",
        ),
        Route(
            "/admin/engagements/{engagement_id}/delete",
            admin.delete_form,
            name="delete_engagement_form",
        ),
        Route(
            "/admin/engagements/{engagement_id}/delete",
            admin.delete,
            methods=["POST"],
            name="delete_engagement",
        ),
        WebSocketRoute("/ws/{session_id}/{audience}", ws.endpoint, name="ws"),
        # Compressed once per app, immutable by their ?v= hash (server/web/assets.py).
        Mount("/static", Assets(settings.static_dir), name="static"),
    ]

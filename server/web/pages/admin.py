"""Administration: the audit log, and exporting and deleting engagements.

The overview and the audit log are for administrators (`User.is_admin`).
Exporting needs EXPORT and deleting DELETE in the engagement itself (see
server/web/auth.py), so an engagement's coordinator can export it too.
Every export and deletion is written to the audit log, which is kept.
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime

from sqlmodel import col, select
from starlette.requests import Request
from starlette.responses import Response

from server.privacy import audit, retention
from server.store.tables import Engagement, User
from server.web.auth import Perm, requires, services
from server.web.pages.common import error, page
from server.web.services import Services

CLOSED = 1008  # a deleted session's screens are closed for good (no reconnect)


def _ascii_slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return slug[:60] or "engagement"


@requires(Perm.ADMIN)
async def index(request: Request, user: User) -> Response:
    svc = services(request)
    async with svc.repo.sessions() as db:
        engagements = list(
            (await db.exec(select(Engagement).order_by(col(Engagement.created_at)))).all()
        )
    stale = await retention.stale_engagements(svc.engine, svc.settings.retention_days)
    return await page(
        request,
        "admin/index.html",
        engagements=engagements,
        stale={s.engagement_id: s for s in stale},
        retention_days=svc.settings.retention_days,
    )


def _filters(request: Request) -> tuple[str | None, str | None, int | None]:
    q = request.query_params
    engagement_id = q.get("engagement") or None
    action = q.get("action") or None
    before_raw = q.get("before", "")
    before = (
        int(before_raw)
        if before_raw.isascii() and before_raw.isdigit() and len(before_raw) < 12
        else None
    )
    if engagement_id is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", engagement_id):
        engagement_id = None
    if action is not None and action not in audit.ACTIONS:
        action = None
    return engagement_id, action, before


@requires(Perm.ADMIN)
async def audit_log(request: Request, user: User) -> Response:
    svc = services(request)
    engagement_id, action, before = _filters(request)
    rows = await audit.entries(svc.repo, engagement_id=engagement_id, action=action, before=before)
    await audit.record(
        svc.repo,
        "audit.read",
        f"engagement:{engagement_id or '*'} action:{action or '*'}",
        user=user,
    )
    return await page(
        request,
        "admin/audit.html",
        rows=rows,
        actions=audit.ACTIONS,
        engagement_filter=engagement_id or "",
        action_filter=action or "",
        more=rows[-1].id if len(rows) == audit.PAGE_SIZE else None,
    )


@requires(Perm.ADMIN)
async def audit_csv(request: Request, user: User) -> Response:
    svc = services(request)
    engagement_id, action, _ = _filters(request)
    rows = await audit.entries(svc.repo, engagement_id=engagement_id, action=action, limit=None)
    await audit.record(
        svc.repo,
        "audit.export",
        f"engagement:{engagement_id or '*'} action:{action or '*'} rows:{len(rows)}",
        user=user,
    )
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Response(
        audit.to_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="tovholder-audit-{stamp}.csv"',
            "Cache-Control": "no-store",
        },
    )


@requires(Perm.EXPORT)
async def export(request: Request, user: User) -> Response:
    svc = services(request)
    engagement_id = request.path_params["engagement_id"]
    result = await retention.export_engagement(svc.engine, engagement_id)
    if result is None:
        return await error(request, 404, "That engagement does not exist.")
    await audit.record(
        svc.repo,
        "engagement.export",
        f"{result.title} ({retention.describe(result.counts)})",
        user=user,
        engagement_id=engagement_id,
    )
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    name = f"tovholder-{_ascii_slug(result.title)}-{stamp}.zip"
    return Response(
        result.archive,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@requires(Perm.DELETE)
async def delete_form(request: Request, user: User) -> Response:
    svc = services(request)
    eng = await svc.repo.engagement(request.path_params["engagement_id"])
    if eng is None:
        return await error(request, 404, "That engagement does not exist.")
    sessions = await svc.repo.sessions_of(eng.id)
    return await page(request, "admin/delete.html", eng=eng, sessions=sessions, error=None)


@requires(Perm.DELETE)
async def delete(request: Request, user: User) -> Response:
    svc = services(request)
    eng = await svc.repo.engagement(request.path_params["engagement_id"])
    if eng is None:
        return await error(request, 404, "That engagement does not exist.")
    form = await request.form()
    typed = " ".join(str(form.get("confirm", "")).split())
    if typed != " ".join(eng.title.split()):
        sessions = await svc.repo.sessions_of(eng.id)
        return await page(
            request,
            "admin/delete.html",
            400,
            eng=eng,
            sessions=sessions,
            error="Type the engagement's title exactly to confirm.",
        )
    deleted = await retention.delete_engagement(svc.engine, eng.id)
    if deleted is None:
        return await error(request, 404, "That engagement does not exist.")
    await forget_sessions(svc, deleted.session_ids)
    await audit.record(
        svc.repo,
        "engagement.delete",
        f"{deleted.title} ({retention.describe(deleted.counts)})",
        user=user,
        engagement_id=eng.id,
    )
    return await page(request, "admin/deleted.html", deleted=deleted)


async def forget_sessions(svc: Services, session_ids: tuple[str, ...]) -> None:
    """Drop deleted sessions from memory and close their screens."""
    for sid in session_ids:
        live = svc.live.sessions.pop(sid, None)
        if live is not None:
            with contextlib.suppress(Exception):
                await live.stop()
        for client in svc.hub.clients(sid):
            with contextlib.suppress(Exception):
                client.close(CLOSED)
        svc.rooms.pop(sid, None)

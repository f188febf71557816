"""The coordinator's pages: every session of their engagements, and each session's documents.

``GET /coordinator`` lists the engagements the user belongs to and their
sessions. ``GET /facilitator/sessions/{id}/minutes`` previews the minutes
with every download; each download has its own path next to it
(``.../minutes.pdf``, ``.../decisions.csv``, ...; ``.../minutes.json`` is the
page's JSON twin). Only members of the session's engagement see any of it
(anyone else gets a 404, as if it did not exist), and every download is
written to the audit log as ``export`` with the session id and format only. Who may read and reword them: server/web/auth.py (READ_CASES, EDIT_MINUTES).

Decisions and actions can be reworded here, also after the session ended:
the edit goes through the live session as EditDecision / EditAction, so it is
itself an event in the log and the minutes show it as edited.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from markupsafe import Markup
from sqlmodel import col, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.engine import Actor, ActorRole, CommandRejected, SessionState
from server.engine.commands import EditAction, EditDecision
from server.engine.registry import Command, Event
from server.live import Busy, Unavailable
from server.minutes import fmt
from server.minutes.build import (
    build_minutes,
    build_plan,
    editable_actions,
    editable_decisions,
    fold,
    has_journal_note,
    prioritisation,
)
from server.minutes.charts import bar_chart_svg
from server.minutes.csv import actions_csv, decisions_csv, to_json
from server.minutes.ics import render_ics
from server.minutes.journal_note import render_journal_note
from server.minutes.labels import Labels, labels_for
from server.minutes.markdown import render_markdown
from server.minutes.model import DevelopmentPlan, Horizon, Minutes
from server.minutes.view import build_view
from server.privacy.audit import record as record_audit
from server.store.tables import Engagement, Session, User
from server.store.tables import Event as EventRow
from server.web.auth import Perm, csrf_ok, requires, services
from server.web.pages.common import error, language, page, redirect

SESSION_PATH = "/facilitator/sessions/{session_id}"


# -- what a session's documents are made from --------------------------------------------------


@dataclass(frozen=True)
class Record:
    """A session as its documents see it: the row, its log folded, minutes and plan."""

    row: Session
    engagement: Engagement | None
    state: SessionState | None
    minutes: Minutes
    plan: DevelopmentPlan | None

    @property
    def journal_note(self) -> bool:
        return self.state is not None and has_journal_note(self.state)


def _build(row: Session, engagement: Engagement | None, events: list[Event], by: str) -> Record:
    """CPU work (replaying the log), run off the event loop."""
    eng_title = engagement.title if engagement else None
    minutes = build_minutes(
        events,
        title=row.title,
        language=row.language,
        engagement_title=eng_title,
        facilitator=by or None,
    )
    plan = build_plan(events, language=row.language, engagement_title=eng_title)
    return Record(row, engagement, fold(events), minutes, plan)


async def _record(request: Request, user: User) -> Record | None:
    """The session in the path, if this user is a member of its engagement."""
    svc = services(request)
    row = await svc.repo.session(request.path_params["session_id"])
    if row is None or await svc.repo.member_role(user, row.engagement_id) is None:
        return None
    engagement = await svc.repo.engagement(row.engagement_id)
    events = await svc.eventlog.load(row.id)
    by = ""
    if row.created_by is not None:
        creator = await svc.repo.user(row.created_by)
        by = creator.display_name if creator else ""
    return await run_in_threadpool(_build, row, engagement, events, by)


# -- file names -----------------------------------------------------------------------------------

_ASCII = str.maketrans(
    {"æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe", "Å": "Aa", "ß": "ss"}
)


def slug(text: str, *, ascii_only: bool) -> str:
    """A file-name part: lower case, words joined by '-'; æøå kept unless ascii_only."""
    text = unicodedata.normalize("NFKC", text).lower()
    if ascii_only:
        text = unicodedata.normalize("NFKD", text.translate(_ASCII))
        text = text.encode("ascii", "ignore").decode("ascii")
    words = re.findall(r"[^\W_]+", text)
    return "-".join(words)[:80].strip("-")


def content_disposition(name: str, *, inline: bool = False) -> str:
    """RFC 6266: a safe ASCII filename plus the UTF-8 filename*."""
    stem, _, ext = name.rpartition(".")
    fallback = f"{slug(stem, ascii_only=True) or 'document'}.{slug(ext, ascii_only=True)}"
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def file_name(record: Record, what: str, ext: str) -> str:
    day = record.minutes.meeting_date
    parts = [what, record.minutes.title, day.isoformat() if day else ""]
    return f"{'-'.join(p for p in (slug(x, ascii_only=False) for x in parts) if p)}.{ext}"


# -- the documents ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Document:
    """One download: its path name, media type, and how it is made and named."""

    path: str  # after /facilitator/sessions/{id}/
    media_type: str
    render: Callable[[Record], bytes]
    name: Callable[[Record], str]
    available: Callable[[Record], bool] = lambda r: True
    inline: bool = False


def _pdf(record: Record) -> bytes:
    from server.minutes.pdf import render_pdf  # WeasyPrint loads on first use only

    return render_pdf(record.minutes)


def _plan_pdf(record: Record) -> bytes:
    from server.minutes.plan import plan_pdf

    assert record.plan is not None
    return plan_pdf(record.plan)


def _plan_docx(record: Record) -> bytes:
    from server.minutes.plan import plan_docx

    assert record.plan is not None
    return plan_docx(record.plan)


def _plan_csv(record: Record) -> bytes:
    from server.minutes.plan import plan_csv

    assert record.plan is not None
    return plan_csv(record.plan)


def _docx(record: Record) -> bytes:
    from server.minutes.docx import render_docx

    return render_docx(record.minutes)


def _ics(record: Record) -> bytes:
    uid = f"next-meeting-{record.row.id}@tovholder"
    return render_ics(record.minutes, uid=uid).encode("utf-8")


def _named(what: Callable[[Labels], str], ext: str) -> Callable[[Record], str]:
    return lambda r: file_name(r, what(labels_for(r.minutes.language)), ext)


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

DOCUMENTS: tuple[Document, ...] = (
    Document("minutes.pdf", "application/pdf", _pdf, _named(lambda lab: lab.minutes, "pdf")),
    Document("minutes.docx", DOCX, _docx, _named(lambda lab: lab.minutes, "docx")),
    Document(
        "minutes.md",
        "text/markdown; charset=utf-8",
        lambda r: render_markdown(r.minutes).encode("utf-8"),
        _named(lambda lab: lab.minutes, "md"),
    ),
    Document(
        "minutes.json",
        "application/json",
        lambda r: to_json(r.minutes).encode("utf-8"),
        _named(lambda lab: lab.minutes, "json"),
        inline=True,
    ),
    Document(
        "decisions.csv",
        "text/csv; charset=utf-8",
        lambda r: decisions_csv(r.minutes),
        _named(lambda lab: lab.decisions, "csv"),
    ),
    Document(
        "actions.csv",
        "text/csv; charset=utf-8",
        lambda r: actions_csv(r.minutes),
        _named(lambda lab: lab.actions, "csv"),
    ),
    Document(
        "journal-note.txt",
        "text/plain; charset=utf-8",
        lambda r: render_journal_note(r.minutes).encode("utf-8"),
        _named(lambda lab: lab.journal_note, "txt"),
        available=lambda r: r.journal_note,
    ),
    Document(
        "next-meeting.ics",
        "text/calendar; charset=utf-8",
        _ics,
        _named(lambda lab: lab.next_meeting, "ics"),
        available=lambda r: r.minutes.next_meeting is not None,
    ),
    Document(
        "plan.pdf",
        "application/pdf",
        _plan_pdf,
        _named(lambda lab: lab.development_plan, "pdf"),
        available=lambda r: r.plan is not None,
    ),
    Document(
        "plan.docx",
        DOCX,
        _plan_docx,
        _named(lambda lab: lab.development_plan, "docx"),
        available=lambda r: r.plan is not None,
    ),
    Document(
        "plan.csv",
        "text/csv; charset=utf-8",
        _plan_csv,
        _named(lambda lab: lab.development_plan, "csv"),
        available=lambda r: r.plan is not None,
    ),
)


def _download(document: Document) -> Callable[[Request], Any]:
    @requires(Perm.READ_CASES)
    async def handler(request: Request, user: User) -> Response:
        record = await _record(request, user)
        if record is None:
            return await error(request, 404, "That session does not exist.")
        if not document.available(record):
            return await error(request, 404, "That page does not exist.")
        body = await run_in_threadpool(document.render, record)
        await record_audit(
            services(request).repo,
            "export",
            f"{record.row.id}:{document.path}",
            user=user,
            engagement_id=record.row.engagement_id,
        )
        return Response(
            body,
            media_type=document.media_type,
            headers={
                "content-disposition": content_disposition(
                    document.name(record), inline=document.inline
                ),
                "cache-control": "no-store",
            },
        )

    handler.__name__ = f"download_{document.path.replace('.', '_').replace('-', '_')}"
    return handler


# -- the pages ------------------------------------------------------------------------------------


async def _statuses(request: Request, session_ids: Sequence[str]) -> dict[str, str]:
    """Each session's status as its log says ("planned", "running", "ended").

    The session row's own `status` is not kept up to date by the live path
    (yet), so the list reads the two events that decide it.
    """
    if not session_ids:
        return {}
    query = select(EventRow.session_id, EventRow.type).where(
        col(EventRow.session_id).in_(session_ids),
        col(EventRow.type).in_(("SessionStarted", "SessionEnded")),
    )
    async with services(request).repo.sessions() as db:
        found = (await db.exec(query)).all()
    statuses = dict.fromkeys(session_ids, "planned")
    for session_id, kind in found:
        if kind == "SessionEnded" or statuses[session_id] != "ended":
            statuses[session_id] = "ended" if kind == "SessionEnded" else "running"
    return statuses


@requires(Perm.SIGNED_IN)
async def overview(request: Request, user: User) -> Response:
    svc = services(request)
    lang = await language(request)
    engagements = []
    for eng in await svc.repo.engagements_of(user):
        rows = await svc.repo.sessions_of(eng.id)
        statuses = await _statuses(request, [row.id for row in rows])
        engagements.append((eng, [(row, statuses[row.id]) for row in rows]))
    return await page(request, "coordinator/overview.html", lang=lang, engagements=engagements)


def _charts(minutes: Minutes) -> dict[int, Markup]:
    lang = minutes.language
    tie = labels_for(lang).tied
    return {
        no: Markup(  # noqa: S704 - bar_chart_svg escapes every label
            bar_chart_svg(
                poll.results,
                title=poll.question,
                value_format=lambda v: fmt.number(v, lang),
                tie_label=tie,
            )
        )
        for no, poll in enumerate(minutes.polls, start=1)
        if poll.results
    }


async def _minutes_page(
    request: Request, record: Record, status_code: int = 200, message: str = ""
) -> Response:
    state = record.state
    view = build_view(record.minutes)
    decisions = editable_decisions(state) if state else ()
    actions = editable_actions(state) if state else ()
    available = {d.path for d in DOCUMENTS if d.available(record)}
    ranked = prioritisation(state) if state else ()
    lab = view.labels
    return await page(
        request,
        "coordinator/minutes.html",
        status_code=status_code,
        row=record.row,
        engagement=record.engagement,
        view=view,
        charts=_charts(record.minutes),
        decisions=list(zip(view.decisions, decisions, strict=False)),
        actions=list(zip(view.actions, actions, strict=False)),
        journal_note=render_journal_note(record.minutes) if record.journal_note else "",
        available=available,
        ranked=[(o, lab.horizons[Horizon(str(o.horizon))] if o.horizon else "") for o in ranked],
        message=message,
        base=SESSION_PATH.format(session_id=record.row.id),
    )


@requires(Perm.READ_CASES, audit="minutes.read")
async def minutes_page(request: Request, user: User) -> Response:
    record = await _record(request, user)
    if record is None:
        return await error(request, 404, "That session does not exist.")
    return await _minutes_page(request, record)


# -- editing the wording ------------------------------------------------------------------------------


def _field(form: Any, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


async def _edit(request: Request, user: User, make: Callable[[Actor, Any], Command]) -> Response:
    svc = services(request)
    form = await request.form()
    if not await csrf_ok(request, form.get("csrf")):
        return await error(request, 400, "The form had expired. Please try again.")
    record = await _record(request, user)
    live = await svc.live.get(record.row.id) if record else None
    if record is None or live is None:
        return await error(request, 404, "That session does not exist.")
    actor = Actor(ActorRole.FACILITATOR, f"user:{user.id}")
    try:
        out = await live.submit(make(actor, form))
    except (Busy, Unavailable):
        return await error(request, 503, "The session is busy. Please try again.")
    if isinstance(out, CommandRejected):
        return await _minutes_page(request, record, 400, out.reason)
    # The edit is an event in the session's log (with who made it); no audit entry needed.
    anchor = f"{request.path_params['kind'].removesuffix('s')}-{request.path_params['item_id']}"
    return redirect(f"{SESSION_PATH.format(session_id=record.row.id)}/minutes#{quote(anchor)}")


@requires(Perm.EDIT_MINUTES)
async def edit_item(request: Request, user: User) -> Response:
    item_id = request.path_params["item_id"]
    kind = request.path_params["kind"]
    if kind == "decisions":
        return await _edit(
            request,
            user,
            lambda actor, form: EditDecision(
                actor=actor, decision_id=item_id, text=_field(form, "text")
            ),
        )
    if kind == "actions":
        return await _edit(
            request,
            user,
            lambda actor, form: EditAction(
                actor=actor,
                action_id=item_id,
                what=_field(form, "what"),
                who=_field(form, "who"),
                due=_field(form, "due").strip() or None,
            ),
        )
    return await error(request, 404, "That page does not exist.")


# -- the routes -------------------------------------------------------------------------------------


def routes() -> list[BaseRoute]:
    """The coordinator's routes, for server/web/routes.py."""
    return [
        Route("/coordinator", overview, name="coordinator"),
        Route(f"{SESSION_PATH}/minutes", minutes_page, name="minutes"),
        *(
            Route(f"{SESSION_PATH}/{d.path}", _download(d), name=f"minutes_{d.path}")
            for d in DOCUMENTS
        ),
        Route(
            f"{SESSION_PATH}/minutes/{{kind}}/{{item_id}}",
            edit_item,
            methods=["POST"],
            name="minutes_edit",
        ),
    ]

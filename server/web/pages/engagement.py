"""The engagement's pages: its timeline and every link of the chain between sessions.

``/engagements/{id}`` is the timeline: members, sessions in order with their
dates and what each produced, the steering group's cadence and how far the
chain has come. From there: the case register and its import, the selection
of cases for the full-day meeting, each session's page (learnings and themes
of the case meeting, the implementation workshop's ranking into plan rows,
the follow-up's status updates and next meeting), the focus areas with the
consultation's comments, the development plan, and the status note's draft.

The consultation itself is reached without an account, through ``/h/{token}``
and its access code.

Who may do what is stated per handler with `requires`: SEE to look, RUN to
change the engagement, READ_CASES for case material (read audited as
``cases.read``) and for the consultation the coordinator runs.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from server.engagement import cases as case_register
from server.engagement import consultation as hearing
from server.engagement import focus_areas as areas
from server.engagement import plan as dev_plan
from server.engagement import selection, sessions, store
from server.engagement import status as plan_status
from server.engagement.common import N_, Msg, Refused, msg, msg_n
from server.engagement.timeline import timeline
from server.engine import Actor, ActorRole, CommandRejected, SessionState
from server.engine.commands import AgreeNextMeeting
from server.live import Busy, Unavailable
from server.scripts.schema import DecisionStep, SessionType
from server.store.tables import Consultation, Engagement, FocusArea, Session, User, utcnow
from server.web.auth import Perm, csrf_ok, permitted, requires, services
from server.web.pages.common import error, language, page, redirect

FLASH_COOKIE = "tv_flash"
FLASH_MAX = 3500
CONSULTATION_COOKIE = "tv_h_"

SAVED = N_("Saved.")


# -- small helpers -----------------------------------------------------------------------


def _eid(request: Request) -> str:
    return str(request.path_params["engagement_id"])


def _base(engagement_id: str) -> str:
    return f"/engagements/{engagement_id}"


def _next(form: Mapping[str, Any], engagement_id: str, default: str) -> str:
    """Where to go after a form: its `next` if it stays on this engagement's pages."""
    wanted = form.get("next")
    base = _base(engagement_id)
    if (
        isinstance(wanted, str)
        and (wanted == base or wanted.startswith(base + "/") or wanted.startswith(base + "?"))
        and "//" not in wanted
        and "\\" not in wanted
    ):
        return wanted
    return default


def _signer(request: Request, salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(services(request).settings.secret_keys, salt=salt)


async def _back(
    request: Request, url: str, messages: Sequence[Msg] = (), kind: str = "ok"
) -> Response:
    """Redirect, carrying the messages (translated now) to the next page in a signed cookie."""
    response = redirect(url)
    lang = await language(request)
    items = [[kind, m.render(lang)] for m in messages]
    while items:
        value = _signer(request, "flash").dumps(items)
        if len(value) <= FLASH_MAX:
            response.set_cookie(
                FLASH_COOKIE,
                value,
                httponly=True,
                samesite="lax",
                secure=services(request).settings.secure_cookies,
            )
            break
        items.pop()
    return response


def _flash(request: Request) -> list[tuple[str, str]]:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return []
    try:
        items = _signer(request, "flash").loads(raw)
    except BadSignature:
        return []
    found = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, list) and len(item) == 2 and all(isinstance(v, str) for v in item):
            found.append((item[0], item[1]))
    return found


async def _refused(request: Request, url: str, refused: Refused) -> Response:
    return await _back(request, url, refused.messages, kind="error")


async def _form(request: Request) -> dict[str, Any]:
    return dict((await request.form()).multi_items())


async def _page(
    request: Request,
    user: User | None,
    template: str,
    eng: Engagement | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render an engagement page with its flash messages and permissions."""
    lang = await language(request)
    flash = _flash(request)
    extra = context.pop("messages", None)
    if extra:
        flash = flash + [(kind, m.render(lang)) for kind, m in extra]
    if eng is not None and user is not None:
        context.setdefault("can_run", await permitted(request, user, Perm.RUN, eng.id))
        context.setdefault("can_cases", await permitted(request, user, Perm.READ_CASES, eng.id))
    response = await page(
        request,
        template,
        status_code,
        lang=lang,
        eng=eng,
        flash=flash,
        **context,
    )
    if request.cookies.get(FLASH_COOKIE):
        response.delete_cookie(FLASH_COOKIE)
    return response


async def _engagement(request: Request) -> Engagement | None:
    return await store.engagement(services(request).repo, _eid(request))


async def _state_of(request: Request, session_id: str) -> SessionState | None:
    svc = services(request)
    return await sessions.state_of(svc.live, svc.eventlog, session_id)


def _state_reader(request: Request) -> Callable[[str], Awaitable[SessionState | None]]:
    async def read(session_id: str) -> SessionState | None:
        return await _state_of(request, session_id)

    return read


async def _missing(request: Request, what: str = "engagement") -> Response:
    if what == "session":
        return await error(request, 404, "That session does not exist.")
    if what == "case":
        return await error(request, 404, "That case does not exist.")
    if what == "consultation":
        return await error(request, 404, "That consultation does not exist.")
    return await error(request, 404, "That engagement does not exist.")


# -- the timeline ------------------------------------------------------------------------


@requires(Perm.SEE)
async def timeline_page(request: Request, user: User) -> Response:
    svc = services(request)
    eng = await _engagement(request)
    if eng is None:
        return await _missing(request)
    line = await timeline(svc.repo, eng.id, _state_reader(request))
    return await _page(
        request,
        user,
        "engagement/timeline.html",
        eng,
        nav="timeline",
        line=line,
        members=await store.members_of(svc.repo, eng.id),
        settings=await store.settings_of(svc.repo, eng.id),
        scripts=list(svc.catalog.scripts.values()),
        consultations=await hearing.consultations_of(svc.repo, eng.id),
        now=utcnow(),
        is_open=hearing.is_open,
        status_names=plan_status.STATUS_NAMES,
    )


@requires(Perm.RUN, audit="engagement.settings")
async def save_settings(request: Request, user: User) -> Response:
    svc = services(request)
    eid = _eid(request)
    form = await _form(request)
    back = _next(form, eid, _base(eid))
    try:
        _, masked = await store.save_settings(
            svc.repo,
            eid,
            starts_on=form.get("starts_on"),
            steering_every_weeks=form.get("steering_every_weeks"),
            steering_meetings=form.get("steering_meetings"),
            follow_up_every_weeks=form.get("follow_up_every_weeks"),
            selection_target=form.get("selection_target"),
            focus_points=form.get("focus_points"),
        )
    except Refused as refused:
        return await _refused(request, back, refused)
    notes = [msg(SAVED)] + ([msg(N_("CPR numbers were masked."))] if masked else [])
    return await _back(request, back, notes)


@requires(Perm.RUN)
async def focus_points_from_session(request: Request, user: User) -> Response:
    """The kick-off's decisions become the focus points that steer the case selection."""
    svc = services(request)
    eid = _eid(request)
    form = await _form(request)
    row = await store.session_of(svc.repo, eid, str(form.get("session_id", "")))
    state = await _state_of(request, row.id) if row else None
    if row is None or state is None:
        return await _missing(request, "session")
    points = sessions.decisions_text(state)
    if not points:
        return await _back(
            request,
            _base(eid) + f"/sessions/{row.id}",
            [msg(N_("The kick-off has no decisions yet: record the agreed focus points first."))],
            kind="error",
        )
    current = await store.settings_of(svc.repo, eid)
    await store.save_settings(
        svc.repo,
        eid,
        starts_on=current.starts_on.isoformat() if current.starts_on else "",
        steering_every_weeks=current.steering_every_weeks,
        steering_meetings=current.steering_meetings,
        follow_up_every_weeks=current.follow_up_every_weeks,
        selection_target=current.selection_target,
        focus_points="\n".join(points),
    )
    return await _back(
        request,
        _base(eid) + "/selection",
        [
            msg_n(
                "%(num)d focus point from the kick-off now steers the case selection.",
                "%(num)d focus points from the kick-off now steer the case selection.",
                len(points),
            )
        ],
    )


@requires(Perm.RUN)
async def plan_session(request: Request, user: User) -> Response:
    svc = services(request)
    eid = _eid(request)
    form = await _form(request)
    back = _next(form, eid, _base(eid))
    row = await store.session_of(svc.repo, eid, str(request.path_params["session_id"]))
    if row is None:
        return await _missing(request, "session")
    try:
        await store.plan_session(svc.repo, row.id, form.get("planned_on"), form.get("place"))
    except Refused as refused:
        return await _refused(request, back, refused)
    return await _back(request, back, [msg(SAVED)])


# -- the case register -------------------------------------------------------------------


@requires(Perm.READ_CASES, audit="cases.read")
async def cases_page(request: Request, user: User) -> Response:
    return await _cases(request, user)


async def _cases(
    request: Request,
    user: User,
    result: case_register.ImportResult | None = None,
    status_code: int = 200,
    pasted: str = "",
) -> Response:
    svc = services(request)
    eng = await _engagement(request)
    if eng is None:
        return await _missing(request)
    return await _page(
        request,
        user,
        "engagement/cases.html",
        eng,
        status_code=status_code,
        nav="cases",
        cases=await store.cases_of(svc.repo, eng.id),
        settings=await store.settings_of(svc.repo, eng.id),
        tags_of=case_register.tags_of,
        result=result,
        result_errors=[m.render(await language(request)) for m in result.errors] if result else [],
        result_notes=[m.render(await language(request)) for m in result.notes] if result else [],
        pasted=pasted,
    )


@requires(Perm.RUN)
async def import_cases(request: Request, user: User) -> Response:
    svc = services(request)
    eid = _eid(request)
    form = await request.form()
    upload = form.get("file")
    pasted = form.get("text")
    data: bytes | str = ""
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(case_register.MAX_BYTES + 1)
    elif isinstance(pasted, str) and pasted.strip():
        data = pasted
    if not data:
        result = case_register.ImportResult(
            errors=[msg(N_("Choose a CSV file, or paste the register's rows."))]
        )
        return await _cases(request, user, result, 400)
    result = await case_register.import_cases(svc.repo, eid, data)
    if not result.ok:
        return await _cases(request, user, result, 400, pasted if isinstance(pasted, str) else "")
    await svc.repo.audit("cases.import", f"engagement:{eid}", user=user, engagement_id=eid)
    imported = msg_n("%(num)d case was imported.", "%(num)d cases were imported.", result.imported)
    notes = [imported, *result.notes]
    return await _back(request, _base(eid) + "/cases", notes)


@requires(Perm.SEE)
async def cases_template(request: Request, user: User) -> Response:
    return Response(
        case_register.template_csv().encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="sagsregister.csv"'},
    )


@requires(Perm.READ_CASES, audit="cases.read")
async def case_page(request: Request, user: User) -> Response:
    svc = services(request)
    eng = await _engagement(request)
    found = await store.case(svc.repo, _eid(request), str(request.path_params["case_id"]))
    if eng is None or found is None:
        return await _missing(request, "case")
    return await _page(
        request,
        user,
        "engagement/case.html",
        eng,
        nav="cases",
        case=found,
        tags_of=case_register.tags_of,
    )


@requires(Perm.RUN, audit="case.edit")
async def edit_case(request: Request, user: User) -> Response:
    svc = services(request)
    eid = _eid(request)
    case_id = str(request.path_params["case_id"])
    back = f"{_base(eid)}/cases/{case_id}"
    try:
        masked = await case_register.edit_case(svc.repo, eid, case_id, await _form(request))
    except Refused as refused:
        return await _refused(request, back, refused)
    notes = [msg(SAVED)] + ([msg(N_("CPR numbers were masked."))] if masked else [])
    return await _back(request, back, notes)


# -- selecting cases for the full-day meeting --------------------------------------------


@requires(Perm.READ_CASES, audit="cases.read")
async def selection_page(request: Request, user: User) -> Response:
    svc = services(request)
    eng = await _engagement(request)
    if eng is None:
        return await _missing(request)
    all_cases = await store.cases_of(svc.repo, eng.id)
    tag = request.query_params.get("tag", "")
    shown = (
        [c for c in all_cases if tag.casefold() in (t.casefold() for t in case_register.tags_of(c))]
        if tag
        else all_cases
    )
    tags = sorted({t for c in all_cases for t in case_register.tags_of(c)}, key=str.casefold)
    settings = await store.settings_of(svc.repo, eng.id)
    return await _page(
        request,
        user,
        "engagement/selection.html",
        eng,
        nav="selection",
        cases=shown,
        total=len(all_cases),
        selected=sum(1 for c in all_cases if c.selected),
        settings=settings,
        focus_points=[p for p in settings.focus_points.split("\n") if p.strip()],
        tags=tags,
        tag=tag,
        tags_of=case_register.tags_of,
    )


@requires(Perm.RUN, audit="cases.select")
async def select_case(request: Request, user: User) -> Response:
    svc = services(request)
    eid = _eid(request)
    form = await _form(request)
    case_id = str(form.get("case_id", ""))
    back = _next(form, eid, _base(eid) + "/selection") + f"#case-{case_id}"
    settings = await store.settings_of(svc.repo, eid)
    try:
        done = await selection.set_selected(
            svc.repo,
            eid,
            case_id,
            selected=form.get("action") == "select",
            reason=form.get("reason", ""),
            target=settings.selection_target,
        )
    except Refused as refused:
        return await _refused(request, back, refused)
    text = (
        N_("%(label)s is selected (%(n)s of %(target)s).")
        if done.case.selected
        else N_("%(label)s is no longer selected (%(n)s of %(target)s).")
    )
    notes = [
        msg(text, label=done.case.label, n=done.selected_count, target=settings.selection_target)
    ]
    return await _back(request, back, [*notes, *done.notes])


# -- a session's link in the chain -------------------------------------------------------


@requires(Perm.READ_CASES)
async def session_page(request: Request, user: User) -> Response:
    svc = services(request)
    eng = await _engagement(request)
    row = await store.session_of(svc.repo, _eid(request), str(request.path_params["session_id"]))
    state = await _state_of(request, row.id) if row else None
    if eng is None or row is None or state is None:
        return await _missing(request, "session")
    kind = state.script.session_type
    context: dict[str, Any] = {"row": row, "s": state, "kind": str(kind)}
    if state.cases:
        await svc.repo.audit("cases.read", f"session:{row.id}", user=user, engagement_id=eng.id)
        context["learnings"] = sessions.learnings(state)
    if kind is SessionType.KICKOFF:
        context["decisions"] = sessions.decisions_text(state)
    context["themes"] = sessions.themes(state)
    existing = await store.focus_areas_of(svc.repo, eng.id)
    context["proposed"] = {
        a.source_cluster_id: a for a in existing if a.source_session_id == row.id
    }
    context["focus_areas"] = [a for a in existing if a.outcome != "dropped"]
    context["comments"] = await hearing.comments_by_area(svc.repo, eng.id)
    context["consultations"] = [
        c for c in await hearing.consultations_of(svc.repo, eng.id) if c.session_id == row.id
    ]
    context["default_days"] = hearing.default_days(state.script)
    context["ranking"] = dev_plan.ranking(state)
    context["plan"] = await dev_plan.plan_of(svc.repo, eng.id)
    context["plan_fields"] = dev_plan.plan_fields(state)
    context["agrees_next"] = any(
        isinstance(s, DecisionStep) and s.next_meeting for s in state.script.steps
    )
    context["history"] = await plan_status.history(svc.repo, eng.id)
    return await _page(
        request,
        user,
        "engagement/session.html",
        eng,
        nav="timeline",
        now=utcnow(),
        is_open=hearing.is_open,
        status_names=plan_status.STATUS_NAMES,
        statuses=plan_status.STATUSES,
        horizon_names=dev_plan.HORIZON_NAMES,
        outcome_names=areas.OUTCOME_NAMES,
        field_names=FIELD_LABELS,
        **context,
    )


FIELD_LABELS: Mapping[str, str] = {
    "purpose": N_("Purpose"),
    "activity": N_("Activity"),
    "goal": N_("Goal"),
    "actors": N_("Actors"),
    "schedule": N_("Schedule and follow-up"),
}


@requires(Perm.RUN)
async def propose_focus_areas(request: Request, user: User) -> Response:
    svc = services(request)
    eid = _eid(request)
    session_id = str(request.path_params["session_id"])
    back = f"{_base(eid)}/sessions/{session_id}#themes"
    row = await store.session_of(svc.repo, eid, session_id)
    state = await _state_of(request, session_id) if row else None
    if row is None or state is None:
        return await _missing(request, "session")
    form = await _form(request)
    chosen = {
        key.removeprefix("use_"): str(form.get("title_" + key.removeprefix("use_"), ""))
        for key in form
        if key.startswith("use_")
    }
    try:
        done = await areas.propose_from_session(svc.repo, eid, session_id, state, chosen)
    except Refused as refused:
        return await _refused(request, back, refused)
    notes = [
        msg_n(
            "%(num)d focus area proposed, %(updated)s updated.",
            "%(num)d focus areas proposed, %(updated)s updated.",
            done.created,
            updated=done.updated,
        ),
        *done.notes,
    ]
    return await _back(request, back, notes)


@requires(Perm.RUN)
async def write_plan(request: Request, user: User) -> Response:
    svc = services(request)
    eid = _eid(request)
    session_id = str(request.path_params["session_id"])
    back = f"{_base(eid)}/sessions/{session_id}#ranking"
    row = await store.session_of(svc.repo, eid, session_id)
    state = await _state_of(request, session_id) if row else None
    if row is None or state is None:
        return await _missing(request, "session")
    form = await _form(request)
    owners = {
        key.removeprefix("owner_"): str(value)
        for key, value in form.items()
        if key.startswith("owner_") and str(value).strip()
    }
    try:
        done = await dev_plan.write_from_ranking(svc.repo, eid, session_id, state, owners)
    except Refused as refused:
        return await _refused(request, back, refused)
    notes = [
        msg_n(
            "The development plan has %(num)d new row; %(already)s.",
            "The development plan has %(num)d new rows; %(already)s.",
            done.created,
            already=msg_n("%(num)d was already there", "%(num)d were already there", done.updated),
        ),
        *done.notes,
    ]
    return await _back(request, f"{_base(eid)}/sessions/{session_id}#plan", notes)


@requires(Perm.RUN)
async def next_meeting(request: Request, user: User) -> Response:
    """The follow-up ends by agreeing the next date and its goals (an event in its log)."""
    svc = services(request)
    eid = _eid(request)
    session_id = str(request.path_params["session_id"])
    back = f"{_base(eid)}/sessions/{session_id}#next"
    row = await store.session_of(svc.repo, eid, session_id)
    live = await svc.live.get(session_id) if row else None
    if row is None or live is None:
        return await _missing(request, "session")
    form = await _form(request)
    goals = tuple(
        g.strip() for g in str(form.get("goals", "")).replace("\r", "").split("\n") if g.strip()
    )
    command = AgreeNextMeeting(
        actor=Actor(ActorRole.FACILITATOR, f"user:{user.id}"),
        date=str(form.get("date", "")),
        goals=goals,
    )
    try:
        out = await live.submit(command)
    except (Busy, Unavailable):
        return await _back(
            request, back, [msg(N_("The session is busy. Please try again."))], kind="error"
        )
    if isinstance(out, CommandRejected):
        return await _back(request, back, [msg(out.reason)], kind="error")
    return await _back(request, back, [msg(N_("The next meeting and its goals are agreed."))])


# -- focus areas and the consultation ----------------------------------------------------


@requires(Perm.SEE)
async def focus_areas_page(request: Request, user: User) -> Response:
    """Every member sees the focus areas; the consultation's comments (with who wrote
    them) and a description still made of a case meeting's cards only READ_CASES."""
    svc = services(request)
    eng = await _engagement(request)
    if eng is None:
        return await _missing(request)
    can_cases = await permitted(request, user, Perm.READ_CASES, eng.id)
    all_areas = await store.focus_areas_of(svc.repo, eng.id)
    comments = await hearing.comments_by_area(svc.repo, eng.id)
    active = [a for a in all_areas if a.outcome != "dropped"]
    note = areas.count_note(len(active))
    consultation_sessions = []
    for row in await svc.repo.sessions_of(eng.id):
        script = svc.catalog.get(row.script_id)
        if script is not None and script.session_type is SessionType.CONSULTATION:
            consultation_sessions.append(row)
    return await _page(
        request,
        user,
        "engagement/focus_areas.html",
        eng,
        nav="focus_areas",
        areas=all_areas,
        descriptions=_descriptions(all_areas, can_cases),
        comments=comments if can_cases else {},
        comment_counts={area_id: len(found) for area_id, found in comments.items()},
        consultations=await hearing.consultations_of(svc.repo, eng.id),
        consultation_sessions=consultation_sessions,
        default_days=hearing.DEFAULT_DAYS,
        now=utcnow(),
        is_open=hearing.is_open,
        outcome_names=areas.OUTCOME_NAMES,
        outcomes=areas.OUTCOMES,
        horizon_names=dev_plan.HORIZON_NAMES,
        messages=[("warning", note)] if note else [],
    )


def _descriptions(found: Sequence[FocusArea], can_cases: bool) -> dict[str, str]:
    """The descriptions this reader may see, by area id: all of them with READ_CASES;
    otherwise those that may be shared (`FocusArea.description_shared`: the
    coordinator's tick; undecided, an area written by hand). An area proposed from
    a case meeting's theme starts with the meeting's cards as its description, and
    those stay with the people who may read cases."""
    return {
        a.id: a.description for a in found if a.description and (can_cases or a.description_shared)
    }


def _public_flag(form: Mapping[str, Any]) -> bool:
    return form.get("description_public") in ("1", "on", "true")


@requires(Perm.RUN, audit="focus_area.edit")
async def add_focus_area(request: Request, user: User) -> Response:
    svc = services(request)
    eid = _eid(request)
    form = await _form(request)
    back = _next(form, eid, _base(eid) + "/focus-areas")
    try:
        area, notes = await areas.add_focus_area(
            svc.repo, eid, form.get("title", ""), form.get("description", "")
        )
    except Refused as refused:
        return await _refused(request, back, refused)
    await svc.repo.set_description_public(eid, area.id, _public_flag(form))
    return await _back(request, back, [msg(SAVED), *notes])


@requires(Perm.RUN, audit="focus_area.edit")
async def edit_focus_area(request: Request, user: User) -> Response:
    svc = services(request)
    eid = _eid(request)
    form = await _form(request)
    area_id = str(request.path_params["area_id"])
    back = _next(form, eid, _base(eid) + "/focus-areas") + f"#area-{area_id}"
    try:
        notes = await areas.edit_focus_area(
            svc.repo,
            eid,
            area_id,
            title=form.get("title", ""),
            description=form.get("description", ""),
            outcome=form.get("outcome", ""),
        )
    except Refused as refused:
        return await _refused(request, back, refused)
    await svc.repo.set_description_public(eid, area_id, _public_flag(form))
    return await _back(request, back, [msg(SAVED), *notes])


@requires(Perm.READ_CASES, audit="consultation.open")
async def open_consultation(request: Request, user: User) -> Response:
    svc = services(request)
    eid = _eid(request)
    form = await _form(request)
    back = _next(form, eid, _base(eid) + "/focus-areas")
    eng = await _engagement(request)
    session_id = str(form.get("session_id", "")) or None
    row = await store.session_of(svc.repo, eid, session_id) if session_id else None
    if eng is None or (session_id and row is None):
        return await _missing(request, "session")
    try:
        opened = await hearing.open_consultation(
            svc.repo,
            eid,
            title=row.title if row else eng.title,
            days=form.get("days"),
            session_id=row.id if row else None,
            user_id=user.id,
        )
    except Refused as refused:
        return await _refused(request, back, refused)
    url = f"{_base(eid)}/consultations/{opened.consultation.id}"
    return await _back(
        request,
        url,
        [msg(N_("The consultation is open. Send the link and the code.")), *opened.notes],
    )


@requires(Perm.READ_CASES, audit="consultation.read")
async def consultation_page(request: Request, user: User) -> Response:
    svc = services(request)
    eng = await _engagement(request)
    found = await hearing.get(svc.repo, _eid(request), str(request.path_params["consultation_id"]))
    if eng is None or found is None:
        return await _missing(request, "consultation")
    return await _page(
        request,
        user,
        "engagement/consultation.html",
        eng,
        nav="focus_areas",
        c=found,
        link=f"{svc.settings.base_url}/h/{found.link_token}",
        areas=await store.focus_areas_of(svc.repo, eng.id, include_dropped=False),
        comments=await hearing.comments_by_area(svc.repo, eng.id, found.id),
        open_now=hearing.is_open(found, utcnow()),
        closed_on=hearing.closed_on(found),
    )


@requires(Perm.READ_CASES, audit="consultation.close")
async def close_consultation(request: Request, user: User) -> Response:
    svc = services(request)
    eid = _eid(request)
    found = await hearing.get(svc.repo, eid, str(request.path_params["consultation_id"]))
    if found is None:
        return await _missing(request, "consultation")
    await hearing.close(svc.repo, found.id)
    return await _back(
        request,
        f"{_base(eid)}/consultations/{found.id}",
        [msg(N_("The consultation is closed; no more comments can be added."))],
    )


# -- the development plan and its status ---------------------------------------------------


@requires(Perm.SEE)
async def plan_page(request: Request, user: User) -> Response:
    svc = services(request)
    eng = await _engagement(request)
    if eng is None:
        return await _missing(request)
    return await _page(
        request,
        user,
        "engagement/plan.html",
        eng,
        nav="plan",
        plan=await dev_plan.plan_of(svc.repo, eng.id),
        plan_fields=dev_plan.ROW_FIELDS,
        field_names=FIELD_LABELS,
        status_names=plan_status.STATUS_NAMES,
        statuses=plan_status.STATUSES,
        horizon_names=dev_plan.HORIZON_NAMES,
        history=await plan_status.history(svc.repo, eng.id),
        row=None,
    )


@requires(Perm.RUN, audit="plan.edit")
async def add_plan_row(request: Request, user: User) -> Response:
    svc = services(request)
    eid = _eid(request)
    form = await _form(request)
    back = _next(form, eid, _base(eid) + "/plan")
    session_id = str(form.get("session_id", "")) or None
    if session_id and await store.session_of(svc.repo, eid, session_id) is None:
        return await _missing(request, "session")
    try:
        _, notes = await dev_plan.add_row(
            svc.repo, eid, str(form.get("focus_area_id", "")), form, session_id=session_id
        )
    except Refused as refused:
        return await _refused(request, back, refused)
    return await _back(request, back, [msg(SAVED), *notes])


@requires(Perm.RUN, audit="plan.edit")
async def edit_plan_row(request: Request, user: User) -> Response:
    svc = services(request)
    eid = _eid(request)
    form = await _form(request)
    row_id = str(request.path_params["row_id"])
    back = _next(form, eid, _base(eid) + "/plan") + f"#row-{row_id}"
    try:
        notes = await dev_plan.edit_row(svc.repo, eid, row_id, form)
    except Refused as refused:
        return await _refused(request, back, refused)
    return await _back(request, back, [msg(SAVED), *notes])


@requires(Perm.RUN, audit="plan.edit")
async def set_status(request: Request, user: User) -> Response:
    svc = services(request)
    eid = _eid(request)
    form = await _form(request)
    row_id = str(request.path_params["row_id"])
    back = _next(form, eid, _base(eid) + "/plan") + f"#row-{row_id}"
    session: Session | None = None
    if form.get("session_id"):
        session = await store.session_of(svc.repo, eid, str(form["session_id"]))
        if session is None:
            return await _missing(request, "session")
    try:
        done = await plan_status.update_status(
            svc.repo,
            eid,
            row_id,
            status=form.get("status"),
            note=form.get("note", ""),
            session=session,
            user_id=user.id,
        )
    except Refused as refused:
        return await _refused(request, back, refused)
    text = (
        N_("Status saved.") if done.changed else N_("The status was already so; nothing changed.")
    )
    return await _back(request, back, [msg(text), *done.notes])


@requires(Perm.SEE)
async def plan_download(request: Request, user: User) -> Response:
    svc = services(request)
    eng = await _engagement(request)
    if eng is None:
        return await _missing(request)
    lang = await _document_language(request, eng)
    plan = await dev_plan.development_plan(
        svc.repo, eng, language=lang, status_names=_status_names(lang)
    )
    if not await permitted(request, user, Perm.READ_CASES, eng.id):
        # An observer's copy: descriptions still made of a case meeting's cards left out.
        found = await store.focus_areas_of(svc.repo, eng.id)
        shown = _descriptions(found, can_cases=False)
        titles = {a.title for a in found if a.id in shown}
        plan = dataclasses.replace(
            plan,
            rows=tuple(
                r if r.title in titles else dataclasses.replace(r, description="")
                for r in plan.rows
            ),
        )
    from server.minutes.plan import plan_docx  # python-docx and WeasyPrint: on first use

    data = await run_in_threadpool(plan_docx, plan)
    await svc.repo.audit("minutes.read", f"engagement:{eng.id}", user=user, engagement_id=eng.id)
    return _docx(data, "udviklingsplan.docx" if lang == "da" else "development-plan.docx")


async def _document_language(request: Request, eng: Engagement) -> str:
    """A document is in the engagement's language (its sessions'), unless ?lang= asks."""
    wanted = request.query_params.get("lang")
    if wanted in ("da", "en"):
        return wanted
    rows = await services(request).repo.sessions_of(eng.id)
    if rows:
        return "en" if rows[0].language == "en" else "da"
    return services(request).settings.language


def _status_names(lang: str) -> dict[str, str]:
    from server.engagement import status_note  # python-docx: on first use

    return {k: status_note.names(lang)[k] for k in plan_status.STATUSES}


def _docx(data: bytes, name: str) -> Response:
    return Response(
        data,
        media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "cache-control": "no-store",
        },
    )


@requires(Perm.READ_CASES, audit="minutes.read")
async def status_note_download(request: Request, user: User) -> Response:
    svc = services(request)
    eng = await _engagement(request)
    if eng is None:
        return await _missing(request)
    lang = await _document_language(request, eng)
    from server.engagement import status_note  # python-docx: on first use

    data = await status_note.gather(svc.repo, eng, _state_reader(request))
    body = await run_in_threadpool(status_note.status_note_docx, data, lang)
    return _docx(body, status_note.file_name(data, lang))


# -- the consultation, for those who comment (no account: link + access code) -------------


def _cookie_name(found: Consultation) -> str:
    return CONSULTATION_COOKIE + str(found.id)[:16]


def _admitted(request: Request, found: Consultation) -> bool:
    raw = request.cookies.get(_cookie_name(found))
    if not raw:
        return False
    try:
        return bool(_signer(request, "consultation").loads(raw) == found.id)
    except BadSignature:
        return False


async def _public(
    request: Request,
    found: Consultation,
    *,
    status_code: int = 200,
    code_error: str | None = None,
    errors: Sequence[Msg] = (),
    draft: Mapping[str, str] | None = None,
) -> Response:
    svc = services(request)
    lang = await language(request)
    admitted = _admitted(request, found)
    now = utcnow()
    context: dict[str, Any] = {
        "c": found,
        "admitted": admitted,
        "code_error": code_error,
        "errors": [m.render(lang) for m in errors],
        "draft": draft or {},
        "open_now": hearing.is_open(found, now),
        "closed_on": hearing.closed_on(found),
        "flash": _flash(request),
    }
    if admitted:
        context["areas"] = await store.focus_areas_of(
            svc.repo, found.engagement_id, include_dropped=False
        )
        # Respondents are no members: a description made of a case meeting's cards
        # is not theirs to read, only one the coordinator wrote for sharing.
        context["descriptions"] = _descriptions(context["areas"], can_cases=False)
        counts = await hearing.comments_by_area(svc.repo, found.engagement_id, found.id)
        context["counts"] = {k: len(v) for k, v in counts.items()}
        eng = await store.engagement(svc.repo, found.engagement_id)
        context["eng_title"] = eng.title if eng else ""
    response = await page(
        request, "engagement/consultation_public.html", status_code, lang=lang, **context
    )
    if request.cookies.get(FLASH_COOKIE):
        response.delete_cookie(FLASH_COOKIE)
    return response


async def consultation_public(request: Request) -> Response:
    found = await hearing.by_token(services(request).repo, str(request.path_params["token"]))
    if found is None:
        return await _missing(request, "consultation")
    return await _public(request, found)


async def consultation_enter(request: Request) -> Response:
    svc = services(request)
    found = await hearing.by_token(svc.repo, str(request.path_params["token"]))
    if found is None:
        return await _missing(request, "consultation")
    form = await request.form()
    client = request.client.host if request.client else "?"
    if not svc.throttles.consultation_code.allow(client, time.monotonic()):
        return await _public(
            request,
            found,
            status_code=429,
            code_error=N_("Too many attempts. Wait a minute and try again."),
        )
    if not await csrf_ok(request, form.get("csrf")):
        return await _public(
            request,
            found,
            status_code=400,
            code_error=N_("The form had expired. Please try again."),
        )
    if not hearing.code_ok(found, form.get("code")):
        return await _public(
            request,
            found,
            status_code=400,
            code_error=N_("That code is not right. Check the code you were sent."),
        )
    response = redirect(f"/h/{found.link_token}")
    max_age = int(max(60.0, (found.closes_at - utcnow()).total_seconds() + 86400))
    response.set_cookie(
        _cookie_name(found),
        _signer(request, "consultation").dumps(found.id),
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=svc.settings.secure_cookies,
        path=f"/h/{found.link_token}",
    )
    return response


async def consultation_comment(request: Request) -> Response:
    svc = services(request)
    found = await hearing.by_token(svc.repo, str(request.path_params["token"]))
    if found is None:
        return await _missing(request, "consultation")
    form = await request.form()
    draft = {
        "focus_area_id": str(form.get("focus_area_id", "")),
        "text": str(form.get("text", ""))[:5000],
        "author": str(form.get("author", ""))[:200],
    }
    if not _admitted(request, found):
        return await _public(
            request, found, status_code=403, code_error=N_("Type the access code first.")
        )
    if not await csrf_ok(request, form.get("csrf")):
        return await _public(
            request,
            found,
            status_code=400,
            errors=[msg(N_("The form had expired. Please try again."))],
            draft=draft,
        )
    try:
        _, notes = await hearing.add_comment(
            svc.repo,
            found,
            focus_area_id=draft["focus_area_id"],
            text=draft["text"],
            author=draft["author"],
        )
    except Refused as refused:
        closed = not hearing.is_open(found, utcnow())
        return await _public(
            request, found, status_code=409 if closed else 400, errors=refused.messages, draft=draft
        )
    response = redirect(f"/h/{found.link_token}#area-{draft['focus_area_id']}")
    lang = await language(request)
    items = [
        ["ok", m.render(lang)] for m in (msg(N_("Thank you. Your comment was received.")), *notes)
    ]
    response.set_cookie(
        FLASH_COOKIE,
        _signer(request, "flash").dumps(items),
        httponly=True,
        samesite="lax",
        secure=svc.settings.secure_cookies,
    )
    return response


# -- the routes, in one place --------------------------------------------------------------


def routes() -> list[BaseRoute]:
    e = "/engagements/{engagement_id}"
    return [
        Route(e, timeline_page, name="engagement"),
        Route(e + "/settings", save_settings, methods=["POST"], name="engagement_settings"),
        Route(
            e + "/focus-points",
            focus_points_from_session,
            methods=["POST"],
            name="engagement_focus_points",
        ),
        Route(e + "/cases", cases_page, name="engagement_cases"),
        Route(e + "/cases/import", import_cases, methods=["POST"], name="engagement_import"),
        Route(e + "/cases/template.csv", cases_template, name="engagement_cases_template"),
        Route(e + "/cases/{case_id}", case_page, name="engagement_case"),
        Route(e + "/cases/{case_id}", edit_case, methods=["POST"], name="engagement_case_edit"),
        Route(e + "/selection", selection_page, name="engagement_selection"),
        Route(e + "/selection", select_case, methods=["POST"], name="engagement_select"),
        Route(e + "/sessions/{session_id}", session_page, name="engagement_session"),
        Route(
            e + "/sessions/{session_id}/schedule",
            plan_session,
            methods=["POST"],
            name="engagement_session_schedule",
        ),
        Route(
            e + "/sessions/{session_id}/focus-areas",
            propose_focus_areas,
            methods=["POST"],
            name="engagement_propose",
        ),
        Route(
            e + "/sessions/{session_id}/plan",
            write_plan,
            methods=["POST"],
            name="engagement_write_plan",
        ),
        Route(
            e + "/sessions/{session_id}/next-meeting",
            next_meeting,
            methods=["POST"],
            name="engagement_next_meeting",
        ),
        Route(e + "/focus-areas", focus_areas_page, name="engagement_focus_areas"),
        Route(e + "/focus-areas", add_focus_area, methods=["POST"], name="engagement_add_area"),
        Route(
            e + "/focus-areas/{area_id}",
            edit_focus_area,
            methods=["POST"],
            name="engagement_edit_area",
        ),
        Route(
            e + "/consultations",
            open_consultation,
            methods=["POST"],
            name="engagement_open_consultation",
        ),
        Route(
            e + "/consultations/{consultation_id}",
            consultation_page,
            name="engagement_consultation",
        ),
        Route(
            e + "/consultations/{consultation_id}/close",
            close_consultation,
            methods=["POST"],
            name="engagement_close_consultation",
        ),
        Route(e + "/plan", plan_page, name="engagement_plan"),
        Route(e + "/plan.docx", plan_download, name="engagement_plan_docx"),
        Route(e + "/plan/rows", add_plan_row, methods=["POST"], name="engagement_add_row"),
        Route(
            e + "/plan/rows/{row_id}", edit_plan_row, methods=["POST"], name="engagement_edit_row"
        ),
        Route(
            e + "/plan/rows/{row_id}/status",
            set_status,
            methods=["POST"],
            name="engagement_row_status",
        ),
        Route(e + "/status-note.docx", status_note_download, name="engagement_status_note"),
        Route("/h/{token}", consultation_public, name="consultation_public"),
        Route("/h/{token}", consultation_enter, methods=["POST"], name="consultation_enter"),
        Route(
            "/h/{token}/comments",
            consultation_comment,
            methods=["POST"],
            name="consultation_comment",
        ),
    ]

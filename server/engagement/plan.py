"""The development plan (udviklingsplan): rows per focus area, as in the municipalities' plans.

The implementation workshop ranks the focus areas and sets each one's time
horizon and owner; `write_from_ranking` turns that result into the plan: the
areas get their priority and horizon, and each gets a first row with its
owner. The rows' texts (Formål, Aktivitet, Mål, Aktører, Tidsplan og
opfølgning) are then written in the workshop's plan step, and their status by
the follow-up and steering-group meetings (`status.py`).

Every row has an owner: a named person who answers for it. A row without one
is refused with the area's name, so the room can settle it before it leaves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlmodel import select

from server.engagement import store
from server.engagement.common import N_, Msg, Refused, clean_text, masked_note, msg, refuse
from server.engine import SessionState
from server.engine.poll import RankedOption, ranked_options
from server.engine.steps.plan_edit import editable_fields
from server.minutes.model import DevelopmentPlan, Horizon
from server.minutes.model import PlanRow as PlanRowModel
from server.scripts.schema import OptionSource, PlanEditStep, PollStep
from server.store.repo import Repo, new_id
from server.store.tables import Engagement, FocusArea, PlanRow, utcnow

ROW_FIELDS = ("purpose", "activity", "goal", "actors", "schedule")
LIMITS = {"purpose": 2000, "activity": 2000, "goal": 2000, "actors": 1000, "schedule": 2000}
OWNER_MAX = 120
HORIZONS = ("short", "medium", "long")
HORIZON_NAMES: Mapping[str, str] = {
    "short": N_("short term"),
    "medium": N_("medium term"),
    "long": N_("long term"),
}
NO_OWNER = N_(
    "“%(area)s” has no owner. Give it a named person who answers for it (not “the department”) before it becomes a plan row."
)


@dataclass(frozen=True)
class Ranking:
    poll_id: str
    question: str
    options: tuple[RankedOption, ...]


def ranking(state: SessionState) -> Ranking | None:
    """The session's prioritisation: the first counted vote that sets horizons, else the
    first counted vote over the focus areas."""
    polls = [s for s in state.script.steps if isinstance(s, PollStep)]
    ordered = [p for p in polls if p.assign_horizon] + [
        p for p in polls if not p.assign_horizon and p.options_from is OptionSource.FOCUS_AREAS
    ]
    for step in ordered:
        poll = state.polls.get(step.id)
        if poll is not None and poll.result is not None:
            return Ranking(poll.poll_id, poll.question, ranked_options(state.polls, poll.poll_id))
    return None


def plan_fields(state: SessionState | None) -> tuple[str, ...]:
    """The row fields a session's plan step edits (all of them outside a session)."""
    if state is not None:
        for step in state.script.steps:
            if isinstance(step, PlanEditStep):
                return tuple(f for f in editable_fields(step) if f in ROW_FIELDS)
    return ROW_FIELDS


@dataclass(frozen=True)
class WriteResult:
    created: int
    updated: int
    notes: tuple[Msg, ...]


async def write_from_ranking(
    repo: Repo,
    engagement_id: str,
    session_id: str,
    state: SessionState,
    owners: Mapping[str, str] | None = None,
) -> WriteResult:
    """Priority, horizon and a first row with its owner for every ranked focus area.

    `owners` (option id -> name) fills in or corrects the owners set in the
    vote. All or nothing: if any area lacks an owner, nothing is written.
    Writing again updates what the same session wrote before.
    """
    result = ranking(state)
    if result is None or not result.options:
        raise refuse(N_("The prioritisation has not been counted yet: close the vote first."))
    owners = owners or {}
    problems: list[Msg] = []
    chosen: list[tuple[RankedOption, str]] = []
    masked = 0
    for option in result.options:
        given = owners.get(option.option_id, "") or option.owner or ""
        try:
            cleaned = clean_text(given, OWNER_MAX, "owner", one_line=True)
        except Refused as refused:
            problems.extend(refused.messages)
            continue
        if not cleaned.text:
            problems.append(msg(NO_OWNER, area=option.label))
            continue
        masked += cleaned.masked
        chosen.append((option, cleaned.text))
    if problems:
        raise Refused(*problems)
    created = updated = 0
    notes: list[Msg] = []
    async with repo.sessions() as db:
        areas = {
            a.id: a
            for a in (
                await db.exec(select(FocusArea).where(FocusArea.engagement_id == engagement_id))
            ).all()
        }
        rows = list(
            (await db.exec(select(PlanRow).where(PlanRow.engagement_id == engagement_id))).all()
        )
        position = max((a.position for a in areas.values()), default=0)
        for option, owner in chosen:
            area = areas.get(option.option_id)
            if area is None:  # an option the facilitator added in the workshop
                twin = next(
                    (a for a in areas.values() if a.title.casefold() == option.label.casefold()),
                    None,
                )
                if twin is None:
                    position += 1
                    twin = FocusArea(
                        id=new_id(),
                        engagement_id=engagement_id,
                        title=option.label[:200],
                        position=position,
                        source_session_id=session_id,
                    )
                    notes.append(
                        msg(
                            N_("“%(area)s” was added in the workshop and is now a focus area."),
                            area=option.label,
                        )
                    )
                area = twin
                areas[area.id] = area
            area.priority = option.place
            area.horizon = str(option.horizon) if option.horizon is not None else None
            if area.outcome == "dropped":
                area.outcome = "adjusted"
            db.add(area)
            mine = [r for r in rows if r.focus_area_id == area.id]
            from_here = next((r for r in mine if r.source_session_id == session_id), None)
            if from_here is not None:
                if from_here.owner != owner:
                    from_here.owner = owner
                    from_here.updated_at = utcnow()
                    db.add(from_here)
                updated += 1
            elif not mine:
                row = PlanRow(
                    id=new_id(),
                    engagement_id=engagement_id,
                    focus_area_id=area.id,
                    position=1,
                    owner=owner,
                    actors=owner,
                    source_session_id=session_id,
                )
                rows.append(row)
                db.add(row)
                created += 1
            else:
                updated += 1
            if option.horizon is None:
                notes.append(msg(N_("“%(area)s” has no time horizon yet."), area=option.label))
        await db.commit()
    tied = [o for o in result.options if o.deciding]  # a shared place that decides something
    if tied:
        notes.append(
            msg(
                N_(
                    "Some areas share a place (%(areas)s); a runoff in the workshop can settle the order."
                ),
                areas=", ".join(o.label for o in tied),
            )
        )
    if masked:
        notes.insert(0, masked_note(masked))
    return WriteResult(created, updated, tuple(notes))


def _fields(form: Mapping[str, object], allowed: tuple[str, ...]) -> tuple[dict[str, str], int]:
    values: dict[str, str] = {}
    masked = 0
    for name in allowed:
        if name in form:
            cleaned = clean_text(form[name], LIMITS[name], name)
            values[name] = cleaned.text
            masked += cleaned.masked
    return values, masked


def _owner(value: object, area_title: str) -> tuple[str, int]:
    owner = clean_text(value, OWNER_MAX, "owner", one_line=True)
    if not owner.text:
        raise Refused(msg(NO_OWNER, area=area_title))
    return owner.text, owner.masked


async def add_row(
    repo: Repo,
    engagement_id: str,
    focus_area_id: str,
    form: Mapping[str, object],
    *,
    session_id: str | None = None,
) -> tuple[PlanRow, tuple[Msg, ...]]:
    area = await store.focus_area(repo, engagement_id, focus_area_id)
    if area is None:
        raise refuse(N_("That focus area does not exist."))
    owner, masked_owner = _owner(form.get("owner"), area.title)
    values, masked = _fields(form, ROW_FIELDS)
    rows = [r for r in await store.plan_rows_of(repo, engagement_id) if r.focus_area_id == area.id]
    row = PlanRow(
        id=new_id(),
        engagement_id=engagement_id,
        focus_area_id=area.id,
        position=max((r.position for r in rows), default=0) + 1,
        owner=owner,
        source_session_id=session_id,
    )
    for key, value in values.items():
        setattr(row, key, value)
    if not row.actors:
        row.actors = owner
    async with repo.sessions() as db:
        db.add(row)
        await db.commit()
        await db.refresh(row)
    total = masked + masked_owner
    return row, ((masked_note(total),) if total else ())


async def edit_row(
    repo: Repo,
    engagement_id: str,
    row_id: str,
    form: Mapping[str, object],
    allowed: tuple[str, ...] = ROW_FIELDS,
) -> tuple[Msg, ...]:
    row = await store.plan_row(repo, engagement_id, row_id)
    if row is None:
        raise refuse(N_("That plan row does not exist."))
    area = await store.focus_area(repo, engagement_id, row.focus_area_id)
    masked_owner = 0
    owner = row.owner
    if "owner" in form:
        owner, masked_owner = _owner(form.get("owner"), area.title if area else "")
    values, masked = _fields(form, allowed)
    async with repo.sessions() as db:
        fresh = await db.get(PlanRow, row_id)
        assert fresh is not None
        fresh.owner = owner
        for key, value in values.items():
            setattr(fresh, key, value)
        fresh.updated_at = utcnow()
        db.add(fresh)
        await db.commit()
    total = masked + masked_owner
    return (masked_note(total),) if total else ()


# -- the plan as a whole -------------------------------------------------------------


@dataclass(frozen=True)
class AreaPlan:
    area: FocusArea
    rows: tuple[PlanRow, ...]


async def plan_of(
    repo: Repo, engagement_id: str, *, include_dropped: bool = False
) -> list[AreaPlan]:
    """The focus areas in plan order, each with its rows."""
    areas = await store.focus_areas_of(repo, engagement_id, include_dropped=include_dropped)
    rows = await store.plan_rows_of(repo, engagement_id)
    by_area: dict[str, list[PlanRow]] = {}
    for row in rows:
        by_area.setdefault(row.focus_area_id, []).append(row)
    return [AreaPlan(a, tuple(by_area.get(a.id, ()))) for a in areas]


def _joined(rows: tuple[PlanRow, ...], name: str) -> str:
    texts = [getattr(r, name) for r in rows]
    if len(rows) <= 1:
        return texts[0] if texts else ""
    return "\n".join(f"{i}) {t}" for i, t in enumerate(texts, start=1) if t)


async def development_plan(
    repo: Repo,
    eng: Engagement,
    *,
    language: str = "da",
    status_names: Mapping[str, str] | None = None,
) -> DevelopmentPlan:
    """The plan for the minutes' renderers (`server.minutes.plan`): one entry per focus area.

    An area with several rows gets them numbered in each field.
    """
    names = status_names or {}
    entries = []
    for item in await plan_of(repo, eng.id):
        rows = item.rows
        statuses = [
            ": ".join(p for p in (names.get(r.status, r.status), r.status_note) if p) for r in rows
        ]
        status = (
            statuses[0]
            if len(statuses) == 1
            else "\n".join(f"{i}) {s}" for i, s in enumerate(statuses, 1))
        )
        entries.append(
            PlanRowModel(
                title=item.area.title,
                priority=item.area.priority,
                horizon=Horizon(item.area.horizon) if item.area.horizon in HORIZONS else None,
                owner=", ".join(dict.fromkeys(r.owner for r in rows)) or None,
                purpose=_joined(rows, "purpose"),
                activity=_joined(rows, "activity"),
                goal=_joined(rows, "goal"),
                actors=_joined(rows, "actors"),
                schedule=_joined(rows, "schedule"),
                status=status if rows else "",
                description=item.area.description,
            )
        )
    return DevelopmentPlan(
        title=eng.title,
        language="en" if language == "en" else "da",
        engagement_title=eng.title,
        updated=date.today(),
        rows=tuple(entries),
    )

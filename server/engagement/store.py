"""Reads the engagement modules share, and the engagement's settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import col, select

from server.engagement.common import N_, Msg, clean_text, refuse
from server.store.repo import Repo
from server.store.tables import (
    Case,
    Engagement,
    EngagementMember,
    EngagementSettings,
    FocusArea,
    PlanRow,
    Session,
    SessionPlan,
    User,
)


async def cases_of(repo: Repo, engagement_id: str, *, selected_only: bool = False) -> list[Case]:
    async with repo.sessions() as db:
        query = select(Case).where(Case.engagement_id == engagement_id)
        if selected_only:
            query = query.where(col(Case.selected).is_(True))
        query = query.order_by(col(Case.position), col(Case.label))
        return list((await db.exec(query)).all())


async def case(repo: Repo, engagement_id: str, case_id: str) -> Case | None:
    async with repo.sessions() as db:
        row = await db.get(Case, case_id)
        return row if row is not None and row.engagement_id == engagement_id else None


async def focus_areas_of(
    repo: Repo, engagement_id: str, *, include_dropped: bool = True
) -> list[FocusArea]:
    """Focus areas in plan order: prioritised ones first by priority, then as proposed."""
    async with repo.sessions() as db:
        query = select(FocusArea).where(FocusArea.engagement_id == engagement_id)
        rows = list((await db.exec(query)).all())
    if not include_dropped:
        rows = [r for r in rows if r.outcome != "dropped"]
    return sorted(rows, key=focus_order)


def focus_order(area: FocusArea) -> tuple[int, int, int, str]:
    prioritised = area.priority is not None and area.outcome != "dropped"
    return (
        0 if prioritised else 1,
        area.priority or 0,
        area.position,
        area.title.casefold(),
    )


async def focus_area(repo: Repo, engagement_id: str, area_id: str) -> FocusArea | None:
    async with repo.sessions() as db:
        row = await db.get(FocusArea, area_id)
        return row if row is not None and row.engagement_id == engagement_id else None


async def plan_rows_of(repo: Repo, engagement_id: str) -> list[PlanRow]:
    async with repo.sessions() as db:
        query = (
            select(PlanRow)
            .where(PlanRow.engagement_id == engagement_id)
            .order_by(col(PlanRow.position), col(PlanRow.created_at))
        )
        return list((await db.exec(query)).all())


async def plan_row(repo: Repo, engagement_id: str, row_id: str) -> PlanRow | None:
    async with repo.sessions() as db:
        row = await db.get(PlanRow, row_id)
        return row if row is not None and row.engagement_id == engagement_id else None


async def session_of(repo: Repo, engagement_id: str, session_id: str) -> Session | None:
    row = await repo.session(session_id)
    return row if row is not None and row.engagement_id == engagement_id else None


# -- members -----------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    user_id: int
    name: str
    role: str


async def members_of(repo: Repo, engagement_id: str) -> list[Member]:
    async with repo.sessions() as db:
        query = (
            select(EngagementMember, User)
            .join(User, col(User.id) == col(EngagementMember.user_id))
            .where(EngagementMember.engagement_id == engagement_id)
        )
        rows = (await db.exec(query)).all()
    members = [Member(user.id or 0, user.display_name or user.username, m.role) for m, user in rows]
    return sorted(members, key=lambda m: (m.role, m.name.casefold()))


# -- settings ----------------------------------------------------------------------

WEEKS_MAX = 52


async def settings_of(repo: Repo, engagement_id: str) -> EngagementSettings:
    async with repo.sessions() as db:
        row = await db.get(EngagementSettings, engagement_id)
    return row or EngagementSettings(engagement_id=engagement_id)


def _weeks(value: object, name: str, *, high: int = WEEKS_MAX) -> int | None:
    text = str(value or "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= high:
        raise refuse(
            N_("%(field)s must be a whole number from 1 to %(high)s."), field=Msg(name), high=high
        )
    return int(text)


def parse_date(value: object) -> date | None:
    """A date from a form (YYYY-MM-DD, or DD-MM-YYYY as Danes write it); None if empty."""
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    parts = text.replace(".", "-").replace("/", "-").split("-")
    if len(parts) == 3 and all(p.isascii() and p.isdigit() for p in parts):
        day, month, year = (int(p) for p in parts)
        try:
            return date(year if year > 99 else 2000 + year, month, day)
        except ValueError:
            pass
    raise refuse(N_("“%(value)s” is not a date; write it as 2026-03-14."), value=text[:20])


async def save_settings(
    repo: Repo,
    engagement_id: str,
    *,
    starts_on: object = None,
    steering_every_weeks: object = None,
    steering_meetings: object = None,
    follow_up_every_weeks: object = None,
    selection_target: object = None,
    focus_points: object = None,
) -> tuple[EngagementSettings, int]:
    """Store the settings from a form; returns them and how many CPR numbers were masked."""
    points = clean_text(focus_points or "", 4000, "focus_points")
    target = _weeks(selection_target, N_("Number of cases to select"), high=200)
    values = {
        "starts_on": parse_date(starts_on),
        "steering_every_weeks": _weeks(
            steering_every_weeks, N_("Steering group: every how many weeks")
        ),
        "steering_meetings": _weeks(
            steering_meetings, N_("Steering group: number of meetings"), high=100
        ),
        "follow_up_every_weeks": _weeks(
            follow_up_every_weeks, N_("Follow-up: every how many weeks")
        ),
        "selection_target": target or 20,
        "focus_points": points.text,
    }
    async with repo.sessions() as db:
        row = await db.get(EngagementSettings, engagement_id)
        if row is None:
            row = EngagementSettings(engagement_id=engagement_id)
        for key, value in values.items():
            setattr(row, key, value)
        db.add(row)
        await db.commit()
        await db.refresh(row)
        return row, points.masked


async def session_plans(repo: Repo, session_ids: list[str]) -> dict[str, SessionPlan]:
    if not session_ids:
        return {}
    async with repo.sessions() as db:
        query = select(SessionPlan).where(col(SessionPlan.session_id).in_(session_ids))
        return {row.session_id: row for row in (await db.exec(query)).all()}


async def plan_session(repo: Repo, session_id: str, planned_on: object, place: object) -> int:
    """Set when and where a session takes place; returns CPR numbers masked in the place."""
    when = parse_date(planned_on)
    where = clean_text(place or "", 200, "place", one_line=True)
    async with repo.sessions() as db:
        row = await db.get(SessionPlan, session_id) or SessionPlan(session_id=session_id)
        row.planned_on = when
        row.place = where.text
        db.add(row)
        await db.commit()
    return where.masked


async def engagement(repo: Repo, engagement_id: str) -> Engagement | None:
    return await repo.engagement(engagement_id)

"""The engagement at a glance: its sessions in order, what each produced, and its cadences.

The steering group meets on a cadence (three meetings in Varde, every 8 weeks
in Glostrup, monthly in Slagelse) and follow-up meetings every 6-8 weeks, each
ending by agreeing the next date and goals. The timeline shows when the next
one is due: the date agreed at the last follow-up, else the last meeting's date
plus the cadence.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from server.engagement import store
from server.engagement.consultation import comments_by_area, consultations_of
from server.engagement.sessions import learnings, themes
from server.engine import SessionState
from server.engine.state import NextMeeting
from server.scripts.schema import SessionType
from server.store.repo import Repo
from server.store.tables import EngagementSettings, Session, SessionPlan


@dataclass(frozen=True)
class TimelineItem:
    session: Session
    session_type: str
    planned_on: date | None
    place: str
    held_on: date | None
    next_meeting: NextMeeting | None
    counts: Mapping[str, int]  # what it produced: cards, learnings, themes, decisions ...

    @property
    def when(self) -> date | None:
        return self.held_on or self.planned_on


@dataclass(frozen=True)
class Cadence:
    kind: str  # steering_group | follow_up
    every_weeks: int | None
    meetings: int | None  # planned in all (steering group)
    held: int
    scheduled: int
    next_on: date | None
    agreed: NextMeeting | None  # the next meeting as the last one agreed it


@dataclass(frozen=True)
class Chain:
    """How far the engagement has come, link by link."""

    cases: int
    selected: int
    selection_target: int
    focus_areas: int
    dropped: int
    consultations: int
    comments: int
    plan_rows: int
    statuses: Mapping[str, int]


@dataclass(frozen=True)
class Timeline:
    items: tuple[TimelineItem, ...]
    steering: Cadence
    follow_up: Cadence
    chain: Chain


def _counts(state: SessionState | None) -> dict[str, int]:
    if state is None:
        return {}
    return {
        "participants": len(state.participants),
        "cards": len(state.cards),
        "cases": len(state.cases),
        "learnings": sum(len(c.cards) for c in learnings(state)),
        "themes": len(themes(state)),
        "decisions": len(state.decisions),
        "actions": len(state.actions),
    }


def _cadence(
    kind: SessionType,
    items: list[TimelineItem],
    every: int | None,
    meetings: int | None,
    starts_on: date | None,
    today: date,
) -> Cadence:
    mine = [i for i in items if i.session_type == kind]
    held = [i for i in mine if i.session.status == "ended"]
    agreed = next((i.next_meeting for i in reversed(mine) if i.next_meeting), None)
    upcoming = sorted(i.planned_on for i in mine if i.session.status != "ended" and i.planned_on)
    next_on: date | None = upcoming[0] if upcoming else None
    if next_on is None and agreed is not None:
        next_on = _date_in(agreed.date)
    if next_on is None and every:
        dates = [i.when for i in held if i.when]
        base = max(dates) if dates else starts_on
        if base is not None:
            next_on = base + timedelta(weeks=every)
            while next_on < today:
                next_on += timedelta(weeks=every)
    if meetings is not None and len(held) >= meetings:
        next_on = None  # all the planned meetings have been held
    return Cadence(str(kind), every, meetings, len(held), len(mine), next_on, agreed)


def _date_in(text: str) -> date | None:
    try:
        return store.parse_date(text)
    except Exception:  # a free-text date ("after the summer") is shown as agreed
        return None


async def timeline(
    repo: Repo,
    engagement_id: str,
    state_of: Callable[[str], Awaitable[SessionState | None]],
    *,
    today: date | None = None,
) -> Timeline:
    """`state_of(session_id)` is awaited for each session's state (None if it has no log)."""
    today = today or date.today()
    settings: EngagementSettings = await store.settings_of(repo, engagement_id)
    sessions = await repo.sessions_of(engagement_id)
    plans: dict[str, SessionPlan] = await store.session_plans(repo, [s.id for s in sessions])
    items: list[TimelineItem] = []
    for row in sessions:
        state = await state_of(row.id)
        plan = plans.get(row.id)
        session_type = str(state.script.session_type) if state else "other"
        items.append(
            TimelineItem(
                session=row,
                session_type=session_type,
                planned_on=plan.planned_on if plan else None,
                place=plan.place if plan else "",
                held_on=row.ended_at.date() if row.ended_at else None,
                next_meeting=state.next_meeting if state else None,
                counts=_counts(state),
            )
        )
    cases = await store.cases_of(repo, engagement_id)
    areas = await store.focus_areas_of(repo, engagement_id)
    rows = await store.plan_rows_of(repo, engagement_id)
    statuses: dict[str, int] = {}
    for plan_row in rows:
        statuses[plan_row.status] = statuses.get(plan_row.status, 0) + 1
    comments = await comments_by_area(repo, engagement_id)
    chain = Chain(
        cases=len(cases),
        selected=sum(1 for c in cases if c.selected),
        selection_target=settings.selection_target,
        focus_areas=sum(1 for a in areas if a.outcome != "dropped"),
        dropped=sum(1 for a in areas if a.outcome == "dropped"),
        consultations=len(await consultations_of(repo, engagement_id)),
        comments=sum(len(v) for v in comments.values()),
        plan_rows=len(rows),
        statuses=statuses,
    )
    return Timeline(
        items=tuple(items),
        steering=_cadence(
            SessionType.STEERING_GROUP,
            items,
            settings.steering_every_weeks,
            settings.steering_meetings,
            settings.starts_on,
            today,
        ),
        follow_up=_cadence(
            SessionType.FOLLOW_UP,
            items,
            settings.follow_up_every_weeks,
            None,
            settings.starts_on,
            today,
        ),
        chain=chain,
    )

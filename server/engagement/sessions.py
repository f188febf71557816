"""What a new session starts from, and what a session produced.

A session's log starts with SessionCreated, which carries the cases and focus
areas the session works on (so the log replays the same even if the register
changes later). `inputs` chooses them from the engagement: a case meeting gets
the selected cases (all of them if a walkthrough asks for all), a session that
votes on, comments on or edits focus areas gets the focus areas still in play,
in plan order.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.engagement import store
from server.engine import SessionState, replay
from server.engine.state import Card, CaseRef
from server.live import LiveSessions
from server.scripts.schema import (
    BrainstormStep,
    CaseWalkthroughStep,
    ConsultationStep,
    OptionSource,
    PlanEditStep,
    PollStep,
    Script,
    SessionType,
)
from server.store.eventlog import EventLog
from server.store.repo import Repo

FOCUS_SESSION_TYPES = {
    SessionType.CONSULTATION,
    SessionType.IMPLEMENTATION,
    SessionType.FOLLOW_UP,
    SessionType.STEERING_GROUP,
    SessionType.POLITICIANS,
}


def case_mode(script: Script) -> str | None:
    """'all', 'selected' or None: which of the register's cases the script walks through."""
    walks = [s for s in script.steps if isinstance(s, CaseWalkthroughStep)]
    if not walks:
        return None
    return "all" if any(s.cases == "all" for s in walks) else "selected"


def wants_focus_areas(script: Script) -> bool:
    for step in script.steps:
        if isinstance(step, PollStep) and step.options_from is OptionSource.FOCUS_AREAS:
            return True
        if isinstance(step, PlanEditStep | ConsultationStep):
            return True
    return script.session_type in FOCUS_SESSION_TYPES


@dataclass(frozen=True)
class Inputs:
    cases: tuple[dict[str, str], ...] = ()
    focus_areas: tuple[dict[str, str], ...] = ()


async def inputs(repo: Repo, engagement_id: str, script: Script) -> Inputs:
    """The cases and focus areas a new session of `script` starts from."""
    cases: tuple[dict[str, str], ...] = ()
    mode = case_mode(script)
    if mode is not None:
        rows = await store.cases_of(repo, engagement_id, selected_only=mode == "selected")
        cases = tuple(
            {
                "id": c.id,
                "label": c.label,
                "cover": c.cover,
                "summary": c.summary,
                "learning_question": c.learning_question,
            }
            for c in rows
        )
    areas: tuple[dict[str, str], ...] = ()
    if wants_focus_areas(script):
        found = await store.focus_areas_of(repo, engagement_id, include_dropped=False)
        areas = tuple({"id": a.id, "title": a.title} for a in found)
    return Inputs(cases, areas)


async def state_of(live: LiveSessions, log: EventLog, session_id: str) -> SessionState | None:
    """The session's state: the live one if it runs here, else replayed from its log."""
    running = live.sessions.get(session_id)
    if running is not None:
        return running.state
    events = await log.load(session_id)
    return replay(events) if events else None


# -- what a session produced -------------------------------------------------------


@dataclass(frozen=True)
class CaseLearnings:
    case: CaseRef
    cards: tuple[Card, ...]


def learnings(state: SessionState) -> list[CaseLearnings]:
    """Per case of the session, the cards added while it was on the wall."""
    walk_steps = {s.id for s in state.script.steps if isinstance(s, CaseWalkthroughStep)}
    by_case: dict[str, list[Card]] = {}
    for card in sorted(state.cards.values(), key=lambda c: (c.created_at, c.id)):
        if card.step_id in walk_steps and card.case_id is not None:
            by_case.setdefault(card.case_id, []).append(card)
    return [CaseLearnings(case, tuple(by_case.get(case.id, ()))) for case in state.cases]


def decisions_text(state: SessionState) -> list[str]:
    """The decisions recorded in the session, in order (the kick-off's focus points)."""
    return [d.text for d in sorted(state.decisions, key=lambda d: (d.created_at, d.id))]


@dataclass(frozen=True)
class Theme:
    """A cluster of a brainstorm that proposes focus areas."""

    step_id: str
    cluster_id: str
    title: str
    cards: tuple[str, ...]


def themes(state: SessionState) -> list[Theme]:
    """The clusters of the brainstorms that propose focus areas, with their cards.

    A cluster may hold cards from any step (the learnings from the case
    walkthrough are grouped into the themes).
    """
    cards = sorted(state.cards.values(), key=lambda c: (c.created_at, c.id))
    found: list[Theme] = []
    for step in state.script.steps:
        if isinstance(step, BrainstormStep) and step.propose_focus_areas:
            for cluster in state.clusters_for(step.id):
                texts = tuple(c.text for c in cards if c.cluster_id == cluster.id)
                found.append(Theme(step.id, cluster.id, cluster.title, texts))
    return found

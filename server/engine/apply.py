"""apply(state, event) -> state: the only way a state changes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import TypeVar

from server.engine import steps as _steps  # noqa: F401  (registers the step kinds)
from server.engine.events import (
    ActionAdded,
    ActionEdited,
    CardAdded,
    CardEdited,
    CardGrouped,
    CardWithdrawn,
    CaseOwnerSet,
    ClusterAdded,
    DecisionEdited,
    DecisionRecorded,
    NextMeetingAgreed,
    ParticipantJoined,
    ParticipantRenamed,
    RoleSet,
    SessionCreated,
    SessionEnded,
    SessionStarted,
    StepEntered,
    TimerExtended,
    TimerPaused,
    TimerReset,
    TimerStarted,
)
from server.engine.registry import APPLIERS, Event, applies
from server.engine.state import (
    ActionItem,
    Card,
    CaseRef,
    Cluster,
    Decision,
    FocusArea,
    KeptTimer,
    NextMeeting,
    Participant,
    SessionState,
    SessionStatus,
    StepVisit,
    Timer,
    TimerStatus,
)
from server.scripts.schema import Script

V = TypeVar("V")


def put(mapping: Mapping[str, V], key: str, value: V) -> Mapping[str, V]:
    return {**mapping, key: value}


def drop(mapping: Mapping[str, V], key: str) -> Mapping[str, V]:
    return {k: v for k, v in mapping.items() if k != key}


def apply(state: SessionState, event: Event) -> SessionState:
    return APPLIERS[type(event)](state, event)


def apply_all(state: SessionState, events: Iterable[Event]) -> SessionState:
    for ev in events:
        state = apply(state, ev)
    return state


def initial_state(created: SessionCreated) -> SessionState:
    """The state a session's log starts from: its first event."""
    return SessionState(
        session_id=created.session_id,
        script=Script.model_validate(created.script),
        cases=tuple(CaseRef(**c) for c in created.cases),
        focus_areas=tuple(FocusArea(**f) for f in created.focus_areas),
    )


def replay(events: Iterable[Event]) -> SessionState:
    it = iter(events)
    first = next(it)
    if not isinstance(first, SessionCreated):
        raise ValueError("a session's log starts with SessionCreated")
    return apply_all(initial_state(first), it)


@applies(SessionCreated)
def _created(state: SessionState, ev: SessionCreated) -> SessionState:
    return state  # handled by initial_state; a second one changes nothing


@applies(SessionStarted)
def _started(state: SessionState, ev: SessionStarted) -> SessionState:
    # A reopened session (ReopenSession) has not ended any more.
    return replace(
        state, status=SessionStatus.RUNNING, started_at=state.started_at or ev.at, ended_at=None
    )


def _close_visit(state: SessionState, at: float) -> tuple[StepVisit, ...]:
    visits = state.visits
    if visits and visits[-1].ended_at is None:
        visits = (*visits[:-1], replace(visits[-1], ended_at=at))
    return visits


@applies(SessionEnded)
def _ended(state: SessionState, ev: SessionEnded) -> SessionState:
    timer = replace(state.timer, status=TimerStatus.IDLE, deadline=None, remaining=0.0)
    return replace(
        state,
        status=SessionStatus.ENDED,
        ended_at=ev.at,
        visits=_close_visit(state, ev.at),
        timer=timer,
    )


@applies(StepEntered)
def _entered(state: SessionState, ev: StepEntered) -> SessionState:
    visits = (*_close_visit(state, ev.at), StepVisit(step_id=ev.step_id, started_at=ev.at))
    kept = state.kept_timers
    left = state.step_id
    if left is not None and left != ev.step_id:  # the step left keeps what was left of its time
        kept = put(kept, left, KeptTimer.of(state.timer, ev.at))
    return replace(state, current=ev.index, visits=visits, kept_timers=kept)


@applies(TimerStarted)
def _timer_started(state: SessionState, ev: TimerStarted) -> SessionState:
    timer = Timer(
        status=TimerStatus.RUNNING,
        duration=ev.duration,
        remaining=max(0.0, ev.deadline - ev.at),
        deadline=ev.deadline,
    )
    return replace(state, timer=timer)


@applies(TimerPaused)
def _timer_paused(state: SessionState, ev: TimerPaused) -> SessionState:
    timer = replace(
        state.timer, status=TimerStatus.PAUSED, remaining=max(0.0, ev.remaining), deadline=None
    )
    return replace(state, timer=timer)


@applies(TimerExtended)
def _timer_extended(state: SessionState, ev: TimerExtended) -> SessionState:
    # Minutes taken off shorten what is left (down to 00:00), never the time the
    # timer was set to: that made a 1-minute timer "no timer" on every screen.
    t = state.timer
    if t.status is TimerStatus.RUNNING and t.deadline is not None:
        deadline = max(ev.at, max(t.deadline, ev.at) + ev.seconds)
        timer = replace(t, deadline=deadline, duration=max(t.duration, deadline - ev.at))
    else:
        remaining = max(0.0, t.remaining + ev.seconds)
        timer = replace(t, remaining=remaining, duration=max(t.duration, remaining))
    return replace(state, timer=timer)


@applies(TimerReset)
def _timer_reset(state: SessionState, ev: TimerReset) -> SessionState:
    duration = max(0.0, ev.duration)
    return replace(state, timer=Timer(duration=duration, remaining=duration))


@applies(ParticipantJoined)
def _joined(state: SessionState, ev: ParticipantJoined) -> SessionState:
    p = Participant(id=ev.participant_id, name=ev.name, role=ev.role, joined_at=ev.at)
    return replace(state, participants=put(state.participants, p.id, p))


@applies(ParticipantRenamed)
def _renamed(state: SessionState, ev: ParticipantRenamed) -> SessionState:
    p = state.participants.get(ev.participant_id)
    if p is None:
        return state
    return replace(state, participants=put(state.participants, p.id, replace(p, name=ev.name)))


@applies(RoleSet)
def _role_set(state: SessionState, ev: RoleSet) -> SessionState:
    p = state.participants.get(ev.participant_id)
    if p is None:
        return state
    return replace(state, participants=put(state.participants, p.id, replace(p, role=ev.role)))


@applies(CaseOwnerSet)
def _case_owner(state: SessionState, ev: CaseOwnerSet) -> SessionState:
    return replace(state, case_owner=ev.participant_id)


@applies(CardAdded)
def _card_added(state: SessionState, ev: CardAdded) -> SessionState:
    card = Card(
        id=ev.card_id,
        step_id=ev.step_id,
        author_id=ev.author_id,
        text=ev.text,
        created_at=ev.at,
        case_id=ev.case_id,
    )
    return replace(state, cards=put(state.cards, card.id, card))


@applies(CardEdited)
def _card_edited(state: SessionState, ev: CardEdited) -> SessionState:
    card = state.cards.get(ev.card_id)
    if card is None:
        return state
    return replace(state, cards=put(state.cards, card.id, replace(card, text=ev.text, edited=True)))


@applies(CardWithdrawn)
def _card_withdrawn(state: SessionState, ev: CardWithdrawn) -> SessionState:
    return replace(
        state,
        cards=drop(state.cards, ev.card_id),
        withdrawn_cards=state.withdrawn_cards | {ev.card_id},
    )


@applies(ClusterAdded)
def _cluster_added(state: SessionState, ev: ClusterAdded) -> SessionState:
    cluster = Cluster(id=ev.cluster_id, step_id=ev.step_id, title=ev.title)
    return replace(state, clusters=put(state.clusters, cluster.id, cluster))


@applies(CardGrouped)
def _card_grouped(state: SessionState, ev: CardGrouped) -> SessionState:
    card = state.cards.get(ev.card_id)
    if card is None:
        return state
    return replace(state, cards=put(state.cards, card.id, replace(card, cluster_id=ev.cluster_id)))


@applies(DecisionRecorded)
def _decision(state: SessionState, ev: DecisionRecorded) -> SessionState:
    d = Decision(
        id=ev.decision_id,
        step_id=ev.step_id,
        text=ev.text,
        decided_by=ev.decided_by,
        created_at=ev.at,
    )
    return replace(state, decisions=(*state.decisions, d))


@applies(DecisionEdited)
def _decision_edited(state: SessionState, ev: DecisionEdited) -> SessionState:
    decisions = tuple(
        replace(d, text=ev.text, edited=True) if d.id == ev.decision_id else d
        for d in state.decisions
    )
    return replace(state, decisions=decisions)


@applies(ActionAdded)
def _action(state: SessionState, ev: ActionAdded) -> SessionState:
    a = ActionItem(
        id=ev.action_id, step_id=ev.step_id, what=ev.what, who=ev.who, due=ev.due, created_at=ev.at
    )
    return replace(state, actions=(*state.actions, a))


@applies(ActionEdited)
def _action_edited(state: SessionState, ev: ActionEdited) -> SessionState:
    actions = tuple(
        replace(a, what=ev.what, who=ev.who, due=ev.due, edited=True) if a.id == ev.action_id else a
        for a in state.actions
    )
    return replace(state, actions=actions)


@applies(NextMeetingAgreed)
def _next_meeting(state: SessionState, ev: NextMeetingAgreed) -> SessionState:
    return replace(state, next_meeting=NextMeeting(date=ev.date, goals=ev.goals))

"""The state of one live session: plain, immutable data.

Only `apply` (and the step modules' appliers it dispatches to) makes a new
state from an old one; everything else reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from server.engine.poll import PollState
from server.scripts.schema import Script, Step


class SessionStatus(StrEnum):
    PLANNED = "planned"
    RUNNING = "running"
    ENDED = "ended"


class TimerStatus(StrEnum):
    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"


class ActorRole(StrEnum):
    FACILITATOR = "facilitator"
    PARTICIPANT = "participant"
    SYSTEM = "system"
    VIEWER = "viewer"  # a wall that only watches: the engine grants it nothing


@dataclass(frozen=True, slots=True)
class Actor:
    role: ActorRole
    id: str

    @property
    def is_facilitator(self) -> bool:
        return self.role in (ActorRole.FACILITATOR, ActorRole.SYSTEM)


@dataclass(frozen=True, slots=True)
class Timer:
    """Server-authoritative: a deadline while running, a remainder otherwise.

    `duration` is the time the timer was set to (more if minutes were added past
    it). Taking minutes off shortens what is left, never `duration`, so a timer once
    set stays on every screen, at 00:00 or in overtime, until it is reset.
    """

    status: TimerStatus = TimerStatus.IDLE
    duration: float = 0.0
    remaining: float = 0.0
    deadline: float | None = None

    @property
    def is_set(self) -> bool:
        """There is a timer to show (a step without a timebox has none until one is set)."""
        return self.duration > 0 or self.status is not TimerStatus.IDLE

    def remaining_at(self, now: float) -> float:
        return max(0.0, self.left_at(now))

    def left_at(self, now: float) -> float:
        """What is left; below zero while a running timer is in overtime."""
        if self.status is TimerStatus.RUNNING and self.deadline is not None:
            return self.deadline - now
        return max(0.0, self.remaining)

    def expired_at(self, now: float) -> bool:
        return self.is_set and self.remaining_at(now) <= 0.0


@dataclass(frozen=True, slots=True)
class KeptTimer:
    """A step's timer as it was when the step was left, given back on returning to
    it (`SessionState.kept_timers`): running or paused, the time it was set to,
    and what was left then (below zero: the overtime so far)."""

    status: TimerStatus
    duration: float
    left: float

    @staticmethod
    def of(timer: Timer, at: float) -> KeptTimer:
        return KeptTimer(status=timer.status, duration=timer.duration, left=timer.left_at(at))


@dataclass(frozen=True, slots=True)
class Participant:
    id: str
    name: str | None
    role: str | None
    joined_at: float


@dataclass(frozen=True, slots=True)
class Cluster:
    id: str
    step_id: str
    title: str


@dataclass(frozen=True, slots=True)
class Card:
    id: str
    step_id: str
    author_id: str
    text: str
    created_at: float
    cluster_id: str | None = None
    edited: bool = False
    case_id: str | None = None  # the case on the wall when it was added (case walkthrough)


@dataclass(frozen=True, slots=True)
class RoundState:
    """A speaking order; `position` may equal len(order): the round is through."""

    step_id: str
    order: tuple[str, ...]
    position: int = 0
    skipped: tuple[str, ...] = ()

    @property
    def current(self) -> str | None:
        return self.order[self.position] if self.position < len(self.order) else None

    @property
    def finished(self) -> bool:
        return self.position >= len(self.order)


@dataclass(frozen=True, slots=True)
class Decision:
    id: str
    step_id: str
    text: str
    decided_by: str
    created_at: float
    edited: bool = False


@dataclass(frozen=True, slots=True)
class ActionItem:
    id: str
    step_id: str
    what: str
    who: str
    due: str | None
    created_at: float
    edited: bool = False


@dataclass(frozen=True, slots=True)
class NextMeeting:
    date: str
    goals: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CaseRef:
    """A pseudonymised case from the engagement's register, as the session saw it."""

    id: str
    label: str
    cover: str = ""
    summary: str = ""
    learning_question: str = ""


@dataclass(frozen=True, slots=True)
class FocusArea:
    id: str
    title: str


@dataclass(frozen=True, slots=True)
class StepVisit:
    step_id: str
    started_at: float
    ended_at: float | None = None


@dataclass(frozen=True, slots=True)
class SessionState:
    session_id: str
    script: Script
    status: SessionStatus = SessionStatus.PLANNED
    current: int | None = None
    timer: Timer = Timer()
    participants: Mapping[str, Participant] = field(default_factory=dict)
    cards: Mapping[str, Card] = field(default_factory=dict)
    withdrawn_cards: frozenset[str] = frozenset()  # so a late resend cannot bring one back
    clusters: Mapping[str, Cluster] = field(default_factory=dict)
    rounds: Mapping[str, RoundState] = field(default_factory=dict)
    polls: Mapping[str, PollState] = field(default_factory=dict)
    decisions: tuple[Decision, ...] = ()
    actions: tuple[ActionItem, ...] = ()
    cases: tuple[CaseRef, ...] = ()
    case_positions: Mapping[str, int] = field(default_factory=dict)
    focus_areas: tuple[FocusArea, ...] = ()
    case_owner: str | None = None
    next_meeting: NextMeeting | None = None
    visits: tuple[StepVisit, ...] = ()
    kept_timers: Mapping[str, KeptTimer] = field(default_factory=dict)  # by step id
    started_at: float | None = None
    ended_at: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def step(self) -> Step | None:
        return None if self.current is None else self.script.steps[self.current]

    @property
    def step_id(self) -> str | None:
        step = self.step
        return None if step is None else step.id

    def cards_for(self, step_id: str) -> list[Card]:
        return sorted(
            (c for c in self.cards.values() if c.step_id == step_id),
            key=lambda c: (c.created_at, c.id),
        )

    def cards_by(self, step_id: str, author_id: str) -> list[Card]:
        """One participant's cards of a step, in wall order."""
        return [c for c in self.cards_for(step_id) if c.author_id == author_id]

    def clusters_for(self, step_id: str) -> list[Cluster]:
        return [c for c in self.clusters.values() if c.step_id == step_id]

    def case_for(self, step_id: str) -> CaseRef | None:
        """The case a case-walkthrough step is at, if any."""
        index = self.case_positions.get(step_id)
        if index is None or not 0 <= index < len(self.cases):
            return None
        return self.cases[index]

    def participant_role(self, participant_id: str) -> str | None:
        if participant_id == self.case_owner:
            return "case_owner"
        p = self.participants.get(participant_id)
        return None if p is None else p.role

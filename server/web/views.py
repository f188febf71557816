"""Read-only view models the templates draw from (no rendering, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from server.engine.state import Card, Participant, SessionState, SessionStatus, TimerStatus
from server.scripts.schema import RoundStep, Step


@dataclass(frozen=True)
class Person:
    id: str
    number: int
    name: str | None
    role: str | None
    connected: bool


@dataclass(frozen=True)
class StepItem:
    index: int
    step: Step
    state: str  # done | current | upcoming


@dataclass(frozen=True)
class ClusterView:
    id: str | None
    title: str | None
    cards: tuple[Card, ...]


class SessionView:
    def __init__(self, state: SessionState, connected: frozenset[str], now: float) -> None:
        self.s = state
        self.connected = connected
        self.now = now

    @cached_property
    def people(self) -> list[Person]:
        ordered = sorted(self.s.participants.values(), key=lambda p: (p.joined_at, p.id))
        return [
            Person(p.id, i, p.name, self.s.participant_role(p.id), p.id in self.connected)
            for i, p in enumerate(ordered, start=1)
        ]

    @cached_property
    def by_id(self) -> dict[str, Person]:
        return {p.id: p for p in self.people}

    @property
    def running(self) -> bool:
        return self.s.status is SessionStatus.RUNNING

    @property
    def ended(self) -> bool:
        return self.s.status is SessionStatus.ENDED

    @property
    def step(self) -> Step | None:
        return self.s.step

    @property
    def steps(self) -> list[StepItem]:
        cur = self.s.current
        return [
            StepItem(
                i, st, "upcoming" if cur is None or i > cur else "current" if i == cur else "done"
            )
            for i, st in enumerate(self.s.script.steps)
        ]

    @property
    def is_first(self) -> bool:
        return self.s.current in (None, 0)

    @property
    def is_last(self) -> bool:
        return self.s.current == len(self.s.script.steps) - 1

    @property
    def connected_count(self) -> int:
        return sum(1 for p in self.people if p.connected)

    def role_title(self, role_id: str | None) -> str | None:
        if role_id is None:
            return None
        for r in self.s.script.roles:
            if r.id == role_id:
                return r.title
        return role_id

    # -- timer -----------------------------------------------------------------

    @property
    def timer_running(self) -> bool:
        return self.s.timer.status is TimerStatus.RUNNING

    @property
    def timer_deadline_ms(self) -> int:
        deadline = self.s.timer.deadline
        return int(deadline * 1000) if deadline else 0

    @property
    def timer_remaining(self) -> float:
        return self.s.timer.remaining_at(self.now)

    @property
    def has_timer(self) -> bool:
        return self.s.timer.duration > 0

    # -- cards -----------------------------------------------------------------

    def clusters(self, step_id: str) -> list[ClusterView]:
        cards = self.s.cards_for(step_id)
        groups = [
            ClusterView(c.id, c.title, tuple(card for card in cards if card.cluster_id == c.id))
            for c in self.s.clusters_for(step_id)
        ]
        loose = tuple(card for card in cards if card.cluster_id is None)
        return [*groups, ClusterView(None, None, loose)] if loose or not groups else groups

    @property
    def cards_here(self) -> list[Card]:
        step = self.s.step
        return [] if step is None else self.s.cards_for(step.id)

    # -- rounds ----------------------------------------------------------------

    @property
    def round_order(self) -> list[tuple[Person | None, str]]:
        """(person, state) in speaking order; state is done | current | waiting | skipped."""
        step = self.s.step
        if not isinstance(step, RoundStep):
            return []
        rnd = self.s.rounds.get(step.id)
        if rnd is None:
            return []
        out: list[tuple[Person | None, str]] = []
        for i, pid in enumerate(rnd.order):
            if i < rnd.position:
                state = "skipped" if pid in rnd.skipped else "done"
            else:
                state = "current" if i == rnd.position else "waiting"
            out.append((self.by_id.get(pid), state))
        return out

    @property
    def current_speaker(self) -> Person | None:
        step = self.s.step
        rnd = self.s.rounds.get(step.id) if isinstance(step, RoundStep) else None
        if rnd is None or rnd.current is None:
            return None
        return self.by_id.get(rnd.current)

    @property
    def listeners(self) -> list[Person]:
        step = self.s.step
        if not isinstance(step, RoundStep):
            return []
        return [p for p in self.people if p.role in step.listeners]


@dataclass(frozen=True)
class PrivateView:
    """Everything one phone shows that is its own; hashable, so equal views render once."""

    step_id: str | None
    name: str | None
    role: str | None
    listening: bool
    my_turn: bool
    cards: tuple[tuple[str, str], ...]


def private_view(state: SessionState, participant_id: str) -> PrivateView:
    p: Participant | None = state.participants.get(participant_id)
    step = state.step
    role = state.participant_role(participant_id)
    listening = isinstance(step, RoundStep) and role is not None and role in step.listeners
    my_turn = False
    if isinstance(step, RoundStep):
        rnd = state.rounds.get(step.id)
        my_turn = rnd is not None and rnd.current == participant_id
    cards: tuple[tuple[str, str], ...] = ()
    if step is not None:
        cards = tuple(
            (c.id, c.text) for c in state.cards_for(step.id) if c.author_id == participant_id
        )
    return PrivateView(
        step_id=step.id if step else None,
        name=p.name if p else None,
        role=role,
        listening=listening,
        my_turn=my_turn,
        cards=cards,
    )

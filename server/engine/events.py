"""What happened. Events are the log; state is their fold.

Kind-specific events live in their step module. `to_record` / `from_record`
turn an event into JSON-ready data and back, so the log replays exactly.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from server.engine.registry import EVENT_TYPES, Event, event


@event
@dataclass(frozen=True, kw_only=True)
class SessionCreated(Event):
    session_id: str
    script: dict[str, Any]
    cases: tuple[dict[str, str], ...] = ()
    focus_areas: tuple[dict[str, str], ...] = ()


@event
@dataclass(frozen=True, kw_only=True)
class SessionStarted(Event):
    pass


@event
@dataclass(frozen=True, kw_only=True)
class SessionEnded(Event):
    pass


@event
@dataclass(frozen=True, kw_only=True)
class StepEntered(Event):
    step_id: str
    index: int


@event
@dataclass(frozen=True, kw_only=True)
class TimerStarted(Event):
    duration: float
    deadline: float


@event
@dataclass(frozen=True, kw_only=True)
class TimerPaused(Event):
    remaining: float


@event
@dataclass(frozen=True, kw_only=True)
class TimerExtended(Event):
    seconds: float


@event
@dataclass(frozen=True, kw_only=True)
class TimerReset(Event):
    duration: float


@event
@dataclass(frozen=True, kw_only=True)
class ParticipantJoined(Event):
    participant_id: str
    name: str | None
    role: str | None = None


@event
@dataclass(frozen=True, kw_only=True)
class ParticipantRenamed(Event):
    participant_id: str
    name: str | None


@event
@dataclass(frozen=True, kw_only=True)
class RoleSet(Event):
    participant_id: str
    role: str | None


@event
@dataclass(frozen=True, kw_only=True)
class CaseOwnerSet(Event):
    participant_id: str | None


@event
@dataclass(frozen=True, kw_only=True)
class CardAdded(Event):
    card_id: str
    step_id: str
    author_id: str
    text: str
    masked: int = 0
    case_id: str | None = None


@event
@dataclass(frozen=True, kw_only=True)
class CardEdited(Event):
    card_id: str
    text: str
    masked: int = 0


@event
@dataclass(frozen=True, kw_only=True)
class CardWithdrawn(Event):
    card_id: str


@event
@dataclass(frozen=True, kw_only=True)
class ClusterAdded(Event):
    cluster_id: str
    step_id: str
    title: str


@event
@dataclass(frozen=True, kw_only=True)
class CardGrouped(Event):
    card_id: str
    cluster_id: str | None


@event
@dataclass(frozen=True, kw_only=True)
class DecisionRecorded(Event):
    decision_id: str
    step_id: str
    text: str
    decided_by: str
    masked: int = 0


@event
@dataclass(frozen=True, kw_only=True)
class DecisionEdited(Event):
    decision_id: str
    text: str
    edited_by: str = ""
    masked: int = 0


@event
@dataclass(frozen=True, kw_only=True)
class ActionAdded(Event):
    action_id: str
    step_id: str
    what: str
    who: str
    due: str | None
    masked: int = 0


@event
@dataclass(frozen=True, kw_only=True)
class ActionEdited(Event):
    action_id: str
    what: str
    who: str
    due: str | None
    edited_by: str = ""
    masked: int = 0


@event
@dataclass(frozen=True, kw_only=True)
class NextMeetingAgreed(Event):
    date: str
    goals: tuple[str, ...]


def to_record(ev: Event) -> tuple[str, dict[str, Any]]:
    """The event's type name and its fields as JSON-ready data."""
    return type(ev).__name__, dataclasses.asdict(ev)


def _tuples(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    return value


def from_record(type_name: str, data: dict[str, Any]) -> Event:
    cls = EVENT_TYPES.get(type_name)
    if cls is None:
        raise ValueError(f"unknown event type {type_name!r}")
    names = {f.name for f in dataclasses.fields(cls)}
    kwargs = {k: (v if k == "script" else _tuples(v)) for k, v in data.items() if k in names}
    return cls(**kwargs)

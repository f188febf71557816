"""The record of a session, as plain typed data.

These frozen dataclasses are what the renderers (Markdown, DOCX, PDF, CSV,
journal note, iCalendar) consume. They know nothing about the live engine:
``build.py`` folds a session's event log into a :class:`Minutes`.

Conventions:

* Every text field holds untrusted user text; renderers escape it.
* Datetimes may be naive (taken as Danish local time) or timezone-aware
  (converted to Europe/Copenhagen for display, to UTC for iCalendar).
* Sequences are tuples, so a ``Minutes`` is hashable and immutable.
* Order is meaningful everywhere: renderers keep the order they are given.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

Language = Literal["da", "en"]


@dataclass(frozen=True, slots=True)
class Participant:
    """Someone in the room. ``name`` is None for an anonymous participant."""

    name: str | None
    role: str  # role label as shown, e.g. "Sagsejer", "Koordinator", "Rådgiver"


@dataclass(frozen=True, slots=True)
class Cluster:
    """A theme on the wall and the cards grouped under it."""

    title: str
    cards: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Step:
    """One step as it actually ran: when it started and how long it lasted."""

    title: str
    kind: str  # the script's step kind: "round", "brainstorm", "poll", "decision", ...
    started_at: dt.datetime | None = None
    duration_seconds: int | None = None
    clusters: tuple[Cluster, ...] = ()
    unclustered: tuple[str, ...] = ()  # cards not in any cluster

    @property
    def card_count(self) -> int:
        return len(self.unclustered) + sum(len(c.cards) for c in self.clusters)


@dataclass(frozen=True, slots=True)
class PollResultRow:
    """One option's result. ``rank`` starts at 1; tied options share a rank."""

    label: str
    value: float  # votes, dots, points or average score, depending on the poll type
    rank: int
    tied: bool = False


@dataclass(frozen=True, slots=True)
class VoterLine:
    """How one named voter voted (named polls only)."""

    voter: str
    choice: str


@dataclass(frozen=True, slots=True)
class Poll:
    question: str
    poll_type: str  # "choice", "approval", "dot", "rank", "score"
    ballots: int  # number of ballots cast
    results: tuple[PollResultRow, ...] = ()
    named: bool = False  # True when the poll was not anonymous
    voters: tuple[VoterLine, ...] = ()
    step_title: str | None = None

    def __post_init__(self) -> None:
        if self.voters and not self.named:
            raise ValueError("an anonymous poll cannot carry per-voter lines")


@dataclass(frozen=True, slots=True)
class Decision:
    text: str
    decided_by: str | None = None  # e.g. "Teamet", "Styregruppen", "Sagsejer"
    step_title: str | None = None
    edited: bool = False  # the text was changed after it was first recorded


@dataclass(frozen=True, slots=True)
class Action:
    what: str
    who: str | None = None  # ansvarlig
    due: dt.date | None = None  # frist


@dataclass(frozen=True, slots=True)
class NextMeeting:
    """The next meeting agreed at the end of a follow-up meeting."""

    starts_at: dt.datetime
    ends_at: dt.datetime | None = None
    place: str | None = None
    goals: tuple[str, ...] = ()  # what must be reached by then


@dataclass(frozen=True, slots=True)
class Minutes:
    title: str
    session_type: str  # "kvifa", "implementation", "follow_up", ... (script SessionType)
    language: Language = "da"
    engagement_title: str | None = None
    place: str | None = None
    date: dt.date | None = None
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    is_draft: bool = False  # the session is still running
    participants: tuple[Participant, ...] = ()
    steps: tuple[Step, ...] = ()
    polls: tuple[Poll, ...] = ()
    decisions: tuple[Decision, ...] = ()
    actions: tuple[Action, ...] = ()
    next_meeting: NextMeeting | None = None
    case_label: str | None = None  # pseudonymised, e.g. "Sag 17" (Kvifa only)
    learning_question: str | None = None

    @property
    def meeting_date(self) -> dt.date | None:
        """The date to show: ``date``, else the start's date."""
        if self.date is not None:
            return self.date
        return self.started_at.date() if self.started_at is not None else None


class Horizon(StrEnum):
    SHORT = "short"
    MEDIUM = "medium"
    LONG = "long"


@dataclass(frozen=True, slots=True)
class PlanRow:
    """One focus area (indsatsområde) of the development plan."""

    title: str
    priority: int | None = None  # 1 = highest; None = not prioritised
    horizon: Horizon | None = None
    owner: str | None = None
    purpose: str = ""  # Formål
    activity: str = ""  # Aktivitet
    goal: str = ""  # Mål
    actors: str = ""  # Aktører
    schedule: str = ""  # Tidsplan og opfølgning
    status: str = ""  # Status
    description: str = ""  # optional intro text shown above the table


@dataclass(frozen=True, slots=True)
class DevelopmentPlan:
    title: str
    language: Language = "da"
    engagement_title: str | None = None
    updated: dt.date | None = None
    is_draft: bool = False
    rows: tuple[PlanRow, ...] = ()  # rendered in this order


PLAN_FIELDS: tuple[str, ...] = ("purpose", "activity", "goal", "actors", "schedule", "status")
"""The six rows of a focus area's table, in document order."""

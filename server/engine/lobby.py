"""The lobby of a case meeting: people ask to join; the facilitator lets them in.

Case meetings (the full-day case meeting and Kvifa sparring) discuss a child's
case, so nobody is in the room on a link alone: a person gives a name and
waits until the facilitator admits (or refuses) them. The session's script
decides (`required`); other sessions are joined directly with their code.

Step-independent, like the general commands: it registers its commands,
events and handlers here, and guards `Join` so that in a case meeting only
an admitted participant is ever added — whatever the edge sends.
The waiting list lives in `state.extra["lobby"]`. It is bounded: at most
MAX_WAITING people wait at once, and a knock nobody answered within KNOCK_TTL
seconds lapses (the next knock clears it out of the state, with an event, so a
replay does the same); a refusal is kept, so the refused person is told.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from server.engine import decide as _decide
from server.engine.apply import put
from server.engine.commands import Join
from server.engine.events import ParticipantJoined
from server.engine.registry import (
    HANDLERS,
    Command,
    CommandRejected,
    Event,
    Outcome,
    applies,
    command,
    event,
    handles,
)
from server.engine.state import ActorRole, SessionState
from server.engine.steps._checks import facilitator_only
from server.engine.text import NAME_MAX, clean
from server.scripts.schema import Script, SessionType

LOBBY_TYPES = frozenset({SessionType.CASE_MEETING, SessionType.KVIFA})
MAX_WAITING = 100  # people waiting at once: a case meeting has a handful
KNOCK_TTL = 3600.0  # seconds an unanswered knock waits before it lapses
KEY = "lobby"


def required(script: Script) -> bool:
    """Whether people must be admitted by the facilitator to join this session."""
    return script.session_type in LOBBY_TYPES


@dataclass(frozen=True, slots=True)
class Knock:
    """Someone at the door: waiting, or refused (kept so they are told, and stay out)."""

    id: str
    name: str
    asked_at: float
    denied: bool = False


def knocks(state: SessionState) -> Mapping[str, Knock]:
    value = state.extra.get(KEY)
    return value if isinstance(value, Mapping) else {}


def waiting(state: SessionState) -> list[Knock]:
    """The people waiting to be let in, first come first."""
    return sorted(
        (k for k in knocks(state).values() if not k.denied), key=lambda k: (k.asked_at, k.id)
    )


def lapsed(state: SessionState, now: float) -> list[Knock]:
    """Unanswered knocks older than KNOCK_TTL: they hold no place, and the next knock clears them."""
    return [k for k in waiting(state) if now - k.asked_at > KNOCK_TTL]


def status(state: SessionState, participant_id: str) -> str:
    """'in', 'waiting', 'denied' or 'none' for this participant id."""
    if participant_id in state.participants:
        return "in"
    knock = knocks(state).get(participant_id)
    if knock is None:
        return "none"
    return "denied" if knock.denied else "waiting"


# -- commands ----------------------------------------------------------------------


@command
@dataclass(frozen=True, kw_only=True)
class AskToJoin(Command):
    """A participant (actor.id) asks to be let in, under a name."""

    name: str


@command
@dataclass(frozen=True, kw_only=True)
class Admit(Command):
    participant_id: str


@command
@dataclass(frozen=True, kw_only=True)
class Deny(Command):
    participant_id: str


# -- events ------------------------------------------------------------------------


@event
@dataclass(frozen=True, kw_only=True)
class EntryAsked(Event):
    participant_id: str
    name: str
    masked: int = 0


@event
@dataclass(frozen=True, kw_only=True)
class EntryAdmitted(Event):
    participant_id: str


@event
@dataclass(frozen=True, kw_only=True)
class EntryDenied(Event):
    participant_id: str


@event
@dataclass(frozen=True, kw_only=True)
class EntriesLapsed(Event):
    """Knocks nobody answered within KNOCK_TTL, cleared from the waiting list."""

    participant_ids: tuple[str, ...]


# -- handlers ----------------------------------------------------------------------


@handles(AskToJoin)
def _ask(state: SessionState, cmd: AskToJoin, now: float) -> Outcome:
    if cmd.actor.role is not ActorRole.PARTICIPANT:
        return CommandRejected("Only participants join.", "forbidden")
    if not required(state.script):
        return CommandRejected("This session is joined with its code.", "no_lobby")
    cleaned = clean(cmd.name, NAME_MAX)
    if isinstance(cleaned, CommandRejected):
        if cleaned.code == "empty":
            return CommandRejected(
                "Give your name, so the facilitator knows who is asking to join.", "name_required"
            )
        return cleaned
    name, masked = cleaned
    pid = cmd.actor.id
    if pid in state.participants:
        return []
    knock = knocks(state).get(pid)
    if knock is not None and knock.denied:
        return CommandRejected("The facilitator has not let you in.", "denied")
    gone = tuple(k.id for k in lapsed(state, now))
    if pid in gone:
        knock = None  # their own knock lapsed: this one starts afresh
    if knock is not None and knock.name == name:
        return []
    if knock is None and len(waiting(state)) - len(gone) >= MAX_WAITING:
        return CommandRejected("Too many people are waiting. Try again in a moment.", "full")
    if len(state.participants) >= _decide.MAX_PARTICIPANTS:
        return CommandRejected("The session is full.", "full")
    asked = EntryAsked(at=now, participant_id=pid, name=name, masked=masked)
    return [EntriesLapsed(at=now, participant_ids=gone), asked] if gone else [asked]


@handles(Admit)
def _admit(state: SessionState, cmd: Admit, now: float) -> Outcome:
    if err := facilitator_only(cmd):
        return err
    if cmd.participant_id in state.participants:
        return []  # a double click
    knock = knocks(state).get(cmd.participant_id)
    if knock is None:
        return CommandRejected("Nobody with that id is waiting.", "unknown_participant")
    if len(state.participants) >= _decide.MAX_PARTICIPANTS:
        return CommandRejected("The session is full.", "full")
    return [
        ParticipantJoined(at=now, participant_id=knock.id, name=knock.name),
        EntryAdmitted(at=now, participant_id=knock.id),
    ]


@handles(Deny)
def _deny(state: SessionState, cmd: Deny, now: float) -> Outcome:
    if err := facilitator_only(cmd):
        return err
    knock = knocks(state).get(cmd.participant_id)
    if knock is None:
        if cmd.participant_id in state.participants:
            return CommandRejected("That participant is already in the session.", "admitted")
        return CommandRejected("Nobody with that id is waiting.", "unknown_participant")
    if knock.denied:
        return []
    return [EntryDenied(at=now, participant_id=knock.id)]


_plain_join = HANDLERS[Join]


@handles(Join)
def _join(state: SessionState, cmd: Join, now: float) -> Outcome:
    """In a case meeting a new participant comes in through the lobby only."""
    if required(state.script) and cmd.actor.id not in state.participants:
        return CommandRejected(
            "This meeting has a lobby: ask to join, and the facilitator lets you in.", "lobby"
        )
    return _plain_join(state, cmd, now)


# -- appliers ----------------------------------------------------------------------


def _with(state: SessionState, lobby: Mapping[str, Knock]) -> SessionState:
    return replace(state, extra={**state.extra, KEY: lobby})


@applies(EntryAsked)
def _asked(state: SessionState, ev: EntryAsked) -> SessionState:
    known = knocks(state).get(ev.participant_id)
    asked_at = known.asked_at if known else ev.at
    return _with(
        state, put(knocks(state), ev.participant_id, Knock(ev.participant_id, ev.name, asked_at))
    )


@applies(EntryAdmitted)
def _admitted(state: SessionState, ev: EntryAdmitted) -> SessionState:
    return _with(state, {k: v for k, v in knocks(state).items() if k != ev.participant_id})


@applies(EntriesLapsed)
def _lapsed(state: SessionState, ev: EntriesLapsed) -> SessionState:
    gone = set(ev.participant_ids)
    return _with(state, {k: v for k, v in knocks(state).items() if k not in gone or v.denied})


@applies(EntryDenied)
def _denied(state: SessionState, ev: EntryDenied) -> SessionState:
    knock = knocks(state).get(ev.participant_id)
    if knock is None:
        return state
    return _with(state, put(knocks(state), knock.id, replace(knock, denied=True)))

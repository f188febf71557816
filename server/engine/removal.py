"""Removing a participant: the facilitator sends someone out of the session.

A person who should not be in the room (the wrong link passed on, someone
who stayed after their part of a case meeting) is taken out by the
facilitator. They leave `state.participants`, so nothing they send is taken
any more and their screen is closed (server/web/ws.py); what they wrote
stays in the record. Their id is kept in `state.extra["removed"]`, so the
same phone (its signed cookie carries that id) cannot come back: `Join` and
the lobby's `AskToJoin` are refused for it, whatever the edge sends. A
removed case owner is no longer the case owner.

Step-independent, like the lobby: it registers its command's handler, its
event and applier here, and guards the two ways in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from server.engine import lobby
from server.engine.apply import drop
from server.engine.commands import Join, RemoveParticipant
from server.engine.registry import (
    HANDLERS,
    CommandRejected,
    Event,
    Outcome,
    applies,
    event,
    handles,
)
from server.engine.state import SessionState
from server.engine.steps._checks import facilitator_only

KEY = "removed"


def removed(state: SessionState) -> tuple[str, ...]:
    """The ids of the participants the facilitator removed, in order."""
    value = state.extra.get(KEY)
    return value if isinstance(value, tuple) else ()


@event
@dataclass(frozen=True, kw_only=True)
class ParticipantRemoved(Event):
    participant_id: str


@handles(RemoveParticipant)
def _remove(state: SessionState, cmd: RemoveParticipant, now: float) -> Outcome:
    if err := facilitator_only(cmd):
        return err
    if cmd.participant_id in removed(state):
        return []  # a double click
    if cmd.participant_id not in state.participants:
        return CommandRejected("That participant is not in the session.", "unknown_participant")
    return [ParticipantRemoved(at=now, participant_id=cmd.participant_id)]


_join_before = HANDLERS[Join]  # the lobby's guard around the plain join
_ask_before = HANDLERS[lobby.AskToJoin]


@handles(Join)
def _join(state: SessionState, cmd: Join, now: float) -> Outcome:
    if cmd.actor.id in removed(state):
        return CommandRejected("The facilitator has removed you from this session.", "removed")
    return _join_before(state, cmd, now)


@handles(lobby.AskToJoin)
def _ask(state: SessionState, cmd: lobby.AskToJoin, now: float) -> Outcome:
    if cmd.actor.id in removed(state):
        return CommandRejected("The facilitator has removed you from this session.", "removed")
    return _ask_before(state, cmd, now)


@applies(ParticipantRemoved)
def _removed(state: SessionState, ev: ParticipantRemoved) -> SessionState:
    pid = ev.participant_id
    extra = {**state.extra, KEY: (*removed(state), pid)}
    knocks = lobby.knocks(state)
    if pid in knocks:
        extra[lobby.KEY] = drop(knocks, pid)
    return replace(
        state,
        participants=drop(state.participants, pid),
        case_owner=None if state.case_owner == pid else state.case_owner,
        extra=extra,
    )

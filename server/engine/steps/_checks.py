"""The checks every step module repeats: who may act, and is the session on.

(decide.py imports the step modules, so they cannot import these from there.)
"""

from __future__ import annotations

from typing import TypeVar

from server.engine.registry import Command, CommandRejected
from server.engine.state import ActorRole, SessionState, SessionStatus
from server.scripts.schema import Step

ID_MAX = 64
S = TypeVar("S")


def facilitator_only(cmd: Command) -> CommandRejected | None:
    if cmd.actor.is_facilitator:
        return None
    return CommandRejected("Only the facilitator can do that.", "forbidden")


def running(state: SessionState) -> CommandRejected | None:
    if state.status is SessionStatus.RUNNING:
        return None
    return CommandRejected("The session has not started yet.", "not_started")


def joined_participant(state: SessionState, cmd: Command) -> CommandRejected | None:
    actor = cmd.actor
    if actor.role is ActorRole.PARTICIPANT and actor.id in state.participants:
        return None
    if actor.role is ActorRole.PARTICIPANT:
        return CommandRejected("Join the session first.", "not_joined")
    return CommandRejected("Only participants can do that.", "forbidden")


def id_ok(value: object, limit: int = ID_MAX) -> bool:
    return isinstance(value, str) and 0 < len(value) <= limit


def current_step(state: SessionState, kind: type[S], reason: str) -> S | CommandRejected:
    """The current step if it is of `kind`, else a rejection with `reason`."""
    step: Step | None = state.step
    if isinstance(step, kind):
        return step
    return CommandRejected(reason, "wrong_step")

"""The pure session engine: decide(state, command, now) and apply(state, event).

No I/O, no clock, no database: `now` is an argument and the caller stores events.
"""

from server.engine import lobby as _lobby  # noqa: F401  (registers the lobby)
from server.engine import removal as _removal  # noqa: F401  (registers removing people)
from server.engine.apply import apply, apply_all, initial_state, replay
from server.engine.decide import decide
from server.engine.registry import Command, CommandRejected, Event
from server.engine.state import Actor, ActorRole, SessionState

__all__ = [
    "Actor",
    "ActorRole",
    "Command",
    "CommandRejected",
    "Event",
    "SessionState",
    "apply",
    "apply_all",
    "decide",
    "initial_state",
    "replay",
]

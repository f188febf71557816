"""Private time: one group (e.g. the family) works alone; the others wait.

Everyone whose role is not the step's `group` is shown `others_message`, and
may not add cards while the group works.
"""

from __future__ import annotations

from server.engine.registry import CommandRejected, card_rule
from server.engine.state import Actor, SessionState
from server.scripts.schema import PrivateTimeStep, Step

KIND = "private_time"


def is_excluded(state: SessionState, participant_id: str) -> bool:
    """True while the current step is private time for a group this person is not in."""
    step = state.step
    if not isinstance(step, PrivateTimeStep):
        return False
    return state.participant_role(participant_id) != step.group


def others_message(state: SessionState, participant_id: str) -> str | None:
    """The message an excluded participant sees instead of the step (None if not excluded)."""
    step = state.step
    if not isinstance(step, PrivateTimeStep) or not is_excluded(state, participant_id):
        return None
    return step.others_message


@card_rule(KIND)
def _group_only(state: SessionState, step: Step, actor: Actor) -> CommandRejected | None:
    if actor.is_facilitator or not is_excluded(state, actor.id):
        return None
    return CommandRejected("This part of the meeting is for another group.", "private")

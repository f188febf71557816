"""Case walkthrough: the session's cases one at a time on the wall.

The cases are those the session was created with (`state.cases`, chosen from
the engagement's register by the edge). The facilitator moves between them;
a repeated click is a no-op, as with NextStep. Cards added in this step are
tied to the case on the wall (decide.py asks `state.case_for(step_id)`).
With `per_case_timebox` the timer restarts for each case.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from server.engine.events import TimerReset, TimerStarted
from server.engine.registry import (
    Command,
    CommandRejected,
    Event,
    Outcome,
    applies,
    command,
    event,
    handles,
    on_enter,
)
from server.engine.state import CaseRef, SessionState
from server.engine.steps._checks import current_step, facilitator_only, running
from server.scripts.schema import CaseWalkthroughStep, Step

KIND = "case_walkthrough"


@command
@dataclass(frozen=True, kw_only=True)
class NextCase(Command):
    """`from_case` is the case id the sender saw; a repeat (double click) is a no-op."""

    from_case: str | None = None


@command
@dataclass(frozen=True, kw_only=True)
class PreviousCase(Command):
    from_case: str | None = None


@command
@dataclass(frozen=True, kw_only=True)
class GoToCase(Command):
    index: int


@event
@dataclass(frozen=True, kw_only=True)
class CaseShown(Event):
    step_id: str
    index: int


def _show(step: CaseWalkthroughStep, index: int, now: float) -> list[Event]:
    events: list[Event] = [CaseShown(at=now, step_id=step.id, index=index)]
    if step.per_case_timebox:
        seconds = step.per_case_timebox * 60
        events.append(TimerReset(at=now, duration=seconds))
        events.append(TimerStarted(at=now, duration=seconds, deadline=now + seconds))
    return events


@on_enter(KIND)
def _enter(state: SessionState, step: Step, now: float) -> list[Event]:
    assert isinstance(step, CaseWalkthroughStep)
    if not state.cases or step.id in state.case_positions:
        return []  # coming back keeps the case, and what was left of its time
    return _show(step, 0, now)


def current_case(state: SessionState) -> CaseRef | None:
    """The case on the wall, if the current step is a case walkthrough."""
    step = state.step
    return state.case_for(step.id) if isinstance(step, CaseWalkthroughStep) else None


def _go(state: SessionState, cmd: Command, seen: str | None, target: object, now: float) -> Outcome:
    if err := facilitator_only(cmd) or running(state):
        return err
    step = current_step(state, CaseWalkthroughStep, "This step does not go through cases.")
    if isinstance(step, CommandRejected):
        return step
    if not state.cases:
        return CommandRejected("There are no cases in this session.", "no_cases")
    case = state.case_for(step.id)
    if seen is not None and (case is None or seen != case.id):
        return []  # a repeat of a move that already happened
    if isinstance(target, bool) or not isinstance(target, int):
        return CommandRejected("Choose a case by its number.", "invalid")
    if not 0 <= target < len(state.cases):
        return CommandRejected("There is no case in that direction.", "no_case")
    if target == state.case_positions.get(step.id):
        return []
    return _show(step, target, now)


def _position(state: SessionState) -> int:
    step_id = state.step_id
    return state.case_positions.get(step_id, 0) if step_id is not None else 0


@handles(NextCase)
def _next(state: SessionState, cmd: NextCase, now: float) -> Outcome:
    return _go(state, cmd, cmd.from_case, _position(state) + 1, now)


@handles(PreviousCase)
def _previous(state: SessionState, cmd: PreviousCase, now: float) -> Outcome:
    return _go(state, cmd, cmd.from_case, _position(state) - 1, now)


@handles(GoToCase)
def _goto(state: SessionState, cmd: GoToCase, now: float) -> Outcome:
    return _go(state, cmd, None, cmd.index, now)


@applies(CaseShown)
def _shown(state: SessionState, ev: CaseShown) -> SessionState:
    return replace(state, case_positions={**state.case_positions, ev.step_id: ev.index})

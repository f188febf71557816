"""Decision: decisions and actions (what, who, by when) are captured here.

RecordDecision / AddAction / AgreeNextMeeting are general commands (decide.py):
a facilitator may record a decision in any step. This module reads them back
per step, e.g. as the journal note of a Kvifa sparring round.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.engine.state import ActionItem, CaseRef, Decision, SessionState

KIND = "decision"


@dataclass(frozen=True, slots=True)
class StepRecord:
    """What a step decided: its decisions and actions in the order they were made."""

    step_id: str
    decisions: tuple[Decision, ...]
    actions: tuple[ActionItem, ...]
    case: CaseRef | None = None


def journal_note(state: SessionState, step_id: str) -> StepRecord:
    """The decisions and actions of `step_id`, with the case when the session has one."""
    return StepRecord(
        step_id=step_id,
        decisions=tuple(d for d in state.decisions if d.step_id == step_id),
        actions=tuple(a for a in state.actions if a.step_id == step_id),
        case=state.cases[0] if len(state.cases) == 1 else None,
    )

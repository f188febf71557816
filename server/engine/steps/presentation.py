"""Presentation: information on the wall while someone presents. No commands of its own."""

from __future__ import annotations

from server.engine.state import SessionState
from server.scripts.schema import PresentationStep

KIND = "presentation"


def presenters(state: SessionState, step: PresentationStep) -> tuple[str, ...]:
    """The participants whose role is the step's `presenter` (none if it names no role)."""
    if step.presenter is None:
        return ()
    ordered = sorted(state.participants.values(), key=lambda p: (p.joined_at, p.id))
    return tuple(p.id for p in ordered if state.participant_role(p.id) == step.presenter)

"""Brainstorm: cards from everyone, grouped into clusters (themes).

Entering the step adds the script's preset clusters (once); a participant may
add at most `max_cards_per_participant` cards here (withdrawn ones free a place).
"""

from __future__ import annotations

from server.engine.events import ClusterAdded
from server.engine.reason import Reason
from server.engine.registry import CommandRejected, Event, card_rule, on_enter
from server.engine.state import Actor, SessionState
from server.scripts.schema import BrainstormStep, Step

KIND = "brainstorm"


def preset_cluster_id(step_id: str, index: int) -> str:
    return f"{step_id}-preset-{index}"


@on_enter(KIND)
def _enter(state: SessionState, step: Step, now: float) -> list[Event]:
    assert isinstance(step, BrainstormStep)
    return [
        ClusterAdded(at=now, cluster_id=cluster_id, step_id=step.id, title=title)
        for i, title in enumerate(step.clusters, 1)
        if (cluster_id := preset_cluster_id(step.id, i)) not in state.clusters
    ]


def cards_by(state: SessionState, step_id: str, author_id: str) -> int:
    return sum(1 for c in state.cards_for(step_id) if c.author_id == author_id)


def cards_left(state: SessionState, step: BrainstormStep, author_id: str) -> int | None:
    """How many more cards this participant may add here (None: no limit)."""
    limit = step.max_cards_per_participant
    return None if limit is None else max(0, limit - cards_by(state, step.id, author_id))


@card_rule(KIND)
def _card_limit(state: SessionState, step: Step, actor: Actor) -> CommandRejected | None:
    assert isinstance(step, BrainstormStep)
    if actor.is_facilitator or cards_left(state, step, actor.id) != 0:
        return None
    limit = step.max_cards_per_participant
    reason = Reason("You can add at most %(n)s cards in this step.", n=limit)
    return CommandRejected(reason, "card_limit")

"""One module per step kind; importing this package registers them all.

A kind module names its kind in `KIND`, and may define its own commands and
events, handle them with `registry.handles`, fold them with `registry.applies`,
react to its step being entered with `registry.on_enter(KIND)` and add rules
for cards in its step with `registry.card_rule(KIND)`.
"""

from types import ModuleType

from server.engine.steps import (
    brainstorm,
    break_,
    case_walkthrough,
    consultation,
    decision,
    discussion,
    plan_edit,
    poll,
    presentation,
    private_time,
    round,
)

KINDS: dict[str, ModuleType] = {
    module.KIND: module
    for module in (
        presentation,
        discussion,
        round,
        brainstorm,
        poll,
        decision,
        case_walkthrough,
        plan_edit,
        consultation,
        break_,
        private_time,
    )
}
"""Every registered step kind, by the name scripts use for it."""

__all__ = [
    "KINDS",
    "brainstorm",
    "break_",
    "case_walkthrough",
    "consultation",
    "decision",
    "discussion",
    "plan_edit",
    "poll",
    "presentation",
    "private_time",
    "round",
]

"""Plan edit: the development plan's rows are edited per focus area.

The rows themselves live in the engagement's store, not in the live session;
the step tells the screens which of a row's fields are open for editing.
"""

from __future__ import annotations

from server.scripts.schema import PlanEditStep

KIND = "plan_edit"


def editable_fields(step: PlanEditStep) -> tuple[str, ...]:
    """The fields of a plan row that this step edits, in the script's order."""
    return tuple(dict.fromkeys(step.fields))

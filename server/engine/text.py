"""Free text from people: trimmed, bounded, and CPR numbers masked before storage."""

from __future__ import annotations

from server.engine.registry import CommandRejected
from server.privacy.cpr import scan

CARD_MAX = 500
TEXT_MAX = 2000
NAME_MAX = 60


def clean(
    text: object, limit: int = TEXT_MAX, *, what: str = "The text"
) -> tuple[str, int] | CommandRejected:
    """(masked text, number of CPR numbers masked) or a rejection."""
    if not isinstance(text, str):
        return CommandRejected(f"{what} must be text.", "invalid")
    stripped = " ".join(text.replace("\x00", "").split()) if "\n" not in text else text.strip()
    if not stripped:
        return CommandRejected(f"{what} is empty.", "empty")
    if len(stripped) > limit:
        return CommandRejected(f"{what} is too long (at most {limit} characters).", "too_long")
    result = scan(stripped)
    return result.text, result.count

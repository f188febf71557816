"""Free text from people: trimmed, bounded, and CPR numbers masked before storage."""

from __future__ import annotations

from server.engine.reason import Reason
from server.engine.registry import CommandRejected
from server.privacy.cpr import scan

CARD_MAX = 500
TEXT_MAX = 2000
NAME_MAX = 60


def clean(text: object, limit: int = TEXT_MAX) -> tuple[str, int] | CommandRejected:
    """(masked text, number of CPR numbers masked) or a rejection.

    The reasons do not name the field: they answer the form the person just sent.
    """
    if not isinstance(text, str):
        return CommandRejected("The message is malformed.", "invalid")
    stripped = " ".join(text.replace("\x00", "").split()) if "\n" not in text else text.strip()
    if not stripped:
        return CommandRejected("Write something first.", "empty")
    if len(stripped) > limit:
        reason = Reason("The text is too long (at most %(limit)s characters).", limit=limit)
        return CommandRejected(reason, "too_long")
    result = scan(stripped)
    return result.text, result.count

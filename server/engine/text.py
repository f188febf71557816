"""Free text from people: trimmed, bounded, and CPR numbers masked before storage."""

from __future__ import annotations

import re

from server.engine.reason import Reason
from server.engine.registry import CommandRejected
from server.privacy.cpr import scan

CARD_MAX = 500
TEXT_MAX = 2000
NAME_MAX = 60

# Half of a UTF-16 pair on its own: a JSON escape such as "\ud800" decodes to one
# (a whole pair decodes to the one character it stands for). A Python str holds
# it, but it has no UTF-8 encoding, so no log, table or screen could take it.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def storable(text: str) -> bool:
    """Whether `text` can be stored and sent on (encoded as UTF-8)."""
    return text.isascii() or _LONE_SURROGATE.search(text) is None


def unstorable() -> CommandRejected:
    """The refusal of text that `storable` says no to (also the websocket edge's)."""
    return CommandRejected(
        "The text holds a character that cannot be saved (perhaps half an emoji). "
        "Remove it and try again.",
        "unstorable",
    )


def clean(text: object, limit: int = TEXT_MAX) -> tuple[str, int] | CommandRejected:
    """(masked text, number of CPR numbers masked) or a rejection.

    The reasons do not name the field: they answer the form the person just sent.
    """
    if not isinstance(text, str):
        return CommandRejected("The message is malformed.", "invalid")
    if not storable(text):
        return unstorable()
    stripped = " ".join(text.replace("\x00", "").split()) if "\n" not in text else text.strip()
    if not stripped:
        return CommandRejected("Write something first.", "empty")
    if len(stripped) > limit:
        reason = Reason("The text is too long (at most %(limit)s characters).", limit=limit)
        return CommandRejected(reason, "too_long")
    result = scan(stripped)
    return result.text, result.count

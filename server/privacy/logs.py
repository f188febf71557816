"""Keep case text, CPR numbers and link secrets out of the logs, even at DEBUG.

Tovholder's own code logs ids and exception types only. What could still leak
comes from libraries at DEBUG level and from the access log:

* aiosqlite logs every call with its SQL parameters (the event's JSON: case
  text) and websockets logs every frame it receives (a card being typed):
  those DEBUG records are dropped at their loggers. SQLAlchemy is told to
  hide parameters (`hide_parameters=True` in server/store/db.py), which also
  keeps them out of exception messages.
* The access log writes each request line, and uvicorn logs each websocket it
  accepts: the query string (the projector's signed key) is cut off, and the
  codes in /j/<code> (a case meeting's invitation) and /h/<token> (a
  consultation's link) are replaced by "…". uvicorn's TRACE dumps of whole
  ASGI scopes are dropped.
* Anything that looks like a CPR number in any record, its message or its
  traceback, is masked as a last line of defence, and so are link codes and
  signed keys in any path a message of any logger mentions.

`install()` is idempotent and runs when the app is created.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable
from typing import Any

from server.privacy.cpr import mask_cpr

_SECRET_PATHS = re.compile(r"^/(j|h|i)/[^/?#]+")
# The same codes inside a message ("... on GET /h/<token>: ..."), and a signed key in a query.
_SECRET_IN_TEXT = re.compile(r"(?<![\w/.])/(j|h|i)/[^/?#\s'\"]+")
_KEY_IN_TEXT = re.compile(r"([?&]key=)[^&\s'\"]+")
_FRAME_MESSAGES = ("< ", "> ")  # websockets: "< TEXT '...' [n bytes]"


def redact_text(text: str) -> str:
    """Any message: link codes and signed keys in the paths it mentions are replaced."""
    if "/" not in text:
        return text
    text = _SECRET_IN_TEXT.sub(lambda m: f"/{m.group(1)}/…", text)
    return _KEY_IN_TEXT.sub(lambda m: f"{m.group(1)}…", text)


def redact_path(path: str) -> str:
    """A request path fit for the access log: no query, no invitation or link codes."""
    bare = path.split("?", 1)[0].split("#", 1)[0]
    return _SECRET_PATHS.sub(lambda m: f"/{m.group(1)}/…", bare)


class DropDebug(logging.Filter):
    """Drops every DEBUG record of a logger whose debug output carries data."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


class DropFrames(logging.Filter):
    """Drops websocket frame dumps (they hold what people type)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.DEBUG:
            return True
        return not (isinstance(record.msg, str) and record.msg.startswith(_FRAME_MESSAGES))


_installed = False
_previous_factory: Callable[..., logging.LogRecord] | None = None


def _record_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    assert _previous_factory is not None
    record = _previous_factory(*args, **kwargs)
    if isinstance(record.args, tuple):
        # Request lines ("GET /j/CODE?x" in the access log, "WebSocket /ws/..?key=" in
        # uvicorn.error, a path in any logger's message): every argument that is
        # a path loses its secrets.
        record.args = tuple(
            redact_path(a) if isinstance(a, str) and a.startswith("/") else a for a in record.args
        )
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: logging reports it itself
        return record
    masked = redact_text(mask_cpr(message))
    if masked != message:
        record.msg, record.args = masked, ()
    if record.exc_info and record.exc_info[0] is not None:
        text = "".join(traceback.format_exception(*record.exc_info))
        record.exc_text = redact_text(mask_cpr(text))
    return record


def install() -> None:
    """Put the filters in place (once per process)."""
    global _installed, _previous_factory
    if _installed:
        return
    _installed = True
    for name in ("aiosqlite", "uvicorn.asgi"):  # calls with parameters; whole ASGI scopes
        logging.getLogger(name).addFilter(DropDebug())
    for name in ("websockets", "websockets.server", "websockets.protocol", "uvicorn.error"):
        logging.getLogger(name).addFilter(DropFrames())
    _previous_factory = logging.getLogRecordFactory()
    logging.setLogRecordFactory(_record_factory)

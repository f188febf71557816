"""How much a request may send: a bound on every request body, counted as it streams.

`BodyLimit` refuses a body over its route's bound with 413 and a page that says
so, in the reader's language. The declared Content-Length is checked first
(nothing is read), then every chunk is counted as the application reads it, so
a body sent in chunks without a length (or with a false one) stops at the bound
too. Forms get FORM_LIMIT; the one upload, the case register's CSV import,
gets UPLOAD_LIMIT (its file may be `cases.MAX_BYTES`, and the handler says so
itself when it is bigger). Only the upload route may send multipart bodies (a
file part anywhere else would be spooled for nothing): others are refused with
415. So no request spools more than UPLOAD_LIMIT to a temporary file, and that
only after the login and permission check of the import route.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.engagement.common import N_
from server.web.pages.common import error

FORM_LIMIT = 1024 * 1024  # 1 MiB: every form, the longest text field included
UPLOAD_LIMIT = 5 * 1024 * 1024  # 5 MiB: the case register's CSV (2 MiB) and its form
UPLOADS = (re.compile(r"/engagements/[^/]+/cases/import"),)  # routes that take a file

TOO_BIG = N_("What was sent is too large. Send less at a time, or a smaller file.")
NOT_A_FORM = N_("This page takes no files. Go back and send the form again.")


class TooLarge(Exception):
    """The body went over its bound while the application was reading it."""


def limit_for(path: str) -> int:
    return UPLOAD_LIMIT if any(p.fullmatch(path) for p in UPLOADS) else FORM_LIMIT


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


class BodyLimit:
    """ASGI middleware: 413 for a body over its route's bound, 415 for a stray upload."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # websockets bound their messages (server/web/ws.py)
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        limit = limit_for(path)
        kind = (_header(scope, b"content-type") or "").lower()
        # (a GET after a post's redirect may still carry the post's Content-Type)
        reads = scope.get("method") not in ("GET", "HEAD", "OPTIONS")
        if reads and kind.startswith("multipart/") and limit == FORM_LIMIT:
            await _refuse(scope, send, 415, NOT_A_FORM)
            return
        length = _header(scope, b"content-length")
        if length is not None and length.strip().isdigit() and int(length) > limit:
            await _refuse(scope, send, 413, TOO_BIG)
            return

        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise TooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except TooLarge:
            if started:  # too late to say so: the connection is cut
                raise
            await _refuse(scope, send, 413, TOO_BIG)


async def _refuse(scope: Scope, send: Send, status: int, message: str) -> None:
    async def nothing() -> Message:  # the rest of the body is never read
        return {"type": "http.disconnect"}

    response = await error(Request(scope, nothing), status, message)
    response.headers["connection"] = "close"
    await response(scope, nothing, send)

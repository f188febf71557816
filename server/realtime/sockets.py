"""Finding the uvicorn protocol under a Starlette websocket, for `DirectClient`.

uvicorn's websockets-sansio protocol hands the ASGI app its bound `receive`
method, so the protocol object (and its transport) is `receive.__self__`.
Frames may be written to that transport directly as long as no extension
(permessage-deflate) was negotiated, since then every frame must be
compressed per connection. Anything else (another server, the test client,
a future uvicorn without these attributes) gets None and the queued path.
"""

from __future__ import annotations

from typing import Any

try:
    from uvicorn.protocols.websockets.websockets_sansio_impl import (
        WebSocketsSansIOProtocol as _SansIO,
    )
except ImportError:  # pragma: no cover - uvicorn without the sansio protocol
    _SansIO = None  # type: ignore[assignment,misc]

_NEEDED = ("transport", "conn", "close_sent", "disconnected")


def sansio_protocol(receive: Any) -> Any | None:
    """The sansio protocol behind an ASGI `receive`, if frames can be written to it."""
    proto = getattr(receive, "__self__", None)
    if _SansIO is None or not isinstance(proto, _SansIO):
        return None
    if not all(hasattr(proto, name) for name in _NEEDED):
        return None
    if getattr(proto.conn, "extensions", None):
        return None  # permessage-deflate (or another extension) was negotiated
    return proto

"""Per-session rooms of connected screens; every message encoded once, never per client.

The caller renders each audience's message once; the hub wraps it in an
`Outgoing`, which also holds its websocket frame (encoded on first use), and
hands the same object to every client of that audience. Two kinds of client:

- `DirectClient`, under uvicorn's websockets-sansio protocol (what `tovholder
  serve` runs): the frame is written straight into the socket's transport. No
  task, no queue and no per-client encoding, so a broadcast to 1,000 phones is
  1,000 `transport.write` calls. Its bound is the transport's write buffer: a
  screen that lets more than `limit` bytes pile up (it stopped reading) is sent
  1013 and dropped, instead of slowing everyone else down.
- `QueuedClient`, under any other ASGI server and the test client: a bounded
  queue drained by a writer task; a full queue closes the socket with 1013.

Either way a dropped screen reconnects by itself and gets a fresh snapshot.

Sockets are bounded (`Hub.join`): one participant keeps at most PER_PARTICIPANT
screens open (a new one closes their oldest with 1008: a connection that died
unnoticed on bad wifi must not keep the phone out), and one address at most
PER_ADDRESS (a further one is refused; the facilitator's screen always gets in).
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import itertools
import logging
import struct
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

POLICY = 1008  # "refused": htmx does not reconnect
SERVICE_RESTART = 1012  # "reconnect, the server is restarting": htmx reconnects
TRY_AGAIN_LATER = 1013  # "too slow": htmx reconnects
CLOSE_GRACE = 3.0  # seconds a closing frame may take to drain before the socket is cut
PARTICIPANT_BUFFER = 256 * 1024  # bytes a phone may have unread before it is dropped
SCREEN_BUFFER = 4 * 1024 * 1024  # facilitator and projector carry the whole card wall
PER_PARTICIPANT = 5  # open screens of one participant (a phone with a few tabs)
PER_ADDRESS = 1000  # open sockets from one address, in all sessions: a venue's wifi


def text_frame(payload: bytes) -> bytes:
    """A final, unmasked, uncompressed text frame (RFC 6455 5.2), as a server sends it."""
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    if n < 1 << 16:
        return struct.pack("!BBH", 0x81, 126, n) + payload
    return struct.pack("!BBQ", 0x81, 127, n) + payload


class Outgoing:
    """One message for many clients: its text, and its frame encoded at most once."""

    __slots__ = ("_frame", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._frame: bytes | None = None

    @property
    def frame(self) -> bytes:
        if self._frame is None:
            self._frame = text_frame(self.text.encode())
        return self._frame


def outgoing(message: str | Outgoing) -> Outgoing:
    return message if isinstance(message, Outgoing) else Outgoing(message)


Closer = Callable[[int], Awaitable[None]]


class Client(abc.ABC):
    """One connected screen."""

    def __init__(self, session_id: str, audience: str, participant_id: str | None = None) -> None:
        self.session_id = session_id
        self.audience = audience  # facilitator | projector | participant
        self.participant_id = participant_id
        self.id = 0  # given by the hub it joins, unique within that hub
        self.address: str | None = None  # the client's address, counted by the hub
        self.overflowed = False  # dropped for not keeping up (1013)
        self.closing = False

    @abc.abstractmethod
    def offer(self, message: str | Outgoing) -> bool:
        """Send without waiting; False if the client is gone or could not keep up."""

    @abc.abstractmethod
    def close(self, code: int = SERVICE_RESTART) -> None:
        """Close the socket with `code` soon (the screen reconnects by itself)."""


class QueuedClient(Client):
    """A bounded queue and a writer task (`run`): works under any ASGI server."""

    def __init__(
        self,
        session_id: str,
        audience: str,
        participant_id: str | None = None,
        queue_size: int = 64,
    ) -> None:
        super().__init__(session_id, audience, participant_id)
        self.queue: asyncio.Queue[Outgoing | None] = asyncio.Queue(queue_size)
        self.close_code = SERVICE_RESTART

    def offer(self, message: str | Outgoing) -> bool:
        if self.overflowed or self.closing:
            return False
        try:
            self.queue.put_nowait(outgoing(message))
        except asyncio.QueueFull:
            self.overflowed = True
            self.close(TRY_AGAIN_LATER)
            return False
        return True

    def close(self, code: int = SERVICE_RESTART) -> None:
        if self.closing:
            return
        self.closing = True
        self.close_code = code
        # Make room for the sentinel so the writer stops promptly.
        while True:
            try:
                self.queue.put_nowait(None)
                return
            except asyncio.QueueFull:
                self.queue.get_nowait()

    async def run(self, send_text: Callable[[str], Awaitable[None]], close: Closer) -> None:
        """The writer: sends what is queued until closed or the socket fails."""
        while True:
            message = await self.queue.get()
            if message is None:
                with contextlib.suppress(Exception):
                    await close(self.close_code)
                return
            try:
                await send_text(message.text)
            except Exception:  # the socket is gone; the reader notices too
                return


class DirectClient(Client):
    """Writes pre-encoded frames into uvicorn's websockets-sansio transport.

    `protocol` is uvicorn's `WebSocketsSansIOProtocol` for this socket (see
    `server.realtime.sockets.sansio_protocol`); `close` is the ASGI close.
    """

    def __init__(
        self,
        session_id: str,
        audience: str,
        participant_id: str | None,
        protocol: Any,
        close: Closer,
        limit: int | None = None,
    ) -> None:
        super().__init__(session_id, audience, participant_id)
        self.protocol = protocol
        self.transport: asyncio.WriteTransport = protocol.transport
        self._close = close
        self.limit = limit or (PARTICIPANT_BUFFER if audience == "participant" else SCREEN_BUFFER)
        self._closer: asyncio.Task[None] | None = None

    def _open(self) -> bool:
        p = self.protocol
        return not (p.close_sent or p.disconnected or self.transport.is_closing())

    def offer(self, message: str | Outgoing) -> bool:
        if self.overflowed or self.closing or not self._open():
            return False
        if self.transport.get_write_buffer_size() > self.limit:
            self.overflowed = True
            self.close(TRY_AGAIN_LATER)
            return False
        self.transport.write(outgoing(message).frame)
        return True

    def close(self, code: int = SERVICE_RESTART) -> None:
        if self.closing:
            return
        self.closing = True
        with contextlib.suppress(RuntimeError):  # no running loop: the process is ending
            self._closer = asyncio.get_running_loop().create_task(self._close_within(code))

    async def _close_within(self, code: int) -> None:
        # The close frame queues behind what the screen has not read yet; a
        # screen that does not drain it in time is cut off (it sees 1006).
        try:
            await asyncio.wait_for(self._close(code), CLOSE_GRACE)
        except Exception:
            self.transport.abort()


@dataclass(eq=False)
class Room:
    clients: set[Client] = field(default_factory=set)
    audiences: dict[str, set[Client]] = field(default_factory=dict)
    participants: dict[str, set[Client]] = field(default_factory=dict)  # a phone may have 2 tabs


class Hub:
    def __init__(
        self, per_participant: int = PER_PARTICIPANT, per_address: int = PER_ADDRESS
    ) -> None:
        self.rooms: dict[str, Room] = {}
        self.on_presence: Callable[[str], None] | None = None
        self._ids = itertools.count(1)
        self.per_participant = per_participant
        self.per_address = per_address
        self.addresses: dict[str, int] = {}  # open sockets per client address

    def join(
        self,
        client: Client,
        address: str | None = None,
        notice: str | Outgoing | None = None,
    ) -> bool:
        """Adds the client; False (and nothing added) if `address` has too many open.

        A participant's screens beyond `per_participant` are closed, oldest first,
        with 1008 after `notice` (what the person reads there).
        """
        if (
            address is not None
            and client.audience != "facilitator"
            and self.addresses.get(address, 0) >= self.per_address
        ):
            return False
        client.id = next(self._ids)
        room = self.rooms.setdefault(client.session_id, Room())
        room.clients.add(client)
        room.audiences.setdefault(client.audience, set()).add(client)
        if address is not None:
            client.address = address
            self.addresses[address] = self.addresses.get(address, 0) + 1
        if client.participant_id:
            mine = room.participants.setdefault(client.participant_id, set())
            mine.add(client)
            for old in sorted(mine, key=lambda c: c.id)[: max(0, len(mine) - self.per_participant)]:
                if notice is not None:
                    old.offer(notice)
                old.close(POLICY)
                self.leave(old)
        self._presence(client.session_id)
        return True

    def leave(self, client: Client) -> None:
        room = self.rooms.get(client.session_id)
        if room is None or client not in room.clients:
            return
        if client.address is not None:
            left = self.addresses.get(client.address, 0) - 1
            if left > 0:
                self.addresses[client.address] = left
            else:
                self.addresses.pop(client.address, None)
        room.clients.discard(client)
        room.audiences.get(client.audience, set()).discard(client)
        mine = room.participants.get(client.participant_id or "")
        if mine is not None:
            mine.discard(client)
            if not mine:
                del room.participants[client.participant_id or ""]
        if not room.clients:
            del self.rooms[client.session_id]
        self._presence(client.session_id)

    def clients(self, session_id: str, audience: str | None = None) -> tuple[Client, ...]:
        room = self.rooms.get(session_id)
        if room is None:
            return ()
        return tuple(room.clients if audience is None else room.audiences.get(audience, ()))

    def of_participant(self, session_id: str, participant_id: str) -> tuple[Client, ...]:
        room = self.rooms.get(session_id)
        return () if room is None else tuple(room.participants.get(participant_id, ()))

    def connected_participants(self, session_id: str) -> set[str]:
        room = self.rooms.get(session_id)
        return set() if room is None else set(room.participants)

    def count(self, session_id: str, audience: str | None = None) -> int:
        room = self.rooms.get(session_id)
        if room is None:
            return 0
        return len(room.clients if audience is None else room.audiences.get(audience, ()))

    def broadcast(self, session_id: str, by_audience: Mapping[str, str | Outgoing]) -> int:
        """Send each audience its message (encoded once); returns how many were sent."""
        room = self.rooms.get(session_id)
        if room is None:
            return 0
        sent = 0
        for audience, message in by_audience.items():
            if not message:
                continue
            out = outgoing(message)
            for client in tuple(room.audiences.get(audience, ())):
                sent += client.offer(out)
        return sent

    def send(self, pairs: Iterable[tuple[Client, str | Outgoing]]) -> None:
        for client, message in pairs:
            client.offer(message)

    def send_to(self, session_id: str, participant_id: str, message: str) -> None:
        out = Outgoing(message)
        for client in self.of_participant(session_id, participant_id):
            client.offer(out)

    def close_all(self, code: int = SERVICE_RESTART) -> None:
        for room in list(self.rooms.values()):
            for client in list(room.clients):
                client.close(code)

    def _presence(self, session_id: str) -> None:
        if self.on_presence is not None:
            self.on_presence(session_id)

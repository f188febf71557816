"""Per-session rooms of connected screens, each client with a bounded queue.

A message is encoded once per audience by the caller and the same string is
queued for every client of that audience. A client whose queue is full cannot
keep up: it is dropped (closed with 1013) and resyncs when it reconnects,
instead of slowing everyone else down.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

TRY_AGAIN_LATER = 1013
_ids = itertools.count(1)


@dataclass(eq=False)
class Client:
    session_id: str
    audience: str  # facilitator | projector | participant
    participant_id: str | None = None
    queue_size: int = 64
    id: int = field(default_factory=lambda: next(_ids))
    queue: asyncio.Queue[str | None] = field(init=False)
    overflowed: bool = False

    def __post_init__(self) -> None:
        self.queue = asyncio.Queue(self.queue_size)

    def offer(self, message: str) -> bool:
        """Queue without waiting; a full queue marks the client as too slow."""
        if self.overflowed:
            return False
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.overflowed = True
            self._wake_writer()
            return False
        return True

    def close(self) -> None:
        self._wake_writer()

    def _wake_writer(self) -> None:
        # Make room for the sentinel so the writer stops promptly.
        while True:
            try:
                self.queue.put_nowait(None)
                return
            except asyncio.QueueFull:
                self.queue.get_nowait()


class Hub:
    def __init__(self) -> None:
        self.rooms: dict[str, set[Client]] = {}
        self.on_presence: Callable[[str], None] | None = None

    def join(self, client: Client) -> None:
        self.rooms.setdefault(client.session_id, set()).add(client)
        self._presence(client.session_id)

    def leave(self, client: Client) -> None:
        room = self.rooms.get(client.session_id)
        if room is not None:
            room.discard(client)
            if not room:
                del self.rooms[client.session_id]
        self._presence(client.session_id)

    def clients(self, session_id: str) -> Iterable[Client]:
        return tuple(self.rooms.get(session_id, ()))

    def connected_participants(self, session_id: str) -> set[str]:
        return {c.participant_id for c in self.rooms.get(session_id, ()) if c.participant_id}

    def count(self, session_id: str, audience: str | None = None) -> int:
        room = self.rooms.get(session_id, ())
        return sum(1 for c in room if audience is None or c.audience == audience)

    def broadcast(self, session_id: str, by_audience: Mapping[str, str]) -> None:
        """Queue each audience's message (already encoded once) for its clients."""
        for client in tuple(self.rooms.get(session_id, ())):
            message = by_audience.get(client.audience)
            if message:
                client.offer(message)

    def send_to(self, session_id: str, participant_id: str, message: str) -> None:
        for client in tuple(self.rooms.get(session_id, ())):
            if client.participant_id == participant_id:
                client.offer(message)

    def close_all(self) -> None:
        for room in self.rooms.values():
            for client in room:
                client.close()

    def _presence(self, session_id: str) -> None:
        if self.on_presence is not None:
            self.on_presence(session_id)

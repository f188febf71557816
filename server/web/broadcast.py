"""After each committed batch: render once per audience, queue what changed.

Also sends a screen its full snapshot when it (re)connects, and re-renders the
facilitator's list of people when someone connects or leaves (debounced).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

from server.engine.state import SessionState
from server.live import Batch, LiveSession
from server.realtime.hub import Client, Hub
from server.web import render
from server.web.render import PrivateRenderer, Room, RoomCache

PRESENCE_DELAY = 0.2


@dataclass
class Broadcaster:
    hub: Hub
    room_of: Callable[[str], Room | None]
    state_of: Callable[[str], SessionState | None]
    clock: Callable[[], float]
    caches: dict[str, RoomCache] = field(default_factory=dict)
    _presence_tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)

    def room(self, session_id: str) -> Room | None:
        base = self.room_of(session_id)
        if base is None:
            return None
        connected = frozenset(self.hub.connected_participants(session_id))
        return Room(
            base.session_id, base.title, base.join_code, base.join_url, base.lang, connected
        )

    async def publish(self, live: LiveSession, batch: Batch) -> None:
        self.refresh(live.session_id, live.state)

    def refresh(self, session_id: str, state: SessionState) -> None:
        room = self.room(session_id)
        if room is None or session_id not in self.hub.rooms:
            self.caches.pop(session_id, None)
            return
        cache = self.caches.setdefault(session_id, RoomCache())
        now = self.clock()
        messages: dict[str, str] = {}
        for audience in render.AUDIENCES:
            if not self.hub.count(session_id, audience):
                cache.shown.pop(audience, None)
                continue
            fragments = render.render_audience(state, room, audience, now)
            message = render.changed(cache.shown.get(audience), fragments)
            cache.shown[audience] = fragments
            if message:
                messages[audience] = message
        self.hub.broadcast(session_id, messages)
        self._private(session_id, state, room, cache)

    def _private(self, session_id: str, state: SessionState, room: Room, cache: RoomCache) -> None:
        renderer = PrivateRenderer(state, room)
        for client in self.hub.clients(session_id):
            if client.participant_id is None:
                continue
            model, html = renderer(client.participant_id)
            if cache.private_shown.get(client.id) != model:
                cache.private_shown[client.id] = model
                client.offer(html)

    def snapshot(self, client: Client, state: SessionState) -> None:
        """Everything a screen shows, for a screen that just (re)connected."""
        room = self.room(client.session_id)
        if room is None:
            return
        now = self.clock()
        cache = self.caches.setdefault(client.session_id, RoomCache())
        fragments = render.render_audience(state, room, client.audience, now)
        parts = [render.render_clock(now), *fragments.values()]
        if client.participant_id is not None:
            model, html = PrivateRenderer(state, room)(client.participant_id)
            cache.private_shown[client.id] = model
            parts.append(html)
        client.offer("".join(parts))

    def forget(self, client: Client) -> None:
        cache = self.caches.get(client.session_id)
        if cache is not None:
            cache.private_shown.pop(client.id, None)

    def presence_changed(self, session_id: str) -> None:
        """Connect/leave: refresh the room a moment later, once for a burst of them."""
        if session_id in self._presence_tasks:
            return
        with contextlib.suppress(RuntimeError):  # no running loop (shutdown)
            self._presence_tasks[session_id] = asyncio.get_running_loop().create_task(
                self._presence_later(session_id)
            )

    async def _presence_later(self, session_id: str) -> None:
        try:
            await asyncio.sleep(PRESENCE_DELAY)
        finally:
            self._presence_tasks.pop(session_id, None)
        state = self.state_of(session_id)
        if state is not None:
            self.refresh(session_id, state)

    async def close(self) -> None:
        for task in list(self._presence_tasks.values()):
            task.cancel()
        self._presence_tasks.clear()

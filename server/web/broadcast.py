"""After each committed batch: render once per audience, send what changed.

Rendering is once per committed batch, and the group commit turns a burst
into a few big batches, so a vote burst re-renders the tally a few times a
second, not once per ballot. Presence changes are debounced and rendered by
a task, which the next batch's render absorbs.

A participant's private part is recomputed only for the participants the
events concern (`affected`); a step change concerns everyone. A phone gets
the shared participant fragments and its private part as one message, built
and encoded once per distinct private view.

Also sends a screen its full snapshot when it (re)connects, and re-renders the
facilitator's list of people when someone connects or leaves (debounced).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from server.engine.state import SessionState
from server.live import Batch, LiveSession
from server.realtime.hub import Client, Hub, Outgoing
from server.web import render
from server.web.render import PrivateRenderer, Room, RoomCache

PRESENCE_DELAY = 0.2

# How an event can change participants' private views (`views.private_view`):
# events listed in ONE concern one participant, those in NOBODY none; any
# other event type concerns everyone. So a new event type is always safe, only
# slower; put it in ONE or NOBODY once the private view's inputs are known.
ONE: dict[str, Callable[[Any, SessionState], str | None]] = {
    "CardAdded": lambda ev, s: ev.author_id,
    "CardEdited": lambda ev, s: c.author_id if (c := s.cards.get(ev.card_id)) else None,
    "ParticipantJoined": lambda ev, s: ev.participant_id,
    "ParticipantRenamed": lambda ev, s: ev.participant_id,
    "RoleSet": lambda ev, s: ev.participant_id,
    "BallotCast": lambda ev, s: ev.voter,
    "BallotRetracted": lambda ev, s: ev.voter,
}
BALLOT_COMMANDS = frozenset({"CastBallot", "RetractBallot"})
NOBODY = frozenset(
    {
        "TimerStarted",
        "TimerPaused",
        "TimerExtended",
        "TimerReset",
        "ClusterAdded",
        "CardGrouped",
        "DecisionRecorded",
        "DecisionEdited",
        "ActionAdded",
        "ActionEdited",
        "NextMeetingAgreed",
    }
)


def affected(events: Iterable[Any], state: SessionState) -> set[str] | None:
    """The participants whose private view the events may change; None: everyone."""
    who: set[str] = set()
    for ev in events:
        name = type(ev).__name__
        if name in NOBODY:
            continue
        one = ONE.get(name)
        pid = one(ev, state) if one is not None else None
        if pid is None:
            return None
        who.add(pid)
    return who


def with_ballot_senders(batch: Batch, who: set[str] | None) -> set[str] | None:
    """`who`, plus the participants who sent the batch's ballots: an anonymous
    ballot's voter is a pseudonym, and only its command knows whose phone it was."""
    if who is None:
        return None
    for command, out in batch.results:
        if out and isinstance(out, list) and type(command).__name__ in BALLOT_COMMANDS:
            who.add(command.actor.id)
    return who


@dataclass
class _Dirty:
    """What a session's next render must cover."""

    who: set[str] | None = field(default_factory=set)  # private views to recompute

    def add(self, who: set[str] | None) -> None:
        if self.who is None or who is None:
            self.who = None
        else:
            self.who |= who


@dataclass
class Broadcaster:
    hub: Hub
    room_of: Callable[[str], Room | None]
    state_of: Callable[[str], SessionState | None]
    clock: Callable[[], float]
    caches: dict[str, RoomCache] = field(default_factory=dict)
    renders: int = 0  # how many times a room was rendered (tests, figures)
    _presence_tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    _render_tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    _dirty: dict[str, _Dirty] = field(default_factory=dict)
    _fresh: dict[str, set[int]] = field(default_factory=dict)  # snapshot newer than `shown`

    def room(self, session_id: str) -> Room | None:
        base = self.room_of(session_id)
        if base is None:
            return None
        connected = frozenset(self.hub.connected_participants(session_id))
        return dataclasses.replace(base, connected=connected)

    async def publish(self, live: LiveSession, batch: Batch) -> None:
        if live.session_id not in self.hub.rooms:
            # Nobody is watching here; whoever connects gets a snapshot and then
            # diffs against a fresh render, never against what was shown before.
            self.caches.pop(live.session_id, None)
            return
        who = with_ballot_senders(batch, affected(batch.events, live.state))
        # Rendered now, before the actor moves on: a screen gets the fragments a
        # batch caused before the reply to its next message, and the group
        # commit already coalesces (a burst makes bigger batches, not more renders).
        dirty = self._dirty.pop(live.session_id, None)  # a pending presence refresh, say
        if dirty is not None:
            dirty.add(who)
            who = dirty.who
        self.refresh(live.session_id, live.state, who)

    def _mark(self, session_id: str, who: set[str] | None) -> None:
        self._dirty.setdefault(session_id, _Dirty()).add(who)
        if session_id not in self._render_tasks:
            with contextlib.suppress(RuntimeError):  # no running loop (shutdown)
                self._render_tasks[session_id] = asyncio.get_running_loop().create_task(
                    self._render_loop(session_id), name=f"render-{session_id}"
                )

    async def _render_loop(self, session_id: str) -> None:
        try:
            while (dirty := self._dirty.pop(session_id, None)) is not None:
                state = self.state_of(session_id)
                if state is not None:
                    self.refresh(session_id, state, dirty.who)
                await asyncio.sleep(0)  # let the actor commit (and mark) in between
        finally:
            self._render_tasks.pop(session_id, None)

    def refresh(self, session_id: str, state: SessionState, who: set[str] | None = None) -> None:
        """Render each audience once and send what changed; `who`: private views to redo."""
        room = self.room(session_id)
        fresh = self._fresh.pop(session_id, set())
        if room is None or session_id not in self.hub.rooms:
            self.caches.pop(session_id, None)
            return
        self.renders += 1
        cache = self.caches.setdefault(session_id, RoomCache())
        now = self.clock()
        diffs: dict[str, str] = {}
        full: dict[str, str] = {}
        for audience in render.AUDIENCES:
            if not self.hub.count(session_id, audience):
                cache.shown.pop(audience, None)
                continue
            fragments = render.render_audience(state, room, audience, now)
            diffs[audience] = render.changed(cache.shown.get(audience), fragments)
            full[audience] = "".join(fragments.values())
            cache.shown[audience] = fragments
        for audience in ("facilitator", "projector"):
            self._send(session_id, audience, diffs.get(audience, ""), full, fresh)
        self._participants(
            session_id, state, room, cache, diffs.get("participant", ""), who, full, fresh
        )

    def _send(
        self, session_id: str, audience: str, diff: str, full: dict[str, str], fresh: set[int]
    ) -> None:
        if not fresh:
            if diff:
                self.hub.broadcast(session_id, {audience: diff})
            return
        plain = Outgoing(diff) if diff else None
        whole = Outgoing(full.get(audience, ""))
        for client in self.hub.clients(session_id, audience):
            if client.id in fresh:
                client.offer(whole)
            elif plain is not None:
                client.offer(plain)

    def _participants(
        self,
        session_id: str,
        state: SessionState,
        room: Room,
        cache: RoomCache,
        shared: str,
        who: set[str] | None,
        full: dict[str, str],
        fresh: set[int],
    ) -> None:
        if who is not None and not who and not fresh:
            if shared:
                self.hub.broadcast(session_id, {"participant": shared})
            return
        renderer = PrivateRenderer(state, room)
        plain = Outgoing(shared) if shared else None
        whole = full.get("participant", "")
        combined: dict[tuple[bool, str], Outgoing] = {}  # (fresh, private html) -> message
        for client in self.hub.clients(session_id, "participant"):
            pid = client.participant_id
            private = ""
            if pid is not None and (who is None or pid in who):
                model, html = renderer(pid)
                if cache.private_shown.get(client.id) != model:
                    cache.private_shown[client.id] = model
                    private = html
            is_fresh = client.id in fresh
            if not private and not is_fresh:
                if plain is not None:
                    client.offer(plain)
                continue
            key = (is_fresh, private)
            out = combined.get(key)
            if out is None:
                out = combined[key] = Outgoing((whole if is_fresh else shared) + private)
            if out.text:
                client.offer(out)

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
        if client.session_id in self._dirty:
            # A render is pending: its diffs are against an older state than this
            # snapshot, so this screen gets whole fragments from it instead.
            self._fresh.setdefault(client.session_id, set()).add(client.id)
        client.offer("".join(parts))

    def forget(self, client: Client) -> None:
        self._fresh.get(client.session_id, set()).discard(client.id)
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
        self._mark(session_id, set())  # presence is no part of a private view

    async def close(self) -> None:
        tasks = [*self._presence_tasks.values(), *self._render_tasks.values()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._presence_tasks.clear()
        self._render_tasks.clear()
        self._dirty.clear()
        self._fresh.clear()

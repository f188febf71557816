"""Renders each audience's fragments once per change, and only what changed.

A fragment is an element with an id; htmx swaps it into place (out of band).
The facilitator, the projector and the participants' shared view are rendered
once per committed batch for the whole room. A participant's private part is
rendered once per distinct private view (most phones share one) and only sent
to the phones whose private view changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from server.engine.state import SessionState
from server.web import views
from server.web.templating import render

Fragments = dict[str, str]

AUDIENCES = ("facilitator", "projector", "participant")

FRAGMENTS: Mapping[str, tuple[tuple[str, str], ...]] = {
    "facilitator": (
        ("f-status", "facilitator/_status.html"),
        ("f-steps", "facilitator/_steps.html"),
        ("f-stage", "facilitator/_stage.html"),
        ("f-poll-live", "facilitator/_poll_live.html"),
        ("f-capture", "facilitator/_capture.html"),
        ("f-people", "facilitator/_people.html"),
        ("timer", "_partials/timer.html"),
    ),
    "projector": (
        ("p-stage", "projector/_stage.html"),
        ("p-poll-count", "projector/_poll_count.html"),
        ("timer", "_partials/timer.html"),
    ),
    "participant": (
        ("m-stage", "participant/_stage.html"),
        ("timer", "_partials/timer.html"),
    ),
}
PRIVATE = "participant/_me.html"

# Small fragments a room watches change in a burst, cheap to render whatever the
# size of the session: sent after every batch on their own, from the newest
# state, rather than in the big screen's coalesced render (server/web/broadcast.py).
FAST: Mapping[str, tuple[str, ...]] = {
    "projector": ("p-poll-count",),
}
TEMPLATES: Mapping[tuple[str, str], str] = {
    (audience, fid): tpl for audience, pairs in FRAGMENTS.items() for fid, tpl in pairs
}


@dataclass(frozen=True)
class Room:
    """What a screen shows besides the session state."""

    session_id: str
    title: str
    join_code: str
    join_url: str
    lang: str
    connected: frozenset[str] = frozenset()
    # Key for anonymous voters' pseudonyms (server/web/voters.py), so a phone's
    # private view can find its own ballot. Copy a Room with dataclasses.replace.
    voter_key: bytes = field(default=b"", repr=False, compare=False)


def context(state: SessionState, room: Room, now: float) -> dict[str, Any]:
    return {
        "s": state,
        "room": room,
        "now": now,
        "v": views.SessionView(state, room.connected, now),
    }


def render_audience(state: SessionState, room: Room, audience: str, now: float) -> Fragments:
    ctx = context(state, room, now)
    return {fid: render(room.lang, tpl, **ctx) for fid, tpl in FRAGMENTS[audience]}


def render_fragment(state: SessionState, room: Room, audience: str, fid: str, now: float) -> str:
    return render(room.lang, TEMPLATES[(audience, fid)], **context(state, room, now))


def render_private(state: SessionState, room: Room, participant_id: str, now: float) -> str:
    me = views.private_view(state, participant_id, room.voter_key)
    return render(room.lang, PRIVATE, me=me, s=state, room=room)


def render_clock(now: float) -> str:
    return f'<div id="clock" hidden data-now="{int(now * 1000)}"></div>'


@dataclass
class RoomCache:
    """The fragments every connected client of an audience already has."""

    shown: dict[str, Fragments] = field(default_factory=dict)
    private_shown: dict[int, views.PrivateView] = field(default_factory=dict)


def changed(previous: Fragments | None, current: Fragments) -> str:
    if previous is None:
        return "".join(current.values())
    return "".join(html for fid, html in current.items() if previous.get(fid) != html)


class PrivateRenderer:
    """Renders each distinct private view once per batch."""

    def __init__(self, state: SessionState, room: Room) -> None:
        self.state = state
        self.room = room
        self.cache: dict[views.PrivateView, str] = {}

    def __call__(self, participant_id: str) -> tuple[views.PrivateView, str]:
        model = views.private_view(self.state, participant_id, self.room.voter_key)
        html = self.cache.get(model)
        if html is None:
            html = render(self.room.lang, PRIVATE, me=model, s=self.state, room=self.room)
            self.cache[model] = html
        return model, html


Clock = Callable[[], float]
monotonic_now: Clock = time.time

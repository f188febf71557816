"""After each committed batch: render once per audience, send what changed.

The phones come first: their shared fragments are rendered once and their
private parts for the participants the batch concerns (`affected`; a step
change concerns everyone), all before the actor moves on, so a phone gets
what a batch caused before the reply to its next message. A phone gets its
shared and private part as one message, built and encoded once per distinct
private view; private views that differ only by the participant's name are
rendered once and the name put in (`Privates`).

The big screens (facilitator, projector) show every card and every person,
which takes tens of milliseconds with a thousand of each. They are rendered
by a task per session, fragment by fragment with the event loop free in
between, at most every `min_interval` seconds: a burst of cards or ballots
re-renders the wall and the tally a few times a second, not once per batch,
and never holds up a commit or an acknowledgement for long. `flush` renders
what is pending at once (before a reply that must come after it).

A few small fragments of the big screens are cheap whatever the session's
size and are watched in a burst: the projector's count of ballots
(`render.FAST`). They are rendered after every batch from the newest state
and sent on their own if they changed, without waiting for the big render;
the big render, when its turn comes, renders them from the newest state too,
so a screen never goes back to an older count.

Cards are appended, not re-rendered: when all that changed since what a big
screen was last sent is new cards at the end of the current step's wall (a
card burst), the screen is sent their `<li>`s as an out-of-band "beforeend"
of its list (and the facilitator the new count), and what it was sent is
spliced the same way, which is exactly what rendering it whole would give
(`cards_added`, `append_cards`; tests/web/test_card_append.py). A render that
is under way when cards come appends them before it is sent. Anything else
(a step change, a cluster, a withdrawn card, a case walkthrough's wall) goes
through the coalesced render as before.

Also sends a screen its full snapshot when it (re)connects (what the others
of its audience were last sent, when that is current), and re-renders the
screens when someone connects or leaves (debounced).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from markupsafe import escape

from server.engine.state import Card, SessionState
from server.live import Batch, LiveSession
from server.realtime.hub import Client, Hub, Outgoing
from server.web import render, views
from server.web.render import Room, RoomCache
from server.web.templating import render as tpl_render

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


PRIVATE_NAME = "\x00\x01tv-name\x01\x00"  # stands in for a participant's name
_UNSET: Any = object()
BIG_SCREENS = ("projector", "facilitator")
KNOWN_MAX = 20_000  # private renderings kept per session
MIN_INTERVAL = 0.05  # seconds between two renders of a big screen of one session
COST_SHARE = 4  # ...and at least this many times what its last render cost


# -- cards appended to the walls ---------------------------------------------------------

_OTHER_FIELDS = tuple(f.name for f in dataclasses.fields(SessionState) if f.name != "cards")


def _wall_order(card: Card) -> tuple[float, str]:
    return (card.created_at, card.id)  # as SessionState.cards_for sorts them


@dataclass
class AddedCards:
    """What `cards_added` found last, for the second big screen: both big
    screens ask after each batch, so the last answer is kept (per broadcaster,
    never per module: one app's states must not be held by another)."""

    old: SessionState | None = None
    new: SessionState | None = None
    found: tuple[list[Card], int] | None = None

    def between(self, old: SessionState, new: SessionState) -> tuple[list[Card], int] | None:
        if self.old is old and self.new is new:
            return self.found
        self.old, self.new, self.found = old, new, cards_added(old, new)
        return self.found


def cards_added(old: SessionState, new: SessionState) -> tuple[list[Card], int] | None:
    """(the cards `new` has that `old` has not, in wall order; how many of the
    current step's cards `old` had) when that is all that differs (the engine
    replaces only what it changes, so everything else is the same objects) and
    each new card is loose and comes after `old`'s cards of the current step on
    the wall; else None."""
    step = new.step
    if step is None or len(new.cards) <= len(old.cards):
        return None
    for name in _OTHER_FIELDS:
        if getattr(old, name) is not getattr(new, name):
            return None
    # Every old card still there, unchanged (a C loop: a card the engine did not
    # touch is the same object); the rest are the new ones.
    if not old.cards.items() <= new.cards.items():
        return None
    added = [new.cards[card_id] for card_id in new.cards.keys() - old.cards.keys()]
    if any(card.step_id != step.id or card.cluster_id is not None for card in added):
        return None
    added.sort(key=_wall_order)
    here = [c for c in old.cards.values() if c.step_id == step.id]
    if here and max(map(_wall_order, here)) >= _wall_order(added[0]):
        return None
    return added, len(here)


# audience -> (the fragment holding its card list, that list's id, the
# facilitator's list with its remove buttons, the id of its count or "")
APPENDABLE: dict[str, tuple[str, str, bool, str]] = {
    "projector": ("p-stage", "wall-loose", False, ""),
    "facilitator": ("f-stage", "f-cards", True, "f-card-count"),
}


def append_cards(
    fragments: render.Fragments, audience: str, added: list[Card], before: int, lang: str
) -> tuple[render.Fragments, str] | None:
    """`fragments` with the cards appended to the audience's card list, and the
    message that does the same on a screen; None if the fragments have no such
    list (another kind of step, or no loose cards under clusters) or it is empty."""
    fid, list_id, admin, count_id = APPENDABLE[audience]
    html = fragments.get(fid, "")
    start = html.find(f' id="{list_id}">')
    end = html.find("</ul>", start)
    if start < 0 or end < 0:
        return None
    items = tpl_render(lang, "_partials/cards_added.html", cards=added, admin=admin)
    message = f'<ul hx-swap-oob="beforeend:#{list_id}">{items}</ul>'
    spliced = html[:end] + items + html[end:]
    if count_id:
        if '<li class="empty">' in html[start:end]:
            return None  # "no cards yet" goes: render it whole
        old = f'<span class="count" id="{count_id}">{before}</span>'
        new = f'<span class="count" id="{count_id}">{before + len(added)}</span>'
        if spliced.count(old) != 1:
            return None
        spliced = spliced.replace(old, new)
        message += new
    return {**fragments, fid: spliced}, message


def _dataclass_instance(value: Any) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, type)


# Big fragments that depend on little: while these parts of the state (the same
# objects: the engine replaces what it changes) and the room are the same,
# the fragment is the same and is not rendered again. f-people lists every
# participant (1,000 rows take ~15 ms) and does not change in a card or vote
# burst. Keep this in step with the template (tests/web/test_broadcast.py).
INPUTS: dict[str, Callable[[SessionState, Room], tuple[Any, ...]]] = {
    "f-people": lambda s, r: (s.participants, s.case_owner, s.extra, s.script, r),
}


# Small fragments sent after every batch, and what each is made of besides the
# language (no template of them reads the room): rendered again only when that
# changes. A running timer's digits are the phone's to count down, from the
# deadline in the fragment (static/js/app.js, also right after each swap): the
# server does not send a thousand phones a new fragment each second it changes.
SMALL_INPUTS: dict[tuple[str, str], Callable[[SessionState], tuple[Any, ...]]] = {
    ("participant", "m-stage"): lambda s: (s.status, s.current, s.script),
    ("participant", "timer"): lambda s: (s.timer,),
    ("projector", "p-poll-count"): lambda s: (s.status, s.current, s.script, s.polls),
}


def _same_small(old: tuple[Any, ...], new: tuple[Any, ...]) -> bool:
    """The same objects, or equal numbers and names (a step index, a status)."""
    return len(old) == len(new) and all(
        a is b or (isinstance(a, int | str) and a == b) for a, b in zip(old, new, strict=True)
    )


def _same(old: tuple[Any, ...], new: tuple[Any, ...]) -> bool:
    """The same objects (the room: equal)."""
    return len(old) == len(new) and all(
        a is b or (isinstance(a, Room) and a == b) for a, b in zip(old, new, strict=True)
    )


class _Indexed:
    """The state as `views.private_view` reads it, with each step's cards sorted
    once per state rather than once per phone, and a phone's own cards picked
    from an index by author: in a burst every phone's own cards would otherwise
    be picked out of all of the step's, and a batch of one card would sort them all."""

    __slots__ = ("_by_author", "_cards", "_state")

    def __init__(self, state: SessionState) -> None:
        self._state = state
        self._cards: dict[str, list[Card]] = {}
        self._by_author: dict[str, dict[str, list[Card]]] = {}

    def cards_for(self, step_id: str) -> list[Card]:
        found = self._cards.get(step_id)
        if found is None:
            found = self._cards[step_id] = self._state.cards_for(step_id)
        return found

    def cards_by(self, step_id: str, author_id: str) -> list[Card]:
        index = self._by_author.get(step_id)
        if index is None:
            index = self._by_author[step_id] = {}
            for card in self._state.cards.values():
                if card.step_id == step_id:
                    index.setdefault(card.author_id, []).append(card)
        mine = index.get(author_id)
        if not mine:
            return []
        mine.sort(key=_wall_order)  # a few cards, sorted again only if asked again
        return mine

    def __getattr__(self, name: str) -> Any:
        return getattr(self._state, name)


class Privates:
    """Private parts for many phones of one state (keep in step with
    `render.PrivateRenderer`, which renders one view at a time).

    A private view renders the same whatever else the state holds (which is
    why a phone whose view is unchanged is sent nothing), so renderings are
    kept per session across states in `known`, up to a bound: a phone that
    returns to a step, or reconnects, costs a lookup. So are the shapes below
    (`shapes`): in a burst of ballots each batch brings a few voters, and
    without them every batch would render its first two voters again. Views that differ only
    by the name are rendered once with a stand-in and the escaped name put in
    by replacement, once a second such view has shown (against its own real
    rendering) that the replacement gives the same; a template that does more
    with the name than print it is rendered per view.
    """

    def __init__(
        self,
        state: SessionState,
        room: Room,
        known: dict[Any, str] | None = None,
        shapes: dict[Any, tuple[str, str] | str | None] | None = None,
    ) -> None:
        self.state = state
        self.room = room
        self._view_state: Any = _Indexed(state)
        self._html: dict[Any, str] = {} if known is None else known
        self._shapes: dict[Any, tuple[str, str] | str | None] = {} if shapes is None else shapes
        self.renders = 0

    def model(self, participant_id: str) -> Any:
        view: Any = views.private_view
        key = getattr(self.room, "voter_key", None)  # anonymous ballots (the voting work)
        if key is None:
            return view(self._view_state, participant_id)
        return view(self._view_state, participant_id, key)

    def __call__(self, participant_id: str) -> tuple[Any, str]:
        model = self.model(participant_id)
        return model, self.html(model)

    def html(self, model: Any) -> str:
        found = self._html.get(model)
        if found is not None:
            return found
        name = getattr(model, "name", None)
        html: str | None = None
        if name and _dataclass_instance(model):
            shape = dataclasses.replace(model, name=PRIVATE_NAME)
            seen = self._shapes.get(shape, _UNSET)
            if seen is _UNSET:  # the first of its shape: render it, remember how it went
                html = self._render(model)
                if len(self._shapes) >= KNOWN_MAX:
                    self._shapes.clear()
                self._shapes[shape] = (name, html)
            elif isinstance(seen, tuple):  # the second: does the name simply go in?
                template = self._render(shape)
                first_name, first_html = seen
                fits = template.replace(PRIVATE_NAME, str(escape(first_name))) == first_html
                self._shapes[shape] = template if fits else None
                if fits:
                    html = template.replace(PRIVATE_NAME, str(escape(name)))
            elif isinstance(seen, str):
                html = seen.replace(PRIVATE_NAME, str(escape(name)))
        if html is None:
            html = self._render(model)
        if len(self._html) >= KNOWN_MAX:
            self._html.clear()
        self._html[model] = html
        return html

    def _render(self, model: Any) -> str:
        self.renders += 1
        return tpl_render(self.room.lang, render.PRIVATE, me=model, s=self.state, room=self.room)


@dataclass
class Broadcaster:
    hub: Hub
    room_of: Callable[[str], Room | None]
    state_of: Callable[[str], SessionState | None]
    clock: Callable[[], float]
    caches: dict[str, RoomCache] = field(default_factory=dict)
    min_interval: float = MIN_INTERVAL
    renders: int = 0  # renders of the big screens (tests, figures)
    fast_sends: int = 0  # small fragments sent on their own (`render.FAST`)
    appends: int = 0  # cards appended to a big screen instead of rendering it
    busy_at: float = 0.0  # time.monotonic() of the last batch or snapshot (quietgc.py)
    _presence_tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    _render_tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    _dirty: dict[str, set[str]] = field(default_factory=dict)  # audiences to render later
    _rendering: dict[str, set[str]] = field(default_factory=dict)  # being rendered now
    _rendering_state: dict[str, SessionState] = field(default_factory=dict)  # ...from this
    _generation: dict[str, int] = field(default_factory=dict)  # bumped by flush
    _next: dict[tuple[str, str], float] = field(default_factory=dict)  # (session, audience)
    _fresh: dict[str, set[int]] = field(default_factory=dict)  # snapshot newer than `shown`
    _shown_state: dict[str, dict[str, SessionState]] = field(default_factory=dict)
    _privates: dict[str, Privates] = field(default_factory=dict)
    _known: dict[str, dict[Any, str]] = field(default_factory=dict)  # private renderings
    _shapes: dict[str, dict[Any, Any]] = field(default_factory=dict)  # ...and their shapes
    _memo: dict[tuple[str, str], tuple[Any, str]] = field(default_factory=dict)  # see INPUTS
    _small_memo: dict[str, dict[tuple[str, str], tuple[tuple[Any, ...], str]]] = field(
        default_factory=dict
    )  # see SMALL_INPUTS
    _added: AddedCards = field(default_factory=AddedCards)  # see `cards_added`

    def room(self, session_id: str) -> Room | None:
        base = self.room_of(session_id)
        if base is None:
            return None
        connected = frozenset(self.hub.connected_participants(session_id))
        return dataclasses.replace(base, connected=connected)

    def privates(self, session_id: str, state: SessionState, room: Room) -> Privates:
        """The private renderer for this state, shared by renders and snapshots."""
        found = self._privates.get(session_id)
        quiet = dataclasses.replace(room, connected=frozenset())
        if found is None or found.state is not state or found.room != quiet:
            known = self._known.setdefault(session_id, {})
            shapes = self._shapes.setdefault(session_id, {})
            if found is not None and found.room != quiet:
                known.clear()
                shapes.clear()
            found = self._privates[session_id] = Privates(state, quiet, known, shapes)
        return found

    def _forget_session(self, session_id: str) -> None:
        self.caches.pop(session_id, None)
        self._shown_state.pop(session_id, None)
        self._privates.pop(session_id, None)
        self._known.pop(session_id, None)
        self._shapes.pop(session_id, None)
        self._fresh.pop(session_id, None)
        self._rendering_state.pop(session_id, None)
        self._small_memo.pop(session_id, None)
        for key in [k for k in self._memo if k[0] == session_id]:
            del self._memo[key]

    # -- after a commit ----------------------------------------------------------------

    async def publish(self, live: LiveSession, batch: Batch) -> None:
        self.busy_at = time.monotonic()
        session_id = live.session_id
        if session_id not in self.hub.rooms:
            # Nobody is watching here; whoever connects gets a snapshot and then
            # diffs against a fresh render, never against what was shown before.
            self._forget_session(session_id)
            return
        who = with_ballot_senders(batch, affected(batch.events, live.state))
        room = self.room(session_id)
        if room is not None:
            self._fast(session_id, live.state, room)
            self._phones(session_id, live.state, room, who)
        later = [a for a in BIG_SCREENS if not self._append(session_id, a, live.state)]
        if later:
            self._later(session_id, later)

    def refresh(self, session_id: str, state: SessionState, who: set[str] | None = None) -> None:
        """Render every audience now and send what changed; `who`: private views to redo."""
        room = self.room(session_id)
        if room is None or session_id not in self.hub.rooms:
            self._forget_session(session_id)
            return
        self._dirty.pop(session_id, None)
        self._generation[session_id] = self._generation.get(session_id, 0) + 1
        self._phones(session_id, state, room, who)
        for audience in BIG_SCREENS:
            if self.hub.count(session_id, audience):
                self._send(session_id, audience, state, self._render(state, room, audience))

    def flush(self, session_id: str) -> None:
        """Render what is waiting for the big screens now (and drop any render
        that is half done), so a reply sent after this comes after it."""
        pending = self._dirty.get(session_id) or self._rendering.get(session_id)
        state = self.state_of(session_id)
        if pending and state is not None:
            self.refresh(session_id, state, set())

    def _phones(
        self, session_id: str, state: SessionState, room: Room, who: set[str] | None
    ) -> None:
        cache = self.caches.setdefault(session_id, RoomCache())
        if not self.hub.count(session_id, "participant"):
            cache.shown.pop("participant", None)
            return
        fragments = self._render_phones(session_id, state, room)
        shared = render.changed(cache.shown.get("participant"), fragments)
        cache.shown["participant"] = fragments
        self._shown_state.setdefault(session_id, {})["participant"] = state
        fresh = self._fresh.get(session_id, set())
        if who is not None and not who and not fresh:
            if shared:
                self.hub.broadcast(session_id, {"participant": shared})
            return
        whole = "".join(fragments.values())
        privates = self.privates(session_id, state, room)
        if who is None and shared and not fresh:
            # Everyone's private part is to be worked out (a step change): the
            # new stage goes to every phone first, the private parts follow.
            self.hub.broadcast(session_id, {"participant": shared})
            shared = ""
        plain = Outgoing(shared) if shared else None
        combined: dict[tuple[bool, str], Outgoing] = {}  # (fresh, private html) -> message
        if who is not None and not shared and not fresh:
            # Nothing shared changed: only the phones of the participants concerned.
            clients: Iterable[Client] = [
                c for pid in who for c in self.hub.of_participant(session_id, pid)
            ]
        else:
            clients = self.hub.clients(session_id, "participant")
        for client in clients:
            pid = client.participant_id
            private = ""
            if pid is not None and (who is None or pid in who):
                model, html = privates(pid)
                if cache.private_shown.get(client.id) != model:
                    cache.private_shown[client.id] = model
                    private = html
            is_fresh = client.id in fresh
            if is_fresh:
                fresh.discard(client.id)
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

    def _fast(self, session_id: str, state: SessionState, room: Room) -> None:
        """The small fragments of `render.FAST`, now, to the screens shown them
        before, if they changed (a screen not yet shown anything gets them in its
        snapshot or its audience's next render)."""
        cache = self.caches.get(session_id)
        if cache is None:
            return
        for audience, ids in render.FAST.items():
            shown = cache.shown.get(audience)
            if shown is None or not self.hub.count(session_id, audience):
                continue
            now = self.clock()
            changed = {}
            for fid in ids:
                html = self._small(session_id, state, room, audience, fid, now)
                if shown.get(fid) != html:
                    changed[fid] = html
            if changed:
                cache.shown[audience] = {**shown, **changed}
                self.fast_sends += 1
                self.hub.broadcast(session_id, {audience: "".join(changed.values())})

    def _append(self, session_id: str, audience: str, state: SessionState) -> bool:
        """Bring a big screen to `state` by appending cards, if that is all that
        changed (see `cards_added`); False: it needs rendering."""
        if audience in self._dirty.get(session_id, ()):
            return False  # a render is due anyway, and will show the cards
        if audience in self._rendering.get(session_id, ()):
            # The render under way appends them before it sends (`_render_later`).
            started = self._rendering_state.get(session_id)
            return started is not None and self._added.between(started, state) is not None
        if not self.hub.count(session_id, audience):
            return False
        cache = self.caches.get(session_id)
        shown = None if cache is None else cache.shown.get(audience)
        was = self._shown_state.get(session_id, {}).get(audience)
        if cache is None or shown is None or was is None:
            return False
        if was is state:
            return True
        found = self._added.between(was, state)
        room = self.room_of(session_id)
        spliced = None
        if found is not None and room is not None:
            spliced = append_cards(shown, audience, *found, room.lang)
        if spliced is None:
            return False
        fragments, message = spliced
        cache.shown[audience] = fragments
        self._shown_state[session_id][audience] = state
        self.appends += 1
        fresh = self._fresh.get(session_id, set())
        clients = self.hub.clients(session_id, audience)
        mine = {c.id for c in clients} & fresh
        if not mine:
            self.hub.broadcast(session_id, {audience: message})
            return True
        # Screens whose snapshot is newer than what the others were sent may
        # have these cards already: they get the whole fragments instead.
        fresh -= mine
        plain, whole = Outgoing(message), Outgoing("".join(fragments.values()))
        for client in clients:
            client.offer(whole if client.id in mine else plain)
        return True

    def _render(self, state: SessionState, room: Room, audience: str) -> render.Fragments:
        return render.render_audience(state, room, audience, self.clock())

    def _small(
        self, session_id: str, state: SessionState, room: Room, audience: str, fid: str, now: float
    ) -> str:
        """One fragment of `SMALL_INPUTS`, rendered only if its inputs changed."""
        key = (room.lang, *SMALL_INPUTS[(audience, fid)](state))
        memo = self._small_memo.setdefault(session_id, {})
        found = memo.get((audience, fid))
        if found is not None and _same_small(found[0], key):
            return found[1]
        html = render.render_fragment(state, room, audience, fid, now)
        memo[(audience, fid)] = (key, html)
        return html

    def _render_phones(self, session_id: str, state: SessionState, room: Room) -> render.Fragments:
        """The phones' shared fragments (all of them are in `SMALL_INPUTS`)."""
        now = self.clock()
        return {
            fid: self._small(session_id, state, room, "participant", fid, now)
            for fid, _ in render.FRAGMENTS["participant"]
        }

    def _send(
        self, session_id: str, audience: str, state: SessionState, fragments: render.Fragments
    ) -> None:
        """Send an audience what changed since it was last sent (all of it to a
        screen whose snapshot is newer than that)."""
        cache = self.caches.setdefault(session_id, RoomCache())
        diff = render.changed(cache.shown.get(audience), fragments)
        cache.shown[audience] = fragments
        self._shown_state.setdefault(session_id, {})[audience] = state
        fresh = self._fresh.get(session_id, set())
        clients = self.hub.clients(session_id, audience)
        mine = {c.id for c in clients} & fresh
        if not mine:
            if diff:
                self.hub.broadcast(session_id, {audience: diff})
            return
        fresh -= mine
        plain = Outgoing(diff) if diff else None
        whole = Outgoing("".join(fragments.values()))
        for client in clients:
            if client.id in mine:
                client.offer(whole)
            elif plain is not None:
                client.offer(plain)

    # -- the big screens, later ----------------------------------------------------------

    def _later(self, session_id: str, audiences: Iterable[str]) -> None:
        self._dirty.setdefault(session_id, set()).update(audiences)
        if session_id not in self._render_tasks:
            with contextlib.suppress(RuntimeError):  # no running loop (shutdown)
                self._render_tasks[session_id] = asyncio.get_running_loop().create_task(
                    self._render_loop(session_id), name=f"render-{session_id}"
                )

    async def _render_loop(self, session_id: str) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._dirty.get(session_id):
                now = loop.time()
                due = {a: self._next.get((session_id, a), 0.0) for a in self._dirty[session_id]}
                ready = {a for a, at in due.items() if at <= now}
                if not ready:
                    await asyncio.sleep(min(due.values()) - now)
                    continue
                waiting = self._dirty[session_id] - ready
                if waiting:
                    self._dirty[session_id] = waiting
                else:
                    del self._dirty[session_id]
                state = self.state_of(session_id)
                room = self.room(session_id)
                if state is None or room is None:
                    continue
                if session_id not in self.hub.rooms:
                    self._forget_session(session_id)
                    continue
                self.renders += 1
                await self._render_later(session_id, state, room, ready)
        finally:
            self._render_tasks.pop(session_id, None)
            self._rendering.pop(session_id, None)

    async def _render_later(
        self, session_id: str, state: SessionState, room: Room, audiences: set[str]
    ) -> None:
        loop = asyncio.get_running_loop()
        generation = self._generation.get(session_id, 0)
        self._rendering[session_id] = audiences
        self._rendering_state[session_id] = state
        try:
            for audience in (*BIG_SCREENS, "participant"):
                if audience not in audiences or not self.hub.count(session_id, audience):
                    continue
                if audience == "participant":  # presence: cheap, no private parts
                    self._phones(session_id, state, room, set())
                    continue
                fragments: render.Fragments = {}
                cost = 0.0
                ctx = render.context(state, room, self.clock())
                fast = render.FAST.get(audience, ())
                for fragment_id, template in render.FRAGMENTS[audience]:
                    if fragment_id in fast:
                        fragments[fragment_id] = ""  # below, from the newest state
                        continue
                    inputs = INPUTS.get(fragment_id)
                    key = None if inputs is None else inputs(state, room)
                    memo = self._memo.get((session_id, fragment_id))
                    if key is not None and memo is not None and _same(memo[0], key):
                        fragments[fragment_id] = memo[1]
                        continue
                    started = time.thread_time()
                    fragments[fragment_id] = tpl_render(room.lang, template, **ctx)
                    cost += time.thread_time() - started
                    if key is not None:
                        self._memo[(session_id, fragment_id)] = (key, fragments[fragment_id])
                    await asyncio.sleep(0)  # a commit or an ack may go first
                    if self._generation.get(session_id, 0) != generation:
                        return  # flushed meanwhile: that render is newer than this one
                newest = self.state_of(session_id) or state
                sent_state = state
                if newest is not state:
                    # Cards came meanwhile (`_append` left them to this render).
                    found = self._added.between(state, newest)
                    spliced = None
                    if found is not None:
                        spliced = append_cards(fragments, audience, *found, room.lang)
                    if spliced is not None:
                        fragments, sent_state = spliced[0], newest
                    else:
                        self._later(session_id, {audience})  # to be sure: once more
                if fast:
                    # Batches may have come meanwhile, and `_fast` shown their
                    # count: these go out from the newest state, never an older one.
                    now = self.clock()
                    for fragment_id in fast:
                        fragments[fragment_id] = render.render_fragment(
                            newest, room, audience, fragment_id, now
                        )
                self._send(session_id, audience, sent_state, fragments)
                audiences.discard(audience)  # sent: cards from now on are appended to it
                # A screen that is dear to render is rendered less often: at most
                # 1/COST_SHARE of the time goes to re-rendering it in a burst.
                pause = max(self.min_interval, COST_SHARE * cost)
                self._next[(session_id, audience)] = loop.time() + pause
        finally:
            self._rendering.pop(session_id, None)
            self._rendering_state.pop(session_id, None)

    # -- screens that connect ------------------------------------------------------------

    def snapshot(self, client: Client, state: SessionState) -> None:
        """Everything a screen shows, for a screen that just (re)connected."""
        self.busy_at = time.monotonic()
        session_id = client.session_id
        room = self.room(session_id)
        if room is None:
            return
        cache = self.caches.setdefault(session_id, RoomCache())
        shown = cache.shown.get(client.audience)
        current = self._shown_state.get(session_id, {}).get(client.audience) is state
        pending = client.audience in (
            self._dirty.get(session_id, set()) | self._rendering.get(session_id, set())
        )
        if shown is not None and current and not pending:
            fragments = shown  # exactly what the others of this audience have
        else:
            fragments = self._render(state, room, client.audience)
            if shown is None and self.hub.count(session_id, client.audience) <= 1:
                cache.shown[client.audience] = fragments  # the first of its audience
                self._shown_state.setdefault(session_id, {})[client.audience] = state
            else:
                # Diffs still to come are against older fragments than these:
                # the next render sends this screen whole fragments instead.
                self._fresh.setdefault(session_id, set()).add(client.id)
        parts = [render.render_clock(self.clock()), *fragments.values()]
        if client.participant_id is not None:
            model, html = self.privates(session_id, state, room)(client.participant_id)
            cache.private_shown[client.id] = model
            parts.append(html)
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
        if session_id in self.hub.rooms:
            self._later(session_id, (*BIG_SCREENS, "participant"))

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
        self._privates.clear()
        self._known.clear()
        self._shapes.clear()

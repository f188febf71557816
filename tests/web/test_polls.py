"""Polls through the websocket: every type end to end, concurrency, and privacy.

What a phone receives is checked as sent over the websocket, not as shown.
A "barrier" (an unknown message type, answered with an error flash) marks the
end of what a screen has been sent so far, so a test can tell that nothing
else was sent, without timeouts.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.engine import Actor, ActorRole, CommandRejected
from server.engine.commands import Join
from server.engine.events import SessionCreated, to_record
from server.engine.poll import Horizon, PollStatus, ranked_options
from server.engine.steps.poll import BallotCast, CastBallot, PollClosed
from server.engine.tally import PollType, tally
from server.i18n import gettext_for
from server.live import LiveSession
from server.web.messages import BadMessage, parse
from server.web.pages.participant import cookie_name
from server.web.voters import PSEUDONYM_HEX, pseudonym, voter_for, voter_key
from tests.support import World, join

FOCUS_AREAS = (
    {"id": "fa-barn", "title": "Barnets perspektiv"},
    {"id": "fa-tidlig", "title": "Tidlig indsats"},
    {"id": "fa-skole", "title": "Samarbejde med skolen"},
    {"id": "fa-net", "title": "Netværket <tidligt> & ofte"},
)
OPTIONS = ["Alfa", "Beta", "Gamma", "Delta"]  # script options get ids o1..o4

STEPS: list[dict[str, Any]] = [
    {"id": "intro", "kind": "presentation", "title": "Velkommen"},
    {
        "id": "valg",
        "kind": "poll",
        "title": "Valg",
        "question": "Hvilke to?",
        "type": "choice",
        "max_choices": 2,
        "options": OPTIONS,
        "anonymous": False,
    },
    {
        "id": "godkend",
        "kind": "poll",
        "title": "Godkend",
        "question": "Hvad kan du støtte?",
        "type": "approval",
        "options": OPTIONS,
    },
    {
        "id": "prikker",
        "kind": "poll",
        "title": "Prikker",
        "question": "Fordel dine prikker",
        "type": "dot",
        "options_from": "focus_areas",
        "dots": 5,
        "max_per_option": 3,
    },
    {
        "id": "rang",
        "kind": "poll",
        "title": "Rang",
        "question": "Top to?",
        "type": "rank",
        "top_k": 2,
        "options": OPTIONS,
    },
    {
        "id": "karakter",
        "kind": "poll",
        "title": "Karakter",
        "question": "Hvor godt?",
        "type": "score",
        "options": OPTIONS[:3],
    },
    {
        "id": "prioritering",
        "kind": "poll",
        "title": "Prioritering",
        "question": "Rækkefølge?",
        "type": "rank",
        "options_from": "focus_areas",
        "assign_horizon": True,
    },
    {
        "id": "fast",
        "kind": "poll",
        "title": "Fast",
        "question": "Én gang?",
        "type": "choice",
        "options": OPTIONS[:2],
        "allow_change": False,
        "show_count_on_projector": False,
    },
    {"id": "plan", "kind": "discussion", "title": "Planen"},
]
SCRIPT: dict[str, Any] = {
    "id": "afstemninger",
    "title": "Afstemninger",
    "language": "da",
    "duration": 120,
    "steps": STEPS,
}

BARRIER = '{"type": "barrier-marker"}'
DA = gettext_for("da")
BARRIER_TEXT = html.escape(DA.gettext("This action is not known."))
TOO_LATE = html.escape(
    DA.gettext("The vote closed before your ballot arrived, so it was not counted.")
)


# -- the room -------------------------------------------------------------------------------


@dataclass
class Phone:
    pid: str
    name: str
    browser: TestClient
    ws: Any = None
    seen: list[str] = field(default_factory=list)
    mark: int = 0  # where in `seen` the last ballot was sent


@dataclass
class Room:
    world: World
    new_browser: Callable[[], TestClient]
    session_id: str
    stack: ExitStack
    fac: Any = None
    wall: Any = None
    phones: list[Phone] = field(default_factory=list)

    @property
    def svc(self):  # type: ignore[no-untyped-def]
        return self.world.services

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self.world.fac.portal.call(fn, *args)

    @property
    def live(self) -> LiveSession:
        live = self.call(self.svc.live.get, self.session_id)
        assert live is not None
        return live

    def poll(self, poll_id: str):  # type: ignore[no-untyped-def]
        return self.live.state.polls[poll_id]

    def events(self) -> list[Any]:
        return list(self.call(self.svc.eventlog.load, self.session_id))

    def add_phone(self, name: str = "", connect: bool = True) -> Phone:
        """A participant joined through the engine (no join throttle), with their cookie."""
        pid = secrets.token_hex(8)
        out = self.call(
            self.live.submit, Join(actor=Actor(ActorRole.PARTICIPANT, pid), name=name or None)
        )
        assert not isinstance(out, CommandRejected), out
        browser = self.new_browser()
        browser.cookies.set(
            cookie_name(self.session_id), self.svc.participant_token(self.session_id, pid)
        )
        phone = Phone(pid, name, browser)
        if connect:
            self.connect(phone)
        self.phones.append(phone)
        return phone

    def connect(self, phone: Phone) -> Any:
        ws = self.stack.enter_context(
            phone.browser.websocket_connect(f"/ws/{self.session_id}/participant")
        )
        phone.seen.append(ws.receive_text())  # the snapshot
        phone.ws = ws
        return ws

    def fac_do(self, **message: Any) -> list[str]:
        """The facilitator sends a message; returns what the facilitator got since."""
        send(self.fac, **message)
        return drain(self.fac)

    def go(self, step_id: str) -> list[str]:
        seen = self.fac_do(type="go_to_step", step_id=step_id)
        assert self.live.state.step_id == step_id
        return seen


def send(ws: Any, **message: Any) -> None:
    ws.send_text(json.dumps(message))


def drain(ws: Any) -> list[str]:
    """Every message this screen was sent so far (up to the barrier's reply)."""
    ws.send_text(BARRIER)
    out = []
    for _ in range(500):
        message = ws.receive_text()
        if 'id="flash"' in message and BARRIER_TEXT in message:
            return out
        out.append(message)
    raise AssertionError("no barrier reply")


def until(ws: Any, needle: str, limit: int = 50) -> list[str]:
    out = []
    for _ in range(limit):
        out.append(ws.receive_text())
        if needle in out[-1]:
            return out
    raise AssertionError(f"{needle!r} not in {out!r}"[:3000])


def make_session(world: World, focus_areas: tuple[dict[str, str], ...] = FOCUS_AREAS) -> str:
    """A session from SCRIPT with the engagement's focus areas, made as the app does."""
    svc = world.services

    async def create() -> str:
        row = await svc.repo.add_session(
            world.engagement_id, SCRIPT["id"], SCRIPT["title"], "da", world.user.id
        )
        created = SessionCreated(
            at=time.time(), session_id=row.id, script=SCRIPT, focus_areas=focus_areas
        )
        await svc.live.create(row.id, created)
        svc.remember(row)
        return row.id

    return str(world.fac.portal.call(create))


@contextmanager
def room(
    world: World, new_browser: Callable[[], TestClient], *, phones: int = 0, named: bool = False
) -> Iterator[Room]:
    session_id = make_session(world)
    with ExitStack() as stack:
        r = Room(world, new_browser, session_id, stack)
        r.fac = stack.enter_context(world.fac.websocket_connect(f"/ws/{session_id}/facilitator"))
        r.fac.receive_text()
        key = world.services.projector_key(session_id)
        r.wall = stack.enter_context(
            new_browser().websocket_connect(f"/ws/{session_id}/projector?key={key}")
        )
        r.wall.receive_text()
        for i in range(phones):
            r.add_phone(f"Deltager{i:03d}" if named else "")
        r.fac_do(type="start_session")
        yield r


def vote(r: Room, phone: Phone, poll_id: str, payload: Any, ballot_id: str | None = None) -> str:
    """A phone votes; returns the ballot id (the reply is left for the caller)."""
    ballot_id = ballot_id or secrets.token_hex(6)
    phone.mark = len(phone.seen)
    send(phone.ws, type="cast_ballot", poll_id=poll_id, ballot_id=ballot_id, payload=payload)
    return ballot_id


def reply(phone: Phone) -> str:
    """The flash that answers this phone's last message (fragments before it are kept)."""
    for _ in range(50):
        message = phone.ws.receive_text()
        phone.seen.append(message)
        if 'id="flash"' in message:
            return message
    raise AssertionError("no reply")


def own_part(phone: Phone) -> str:
    """The phone's private part as re-sent after its last ballot: before or after
    the ack, depending on whether the render or the ack goes out first."""
    for message in reversed(phone.seen[phone.mark :]):
        if 'id="m-me"' in message:
            return message
    found = until(phone.ws, 'id="m-me"')
    phone.seen += found
    return found[-1]


def count_on_wall(messages: list[str]) -> int | None:
    found = None
    for m in messages:
        hit = re.search(r'id="p-poll-count"[^>]*>\s*<span class="p-count-n">(\d+)</span>', m)
        if hit:
            found = int(hit.group(1))
    return found


# -- every poll type end to end ----------------------------------------------------------------

PAYLOADS: dict[str, list[Any]] = {
    "valg": [["o1", "o2"], ["o1"], ["o2", "o3"]],
    "godkend": [["o1", "o4"], [], ["o4"]],
    "prikker": [{"fa-barn": 3, "fa-skole": 2}, {"fa-barn": 1, "fa-net": 3}, {"fa-tidlig": 2}],
    "rang": [["o2", "o1"], ["o1", "o2"], ["o3"]],
    "karakter": [{"o1": 5, "o2": 3}, {"o1": 4, "o3": 1}, {"o1": 5}],
    "prioritering": [
        ["fa-barn", "fa-tidlig", "fa-skole", "fa-net"],
        ["fa-tidlig", "fa-barn"],  # a partial ranking is a ballot
        ["fa-barn", "fa-skole", "fa-tidlig", "fa-net"],
    ],
}


@pytest.mark.parametrize("poll_id", list(PAYLOADS))
def test_every_poll_type_end_to_end(
    world: World, new_browser: Callable[[], TestClient], poll_id: str
) -> None:
    with room(world, new_browser, phones=3, named=True) as r:
        r.go(poll_id)
        poll = r.poll(poll_id)
        for phone in r.phones:  # the draft: the phone waits, the ballot is not there yet
            private = until(phone.ws, f'data-poll="{poll_id}"')[-1]
            assert f'data-poll="{poll_id}"' in private and 'data-status="draft"' in private
            assert "data-ballot" not in private
        r.fac_do(type="open_poll", poll_id=poll_id)
        for phone in r.phones:
            form = until(phone.ws, "data-ballot")[-1]
            assert f'data-ballot="{poll.type}"' in form
            for _, label in poll.options:
                assert html.escape(label) in form
        for phone, payload in zip(r.phones, PAYLOADS[poll_id], strict=True):
            ballot_id = vote(r, phone, poll_id, payload)
            answer = reply(phone)
            assert "flash-ok" in answer, answer
            # The phone's own part comes back with the committed ballot: "saved".
            private = own_part(phone)
            assert 'class="ballot-state" data-state="saved"' in private
            assert r.poll(poll_id).ballots  # committed before the ack
            assert ballot_id in r.poll(poll_id).ballot_ids
        wall = drain(r.wall)
        if poll.show_count_on_projector:
            assert count_on_wall(wall) == 3
        assert not any("<svg" in m for m in wall)

        r.fac_do(type="close_poll", poll_id=poll_id)
        for phone in r.phones:
            closed = until(phone.ws, 'data-status="closed"')[-1]
            assert "data-ballot" not in closed
        assert "<svg" not in "".join(drain(r.wall))
        stage = "".join(r.fac_do(type="publish_poll", poll_id=poll_id))
        assert "result-table" in stage

        expected = tally(poll.rules, poll.options, PAYLOADS[poll_id])
        stored = r.poll(poll_id).result
        assert stored is not None and stored.rows == expected.rows and stored.ballots == 3
        wall = "".join(drain(r.wall))
        assert re.search(r'<svg [^>]*xmlns="http://www.w3.org/2000/svg"', wall)
        for row in expected.rows:
            assert html.escape(row.label) in wall
        assert 'id="p-poll-count"' in wall and "hidden" in wall.split('id="p-poll-count"')[1][:40]
        if poll.type is PollType.RANK:
            assert "result-table-big" in wall  # how each option was ranked
        for phone in r.phones:
            published = until(phone.ws, 'data-status="published"')[-1]
            assert "<svg" in published


def test_dot_ballot_shows_dots_left_and_the_limits(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    with room(world, new_browser, phones=1) as r:
        phone = r.phones[0]
        r.go("prikker")
        r.fac_do(type="open_poll", poll_id="prikker")
        form = until(phone.ws, "data-ballot")[-1]
        assert 'data-total="5"' in form and 'data-max="3"' in form
        assert re.search(r"data-dots-left[^>]*>[^<]*5[^<]*5", form)
        vote(r, phone, "prikker", {"fa-barn": 2})
        assert "flash-ok" in reply(phone)
        mine = own_part(phone)
        assert re.search(r"data-dots-left[^>]*>[^<]*3[^<]*5", mine)  # 3 of 5 dots left
        assert 'data-option="fa-barn" data-count="2"' in mine
        vote(r, phone, "prikker", {"fa-barn": 4})  # more than 3 on one option
        assert "flash-error" in reply(phone)
        vote(r, phone, "prikker", {"fa-barn": 3, "fa-net": 3})  # 6 of 5 dots
        assert "flash-error" in reply(phone)
        assert dict(r.poll("prikker").ballots.popitem()[1].payload) == {"fa-barn": 2}


# -- idempotence, races, two tabs ------------------------------------------------------------


def test_the_same_ballot_sent_twice_counts_once(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    with room(world, new_browser, phones=2) as r:
        r.go("godkend")
        r.fac_do(type="open_poll", poll_id="godkend")
        phone = r.phones[0]
        ballot = vote(r, phone, "godkend", ["o1"])
        vote(r, phone, "godkend", ["o1"], ballot_id=ballot)  # a resend after a dropped line
        ack = f'data-ack="{ballot}"'  # each reply names the ballot, so the phone stops resending
        assert "flash-ok" in (first := reply(phone)) and ack in first
        assert "flash-ok" in (again := reply(phone)) and ack in again  # the resend is saved too
        # And once more over a new connection, as app.js resends an unanswered ballot.
        phone.ws.close()
        r.connect(phone)
        vote(r, phone, "godkend", ["o1"], ballot_id=ballot)
        assert "flash-ok" in (late := reply(phone)) and ack in late
        assert len(r.poll("godkend").ballots) == 1
        cast = [e for e in r.events() if isinstance(e, BallotCast)]
        assert len(cast) == 1 and cast[0].ballot_id == ballot
        assert count_on_wall(drain(r.wall)) == 1


def test_a_participant_voting_from_two_tabs_counts_once(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    with room(world, new_browser, phones=1) as r:
        tab1 = r.phones[0]
        tab2 = Phone(tab1.pid, tab1.name, tab1.browser)
        r.connect(tab2)
        r.go("prikker")
        r.fac_do(type="open_poll", poll_id="prikker")
        vote(r, tab1, "prikker", {"fa-barn": 3})
        assert "flash-ok" in reply(tab1)
        vote(r, tab2, "prikker", {"fa-skole": 1})
        assert "flash-ok" in reply(tab2)
        poll = r.poll("prikker")
        assert len(poll.ballots) == 1
        assert next(iter(poll.ballots.values())).payload == {"fa-skole": 1}
        # Both tabs show the ballot now stored: the one sent from the other tab.
        assert 'data-option="fa-skole" data-count="1"' in "".join(drain(tab1.ws))
        assert 'data-option="fa-skole" data-count="1"' in "".join(tab2.seen + drain(tab2.ws))
        r.fac_do(type="close_poll", poll_id="prikker")
        result = r.poll("prikker").result
        assert result is not None and result.ballots == 1


def test_a_hundred_phones_vote_at_once_and_the_count_is_exact(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    with room(world, new_browser, phones=100) as r:
        r.go("prikker")
        r.fac_do(type="open_poll", poll_id="prikker")
        for phone in r.phones:
            until(phone.ws, "data-ballot")
        drain(r.wall)
        areas = [fa["id"] for fa in FOCUS_AREAS]
        start = threading.Barrier(len(r.phones))

        def cast(i: int, phone: Phone) -> None:
            start.wait()
            vote(r, phone, "prikker", {areas[i % 4]: 2, areas[(i + 1) % 4]: 3})

        threads = [
            threading.Thread(target=cast, args=(i, phone)) for i, phone in enumerate(r.phones)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        answers = [reply(phone) for phone in r.phones]
        assert all("flash-ok" in a for a in answers)
        assert len(r.poll("prikker").ballots) == 100
        wall = drain(r.wall)
        assert count_on_wall(wall) == 100
        assert not any('id="p-stage"' in m for m in wall)  # a vote never re-sends the stage
        r.fac_do(type="close_poll", poll_id="prikker")
        result = r.poll("prikker").result
        assert result is not None and result.ballots == 100
        assert sum(row.value for row in result.rows) == 500
        assert len([e for e in r.events() if isinstance(e, BallotCast)]) == 100


def test_a_hundred_ballots_in_one_batch_give_one_small_projector_update(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    with room(world, new_browser) as r:
        pids = [r.add_phone(connect=False).pid for _ in range(100)]
        r.go("prikker")
        r.fac_do(type="open_poll", poll_id="prikker")
        drain(r.wall)
        live = r.live
        key = voter_key(r.svc.settings.secret_key)

        async def burst() -> list[Any]:  # all queued before the session's actor runs
            return await asyncio.gather(
                *(
                    live.submit(
                        CastBallot(
                            actor=Actor(ActorRole.PARTICIPANT, pid),
                            poll_id="prikker",
                            ballot_id=f"b{i}",
                            voter=voter_for(live.state, key, "prikker", pid),
                            payload={"fa-barn": 1},
                        )
                    )
                    for i, pid in enumerate(pids)
                )
            )

        results = r.call(burst)
        assert all(out and not isinstance(out, CommandRejected) for out in results)
        wall = drain(r.wall)
        updates = [m for m in wall if 'id="p-poll-count"' in m]
        assert len(updates) == 1, wall
        assert count_on_wall(updates) == 100
        assert len(updates[0]) < 300 and 'id="p-stage"' not in updates[0]


def test_closing_while_ballots_arrive_counts_exactly_what_was_acknowledged(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    with room(world, new_browser, phones=40) as r:
        r.go("godkend")
        r.fac_do(type="open_poll", poll_id="godkend")
        for phone in r.phones:
            until(phone.ws, "data-ballot")
        for phone in r.phones[:20]:
            vote(r, phone, "godkend", ["o1", "o3"])
        send(r.fac, type="close_poll", poll_id="godkend")
        for phone in r.phones[20:]:
            vote(r, phone, "godkend", ["o2"])
        answers = [reply(phone) for phone in r.phones]
        saved = sum("flash-ok" in a for a in answers)
        refused = [a for a in answers if "flash-error" in a]
        assert saved + len(refused) == 40
        assert all(TOO_LATE in a for a in refused)  # a clear reason on the phone
        drain(r.fac)
        r.fac_do(type="publish_poll", poll_id="godkend")

        stored = r.poll("godkend").result
        assert stored is not None and stored.ballots == saved
        events = r.events()
        closed_at = next(i for i, e in enumerate(events) if isinstance(e, PollClosed))
        before = [e for e in events[:closed_at] if isinstance(e, BallotCast)]
        assert len(before) == saved
        assert not [e for e in events[closed_at:] if isinstance(e, BallotCast)]
        assert events[closed_at].result["ballots"] == saved
        wall = "".join(drain(r.wall))
        caption = DA.ngettext("%(num)d ballot", "%(num)d ballots", saved) % {"num": saved}
        assert html.escape(caption) in wall, wall[-600:]


# -- privacy ------------------------------------------------------------------------------------


def test_phones_receive_no_tallies_and_nobody_elses_vote_while_open(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    with room(world, new_browser, phones=6, named=True) as r:
        r.go("valg")  # a named poll: the facilitator sees who voted
        r.fac_do(type="open_poll", poll_id="valg")
        for phone in r.phones:
            phone.seen += until(phone.ws, "data-ballot")
        quiet = r.phones[0]
        vote(r, quiet, "valg", ["o4"])
        reply(quiet)
        quiet_before = drain(quiet.ws)
        ballot_ids = {}
        for phone in r.phones[1:]:
            ballot_ids[phone.pid] = vote(r, phone, "valg", ["o1", "o2"])
            reply(phone)
        assert all('id="m-me"' in m for m in quiet_before)  # its own ballot, nothing else
        # Once the wall counts every ballot, all renders are out: others voting
        # sent nothing at all to a phone that had voted.
        wall = until(r.wall, '<span class="p-count-n">6</span>')
        assert drain(quiet.ws) == []
        for phone in r.phones:
            phone.seen += drain(phone.ws)
        fac = "".join(drain(r.fac))
        assert "Deltager001" in fac.split('id="f-poll-live"')[-1]  # named: the laptop sees who
        for phone in r.phones:
            traffic = "".join(phone.seen)
            others = [p for p in r.phones if p is not phone]
            for other in others:
                assert other.name not in traffic
                assert other.pid not in traffic
                if other.pid in ballot_ids:
                    assert ballot_ids[other.pid] not in traffic
            for marker in ("p-poll-count", "f-poll-live", "result-table", "<svg", "poll-count"):
                assert marker not in traffic, (marker, phone.name)
        # The wall shows the count, never a result, while open.
        wall += drain(r.wall)
        assert count_on_wall(wall) == 6
        assert not any("result-table" in m or "<svg" in m for m in wall)


def test_anonymous_ballots_store_no_participant_id(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    with room(world, new_browser, phones=3, named=True) as r:
        r.go("godkend")
        r.fac_do(type="open_poll", poll_id="godkend")
        for phone in r.phones:
            vote(r, phone, "godkend", ["o2"])
            assert "flash-ok" in reply(phone)
        first = r.phones[0]
        vote(r, first, "godkend", ["o3"])  # a changed ballot replaces the first
        assert "flash-ok" in reply(first)
        assert len(r.poll("godkend").ballots) == 3
        ids = {p.pid for p in r.phones}
        key = voter_key(r.svc.settings.secret_key)
        cast = [e for e in r.events() if isinstance(e, BallotCast)]
        assert len(cast) == 4
        for e in cast:
            record = json.dumps(to_record(e))
            assert not any(pid in record for pid in ids)
            assert re.fullmatch(rf"[0-9a-f]{{{PSEUDONYM_HEX}}}", e.voter)
        assert cast[0].voter == cast[3].voter == pseudonym(key, r.session_id, "godkend", first.pid)
        # Named polls carry the participant id, as the minutes show who voted what.
        r.go("valg")
        r.fac_do(type="open_poll", poll_id="valg")
        vote(r, first, "valg", ["o1"])
        assert "flash-ok" in reply(first)
        named = [e for e in r.events() if isinstance(e, BallotCast) and e.poll_id == "valg"]
        assert [e.voter for e in named] == [first.pid]


# -- refusals -----------------------------------------------------------------------------------


def test_a_ballot_after_close_gets_a_clear_message(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    with room(world, new_browser, phones=1) as r:
        phone = r.phones[0]
        r.go("karakter")
        vote(r, phone, "karakter", {"o1": 3})  # not open yet
        assert "flash-error" in reply(phone)
        r.fac_do(type="open_poll", poll_id="karakter")
        r.fac_do(type="close_poll", poll_id="karakter")
        until(phone.ws, 'data-status="closed"')
        late = vote(r, phone, "karakter", {"o1": 3})
        answer = reply(phone)
        assert "flash-error" in answer and TOO_LATE in answer
        assert f'data-ack="{late}"' in answer  # the phone stops resending it
        assert r.poll("karakter").result.ballots == 0  # type: ignore[union-attr]


def test_a_poll_without_changes_keeps_the_first_ballot_and_hides_its_count(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    with room(world, new_browser, phones=1) as r:
        phone = r.phones[0]
        r.go("fast")
        r.fac_do(type="open_poll", poll_id="fast")
        until(phone.ws, "data-ballot")
        vote(r, phone, "fast", ["o1"])
        assert "flash-ok" in reply(phone)
        mine = own_part(phone)
        assert "data-ballot" not in mine and 'data-state="saved"' in mine
        vote(r, phone, "fast", ["o2"])
        assert "flash-error" in reply(phone)
        assert count_on_wall(drain(r.wall)) is None  # the script hides the count


def test_participants_cannot_move_polls_and_ballots_are_checked_at_the_edge() -> None:
    phone = Actor(ActorRole.PARTICIPANT, "p1")
    fac = Actor(ActorRole.FACILITATOR, "user:1")
    for kind in ("open_poll", "close_poll", "publish_poll", "start_runoff", "assign_horizon"):
        with pytest.raises(BadMessage):
            parse(json.dumps({"type": kind, "poll_id": "x"}), phone)
    with pytest.raises(BadMessage):  # the facilitator does not vote
        parse(json.dumps({"type": "cast_ballot", "poll_id": "x", "ballot_id": "b"}), fac)
    good = {"type": "cast_ballot", "poll_id": "prikker", "ballot_id": "b1"}
    with pytest.raises(BadMessage):  # no voter from the edge: refused, never guessed
        parse(json.dumps({**good, "payload": ["a"]}), phone)
    cmd = parse(json.dumps({**good, "payload": {"a": "2"}}), phone, voter=lambda p: "anon-" + p)
    assert isinstance(cmd, CastBallot)
    assert cmd.voter == "anon-prikker" and cmd.payload == {"a": 2}
    for payload in ("x", 5, None, {"a": "two"}, {"a": True}, [1, 2], ["a"] * 101):
        with pytest.raises(BadMessage):
            parse(json.dumps({**good, "payload": payload}), phone, voter=str)
    # A voter in the message is ignored, never trusted.
    cmd = parse(
        json.dumps({**good, "payload": [], "voter": "someone"}), phone, voter=lambda p: "me"
    )
    assert isinstance(cmd, CastBallot) and cmd.voter == "me"


# -- the facilitator's panel: options, ties and runoffs, horizons -----------------------------


def test_facilitator_edits_options_while_draft_and_runs_a_runoff_on_a_tie(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    with room(world, new_browser, phones=2) as r:
        stage = "".join(r.go("prikker"))
        assert "Netværket &lt;tidligt&gt; &amp; ofte" in stage and "<tidligt>" not in stage
        stage = "".join(r.fac_do(type="remove_poll_option", poll_id="prikker", option_id="fa-net"))
        assert "Netværket" in stage  # offered again among the engagement's focus areas
        assert '"option_id": "fa-net"' in html.unescape(stage)
        r.fac_do(type="add_poll_option", poll_id="prikker", option_id="new-1", label="Ny ting")
        assert r.poll("prikker").label("new-1") == "Ny ting"
        r.fac_do(type="open_poll", poll_id="prikker")
        a, b = r.phones
        vote(r, a, "prikker", {"fa-barn": 3, "fa-tidlig": 2})
        vote(r, b, "prikker", {"fa-tidlig": 3, "fa-barn": 2})
        reply(a), reply(b)
        live = "".join(drain(r.fac))
        assert 'id="f-poll-live"' in live and "result-table" in live  # the facilitator only
        closed = "".join(r.fac_do(type="close_poll", poll_id="prikker"))
        assert "tie-box" in closed and "start_runoff" in html.unescape(closed)
        r.fac_do(type="start_runoff", poll_id="prikker", option_ids=["fa-barn", "fa-tidlig"])
        runoff = r.poll("prikker-runoff-1")
        assert runoff.status is PollStatus.OPEN and set(runoff.option_ids) == {
            "fa-barn",
            "fa-tidlig",
        }
        ballot = until(a.ws, 'data-poll="prikker-runoff-1"')[-1]
        assert "data-ballot" in ballot
        vote(r, a, "prikker-runoff-1", ["fa-tidlig"])
        vote(r, b, "prikker-runoff-1", ["fa-tidlig"])
        reply(a), reply(b)
        r.fac_do(type="close_poll", poll_id="prikker-runoff-1")
        r.fac_do(type="publish_poll", poll_id="prikker-runoff-1")
        order = ranked_options(r.live.state.polls, "prikker")
        assert [o.option_id for o in order[:2]] == ["fa-tidlig", "fa-barn"]
        wall = "".join(drain(r.wall))
        assert "p-final" in wall  # the whole order once the runoff settled the tie


def test_horizons_and_owners_are_set_after_the_vote_and_reach_the_next_step(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    with room(world, new_browser, phones=2) as r:
        r.go("prioritering")
        r.fac_do(type="open_poll", poll_id="prioritering")
        for phone, payload in zip(r.phones, PAYLOADS["prioritering"], strict=False):
            vote(r, phone, "prioritering", payload)
            reply(phone)
        stage = "".join(r.fac_do(type="close_poll", poll_id="prioritering"))
        assert stage.count('class="horizon-form"') == 4
        out = r.fac_do(
            type="assign_horizon",
            poll_id="prioritering",
            option_id="fa-barn",
            horizon="short",
            owner="Afdelingsleder Mette",
        )
        assert "Afdelingsleder Mette" in "".join(out)
        refused = "".join(
            r.fac_do(type="assign_horizon", poll_id="prioritering", option_id="fa-net", horizon="")
        )
        assert "flash-error" in refused
        stage = "".join(r.go("plan"))
        prio = stage.split('class="prioritisation"')[1]
        assert prio.index("Barnets perspektiv") < prio.index("Samarbejde med skolen")
        assert "Afdelingsleder Mette" in prio
        (first, *_) = ranked_options(r.live.state.polls, "prioritering")
        assert first.option_id == "fa-barn" and first.horizon is Horizon.SHORT
        assert any(type(e).__name__ == "HorizonAssigned" for e in r.events())


def test_pseudonyms_are_stable_per_poll_and_differ_between_polls() -> None:
    key = voter_key("a" * 40)
    one = pseudonym(key, "s1", "poll", "p1")
    assert one == pseudonym(key, "s1", "poll", "p1") != pseudonym(key, "s1", "other", "p1")
    assert one != pseudonym(voter_key("b" * 40), "s1", "poll", "p1")
    assert len(one) == PSEUDONYM_HEX and one != "p1"


def test_the_join_page_flow_still_reaches_the_ballot(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    session_id = make_session(world)
    row = world.fac.portal.call(world.services.repo.session, session_id)
    phone = new_browser()
    join(phone, row.join_code, "Bo")
    with world.fac.websocket_connect(f"/ws/{session_id}/facilitator") as fac:
        fac.receive_text()
        for message in (
            {"type": "start_session"},
            {"type": "go_to_step", "step_id": "rang"},
            {"type": "open_poll", "poll_id": "rang"},
        ):
            send(fac, **message)
        until(fac, 'data-status="open"')
    page = phone.get(f"/j/{row.join_code}").text
    assert 'data-ballot="rank"' in page and 'data-positions="2"' in page
    assert page.count('class="rank-row"') == 4
    assert ranked_in(page) == [] and unranked_in(page) == ["o1", "o2", "o3", "o4"]


# -- rankings: nothing ranked until the voter ranks it ------------------------------------------


def ranked_in(form: str) -> list[str]:
    """What app.js sends from a ranking form: the options in "Your ranking", in order."""
    ranking = form.split('class="rank-list"', 1)[1].split("</ol>", 1)[0]
    return re.findall(r'data-option="([^"]+)"', ranking)


def unranked_in(form: str) -> list[str]:
    pool = form.split('class="rank-pool"', 1)[1].split("</ul>", 1)[0]
    return re.findall(r'data-option="([^"]+)"', pool)


def test_an_untouched_ranking_sends_nothing_that_counts(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    with room(world, new_browser, phones=2) as r:
        r.go("prioritering")
        r.fac_do(type="open_poll", poll_id="prioritering")
        untouched, ranker = r.phones
        form = until(untouched.ws, "data-ballot")[-1]
        # Every option starts unranked, in the script's order; the ranking is empty
        # and its button cannot be pressed.
        assert ranked_in(form) == []
        assert unranked_in(form) == [fa["id"] for fa in FOCUS_AREAS]
        assert re.search(r'<button class="[^"]*ballot-send"[^>]* disabled>', form)
        assert DA.gettext("Rank") in form and DA.gettext("To the top") in form
        # Sent anyway (an old page, a script): refused with a reason, nothing counted.
        vote(r, untouched, "prioritering", ranked_in(form))
        answer = reply(untouched)
        assert "flash-error" in answer
        assert html.escape(DA.gettext("Rank at least one option.")) in answer
        assert r.poll("prioritering").ballots == {}
        assert count_on_wall(drain(r.wall)) in (None, 0)  # the wall counts no ballot

        # A phone that put one option at the top sends just that one.
        until(ranker.ws, "data-ballot")
        vote(r, ranker, "prioritering", ["fa-skole"])
        assert "flash-ok" in reply(ranker)
        mine = own_part(ranker)
        assert ranked_in(mine) == ["fa-skole"]
        assert unranked_in(mine) == ["fa-barn", "fa-tidlig", "fa-net"]
        assert not re.search(r'<button class="[^"]*ballot-send"[^>]* disabled>', mine)
        assert count_on_wall(drain(r.wall)) == 1

        stage = "".join(r.fac_do(type="close_poll", poll_id="prioritering"))
        result = r.poll("prioritering").result
        assert result is not None and result.ballots == 1
        assert [(row.option_id, row.value) for row in result.rows] == [
            ("fa-skole", 4),
            ("fa-barn", 0),
            ("fa-tidlig", 0),
            ("fa-net", 0),
        ]
        # The three nobody ranked share second place, but that decides nothing.
        assert "tie-box" not in stage and 'class="tie"' not in stage
        assert html.escape(DA.gettext("Not ranked")) in stage  # 0 of 1 ballots ranked them


def test_a_tie_is_flagged_and_offered_a_runoff_only_where_it_decides_something(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    first_place = html.escape(DA.gettext("Tied for first place:"))
    with room(world, new_browser, phones=4) as r:
        # Approval: Alfa and Beta share first place, Gamma and Delta got nothing.
        r.go("godkend")
        r.fac_do(type="open_poll", poll_id="godkend")
        for phone, payload in zip(r.phones, [["o1"], ["o2"], ["o1", "o2"], []], strict=True):
            vote(r, phone, "godkend", payload)
            assert "flash-ok" in reply(phone)
        stage = "".join(r.fac_do(type="close_poll", poll_id="godkend"))
        assert stage.count('class="tie-box"') == 1
        box = stage.split('class="tie-box"')[1].split("</div>")[0]
        assert first_place in box and "Alfa" in box and "Beta" in box
        assert "Gamma" not in box and "Delta" not in box
        assert '"option_ids": ["o1", "o2"]' in html.unescape(box)
        table = stage.split('class="table result-table"')[-1].split("</table>")[0]
        assert table.count('class="tie"') == 2  # the two at the top, not the two with nothing
        r.fac_do(type="publish_poll", poll_id="godkend")
        wall = html.unescape("".join(drain(r.wall)))
        tied = DA.gettext("tied")
        assert f"1. Alfa: 2 ({tied}); 1. Beta: 2 ({tied}); 3. Gamma: 0; 3. Delta: 0" in wall

        # A ranking of the top 2: Beta and Gamma share second place, and one fits.
        r.go("rang")
        r.fac_do(type="open_poll", poll_id="rang")
        ballots = [["o1", "o2"], ["o1", "o3"], ["o2"], ["o3"]]
        for phone, payload in zip(r.phones, ballots, strict=True):
            vote(r, phone, "rang", payload)
            assert "flash-ok" in reply(phone)
        stage = "".join(r.fac_do(type="close_poll", poll_id="rang"))
        assert stage.count('class="tie-box"') == 1
        box = stage.split('class="tie-box"')[1].split("</div>")[0]
        cut = DA.gettext("Tied at the cut-off of the top %(n)s:") % {"n": 2}
        places = DA.ngettext(
            "%(num)d of them gets a place in the top %(n)s",
            "%(num)d of them get a place in the top %(n)s",
            1,
        ) % {"num": 1, "n": 2}
        assert html.escape(cut) in box and html.escape(places) in box and first_place not in box
        assert "Beta" in box and "Gamma" in box and "Delta" not in box
        r.fac_do(type="start_runoff", poll_id="rang", option_ids=["o2", "o3"])
        assert r.poll("rang-runoff-1").top_n == 1


def test_a_top_n_that_the_votes_do_not_fill_is_said_plainly(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    with room(world, new_browser, phones=1) as r:
        r.go("rang")  # the top 2 of four
        r.fac_do(type="open_poll", poll_id="rang")
        vote(r, r.phones[0], "rang", ["o3"])
        assert "flash-ok" in reply(r.phones[0])
        stage = "".join(r.fac_do(type="close_poll", poll_id="rang"))
        only = DA.ngettext(
            "Only %(num)d option got votes, so the vote does not fill the top %(n)s.",
            "Only %(num)d options got votes, so the vote does not fill the top %(n)s.",
            1,
        ) % {"num": 1, "n": 2}
        assert html.escape(only) in stage
        assert "tie-box" not in stage and 'class="tie"' not in stage  # no runoff among the rest

        r.go("karakter")  # closed without a single ballot
        r.fac_do(type="open_poll", poll_id="karakter")
        stage = "".join(r.fac_do(type="close_poll", poll_id="karakter"))
        assert html.escape(DA.gettext("No option got any votes.")) in stage
        assert "tie-box" not in stage and 'class="tie"' not in stage

"""Random and hostile websocket messages, form posts and scripts thrown at the running app.

Whatever arrives: no 500, no crashed session (its actor keeps running and its
log still replays to its state), nothing logged as an error, and every
refusal a person sees says something (a flash with a message, or a page
with one).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from server.engine import replay
from server.engine.events import SessionCreated
from server.scripts.loader import ScriptError, parse_script
from server.web import messages as ws_messages
from tests.security.sec_support import Cast, cast, form_token
from tests.support import join

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

NASTY_TEXT = [
    "",
    " ",
    "\x00",
    "\u202e\u2066",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "{{7*7}}",
    "${jndi:ldap://x}",
    "../../etc/passwd",
    "%(name)s %s %d",
    "=cmd|'/C calc'!A0",
    "010203-1234",
    "😀" * 50,
    "a" * 5000,
    "\ud800",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(NASTY_TEXT),
    st.text(max_size=80),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = [
    "card_id",
    "text",
    "step_id",
    "from_step",
    "minutes",
    "participant_id",
    "cluster_id",
    "title",
    "decision_id",
    "decided_by",
    "action_id",
    "what",
    "who",
    "due",
    "poll_id",
    "option_id",
    "payload",
    "ballot_id",
    "label",
    "horizon",
    "from_speaker",
]
message_objects = st.fixed_dictionaries(
    {
        "type": st.one_of(
            st.sampled_from(sorted(ws_messages.MESSAGES)), st.text(max_size=20), values
        )
    },
    optional={name: values for name in FIELDS},
)
raw_messages = st.one_of(
    message_objects.map(lambda m: json.dumps(m, allow_nan=True)),
    st.text(max_size=200),
    st.sampled_from(["", "null", "[]", "{}", "1e999", '{"type":', "[" * 5000, '{"a":' * 500]),
    st.binary(max_size=200),
)


class Room:
    def __init__(
        self, client: TestClient, new_browser: Callable[[], TestClient], script: str
    ) -> None:
        self.people: Cast = cast(client, new_browser)
        svc = self.people.services

        async def make() -> tuple[str, str]:
            row = await svc.create_session(
                self.people.engagement_id, script, self.people.users["facilitator"]
            )
            return row.id, row.join_code

        self.session_id, self.code = client.portal.call(make)
        self.client = client
        self.fac = self.people.browsers["facilitator"]
        self.phone = new_browser()
        join(self.phone, self.code, "Pia")

    def live(self) -> Any:
        return self.client.portal.call(self.people.services.live.get, self.session_id)

    def healthy(self) -> None:
        live = self.live()
        assert live is not None
        assert live.task is None or not live.task.done(), "the session's actor stopped"
        events = self.client.portal.call(self.people.services.eventlog.load, self.session_id)
        assert replay(events) == live.state, "the log no longer replays to the live state"


@pytest.fixture
def room(client: TestClient, new_browser: Callable[[], TestClient]) -> Room:
    return Room(client, new_browser, "opstartsworkshop")


@pytest.fixture
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.WARNING)
    yield
    errors = [
        r
        for r in caplog.records
        if r.levelno >= logging.ERROR and r.name.startswith(("server", "uvicorn", "starlette"))
    ]
    assert not errors, [f"{r.name}: {r.getMessage()}" for r in errors]


BARRIER = '{"type": "barrier-marker"}'
FLASH = re.compile(r'<div id="flash"[^>]*>(.*?)</div>', re.S)


def exchange(ws: Any, raw: str | bytes) -> list[str]:
    """Send one message and a barrier; everything the screen got in between."""
    if isinstance(raw, bytes):
        ws.send_bytes(raw)
    else:
        ws.send_text(raw)
    ws.send_text(BARRIER)
    out: list[str] = []
    for _ in range(300):
        message = ws.receive_text()
        flashes = FLASH.findall(message)
        if flashes and _is_barrier_reply(flashes[-1]):
            return out
        out.append(message)
    raise AssertionError("no reply to the barrier")


_barrier_texts: set[str] = set()


def _is_barrier_reply(text: str) -> bool:
    return text.strip() in _barrier_texts


def learn_barrier(ws: Any) -> None:
    """What the screen answers the barrier (a flash in the room's language)."""
    ws.send_text(BARRIER)
    for _ in range(50):
        reply = FLASH.findall(ws.receive_text())
        if reply:
            assert reply[-1].strip()
            _barrier_texts.add(reply[-1].strip())
            return
    raise AssertionError("no reply to the barrier")


def check_replies(replies: list[str]) -> None:
    for message in replies:
        assert "Traceback" not in message and "Something went wrong" not in message
        for text in FLASH.findall(message):
            assert text.strip(), "a refusal without a message"


@FUZZ
@given(batch=st.lists(raw_messages, min_size=1, max_size=8))
def test_random_websocket_messages_never_crash_a_session(
    room: Room, no_errors_logged: None, batch: list[str | bytes]
) -> None:
    for who, c in (("facilitator", room.fac), ("participant", room.phone)):
        with c.websocket_connect(f"/ws/{room.session_id}/{who}") as ws:
            ws.receive_text()
            learn_barrier(ws)
            for raw in batch:
                if len(raw) > 64 * 1024:
                    continue
                check_replies(exchange(ws, raw))
    room.healthy()


@FUZZ
@given(data=st.data())
def test_hostile_commands_in_order_from_both_screens(
    room: Room, no_errors_logged: None, data: st.DataObject
) -> None:
    """Well-formed commands with hostile values, in random order, so the engine is reached."""
    steps = [s.id for s in room.live().state.script.steps]
    ids = st.one_of(st.sampled_from([*steps, "c1", "c2", "k1", "d1", "a1"]), st.text(max_size=70))
    texts = st.one_of(st.sampled_from(NASTY_TEXT), st.text(max_size=300))
    command = st.fixed_dictionaries(
        {"type": st.sampled_from(sorted(ws_messages.MESSAGES))},
        optional={
            **{
                k: ids
                for k in (
                    "card_id",
                    "step_id",
                    "from_step",
                    "cluster_id",
                    "decision_id",
                    "action_id",
                    "poll_id",
                    "participant_id",
                )
            },
            **{k: texts for k in ("text", "title", "what", "who", "decided_by", "due")},
            "minutes": st.one_of(st.floats(allow_nan=False), st.integers(), texts),
        },
    )
    batch = data.draw(st.lists(command, min_size=1, max_size=10))
    with (
        room.fac.websocket_connect(f"/ws/{room.session_id}/facilitator") as fac,
        room.phone.websocket_connect(f"/ws/{room.session_id}/participant") as mob,
    ):
        fac.receive_text()
        mob.receive_text()
        learn_barrier(fac)
        learn_barrier(mob)
        fac.send_text('{"type": "start_session"}')
        for message in batch:
            ws = fac if data.draw(st.booleans()) else mob
            check_replies(exchange(ws, json.dumps(message)))
    room.healthy()


def test_oversized_and_flooding_clients_are_closed_with_the_right_codes(room: Room) -> None:
    with room.phone.websocket_connect(f"/ws/{room.session_id}/participant") as ws:
        ws.receive_text()
        ws.send_bytes(b"x" * (64 * 1024 + 1))
        with pytest.raises(WebSocketDisconnect) as closed:
            for _ in range(10):
                ws.receive_text()
        assert closed.value.code == 1009
    with room.phone.websocket_connect(f"/ws/{room.session_id}/participant") as ws:
        ws.receive_text()
        with pytest.raises(WebSocketDisconnect) as closed:
            for _ in range(500):
                ws.send_text('{"type": "add_card"}')
            for _ in range(1000):
                ws.receive_text()
        assert closed.value.code == 1008
    room.healthy()


# -- form posts ----------------------------------------------------------------------------


form_values = st.one_of(st.sampled_from(NASTY_TEXT), st.text(max_size=200))
FORM_FIELDS = [
    "code",
    "name",
    "username",
    "password",
    "next",
    "engagement_id",
    "script_id",
    "participant_id",
    "decision",
    "confirm",
    "pending",
    "enrol",
    "text",
    "what",
    "who",
    "due",
    "title",
    "label",
    "cover",
]


def _post_routes(app: Any) -> list[str]:
    out = []
    for route in app.routes:
        if isinstance(route, Route) and "POST" in (route.methods or ()) and route.path != "/logout":
            out.append(route.path)
    return out


def _fill(room: Room, path: str, junk: str) -> str:
    known = {
        "session_id": room.session_id,
        "engagement_id": room.people.engagement_id,
        "code": room.code,
    }
    return re.sub(r"{(\w+)}", lambda m: known.get(m.group(1), junk or "x"), path)


@FUZZ
@given(data=st.data())
def test_random_form_posts_to_every_route_never_give_a_500(
    room: Room, no_errors_logged: None, data: st.DataObject
) -> None:
    paths = _post_routes(room.client.app)
    for _ in range(4):
        path = data.draw(st.sampled_from(paths))
        who = data.draw(st.sampled_from(["nobody", "facilitator", "admin", "observer"]))
        c = room.phone if who == "nobody" else room.people.browsers[who]
        form = data.draw(st.dictionaries(st.sampled_from(FORM_FIELDS), form_values, max_size=6))
        form = {k: v.replace("\ud800", "?") for k, v in form.items()}
        if data.draw(st.booleans()):
            form["csrf"] = form_token(c)
        if path.endswith("/delete") and form.get("confirm", "").strip() == "Varde":
            form["confirm"] = "not it"
        junk = data.draw(st.text(alphabet="abc0123-_%./", max_size=20))
        r = c.post(_fill(room, path, junk), data=form, follow_redirects=False)
        assert r.status_code < 500, (path, who, form, r.status_code)
        if r.status_code >= 400 and "text/html" in r.headers.get("content-type", ""):
            said = re.search(r'role="alert"[^>]*>\s*(?:<[^>]+>\s*)*\S', r.text)
            assert said, f"{path}: refused without saying why"
    room.healthy()


@FUZZ
@given(path=st.text(alphabet="abcXYZ019/-_.%?=&<>\"'", max_size=60), query=st.text(max_size=40))
def test_random_paths_and_queries_never_give_a_500(
    room: Room, no_errors_logged: None, path: str, query: str
) -> None:
    for c in (room.phone, room.people.browsers["admin"]):
        for url in (
            f"/{path}",
            f"/j/{path}",
            f"/facilitator/sessions/{path}",
            f"/admin/audit?before={query}&engagement={query}&action={query}",
        ):
            try:
                r = c.get(url, follow_redirects=False)
            except Exception as exc:  # the test client itself refusing a malformed URL
                assert "URL" in type(exc).__name__ or "url" in str(exc).lower(), exc
                continue
            assert r.status_code < 500, (url, r.status_code)


# -- scripts ----------------------------------------------------------------------------------

SHIPPED = sorted((Path(__file__).resolve().parents[2] / "facilitation_scripts").glob("*.yaml"))


@st.composite
def mutated_scripts(draw: st.DrawFn) -> str:
    """A shipped script with hostile text, odd numbers and reordered steps."""
    source = yaml.safe_load(draw(st.sampled_from(SHIPPED)).read_text(encoding="utf-8"))
    steps = source.get("steps", [])
    if steps and draw(st.booleans()):
        source["steps"] = draw(st.permutations(steps))
    for step in source.get("steps", []):
        for key in ("title", "prompt", "notes"):
            if key in step and draw(st.booleans()):
                step[key] = draw(st.sampled_from(NASTY_TEXT[1:13])) or "x"
        if "timebox" in step and draw(st.booleans()):
            step["timebox"] = draw(st.sampled_from([0, 1, 9999, -1, 0.5, "x"]))
    if draw(st.booleans()):
        source["title"] = draw(st.sampled_from(NASTY_TEXT[4:12]))
    return yaml.safe_dump(source, allow_unicode=True)


@FUZZ
@given(text=mutated_scripts(), moves=st.integers(min_value=0, max_value=10))
def test_scripts_with_hostile_content_run_through_the_app(
    room: Room, no_errors_logged: None, text: str, moves: int
) -> None:
    try:
        script = parse_script(text)
    except ScriptError:
        return  # refused with a message at check-script time; nothing reaches the app
    svc = room.people.services

    async def make() -> str:
        row = await svc.repo.add_session(
            room.people.engagement_id,
            script.id,
            script.title,
            script.language,
            room.people.users["facilitator"].id,
        )
        await svc.live.create(
            row.id,
            SessionCreated(
                at=time.time(), session_id=row.id, script=script.model_dump(mode="json")
            ),
        )
        svc.remember(row)
        return row.id

    session_id = room.client.portal.call(make)
    with room.fac.websocket_connect(f"/ws/{session_id}/facilitator") as ws:
        check_replies([ws.receive_text()])
        learn_barrier(ws)
        check_replies(exchange(ws, '{"type": "start_session"}'))
        for _ in range(moves):  # three messages a move: under the rate limit's burst of 40
            ws.send_text('{"type": "next_step"}')
            check_replies(exchange(ws, '{"type": "add_card", "card_id": "c1", "text": "<b>x</b>"}'))
    for url in (f"/facilitator/sessions/{session_id}", f"/projector/{session_id}"):
        assert room.fac.get(url).status_code == 200

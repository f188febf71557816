"""Resource exhaustion by code holders and anonymous clients (security.md, threat 19).

Joins with the right code are counted per address and per session, a case
meeting's door holds a bounded list, sockets are bounded per participant and
per address, and no request body is taken beyond its bound. Each bound tells
the person who meets it why. The engine's own bounds (the waiting list, cards
per person) are unit-tested in tests/engine/test_bounds.py.
"""

from __future__ import annotations

import contextlib
import html
from collections.abc import Callable, Iterator

import pytest
from starlette.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocketDisconnect

from server.engagement.cases import MAX_BYTES as REGISTER_MAX_BYTES
from server.engine import Actor, ActorRole, lobby
from server.engine.decide import MAX_PARTICIPANTS
from server.i18n import translations
from server.realtime.hub import PER_ADDRESS, PER_PARTICIPANT, Hub, QueuedClient
from server.web import limits
from server.web.pages import participant
from server.web.pages.participant import cookie_name, network_of
from server.web.throttle import JOINS_PER_ADDRESS, JOINS_PER_SESSION, Throttle
from tests.security.sec_support import form_token
from tests.support import World, csrf_of, join

pytestmark = pytest.mark.timeout(120)


def da(msgid: str) -> str:
    """How a Danish session's screens say it."""
    text = translations("da").gettext(msgid)
    assert text != msgid, f"not translated: {msgid}"
    return html.escape(text, quote=False)


def english(c: TestClient) -> TestClient:
    c.cookies.set("tv_lang", "en")
    return c


@pytest.fixture
def browser_at(client: TestClient) -> Callable[[str], TestClient]:
    """A browser on the same app, coming from the given address."""

    def make(address: str) -> TestClient:
        other = TestClient(client.app, base_url="http://testserver", client=(address, 50000))
        other.portal = client.portal
        return english(other)

    return make


def newcomer(phone: TestClient, code: str, token: str, name: str = "") -> int:
    """One more person joining from this browser (its participant cookie forgotten)."""
    for cookie in [k for k in phone.cookies if k.startswith(participant.COOKIE_PREFIX)]:
        del phone.cookies[cookie]
    r = phone.post(
        "/join", data={"code": code, "name": name, "csrf": token}, follow_redirects=False
    )
    return r.status_code


# -- joins with the right code -----------------------------------------------------------------


def test_a_room_behind_one_address_joins_but_a_script_cannot_fill_the_session(
    world: World, browser_at: Callable[[str], TestClient]
) -> None:
    """A venue's wifi: 200 phones behind one address within the minute get in. A
    script with the code gets JOINS_PER_ADDRESS places a minute from one address,
    so it needs a quarter of an hour per address for the session's places."""
    assert JOINS_PER_ADDRESS >= 200
    assert MAX_PARTICIPANTS / JOINS_PER_ADDRESS >= 15  # minutes per address
    _, code = world.create_session("opstartsworkshop")
    script = browser_at("198.51.100.7")
    token = form_token(script)
    statuses = [newcomer(script, code, token) for _ in range(JOINS_PER_ADDRESS + 1)]
    assert statuses == [303] * JOINS_PER_ADDRESS + [429]
    r = script.post("/join", data={"code": code, "csrf": token})
    assert r.status_code == 429
    assert "Very many phones joined from this network just now. Wait a minute" in r.text
    # Another address is not held back.
    assert "ws-connect" in join(browser_at("203.0.113.9"), code, "Alma")


def test_only_newcomers_count_and_the_message_is_translated(
    world: World, browser_at: Callable[[str], TestClient]
) -> None:
    world.services.throttles.joins = Throttle(2)
    _, code = world.create_session("opstartsworkshop")
    alma, bo = browser_at("192.0.2.1"), browser_at("192.0.2.1")
    join(alma, code, "Alma")
    join(bo, code, "Bo")
    # Alma changes her name: she is in already, so it is no new join.
    r = alma.post("/join", data={"code": code, "name": "Alma K.", "csrf": form_token(alma)})
    assert r.status_code == 200 and "ws-connect" in r.text
    third = browser_at("192.0.2.1")
    third.cookies.set("tv_lang", "da")
    r = third.post("/join", data={"code": code, "csrf": form_token(third)})
    busy = translations("da").gettext(participant.BUSY_ADDRESS)
    assert r.status_code == 429 and html.escape(busy, quote=False) in r.text
    assert busy != participant.BUSY_ADDRESS


def test_one_session_takes_a_bounded_number_of_newcomers_a_minute(
    world: World, browser_at: Callable[[str], TestClient]
) -> None:
    """Whatever the addresses: a script spread over many cannot fill 5,000 places at once."""
    assert JOINS_PER_SESSION >= 2000  # the largest hall measured (docs/benchmarks.md)
    assert MAX_PARTICIPANTS / JOINS_PER_SESSION >= 1.5  # minutes for the whole session
    world.services.throttles.session_joins = Throttle(3)
    _, code = world.create_session("opstartsworkshop")
    _, other = world.create_session("opstartsworkshop")
    for i in range(3):
        join(browser_at(f"10.0.0.{i}"), code, f"P{i}")
    late = browser_at("10.0.0.99")
    r = late.post("/join", data={"code": code, "csrf": form_token(late)})
    assert r.status_code == 429
    assert "Very many people are joining this session just now. Wait a minute" in r.text
    assert "ws-connect" in join(late, other, "Elsewhere")  # another session is not held back


def test_ipv6_clients_count_by_their_64() -> None:
    assert network_of("2001:db8:1:2:aaaa::1") == network_of("2001:db8:1:2:ffff::9")
    assert network_of("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert network_of("2001:db8:1:3::1") != network_of("2001:db8:1:2::1")
    assert network_of("::ffff:192.0.2.1") == "192.0.2.1"
    assert network_of("192.0.2.1") == "192.0.2.1"
    assert network_of("testclient") == "testclient"


def test_a_full_lobby_refuses_the_next_knock_with_a_message(
    world: World, browser_at: Callable[[str], TestClient]
) -> None:
    session_id, code = world.create_session("kvifa")
    live = world.fac.portal.call(world.services.live.get, session_id)
    assert live is not None
    for i in range(lobby.MAX_WAITING):
        ask = lobby.AskToJoin(actor=Actor(ActorRole.PARTICIPANT, f"bot{i}"), name=f"Bot {i}")
        world.fac.portal.call(live.submit, ask)
    assert len(lobby.waiting(live.state)) == lobby.MAX_WAITING == 100
    phone = browser_at("192.0.2.50")
    r = phone.post("/join", data={"code": code, "name": "Bo", "csrf": form_token(phone)})
    assert r.status_code == 400
    assert "Too many people are waiting. Try again in a moment." in r.text
    assert lobby.status(live.state, "bot0") == "waiting"


# -- sockets -------------------------------------------------------------------------------------


def _until_closed(ws: object) -> tuple[list[str], WebSocketDisconnect]:
    texts: list[str] = []
    with pytest.raises(WebSocketDisconnect) as closed:
        while True:
            texts.append(ws.receive_text())  # type: ignore[attr-defined]
    return texts, closed.value


def test_a_participant_keeps_a_bounded_number_of_screens_and_the_oldest_gives_way(
    world: World, browser_at: Callable[[str], TestClient]
) -> None:
    assert PER_PARTICIPANT == 5
    session_id, code = world.create_session("opstartsworkshop")
    phone = browser_at("192.0.2.60")
    join(phone, code, "Alma")
    url = f"/ws/{session_id}/participant"
    with contextlib.ExitStack() as stack:
        screens = [stack.enter_context(phone.websocket_connect(url)) for _ in range(5)]
        for ws in screens:
            ws.receive_text()  # the snapshot
        hub = world.services.hub
        assert len(hub.of_participant(session_id, _pid(world, phone, session_id))) == 5
        newest = stack.enter_context(phone.websocket_connect(url))
        assert newest.receive_text()  # the new one gets in
        texts, closed = _until_closed(screens[0])
        assert closed.code == 1008
        replaced = "This session is open in too many windows, so this one was closed."
        assert any(da(replaced + " Reload to use it here.") in t for t in texts)
        assert len(hub.of_participant(session_id, _pid(world, phone, session_id))) == 5


def _pid(world: World, phone: TestClient, session_id: str) -> str:
    pid = world.services.participant_from(session_id, phone.cookies.get(cookie_name(session_id)))
    assert pid is not None
    return pid


def test_one_address_keeps_a_bounded_number_of_sockets(
    world: World, browser_at: Callable[[str], TestClient]
) -> None:
    assert PER_ADDRESS >= 600  # a venue's wifi: every phone in a big hall
    world.services.hub.per_address = 2
    session_id, code = world.create_session("opstartsworkshop")
    url = f"/ws/{session_id}/participant"
    phones = [browser_at("testclient") for _ in range(3)]
    for i, phone in enumerate(phones):
        join(phone, code, f"P{i}")
    with phones[0].websocket_connect(url) as a, phones[1].websocket_connect(url) as b:
        a.receive_text()
        b.receive_text()
        with phones[2].websocket_connect(url) as c:
            texts, closed = _until_closed(c)
        assert closed.code == 1008 and closed.reason == "too many connections from this address"
        told = da("Too many screens are connected from this network. Try again later.")
        assert any(told in t for t in texts)
        # The facilitator's screen always gets in.
        with world.fac.websocket_connect(f"/ws/{session_id}/facilitator") as fac:
            assert fac.receive_text()
    # Closed sockets free their places.
    assert world.services.hub.addresses == {}
    with phones[2].websocket_connect(url) as c:
        assert c.receive_text()


def test_the_hub_counts_addresses_and_forgets_them() -> None:
    hub = Hub(per_participant=2, per_address=3)
    first = QueuedClient("s", "participant", "p1")
    assert hub.join(first, "a")
    assert hub.join(QueuedClient("s", "participant", "p1"), "a")
    assert hub.join(QueuedClient("s", "participant", "p1"), "a")  # the first gives way
    assert first.closing and first.close_code == 1008 and first not in hub.clients("s")
    assert hub.addresses == {"a": 2}
    assert hub.join(QueuedClient("s", "participant", "p2"), "a")
    assert not hub.join(QueuedClient("s", "participant", "p3"), "a")
    assert hub.join(QueuedClient("s", "facilitator"), "a")
    assert hub.join(QueuedClient("t", "participant", "p4"), "b")
    for client in hub.clients("s") + hub.clients("t"):
        hub.leave(client)
    assert hub.addresses == {} and hub.rooms == {}


# -- request bodies ------------------------------------------------------------------------------


def _join_form(c: TestClient, size: int) -> bytes:
    return f"code=ABCD2345&csrf={form_token(c)}&name=".encode() + b"x" * size


def test_a_form_over_its_bound_is_refused_with_413(browser_at: Callable[[str], TestClient]) -> None:
    c = browser_at("192.0.2.70")
    headers = {"content-type": "application/x-www-form-urlencoded"}
    r = c.post("/join", content=_join_form(c, limits.FORM_LIMIT), headers=headers)
    assert r.status_code == 413
    assert "What was sent is too large." in r.text and "content-security-policy" in r.headers
    # Under the bound the form is read as always (a wrong code here).
    r = c.post("/join", content=_join_form(c, 1000), headers=headers)
    assert r.status_code == 404


def test_a_body_is_counted_as_it_streams_not_by_its_declared_length(
    browser_at: Callable[[str], TestClient],
) -> None:
    c = browser_at("192.0.2.71")
    body = _join_form(c, limits.FORM_LIMIT)

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(body), 64 * 1024):
            yield body[i : i + 64 * 1024]

    headers = {"content-type": "application/x-www-form-urlencoded"}
    r = c.post("/join", content=chunks(), headers=headers)  # chunked: no Content-Length
    assert "content-length" not in {k.lower() for k in r.request.headers}
    assert r.status_code == 413
    r = c.post("/join", content=body, headers={**headers, "content-length": "100"})
    assert r.status_code == 413


async def test_the_middleware_stops_reading_at_the_bound() -> None:
    """Chunk by chunk, under a Content-Length that lies: the application never gets
    more than the bound (the refusal page itself is tested above)."""
    got: list[int] = []
    stopped: list[BaseException] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            while True:
                message = await receive()
                got.append(len(message.get("body", b"")))
                if not message.get("more_body"):
                    break
        except limits.TooLarge as exc:
            stopped.append(exc)

    chunk = 256 * 1024
    sent = 0

    async def receive() -> Message:
        nonlocal sent
        sent += 1
        return {"type": "http.request", "body": b"x" * chunk, "more_body": sent < 100}

    async def send(message: Message) -> None:
        raise AssertionError("nothing is sent: the application stopped reading")

    scope = {"type": "http", "path": "/join", "headers": [(b"content-length", b"10")]}
    await limits.BodyLimit(app)(scope, receive, send)
    assert stopped and sum(got) <= limits.FORM_LIMIT
    assert sent == limits.FORM_LIMIT // chunk + 1  # the chunk that went over, and no more


def test_files_are_taken_only_where_a_file_is_expected(
    world: World, browser_at: Callable[[str], TestClient]
) -> None:
    c = browser_at("192.0.2.72")
    r = c.post(
        "/join",
        data={"code": "ABCD2345", "csrf": form_token(c)},
        files={"file": ("big.bin", b"x" * 1000, "application/octet-stream")},
    )
    assert r.status_code == 415 and "This page takes no files." in r.text
    # The case register's import takes its CSV, up to its own bound and a bit over,
    # so the page can say that the file is too big; beyond UPLOAD_LIMIT it is 413.
    assert limits.UPLOAD_LIMIT > REGISTER_MAX_BYTES + limits.FORM_LIMIT
    url = f"/engagements/{world.engagement_id}/cases/import"
    big = b"Sag;Titel\n" + b"x" * (REGISTER_MAX_BYTES + 1024)
    r = world.fac.post(
        url, data={"csrf": csrf_of(world.fac)}, files={"file": ("sager.csv", big, "text/csv")}
    )
    assert r.status_code == 400, r.text[:500]
    huge = b"x" * limits.UPLOAD_LIMIT
    r = world.fac.post(
        url, data={"csrf": csrf_of(world.fac)}, files={"file": ("sager.csv", huge, "text/csv")}
    )
    assert r.status_code == 413
    told = {limits.TOO_BIG, translations("da").gettext(limits.TOO_BIG)}
    assert any(html.escape(t, quote=False) in r.text for t in told)

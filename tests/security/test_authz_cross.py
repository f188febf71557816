"""The authorisation matrix across engagements, in a case meeting's lobby, and per message.

tests/security/test_authz_matrix.py tries every route as every role of *one*
engagement. This file adds what that cannot see (issue 14):

1. Cross-engagement: a facilitator and a coordinator who are members of two
   engagements A and B (and the administrator) ask for B's URLs with A's child
   ids: every route of the app's route table whose path names a container
   ({engagement_id}, else {session_id}) and a child in it, every method. The
   answer must refuse (never a 2xx, never a redirect that does not refuse),
   show nothing of A's, and change nothing: A's and B's rows and live sessions
   are read back after each request. Then the same requests on A's own URLs
   must work, so the forms were plausible enough that a missing check would
   have changed something. Ids carried in forms (a session, a case, a focus
   area, a knocking participant) get the same treatment on every POST route
   whose path names only the container. Members of B only get 404 for every
   route under A's session, and no websocket of A's session.
2. A case meeting with its lobby, tried by every role and by a phone that
   knocked and was not let in: the phone's websocket gets nothing before
   admission, and only RUN decides at the door.
3. Every websocket message type (server/web/messages.py) from every screen,
   as every role that can open that screen: refused exactly when the table
   says so, and a refused message changes nothing.

Routes and message types are read from the app, so a new one is covered (or
fails with a message saying what the test needs to know).
"""

from __future__ import annotations

import html
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from server.engine import Actor, ActorRole, CommandRejected, decide, lobby
from server.engine.commands import AddCard, AddCluster, GoToStep, Join, StartSession
from server.engine.registry import Command
from server.i18n import translations
from server.store.repo import new_id
from server.store.tables import Case
from server.web import messages as ws_messages
from server.web.auth import GRANTS, Perm, Role
from server.web.pages.participant import cookie_name
from server.web.services import Services
from tests.security.cross_support import (
    ACTION_ID,
    AREA_DESCRIPTION,
    CARD,
    CARD_ID,
    CASE,
    DECISION_ID,
    INSIDE_ID,
    KNOCK_ID,
    MARK,
    THEME_ID,
    Snapshot,
    Two,
    changes,
    fac_actor,
    flash_kinds,
    foreign_in,
    leaks,
    p,
    snapshot,
    submit_all,
    two_engagements,
)
from tests.security.sec_support import Cast, cast, form_token
from tests.support import join

# -- the route table -------------------------------------------------------------------------

CONTAINERS = ("engagement_id", "session_id")
"""Path parameters that name what the rest of the path is inside of, outermost first."""

REFUSALS = {400, 401, 403, 404, 409, 410}


def http_routes(app: Any) -> Iterator[tuple[str, str, frozenset[str]]]:
    """(method, path, path parameters) of every HTTP route (HEAD aside)."""
    for route in app.routes:
        if isinstance(route, Route):
            for method in sorted((route.methods or set()) - {"HEAD"}):
                yield method, route.path, frozenset(route.param_convertors)


UNSCOPED = {
    "/j/{code}": "a participant's link: the join code is the credential",
    "/j/{code}/qr.svg": "the same link as a QR code",
    "/h/{token}": "the consultation's own link, with its access code",
    "/h/{token}/comments": "comments through that link, after the access code",
}
"""Paths with a parameter that name no container: each one's own secret scopes it."""


def container_of(params: frozenset[str]) -> str | None:
    return next((c for c in CONTAINERS if c in params), None)


def child_routes(app: Any) -> list[tuple[str, str, frozenset[str]]]:
    """Routes whose path names a container and a child inside it."""
    found = []
    for method, path, params in http_routes(app):
        container = container_of(params)
        if container is not None and params - {container}:
            found.append((method, path, params))
    return found


def fills(two: Two, path: str, params: frozenset[str], container: str) -> list[dict[str, str]]:
    """Every way to fill the path's child ids with A's children (one of each kind)."""
    a = two.alfa
    known: dict[str, list[str]] = {
        "session_id": [a.meeting_id, a.workshop_id],
        "case_id": [a.case_id],
        "area_id": [a.area_ids[0]],
        "consultation_id": [a.consultation_id],
        "row_id": [a.row_id],
    }
    children = sorted(params - {container})
    choices: list[list[dict[str, str]]] = []
    if {"kind", "item_id"} <= set(children):  # minutes: /{kind}/{item_id}
        choices.append(
            [
                {"kind": "decisions", "item_id": DECISION_ID},
                {"kind": "actions", "item_id": ACTION_ID},
            ]
        )
        children = [c for c in children if c not in ("kind", "item_id")]
    for name in children:
        assert name in known, (
            f"tests/security/test_authz_cross.py: say how to fill the path parameter {name!r} "
            f"of {path} with engagement A's child (fills(), `known`)"
        )
        choices.append([{name: value} for value in known[name]])
    return [
        {k: v for part in combo for k, v in part.items()} for combo in itertools.product(*choices)
    ]


def url_of(path: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, path
    return path


def plausible_form(two: Two) -> dict[str, str]:
    """Fields for every form of the engagement's and the minutes' pages: each handler
    reads its own. Valid values, so that where a check were missing, data would change.
    The texts carry no MARK (a page that echoes a form must not look like a leak)."""
    a = two.alfa
    return {
        # a case in the register
        "cover": "Ændret forklæde",
        "summary": "Ændret resumé",
        "learning_question": "Ændret spørgsmål",
        "tags": "ændret",
        # a session: its date and place, themes into focus areas, the ranking into the plan
        "planned_on": "2030-01-15",
        "place": "Ændret sal",
        f"use_{THEME_ID}": "1",
        f"title_{THEME_ID}": "Ændret tema",
        **{f"owner_{area}": "Ændret ejer" for area in a.area_ids},
        "date": "2030-02-01",
        "goals": "Ændret mål",
        # a focus area
        "title": "Ændret område",
        "description": "Ændret beskrivelse",
        "outcome": "adjusted",
        "description_public": "1",
        # a plan row and its status
        "owner": "Ændret ejer",
        "purpose": "Ændret formål",
        "activity": "Ændret aktivitet",
        "goal": "Ændret mål",
        "actors": "Ændrede aktører",
        "schedule": "Ændret tidsplan",
        "status": "delayed",
        "note": "Ændret note",
        # a decision or an action in the minutes
        "text": "Ændret beslutning",
        "what": "Ændret handling",
        "who": "Ændret ansvarlig",
        "due": "2030-03-01",
    }


def carried_ids(two: Two, session_id: str) -> dict[str, str]:
    """Fields that name a child by id in a form, filled with A's."""
    a = two.alfa
    return {
        "engagement_id": two.a_id,
        "session_id": session_id,
        "case_id": a.case_id,
        "focus_area_id": a.area_ids[0],
        "consultation_id": a.consultation_id,
        "row_id": a.row_id,
        "participant_id": KNOCK_ID,
        "decision": "admit",
        "action": "select",
        "reason": "Ændret begrundelse",
        "days": "12",
    }


@pytest.fixture
def two(client: TestClient, new_browser: Callable[[], TestClient]) -> Two:
    return two_engagements(client, new_browser)


def both(two: Two) -> Snapshot:
    a, b = snapshot(two, two.a_id), snapshot(two, two.b_id)
    return (
        {**{f"A.{k}": v for k, v in a[0].items()}, **{f"B.{k}": v for k, v in b[0].items()}},
        {**a[1], **b[1]},
    )


def _judge_refusal(two: Two, c: TestClient, r: Any, what: str) -> list[str]:
    """Problems with a response that should refuse and show nothing of A's."""
    problems = []
    if r.status_code >= 500:
        problems.append(f"{what}: {r.status_code}")
    elif 200 <= r.status_code < 300:
        problems.append(f"{what}: answered {r.status_code} (not refused)")
    elif 300 <= r.status_code < 400:
        kinds = flash_kinds(two, r)
        if "error" not in kinds or "ok" in kinds:
            problems.append(f"{what}: redirected ({r.status_code}) without refusing: {kinds}")
        location = r.headers.get("location", "")
        if location.startswith("/"):
            followed = c.get(location, follow_redirects=False)
            if found := leaks(two, followed):
                problems.append(f"{what}: the page it redirects to shows A's {found}")
    elif r.status_code not in REFUSALS:
        problems.append(f"{what}: unexpected {r.status_code}")
    if found := leaks(two, r):
        problems.append(f"{what}: the answer shows A's {found}")
    return problems


# -- 1. cross-engagement: B's URLs, A's children --------------------------------------------


def test_every_route_with_a_parameter_names_its_container(client: TestClient) -> None:
    """A route with an id in its path either says which engagement or session it is
    inside of (then the walks below try it with another one's), or is a public link
    scoped by its own secret. A new `/cases/{case_id}` with no engagement fails here."""
    unscoped = sorted(
        {path for _, path, params in http_routes(client.app) if params}
        - {path for _, path, params in http_routes(client.app) if container_of(params)}
    )
    unknown = [path for path in unscoped if path not in UNSCOPED]
    assert not unknown, (
        f"routes with path parameters but no {{engagement_id}} or {{session_id}}: {unknown}; "
        "put the engagement or session in the path (or add the route to UNSCOPED in "
        "tests/security/test_authz_cross.py, saying what scopes it)"
    )
    assert set(UNSCOPED) <= set(unscoped), sorted(set(UNSCOPED) - set(unscoped))


CROSS_SUBJECTS = ("facilitator", "coordinator", "admin")
"""Members of A and B (the administrator is one everywhere): B's permission check passes."""


def test_children_of_one_engagement_under_another_engagements_urls(two: Two) -> None:
    routes = child_routes(two.people.browsers["admin"].app)
    assert any("{case_id}" in path for _, path, _ in routes), "the route walk found no child routes"
    b_container = {"engagement_id": two.b_id, "session_id": two.b_session_id}
    a_container = {"engagement_id": two.a_id, "session_id": two.alfa.meeting_id}
    form = plausible_form(two)
    problems: list[str] = []
    tried = 0
    for method, path, params in routes:
        container = container_of(params)
        assert container is not None
        for values in fills(two, path, params, container):
            url = url_of(path, {container: b_container[container], **values})
            for subject in CROSS_SUBJECTS:
                c = two.people.browsers[subject]
                data = {"csrf": two.csrf(c), **form} if method == "POST" else None
                before = both(two)
                r = c.request(method, url, data=data, follow_redirects=False)
                what = f"{method} {url} ({path}) as {subject}"
                problems += _judge_refusal(two, c, r, what)
                if changed := changes(before, both(two)):
                    problems.append(f"{what}: changed {changed}")
                tried += 1
    assert not problems, "\n".join(problems)
    assert tried >= 30, tried

    # The same requests on A's own URLs do what they are for: the forms were plausible,
    # and the texts the answers were searched for are on those pages.
    c = two.people.browsers["facilitator"]
    for method, path, params in routes:
        container = container_of(params)
        assert container is not None
        outcomes = []
        for values in fills(two, path, params, container):
            url = url_of(path, {container: a_container[container], **values})
            before = snapshot(two, two.a_id)
            data = {"csrf": two.csrf(c), **form} if method == "POST" else None
            r = c.request(method, url, data=data, follow_redirects=False)
            if method == "GET":
                worked = r.status_code == 200 and MARK in r.text
            else:
                worked = (
                    r.status_code in (200, 204, 303)
                    and "error" not in flash_kinds(two, r)
                    and bool(changes(before, snapshot(two, two.a_id)))
                )
            outcomes.append(f"{url}: {r.status_code} {flash_kinds(two, r)}")
            if worked:
                break
        else:
            problems.append(f"{method} {path} on A's own URL did nothing: {outcomes}")
    assert not problems, "\n".join(problems)


def test_ids_of_one_engagement_in_forms_posted_to_another(two: Two) -> None:
    """POST routes whose path names only the container: A's ids in the form fields.
    B may well change (a new focus area, its settings), but nothing of A's may reach
    it, A must not change, and no answer may show A's texts."""
    posts = [
        (path, params)
        for method, path, params in http_routes(two.people.browsers["admin"].app)
        if method == "POST" and (container := container_of(params)) and params == {container}
    ]
    assert any(path.endswith("/lobby") for path, _ in posts), posts
    b_container = {"engagement_id": two.b_id, "session_id": two.b_session_id}
    problems: list[str] = []
    for path, params in posts:
        container = container_of(params)
        assert container is not None
        url = url_of(path, {container: b_container[container]})
        if path.endswith("/delete"):
            continue  # deleting B for good is not what this is about (it names no child)
        for session_id in (two.alfa.meeting_id, two.alfa.workshop_id):
            for subject in CROSS_SUBJECTS:
                c = two.people.browsers[subject]
                data = {"csrf": two.csrf(c), **plausible_form(two), **carried_ids(two, session_id)}
                before = snapshot(two, two.a_id)
                r = c.post(url, data=data, follow_redirects=False)
                what = f"POST {url} ({path}) as {subject} with A's ids in the form"
                if r.status_code >= 500:
                    problems.append(f"{what}: {r.status_code}")
                if found := leaks(two, r):
                    problems.append(f"{what}: the answer shows A's {found}")
                if changed := changes(before, snapshot(two, two.a_id)):
                    problems.append(f"{what}: changed A's {changed}")
                if found := foreign_in(snapshot(two, two.b_id), two.alfa):
                    problems.append(f"{what}: B now holds A's {found}")
                    raise AssertionError("\n".join(problems))  # the rest would repeat it
    live = two.people.browsers["admin"].portal.call(two.services.live.get, two.alfa.meeting_id)
    assert live is not None and lobby.status(live.state, KNOCK_ID) == "waiting"
    assert not problems, "\n".join(problems)


B_ONLY_STATUS = 404


def test_members_of_another_engagement_get_nothing_of_a_session(
    two: Two, new_browser: Callable[[], TestClient]
) -> None:
    """Routes under /sessions/{session_id} (the facilitator's screen, the projector,
    the minutes, their downloads, the lobby) with A's session, as members of B only:
    404, as if it did not exist. Their websockets do not open either."""
    routes = [
        (method, path, params)
        for method, path, params in http_routes(two.people.browsers["admin"].app)
        if "session_id" in params and "engagement_id" not in params
    ]
    assert len(routes) >= 5, routes
    form = plausible_form(two)
    problems: list[str] = []
    before = both(two)
    for method, path, params in routes:
        for values in fills(two, path, params, "session_id"):
            for session_id in (two.alfa.meeting_id, two.alfa.workshop_id):
                url = url_of(path, {"session_id": session_id, **values})
                for name, c in two.b_browsers.items():
                    data = (
                        {"csrf": two.csrf(c), **form, "participant_id": KNOCK_ID}
                        if method == "POST"
                        else None
                    )
                    r = c.request(method, url, data=data, follow_redirects=False)
                    what = f"{method} {url} as {name}"
                    if r.status_code != B_ONLY_STATUS:
                        problems.append(f"{what}: {r.status_code}, not {B_ONLY_STATUS}")
                    if found := leaks(two, r):
                        problems.append(f"{what}: the answer shows A's {found}")
    # Creating a session names the engagement in the form: not A's, for them.
    for name, c in two.b_browsers.items():
        r = c.post(
            "/facilitator/sessions",
            data={"csrf": two.csrf(c), "engagement_id": two.a_id, "script_id": "kvifa"},
            follow_redirects=False,
        )
        if r.status_code != B_ONLY_STATUS:
            problems.append(f"POST /facilitator/sessions in A as {name}: {r.status_code}")
    if changed := changes(before, both(two)):
        problems.append(f"members of B only changed {changed}")

    # Websockets: no screen of A's session for them, with B's projector link or
    # with a phone's cookie from B's session either.
    svc = two.services
    b_phone = new_browser()
    join(b_phone, _code(svc, two.b_session_id, two.people.browsers["admin"]), "Bo")
    stolen = b_phone.cookies.get(cookie_name(two.b_session_id)) or ""
    assert stolen
    a_session = two.alfa.meeting_id
    b_key = svc.projector_key(two.b_session_id)
    for name, c in {**two.b_browsers, "a phone of B's session": b_phone}.items():
        r = c.get(f"/projector/{a_session}?key={b_key}", follow_redirects=False)
        if r.status_code != B_ONLY_STATUS or leaks(two, r):
            problems.append(f"GET /projector/A?key=<B's> as {name}: {r.status_code}")
        c.cookies.set(cookie_name(a_session), stolen)
        for audience in ("facilitator", "projector", f"projector?key={b_key}", "participant"):
            frames, code = ws_frames(c, f"/ws/{a_session}/{audience}")
            if frames or code != 1008:
                problems.append(f"/ws/A/{audience} as {name}: {len(frames)} frames, close {code}")
    assert not problems, "\n".join(problems)


def _code(svc: Services, session_id: str, c: TestClient) -> str:
    row = c.portal.call(svc.repo.session, session_id)
    assert row is not None
    return row.join_code


def test_websocket_messages_naming_another_engagements_ids(
    two: Two, new_browser: Callable[[], TestClient]
) -> None:
    """B's screens (the facilitator of both, a phone in B) send every message type with
    A's ids where the message names one: A does not change, B holds nothing of A's."""
    svc = two.services
    admin = two.people.browsers["admin"]
    phone = new_browser()
    join(phone, _code(svc, two.b_session_id, admin), "Bo")
    a = two.alfa
    a_ids: dict[str, Any] = {
        "participant_id": INSIDE_ID,
        "card_id": CARD_ID,
        "cluster_id": THEME_ID,
        "decision_id": DECISION_ID,
        "action_id": ACTION_ID,
        "from_case": a.case_id,
        "option_id": a.area_ids[0],
        "option_ids": list(a.area_ids),
        "payload": list(a.area_ids),
        "ballot_id": "b-alfa-v1",
    }
    plain = Fill(two_step_ids(svc, admin, two.b_session_id), "", "")
    before = snapshot(two, two.a_id)
    screens = ((phone, "participant"), (two.people.browsers["facilitator"], "facilitator"))
    for c, audience in screens:  # the facilitator last: it ends B's session
        names = sorted(ws_messages.MESSAGES, key=lambda n: n == "end_session")
        sent = [
            message(n, lambda key, n=n: a_ids[key] if key in a_ids else plain.value(n, key))
            for n in names
        ]
        for chunk in _chunks(sent):
            with c.websocket_connect(f"/ws/{two.b_session_id}/{audience}") as ws:
                ws.receive_text()
                for data in chunk:
                    exchange(ws, data, unknown_flash(svc, two.b_session_id))
    assert not changes(before, snapshot(two, two.a_id))
    assert MARK not in repr(snapshot(two, two.b_id))


# -- websocket helpers ----------------------------------------------------------------------------

BARRIER = json.dumps({"type": "tv-test-barrier"})
CHUNK = 12  # messages per connection: with a barrier each, well under the burst of 40


def _chunks(items: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _flash_text(svc: Services, session_id: str, msgid: str) -> str:
    room = svc.rooms.get(session_id)
    lang = room.lang if room else "da"
    return html.escape(translations(lang).gettext(msgid), quote=False)


def unknown_flash(svc: Services, session_id: str) -> str:
    return _flash_text(svc, session_id, "This action is not known.")


def exchange(ws: Any, data: dict[str, Any], unknown: str) -> list[str]:
    """Send a message and a barrier; the frames that came before the barrier's answer."""
    ws.send_text(json.dumps(data))
    ws.send_text(BARRIER)
    frames = []
    for _ in range(300):
        frame = ws.receive_text()
        if 'id="flash"' in frame and unknown in frame:
            return frames
        frames.append(frame)
    raise AssertionError(f"no answer to the barrier after {data['type']}")


def ws_frames(c: TestClient, url: str, most: int = 1) -> tuple[list[str], int | None]:
    """What a screen receives on connecting (up to `most` frames), and its close code."""
    frames: list[str] = []
    try:
        with c.websocket_connect(url) as ws:
            while len(frames) < most:
                frames.append(ws.receive_text())
    except WebSocketDisconnect as closed:
        return frames, closed.code
    return frames, None


class _Probe(dict[str, Any]):
    """Stands in for a message's fields, to learn which ones a message type reads."""

    def __init__(self, fill: Callable[[str], Any]) -> None:
        super().__init__()
        self._fill = fill
        self.asked: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        if key not in self.asked:
            self.asked[key] = self._fill(key)
        return self.asked[key]

    def __getitem__(self, key: str) -> Any:
        return self.get(key)

    def __contains__(self, key: object) -> bool:
        return True


def message(name: str, fill: Callable[[str], Any]) -> dict[str, Any]:
    """A message of this type with every field its builder reads, filled by `fill`."""
    kind = ws_messages.MESSAGES[name]
    probe = _Probe(fill)
    role = sorted(kind.who)[0]
    try:
        kind.build(Actor(role, "probe"), probe)
    except ws_messages.BadMessage as bad:
        raise AssertionError(
            f"tests/security/test_authz_cross.py made an invalid {name!r} message "
            f"({bad}): fix Fill.value for its fields {sorted(probe.asked)}"
        ) from None
    return {"type": name, **probe.asked}


def two_step_ids(svc: Services, c: TestClient, session_id: str) -> tuple[str, str]:
    live = c.portal.call(svc.live.get, session_id)
    assert live is not None
    steps = [s.id for s in live.state.script.steps]
    current = live.state.step.id if live.state.step else steps[0]
    return current, next(s for s in steps if s != current)


@dataclass
class Fill:
    """Plausible field values for websocket messages in a session."""

    steps: tuple[str, str]  # the current step, another one
    phone: str  # the participant sending
    victim: str  # another participant (to remove)
    card: str = CARD_ID
    cluster: str = THEME_ID
    poll: str = "prioritering"
    options: tuple[str, ...] = ()
    counter: itertools.count[int] = field(default_factory=itertools.count)

    def value(self, name: str, key: str) -> Any:
        fresh = f"t{next(self.counter)}"
        values: dict[str, Callable[[], Any]] = {
            "from_step": lambda: self.steps[0],
            "step_id": lambda: self.steps[1],
            "minutes": lambda: 5,
            "participant_id": lambda: self.victim if name == "remove_participant" else self.phone,
            "from_speaker": lambda: None,
            "from_case": lambda: None,
            "index": lambda: 0,
            "card_id": lambda: fresh if name == "add_card" else self.card,
            "text": lambda: "Et kort fra testen",
            "cluster_id": lambda: fresh if name == "add_cluster" else self.cluster,
            "title": lambda: "Et tema",
            "decision_id": lambda: fresh,
            "decided_by": lambda: "",
            "action_id": lambda: fresh,
            "what": lambda: "Noget at gøre",
            "who": lambda: "Nogen",
            "due": lambda: "",
            "poll_id": lambda: self.poll,
            "option_id": lambda: self.options[0] if self.options else "o1",
            "label": lambda: "En ny mulighed",
            "option_ids": lambda: list(self.options[:2]),
            "horizon": lambda: "short",
            "owner": lambda: "En ejer",
            "ballot_id": lambda: fresh,
            "payload": lambda: list(self.options),
        }
        assert key in values, (
            f"tests/security/test_authz_cross.py: say how to fill the field {key!r} "
            f"of the websocket message {name!r} (Fill.value)"
        )
        return values[key]()


# -- 2. a case meeting and its lobby ----------------------------------------------------------


NOBODY, PARTICIPANT, KNOCKING, ADMIN = "nobody", "participant", "knocking phone", "admin"


def runs() -> frozenset[str]:
    """Who has RUN in an engagement: the roles GRANTS gives it, and the administrator."""
    return frozenset(r.value for r in Role if Perm.RUN in GRANTS[r]) | {ADMIN}


def reads_cases() -> frozenset[str]:
    return frozenset(r.value for r in Role if Perm.READ_CASES in GRANTS[r]) | {ADMIN}


@dataclass
class Meeting:
    people: Cast
    session_id: str
    code: str
    clients: dict[str, TestClient]  # every subject, by name
    knockers: dict[str, TestClient]  # a phone at the door for each subject who may let it in
    waiting: TestClient  # the phone that stays at the door

    @property
    def services(self) -> Services:
        return self.people.services

    def pid(self, phone: TestClient) -> str:
        token = phone.cookies.get(cookie_name(self.session_id))
        pid = self.services.participant_from(self.session_id, token)
        assert pid is not None
        return pid

    def door(self, phone: TestClient) -> str:
        live = phone.portal.call(self.services.live.get, self.session_id)
        assert live is not None
        return lobby.status(live.state, self.pid(phone))


def knock(phone: TestClient, code: str, name: str) -> None:
    page = phone.get(f"/j/{code}")
    assert 'id="name-why"' in page.text, "a case meeting asks for a name at the door"
    r = phone.post(
        "/join", data={"code": code, "name": name, "csrf": form_token(phone)}, follow_redirects=True
    )
    assert r.status_code == 200 and 'class="phone lobby"' in r.text, r.text[:500]


@pytest.fixture
def meeting(client: TestClient, new_browser: Callable[[], TestClient]) -> Meeting:
    people = cast(client, new_browser)
    svc = people.services
    fac = people.users["facilitator"]

    async def seed() -> tuple[str, str]:
        async with svc.repo.sessions() as db:
            db.add(Case(id=new_id(), engagement_id=people.engagement_id, selected=True, **CASE))
            await db.commit()
        row = await svc.create_session(people.engagement_id, "heldagsmoede", fac)
        actor = fac_actor(fac.id)
        await submit_all(
            svc,
            row.id,
            [
                StartSession(actor=actor),
                GoToStep(actor=actor, step_id="sager-formiddag"),
                AddCard(actor=actor, card_id=CARD_ID, text=CARD),
            ],
        )
        return row.id, row.join_code

    session_id, code = client.portal.call(seed)
    script = svc.catalog.get("heldagsmoede")
    assert script is not None and lobby.required(script)
    inside = new_browser()
    join(inside, code, f"{MARK} Inde")  # let in as the facilitator would
    waiting = new_browser()
    knock(waiting, code, "Venter Ved Døren")
    knockers = {}
    for subject in sorted(runs()):
        phone = new_browser()
        knock(phone, code, f"Banker {subject}")
        knockers[subject] = phone
    clients = {NOBODY: new_browser(), PARTICIPANT: inside, KNOCKING: waiting, **people.browsers}
    return Meeting(people, session_id, code, clients, knockers, waiting)


def test_case_meeting_lobby_every_role_and_a_knocking_phone(meeting: Meeting) -> None:
    sid, code = meeting.session_id, meeting.code
    waiting = meeting.waiting
    problems: list[str] = []

    # The phone at the door: nothing of the meeting, by any way in.
    assert meeting.door(waiting) == "waiting"
    for audience in ("participant", "projector", "facilitator"):
        frames, closed = ws_frames(waiting, f"/ws/{sid}/{audience}")
        if frames or closed != 1008:
            problems.append(f"knocking phone, /ws/{audience}: {len(frames)} frames, close {closed}")
    for url in (f"/j/{code}", f"/projector/{sid}", f"/facilitator/sessions/{sid}/minutes"):
        r = waiting.get(url, follow_redirects=False)
        if MARK in r.text or CARD in r.text:
            problems.append(f"knocking phone, GET {url}: shows the case or the people in the room")
    page = waiting.get(f"/j/{code}")
    assert 'data-door="waiting"' in page.text and "ws-connect" not in page.text

    # The wall, per role: the facilitator's screen needs RUN, the projector without
    # its link READ_CASES (a case wall); when refused, not a word of the case.
    for subject, c in meeting.clients.items():
        frames, closed = ws_frames(c, f"/ws/{sid}/facilitator")
        may_run = subject in runs()
        if may_run and not (frames and CASE["learning_question"] in frames[0]):
            problems.append(f"{subject}: the facilitator's screen did not show the case wall")
        if not may_run and (frames or closed != 1008):
            problems.append(f"{subject}: facilitator websocket: {len(frames)} frames, {closed}")
        r = c.get(f"/projector/{sid}", follow_redirects=False)
        if subject in reads_cases():
            if r.status_code != 200 or CASE["cover"] not in r.text:
                problems.append(f"{subject}: projector {r.status_code} without the case")
        elif r.status_code != 404 or MARK in r.text:
            problems.append(f"{subject}: projector {r.status_code} (shows case: {MARK in r.text})")

    # The door: only RUN decides. The others try to let the waiting phone in and to
    # refuse it; it stays waiting. Each who may, lets in a phone of its own.
    target = meeting.pid(waiting)
    for subject, c in meeting.clients.items():
        if subject in runs():
            continue
        for decision in ("admit", "deny"):
            r = c.post(
                f"/facilitator/sessions/{sid}/lobby",
                data={"participant_id": target, "decision": decision, "csrf": form_token(c)},
                follow_redirects=False,
            )
            if r.status_code not in (401, 403, 404) or meeting.door(waiting) != "waiting":
                problems.append(
                    f"{subject} could {decision}: {r.status_code}, door {meeting.door(waiting)}"
                )
    for subject, phone in meeting.knockers.items():
        c = meeting.clients[subject]
        r = c.post(
            f"/facilitator/sessions/{sid}/lobby",
            data={"participant_id": meeting.pid(phone), "decision": "admit", "csrf": form_token(c)},
            follow_redirects=False,
        )
        if r.status_code != 303 or meeting.door(phone) != "in":
            problems.append(f"{subject} could not let a phone in: {r.status_code}")
            continue
        # Once in, the same phone's websocket opens: the refusal above was the door.
        frames, closed = ws_frames(phone, f"/ws/{sid}/participant")
        if not frames:
            problems.append(f"the phone {subject} let in did not connect: {closed}")

    # Refused at last: still nothing, and told so.
    fac = meeting.clients["facilitator"]
    r = fac.post(
        f"/facilitator/sessions/{sid}/lobby",
        data={"participant_id": target, "decision": "deny", "csrf": form_token(fac)},
        follow_redirects=False,
    )
    if r.status_code != 303 or meeting.door(waiting) != "denied":
        problems.append(f"the facilitator could not refuse the phone: {r.status_code}")
        raise AssertionError("\n".join(problems))
    frames, closed = ws_frames(waiting, f"/ws/{sid}/participant")
    if frames or closed != 1008:
        problems.append(f"refused phone: {len(frames)} frames, close {closed}")
    page = waiting.get(f"/j/{code}")
    if 'data-door="denied"' not in page.text or MARK in page.text or CARD in page.text:
        problems.append("refused phone: the page does not say so, or shows the meeting")
    assert not problems, "\n".join(problems)


# -- 3. every websocket message, from every screen, as every role that can open it ----------

AUDIENCE_ACTOR = {
    "participant": ActorRole.PARTICIPANT,
    "facilitator": ActorRole.FACILITATOR,
    "projector": ActorRole.SYSTEM,
}
"""The actor each screen's messages are sent as (server/web/ws.py `who`)."""


@dataclass
class Workshop:
    people: Cast
    session_id: str
    fill: Fill
    openers: dict[str, list[tuple[str, TestClient, str]]]  # audience -> (who, browser, url)

    @property
    def services(self) -> Services:
        return self.people.services

    def live(self) -> tuple[int, Any]:
        c = self.people.browsers["admin"]
        live = c.portal.call(self.services.live.get, self.session_id)
        assert live is not None
        return live.seq, live.state


@pytest.fixture
def workshop(client: TestClient, new_browser: Callable[[], TestClient]) -> Workshop:
    """An implementation workshop on a step with cards, a phone in it (with a card),
    another participant, a theme, and a ranking over two focus areas."""
    from server.engagement import focus_areas as areas

    people = cast(client, new_browser)
    svc = people.services
    fac = people.users["facilitator"]
    actor = fac_actor(fac.id)

    async def seed() -> tuple[str, str, tuple[str, ...]]:
        made = [
            (await areas.add_focus_area(svc.repo, people.engagement_id, t, AREA_DESCRIPTION))[0]
            for t in ("Område et", "Område to")
        ]
        row = await svc.create_session(people.engagement_id, "implementeringsworkshop", fac)
        await submit_all(
            svc,
            row.id,
            [
                StartSession(actor=actor),
                GoToStep(actor=actor, step_id="skaerpelse"),
                Join(actor=p("victim"), name="Offer"),
                AddCluster(actor=actor, cluster_id=THEME_ID, title="Et tema"),
            ],
        )
        return row.id, row.join_code, tuple(a.id for a in made)

    session_id, code, options = client.portal.call(seed)
    phone = new_browser()
    join(phone, code, "Pia")
    pid = svc.participant_from(session_id, phone.cookies.get(cookie_name(session_id)))
    assert pid is not None
    client.portal.call(
        submit_all, svc, session_id, [AddCard(actor=p(pid), card_id=CARD_ID, text="Pias kort")]
    )
    key = svc.projector_key(session_id)
    base = f"/ws/{session_id}"
    openers = {
        "participant": [(PARTICIPANT, phone, f"{base}/participant")],
        "facilitator": [
            (subject, people.browsers[subject], f"{base}/facilitator") for subject in sorted(runs())
        ],
        "projector": [
            (f"{subject} with the link", c, f"{base}/projector?key={key}")
            for subject, c in ((NOBODY, new_browser()), ("observer", people.browsers["observer"]))
        ],
    }
    steps = ("skaerpelse", "prikker")
    return Workshop(people, session_id, Fill(steps, pid, "victim", options=options), openers)


def test_every_message_type_from_every_screen_as_every_role(workshop: Workshop) -> None:
    svc = workshop.services
    sid = workshop.session_id
    assert set(AUDIENCE_ACTOR) == set(workshop.openers)
    forbidden = _flash_text(svc, sid, "You cannot do that from this screen.")
    unknown = unknown_flash(svc, sid)
    names = sorted(ws_messages.MESSAGES)
    # Every screen sends every type; ending the session comes last of all.
    plan = [
        (audience, opener, name)
        for audience, opened in workshop.openers.items()
        for opener in opened
        for name in names
        if name != "end_session"
    ] + sorted(
        (
            (audience, opener, "end_session")
            for audience, opened in workshop.openers.items()
            for opener in opened
            if "end_session" in ws_messages.MESSAGES
        ),
        # the screens that may not end it first: an ended session's projector link is dead
        key=lambda item: AUDIENCE_ACTOR[item[0]] in ws_messages.MESSAGES["end_session"].who,
    )
    runs_of = [
        list(group) for _, group in itertools.groupby(plan, key=lambda item: (item[0], item[1][0]))
    ]
    problems: list[str] = []
    sent = 0
    for run in runs_of:
        for chunk in _chunks(run):
            problems += _send_chunk(workshop, chunk, forbidden, unknown)
            sent += len(chunk)
    assert not problems, "\n".join(problems)
    assert sent == len(plan), (sent, len(plan))


def _send_chunk(workshop: Workshop, chunk: list[Any], forbidden: str, unknown: str) -> list[str]:
    """One connection: each message with a barrier; refused exactly where the table
    says, and a refused one leaves the session as it was."""
    problems = []
    audience, (subject, c, url), _ = chunk[0]
    name = "(connecting)"
    try:
        with c.websocket_connect(url) as ws:
            ws.receive_text()
            for audience, _, name in chunk:
                data = message(name, lambda key, name=name: workshop.fill.value(name, key))
                role = AUDIENCE_ACTOR[audience]
                allowed = role in ws_messages.MESSAGES[name].who
                if allowed:  # well formed, so only the screen could be a reason to refuse
                    parsed = ws_messages.parse(
                        json.dumps(data), Actor(role, workshop.fill.phone), voter=lambda _: "v"
                    )
                    assert isinstance(parsed, Command), (name, parsed)
                before = workshop.live()
                refused = any(forbidden in f for f in exchange(ws, data, unknown))
                where = f"{name} from the {audience} screen as {subject}"
                if refused == allowed:
                    problems.append(f"{where}: {'refused' if refused else 'taken'}")
                if refused and workshop.live() != before:
                    problems.append(f"{where}: refused, yet the session changed")
    except WebSocketDisconnect as closed:
        problems.append(f"the {audience} screen as {subject} closed at {name}: {closed.code}")
    return problems


def test_the_engine_refuses_facilitator_commands_from_a_participant(workshop: Workshop) -> None:
    """Behind the screens' table: a message only a facilitator may send, built for a
    participant, is refused by the engine too (defence in depth; the projector's actor
    is the system, which the engine lets act as the facilitator, so the table alone
    keeps a projector link from driving the session)."""
    _, state = workshop.live()
    participant = Actor(ActorRole.PARTICIPANT, workshop.fill.phone)
    accepted = []
    for name, kind in sorted(ws_messages.MESSAGES.items()):
        if ActorRole.PARTICIPANT in kind.who:
            continue
        data = message(name, lambda key, name=name: workshop.fill.value(name, key))
        command = kind.build(participant, data)
        out = decide(state, command, 10**10)
        if not isinstance(out, CommandRejected) and out:
            accepted.append(f"{name}: {out}")
    assert not accepted, "\n".join(accepted)

"""Who may do what: every route and websocket audience/action, tried as each role and as nobody.

`ROUTES` and `MESSAGES` below are the policy, written out; the tests walk the
app's real route table and the real websocket message table, so a route or a
message type added without a line here fails (add the line: decide who may
use it). Roles are per engagement (server/web/auth.py GRANTS); "admin" is a
user with `is_admin` who is no member; "participant" is a phone that joined a
session; "outsider" is logged in but no member of the engagement.

A refusal is 401, 403, 404 or a redirect to the login page (a 404 does not
reveal that the session or engagement exists). Allowed means anything else
short of a 500: a form with nonsense in it may well be refused as invalid.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Date, DateTime, Table, select
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from server.engine import Actor, ActorRole
from server.engine.commands import RecordDecision
from server.i18n import translations
from server.privacy import retention
from server.web import messages as ws_messages
from tests.security.sec_support import Cast, cast, form_token
from tests.support import join

# -- who is who ---------------------------------------------------------------------------

NOBODY, PARTICIPANT, OUTSIDER = "nobody", "participant", "outsider"
OBSERVER, COORDINATOR, FACILITATOR, ADMINISTRATOR, ADMIN = (
    "observer",
    "coordinator",
    "facilitator",
    "administrator",
    "admin",
)
SUBJECTS = (NOBODY, PARTICIPANT, OUTSIDER, OBSERVER, COORDINATOR, FACILITATOR, ADMINISTRATOR, ADMIN)

EVERYONE = frozenset(SUBJECTS)
SIGNED_IN = frozenset({OUTSIDER, OBSERVER, COORDINATOR, FACILITATOR, ADMINISTRATOR, ADMIN})
MEMBERS = frozenset({OBSERVER, COORDINATOR, FACILITATOR, ADMINISTRATOR, ADMIN})  # SEE, WATCH
RUNS = frozenset({FACILITATOR, ADMINISTRATOR, ADMIN})  # RUN: drive sessions, edit the engagement
READS_CASES = frozenset({COORDINATOR, FACILITATOR, ADMINISTRATOR, ADMIN})  # minutes, case register
EDITS_MINUTES = READS_CASES  # rewording decisions and actions afterwards
EXPORTS = frozenset({COORDINATOR, ADMINISTRATOR, ADMIN})
DELETES = frozenset({ADMINISTRATOR, ADMIN})
ADMINS = frozenset({ADMIN})  # the administration pages: is_admin only
NOONE: frozenset[str] = frozenset()

S = "/facilitator/sessions/{session_id}"
E = "/engagements/{engagement_id}"

ROUTES: dict[tuple[str, str], frozenset[str]] = {
    # Public: participants, logging in, the consultation's own link (it has an access code).
    ("GET", "/"): EVERYONE,
    ("GET", "/healthz"): EVERYONE,
    ("POST", "/join"): EVERYONE,
    ("GET", "/j/{code}"): EVERYONE,
    ("GET", "/j/{code}/qr.svg"): EVERYONE,
    ("GET", "/login"): EVERYONE,
    ("POST", "/login"): EVERYONE,
    ("POST", "/login/totp"): EVERYONE,
    ("POST", "/logout"): EVERYONE,
    ("GET", "/static"): EVERYONE,
    ("GET", "/h/{token}"): EVERYONE,
    ("POST", "/h/{token}"): EVERYONE,
    ("POST", "/h/{token}/comments"): EVERYONE,
    ("POST", "/language"): EVERYONE,  # a visitor's language switch (sets a cookie)
    # Anyone logged in; what they then see is filtered to their engagements.
    ("GET", "/facilitator"): SIGNED_IN,
    ("GET", "/coordinator"): SIGNED_IN,
    ("GET", "/account"): SIGNED_IN,
    ("POST", "/account"): SIGNED_IN,
    ("GET", "/account/totp"): SIGNED_IN,
    ("POST", "/account/totp"): SIGNED_IN,
    ("POST", "/account/totp/disable"): SIGNED_IN,
    # Running sessions.
    ("POST", "/facilitator/sessions"): RUNS,
    ("GET", S): RUNS,
    ("POST", S + "/lobby"): RUNS,
    ("POST", S + "/projector/revoke"): RUNS,  # every projector link of the session stops
    # Without the signed link; this session is a kick-off. A case wall needs READ_CASES
    # (observers are refused): tests/security/test_security_case_walls.py.
    ("GET", "/projector/{session_id}"): MEMBERS,
    # Minutes and documents: case material.
    ("GET", S + "/minutes"): READS_CASES,
    ("GET", S + "/minutes.pdf"): READS_CASES,
    ("GET", S + "/minutes.docx"): READS_CASES,
    ("GET", S + "/minutes.md"): READS_CASES,
    ("GET", S + "/minutes.json"): READS_CASES,
    ("GET", S + "/decisions.csv"): READS_CASES,
    ("GET", S + "/actions.csv"): READS_CASES,
    ("GET", S + "/journal-note.txt"): READS_CASES,
    ("GET", S + "/next-meeting.ics"): READS_CASES,
    ("GET", S + "/plan.pdf"): READS_CASES,
    ("GET", S + "/plan.docx"): READS_CASES,
    ("GET", S + "/plan.csv"): READS_CASES,
    ("POST", S + "/minutes/{kind}/{item_id}"): EDITS_MINUTES,
    # The engagement.
    ("GET", E): MEMBERS,
    ("POST", E + "/settings"): RUNS,
    ("POST", E + "/focus-points"): RUNS,
    ("GET", E + "/cases"): READS_CASES,
    ("POST", E + "/cases/import"): RUNS,
    ("GET", E + "/cases/template.csv"): MEMBERS,  # an empty template
    ("GET", E + "/cases/{case_id}"): READS_CASES,
    ("POST", E + "/cases/{case_id}"): RUNS,
    ("GET", E + "/selection"): READS_CASES,
    ("POST", E + "/selection"): RUNS,
    ("GET", E + "/sessions/{session_id}"): READS_CASES,
    ("POST", E + "/sessions/{session_id}/schedule"): RUNS,
    ("POST", E + "/sessions/{session_id}/focus-areas"): RUNS,
    ("POST", E + "/sessions/{session_id}/plan"): RUNS,
    ("POST", E + "/sessions/{session_id}/next-meeting"): RUNS,
    ("GET", E + "/focus-areas"): MEMBERS,
    ("POST", E + "/focus-areas"): RUNS,
    ("POST", E + "/focus-areas/{area_id}"): RUNS,
    ("POST", E + "/consultations"): READS_CASES,  # the coordinator runs the consultation
    ("GET", E + "/consultations/{consultation_id}"): READS_CASES,
    ("POST", E + "/consultations/{consultation_id}/close"): READS_CASES,
    ("GET", E + "/plan"): MEMBERS,
    ("GET", E + "/plan.docx"): MEMBERS,  # the plan is about practice, not a child
    ("POST", E + "/plan/rows"): RUNS,
    ("POST", E + "/plan/rows/{row_id}"): RUNS,
    ("POST", E + "/plan/rows/{row_id}/status"): RUNS,
    ("GET", E + "/status-note.docx"): READS_CASES,
    # Administration, export and deletion.
    ("GET", "/admin"): ADMINS,
    ("GET", "/admin/audit"): ADMINS,
    ("GET", "/admin/audit.csv"): ADMINS,
    ("POST", "/admin/engagements/{engagement_id}/export"): EXPORTS,
    ("GET", "/admin/engagements/{engagement_id}/delete"): DELETES,
    ("POST", "/admin/engagements/{engagement_id}/delete"): DELETES,
}
"""(method, path) -> who may use it."""

WEBSOCKETS = {"/ws/{session_id}/{audience}"}

AUDIENCES: dict[str, frozenset[str]] = {
    "facilitator": RUNS,
    "projector?key": EVERYONE,  # the signed projector link is the credential
    "projector": NOONE,
    "participant": frozenset({PARTICIPANT}),
    "nonsense": NOONE,
}
"""Websocket audience -> who may connect."""

F, P = "facilitator", "participant"
MESSAGES: dict[str, frozenset[str]] = {
    "start_session": frozenset({F}),
    "end_session": frozenset({F}),
    "reopen_session": frozenset({F}),
    "next_step": frozenset({F}),
    "previous_step": frozenset({F}),
    "go_to_step": frozenset({F}),
    "start_timer": frozenset({F}),
    "pause_timer": frozenset({F}),
    "extend_timer": frozenset({F}),
    "reset_timer": frozenset({F}),
    "set_case_owner": frozenset({F}),
    "remove_participant": frozenset({F}),
    "next_case": frozenset({F}),
    "previous_case": frozenset({F}),
    "go_to_case": frozenset({F}),
    "next_speaker": frozenset({F}),
    "skip_speaker": frozenset({F}),
    "add_card": frozenset({F, P}),
    "withdraw_card": frozenset({F, P}),
    "add_cluster": frozenset({F}),
    "group_card": frozenset({F}),
    "record_decision": frozenset({F}),
    "add_action": frozenset({F}),
    "open_poll": frozenset({F}),
    "close_poll": frozenset({F}),
    "publish_poll": frozenset({F}),
    "reopen_poll": frozenset({F}),
    "add_poll_option": frozenset({F}),
    "remove_poll_option": frozenset({F}),
    "start_runoff": frozenset({F}),
    "assign_horizon": frozenset({F}),
    "cast_ballot": frozenset({P}),
    "retract_ballot": frozenset({P}),
}
"""Websocket message type -> which screens may send it (the projector sends nothing)."""


# -- the world the requests run in ---------------------------------------------------------


class World:
    def __init__(self, client: TestClient, new_browser: Callable[[], TestClient]) -> None:
        self.people: Cast = cast(client, new_browser)
        svc = self.people.services
        fac_user = self.people.users[FACILITATOR]

        async def seed() -> tuple[str, str]:
            row = await svc.create_session(self.people.engagement_id, "opstartsworkshop", fac_user)
            live = await svc.live.get(row.id)
            assert live is not None
            actor = Actor(ActorRole.FACILITATOR, f"user:{fac_user.id}")
            await live.submit(RecordDecision(actor=actor, decision_id="d1", text="Første"))
            return row.id, row.join_code

        self.session_id, self.code = client.portal.call(seed)
        self.children = client.portal.call(self._children)
        phone = new_browser()
        join(phone, self.code, "Pia")
        self.clients: dict[str, TestClient] = {
            NOBODY: new_browser(),
            PARTICIPANT: phone,
            **self.people.browsers,
        }

    async def _children(self) -> dict[str, dict[str, Any]]:
        """One row of every table the engagement owns that has none yet (for child ids)."""
        engine = self.people.services.engine
        made: dict[str, dict[str, Any]] = {}
        async with engine.begin() as conn:
            for table in retention.owned_tables():
                existing = (
                    await conn.execute(
                        select(table).where(
                            retention._condition(
                                table,
                                self.people.engagement_id,
                                {t.name for t in retention.owned_tables()},
                            )
                        )
                    )
                ).first()
                if existing is not None:
                    made[table.name] = dict(existing._mapping)
                    continue
                row = _row_for(table, made)
                await conn.execute(table.insert().values(**row))
                made[table.name] = row
        return made

    def param(self, name: str) -> str:
        rows = self.children
        fill: dict[str, Callable[[], Any]] = {
            "session_id": lambda: self.session_id,
            "engagement_id": lambda: self.people.engagement_id,
            "code": lambda: self.code,
            "case_id": lambda: rows["engagement_case"]["id"],
            "area_id": lambda: rows["focus_area"]["id"],
            "consultation_id": lambda: rows["consultation"]["id"],
            "row_id": lambda: rows["plan_row"]["id"],
            "token": lambda: rows["consultation"]["link_token"],
            "kind": lambda: "decisions",
            "item_id": lambda: "d1",
        }
        assert name in fill, f"test_authz_matrix: say how to fill the path parameter {name!r}"
        return str(fill[name]())


def _row_for(table: Table, made: dict[str, dict[str, Any]]) -> dict[str, Any]:
    now = datetime.now(UTC)
    row: dict[str, Any] = {}
    for column in table.columns:
        fks = list(column.foreign_keys)
        if fks:
            parent = fks[0].column
            if parent.table.name in made:
                row[column.name] = made[parent.table.name][parent.name]
                continue
            if column.nullable:
                continue
        if column.primary_key and column.autoincrement is True:
            continue
        if column.nullable and not column.primary_key:
            continue
        impl = getattr(column.type, "impl", column.type)  # TypeDecorators (UTCDateTime)
        if isinstance(impl, DateTime):
            kind: type = datetime
        elif isinstance(impl, Date):
            kind = date
        else:
            try:
                kind = column.type.python_type
            except NotImplementedError:
                kind = str
        if kind is bool:
            value: Any = False
        elif kind is int:
            value = 1
        elif kind is float:
            value = 1.0
        elif kind is datetime:
            value = now + timedelta(days=14)
        elif kind is date:
            value = now.date()
        elif kind is bytes:
            value = b"{}"
        elif column.primary_key or column.unique:
            length = getattr(column.type, "length", None) or 32
            value = f"{table.name[:10]}-{column.name[:12]}"[:length]
        else:
            value = ""  # neutral: a made-up word would be an invalid choice
        row[column.name] = value
    if "id" in table.c and isinstance(row.get("id"), int):
        row.pop("id")
    return row


@pytest.fixture
def world(client: TestClient, new_browser: Callable[[], TestClient]) -> World:
    return World(client, new_browser)


# -- HTTP ------------------------------------------------------------------------------------


def _http_routes(app: Any) -> Iterable[tuple[str, str, Any]]:
    for route in app.routes:
        if isinstance(route, Route):
            for method in sorted((route.methods or set()) - {"HEAD"}):
                yield method, route.path, route
        elif isinstance(route, Mount):
            yield "GET", route.path, route
        elif isinstance(route, WebSocketRoute):
            assert route.path in WEBSOCKETS, f"a websocket route {route.path!r} is not in the table"
        else:  # pragma: no cover
            raise AssertionError(f"unknown kind of route {route!r}")


def test_every_route_is_in_the_table(client: TestClient) -> None:
    seen = {(m, p) for m, p, _ in _http_routes(client.app)}
    unknown = sorted(seen - set(ROUTES))
    assert not unknown, (
        f"routes without a line in tests/security/test_authz_matrix.py ROUTES: {unknown}; "
        "say who may use each (and guard it with server.web.auth.requires)"
    )
    gone = sorted(set(ROUTES) - seen)
    assert not gone, f"ROUTES names routes the app does not have (remove them): {gone}"


FORM_SCOPED = {("POST", "/facilitator/sessions")}
"""Signed in at the door; the handler checks RUN in the engagement its form names."""


def test_declared_permissions_agree_with_the_table(client: TestClient) -> None:
    """Handlers guarded by `requires(perm)` say which permission; it must match the table."""
    from server.web.auth import GRANTS, Perm, Role

    def who(perm: Perm) -> frozenset[str]:
        if perm is Perm.SIGNED_IN:
            return SIGNED_IN
        if perm is Perm.ADMIN:
            return ADMINS
        return frozenset(r.value for r in Role if perm in GRANTS[r]) | {ADMIN}

    assert who(Perm.EDIT_MINUTES) == EDITS_MINUTES and who(Perm.RUN) == RUNS
    assert who(Perm.SEE) == who(Perm.WATCH) == MEMBERS and who(Perm.READ_CASES) == READS_CASES
    assert who(Perm.EXPORT) == EXPORTS and who(Perm.DELETE) == DELETES

    for method, path, route in _http_routes(client.app):
        perm = getattr(getattr(route, "endpoint", None), "permission", None)
        if perm is not None and (method, path) not in FORM_SCOPED:
            assert who(perm) == ROUTES[(method, path)], (method, path, perm)


REFUSED = {401, 403, 404}


def _refused(r: Any) -> bool:
    if r.status_code in REFUSED:
        return True
    return r.status_code in (302, 303, 307) and r.headers.get("location", "").startswith("/login")


def _url(world: World, path: str) -> str:
    if path == "/static":
        return "/static/css/app.css"
    return re.sub(r"{(\w+)}", lambda m: world.param(m.group(1)), path)


def _form(world: World, c: TestClient, method: str, path: str) -> dict[str, str]:
    if method != "POST":
        return {}
    data = {"csrf": form_token(c)}
    if path == "/join":
        data.update(code=world.code, name="Ole")
    elif path == "/facilitator/sessions":
        data.update(engagement_id=world.people.engagement_id, script_id="opstartsworkshop")
    elif path.endswith("/lobby"):
        data.update(participant_id="nobody-waiting", decision="admit")
    elif path.endswith("/delete"):
        data.update(confirm="not the title")  # allowed or not, nothing is deleted
    elif path == "/login":
        data.update(username="nobody", password="wrong", next="")
    elif "/minutes/" in path:
        data.update(text="Første, omformuleret")
    return data


# Logging out ends the login; it runs last for each subject.
_ORDER = sorted(ROUTES, key=lambda k: (k == ("POST", "/logout"), k))


def test_every_route_as_every_role_and_as_nobody(world: World) -> None:
    """Refused where the table says no; where it says yes, treated as the admin is.

    The admin (allowed everywhere) goes first: a 404 for the admin means the
    thing is not there for this session (no journal note in a workshop), and
    then every allowed role must get that same 404, not a refusal of its own.
    """
    problems = []
    for method, path in _ORDER:
        allowed = ROUTES[(method, path)]
        admin_status = None
        for subject in sorted(SUBJECTS, key=lambda s: s != ADMIN):
            c = world.clients[subject]
            url = _url(world, path)
            data = _form(world, c, method, path)
            r = c.request(method, url, data=data or None, follow_redirects=False)
            if subject == ADMIN:
                admin_status = r.status_code
            if r.status_code >= 500:
                problems.append(f"{method} {path} as {subject}: {r.status_code}")
            elif allowed == EVERYONE:
                continue  # public: it answers (a wrong password is not a refusal of access)
            elif subject in allowed:
                if _refused(r) and r.status_code != admin_status:
                    problems.append(f"{method} {path} as {subject}: refused ({r.status_code})")
            elif not _refused(r):
                problems.append(f"{method} {path} as {subject}: NOT refused ({r.status_code})")
    assert not problems, "\n".join(problems)


def test_state_changing_routes_need_the_csrf_token(world: World) -> None:
    """Every POST a role may use is refused without the form's token (login/logout aside)."""
    exempt = {("POST", "/logout"), ("POST", "/h/{token}"), ("POST", "/h/{token}/comments")}
    problems = []
    for (method, path), allowed in ROUTES.items():
        if method != "POST" or (method, path) in exempt:
            continue
        subject = ADMIN if ADMIN in allowed else next(iter(sorted(allowed)))
        c = world.clients[subject]
        data = {k: v for k, v in _form(world, c, method, path).items() if k != "csrf"}
        r = c.post(_url(world, path), data=data, follow_redirects=False)
        if r.status_code != 400:
            problems.append(f"{method} {path} as {subject} without CSRF: {r.status_code}")
    assert not problems, "\n".join(problems)


# -- websockets -------------------------------------------------------------------------------


def _connect(world: World, subject: str, audience: str) -> bool:
    c = world.clients[subject]
    url = f"/ws/{world.session_id}/{audience}"
    if audience == "projector?key":
        url = f"/ws/{world.session_id}/projector?key={world.people.services.projector_key(world.session_id)}"
    try:
        with c.websocket_connect(url) as ws:
            return bool(ws.receive_text())
    except WebSocketDisconnect as closed:
        assert closed.code == 1008, (subject, audience, closed.code)
        return False


def test_every_websocket_audience_as_every_role_and_as_nobody(world: World) -> None:
    problems = []
    for audience, allowed in AUDIENCES.items():
        for subject in SUBJECTS:
            ok = _connect(world, subject, audience)
            if ok != (subject in allowed):
                problems.append(f"{audience} as {subject}: {'connected' if ok else 'refused'}")
    assert not problems, "\n".join(problems)


def test_every_message_type_is_in_the_table() -> None:
    assert set(MESSAGES) == set(ws_messages.MESSAGES), (
        "websocket message types and tests/security/test_authz_matrix.py MESSAGES differ: "
        f"{sorted(set(MESSAGES) ^ set(ws_messages.MESSAGES))}"
    )


BARRIER = '{"type": "barrier-marker"}'


def _until_barrier(ws: Any, unknown: str) -> list[str]:
    out = []
    for _ in range(200):
        message = ws.receive_text()
        if 'id="flash"' in message and unknown in message:
            return out
        out.append(message)
    raise AssertionError("no reply to the barrier")


def test_every_message_type_from_every_screen(world: World) -> None:
    svc = world.people.services
    lang = svc.rooms[world.session_id].lang if world.session_id in svc.rooms else "da"
    gettext = translations(lang).gettext
    forbidden = html.escape(gettext("You cannot do that from this screen."), quote=False)
    unknown = html.escape(gettext("This action is not known."), quote=False)
    key = svc.projector_key(world.session_id)
    # The facilitator last, and end_session last: it ends the session (and with
    # it the projector link) for the rest of the loop.
    screens = {
        "participant": (world.clients[PARTICIPANT], f"/ws/{world.session_id}/participant"),
        "projector": (world.clients[NOBODY], f"/ws/{world.session_id}/projector?key={key}"),
        "facilitator": (world.clients[FACILITATOR], f"/ws/{world.session_id}/facilitator"),
    }
    problems = []
    order = sorted(MESSAGES, key=lambda name: name == "end_session")
    for screen, (c, url) in screens.items():
        for name in order:
            # One connection per message: the rate limit (40 at once) is not what is tested.
            with c.websocket_connect(url) as ws:
                ws.receive_text()
                ws.send_text(json.dumps({"type": name}))
                ws.send_text(BARRIER)
                try:
                    refused = any(forbidden in m for m in _until_barrier(ws, unknown))
                except WebSocketDisconnect as closed:
                    raise AssertionError(
                        f"{name} from the {screen} closed it: {closed.code}"
                    ) from None
            if refused == (screen in MESSAGES[name]):
                problems.append(f"{name} from the {screen}: {'refused' if refused else 'taken'}")
    assert not problems, "\n".join(problems)

"""No CPR number typed into any form of the app reaches the database (issue 14).

An engagement is filled as the Varde demo is (register, focus areas, one
session of each kind, a consultation), its sessions are driven until every
form exists (a kick-off with decisions, themes, a counted prioritisation, plan
rows, a case meeting with someone at the door, decisions and actions to
reword), and then every page the route table has is opened as the
administrator, as a visitor and as a consultation reader. Every form found
that posts to a route is sent once per field that takes text, with a CPR
number in that field and working values in the others (each post its own
number, so a leak names its field). At the end every column of every table
is read: no number may be there unmasked.

A POST route no page offers a form for fails the test, unless
``NOT_ON_ANY_PAGE`` says why it takes no text.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlmodel import SQLModel
from starlette.routing import Route
from starlette.testclient import TestClient

from server import demo
from server.engagement import consultation, store
from server.engagement import plan as engagement_plan
from server.engine import Actor, ActorRole, CommandRejected, lobby
from server.engine.commands import (
    AddAction,
    AddCard,
    AddCluster,
    GoToStep,
    GroupCard,
    Join,
    RecordDecision,
    StartSession,
)
from server.engine.registry import Command
from server.engine.steps.poll import CastBallot, ClosePoll, OpenPoll
from server.privacy.cpr import MASK
from server.web.services import Services
from tests.security.sec_support import cast

NOT_ON_ANY_PAGE = {
    "/login/totp": "a six-digit code and the signed token of the password step; nothing is stored",
    "/account/totp/disable": "a six-digit code, offered once a second factor is on",
}
"""POST routes the crawl cannot reach, and why no text of theirs is stored."""

SKIPPED_PAGES = re.compile(r"\.(pdf|docx|csv|md|json|txt|ics|svg)$|^/static|^/healthz$")
"""Downloads (tests/minutes, test_security_xss) and files: no forms there."""

FAC = Actor(ActorRole.FACILITATOR, "user:1")


def p(pid: str) -> Actor:
    return Actor(ActorRole.PARTICIPANT, pid)


# -- a CPR number per post ------------------------------------------------------------------------

SERIAL = "4321"
FOUND = re.compile(
    rf"(?<!\d)(\d{{6}})[ \t\u00a0\u2007\u2009\u202f]*[-\u2010-\u2015\u2212\ufe63\uff0d]?"
    rf"[ \t\u00a0\u2007\u2009\u202f]*{SERIAL}(?!\d)"
)


def cpr_numbers() -> Iterator[str]:
    """Real dates (so the masking must catch them), each one once."""
    for year, month, day in itertools.product(range(90, 100), range(1, 13), range(1, 29)):
        yield f"{day:02d}{month:02d}{year:02d}-{SERIAL}"


# -- forms as the pages have them -------------------------------------------------------------------

TEXT_INPUTS = {"", "text", "search", "email", "tel", "url", "date", "time", "number", "hidden"}


@dataclass
class Form:
    page: str
    action: str
    multipart: bool
    fields: dict[str, str] = field(default_factory=dict)  # name -> default value
    kinds: dict[str, str] = field(default_factory=dict)  # name -> "text", "hidden", "file", ...
    button: tuple[str, str] | None = None  # the first named submit button

    def texts(self) -> list[str]:
        """Fields a person (or a forged request) can put text in; never the CSRF token."""
        return [
            name
            for name, kind in self.kinds.items()
            if name != "csrf" and kind in (TEXT_INPUTS | {"textarea", "file"})
        ]


class FormParser(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._textarea: str | None = None
        self._select: str | None = None
        self._select_first: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            if a.get("method", "get").lower() == "post":
                action = a.get("action") or a.get("hx-post") or self.page
                multipart = a.get("enctype", "") == "multipart/form-data"
                self._form = Form(self.page, action, multipart)
            return
        form = self._form
        if form is None or not (name := a.get("name")):
            return
        if tag == "input":
            kind = a.get("type", "").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    form.fields[name], form.kinds[name] = a.get("value", "on"), kind
                elif name not in form.fields:
                    form.fields[name], form.kinds[name] = "", kind
                return
            if kind in ("submit", "button", "reset", "image"):
                return
            form.fields[name], form.kinds[name] = a.get("value", ""), kind
            if kind == "" and a.get("inputmode") == "numeric":
                form.kinds[name] = "number"
        elif tag == "textarea":
            form.fields[name], form.kinds[name] = "", "textarea"
            self._textarea = name
        elif tag == "select":
            self._select, self._select_first = name, None
            form.fields[name], form.kinds[name] = "", "select"
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._select_first is None:
                self._select_first = value
                form.fields[self._select] = value
            if "selected" in a:
                form.fields[self._select] = value
        elif tag == "button" and form.button is None and a.get("type", "submit") == "submit":
            form.button = (name, a.get("value", ""))

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea is not None:
            self._form.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None


def forms_in(page: str, html: str) -> list[Form]:
    parser = FormParser(page)
    parser.feed(html)
    return parser.forms


# -- the engagement, filled until every form is there --------------------------------------------


@dataclass
class Filled:
    services: Services
    engagement_id: str
    sessions: dict[str, str]  # script id -> session id
    case_id: str
    consultation_id: str
    token: str
    access_code: str
    join_code: str  # the case meeting with someone at its door


async def _submit(svc: Services, session_id: str, *commands: Command) -> None:
    live = await svc.live.get(session_id)
    assert live is not None
    for command in commands:
        out = await live.submit(command)
        assert not isinstance(out, CommandRejected), (command, out)


async def fill(svc: Services, engagement_id: str, facilitator: Any) -> Filled:
    eng = await store.engagement(svc.repo, engagement_id)
    assert eng is not None
    await demo.seed_engagement(svc, eng, facilitator)
    kvifa = await svc.create_session(engagement_id, "kvifa", facilitator)
    sessions = {row.script_id: row.id for row in await svc.repo.sessions_of(engagement_id)}
    sessions["kvifa"] = kvifa.id
    # A case meeting with decisions and actions to reword, and a person at the door.
    await _submit(
        svc,
        kvifa.id,
        StartSession(actor=FAC),
        lobby.AskToJoin(actor=p("door"), name="Ole"),
        GoToStep(actor=FAC, step_id="beslutning"),
        RecordDecision(actor=FAC, decision_id="d1", text="Netværksmøde", decided_by="Teamet"),
        AddAction(actor=FAC, action_id="a1", what="Indkalde", who="Mette", due="uge 12"),
    )
    # The kick-off's decisions are the focus points.
    await _submit(
        svc,
        sessions["opstartsworkshop"],
        StartSession(actor=FAC),
        GoToStep(actor=FAC, step_id="enighed"),
        RecordDecision(actor=FAC, decision_id="d1", text="Barnets perspektiv"),
    )
    # The full-day meeting's themes become proposed focus areas.
    await _submit(
        svc,
        sessions["heldagsmoede"],
        StartSession(actor=FAC),
        GoToStep(actor=FAC, step_id="temaer"),
        AddCluster(actor=FAC, cluster_id="t1", title="Tidlig indsats"),
        AddCard(actor=FAC, card_id="c1", text="Underretninger ses samlet"),
        GroupCard(actor=FAC, card_id="c1", cluster_id="t1"),
    )
    # The implementation workshop's prioritisation, counted.
    workshop = sessions["implementeringsworkshop"]
    await _submit(
        svc,
        workshop,
        Join(actor=p("a"), name="Anne"),
        StartSession(actor=FAC),
        GoToStep(actor=FAC, step_id="prioritering"),
        OpenPoll(actor=FAC, poll_id="prioritering"),
    )
    live = await svc.live.get(workshop)
    assert live is not None
    options = [option_id for option_id, _ in live.state.polls["prioritering"].options]
    await _submit(
        svc,
        workshop,
        CastBallot(
            actor=p("a"),
            poll_id="prioritering",
            ballot_id="b1",
            voter="anon-a",
            payload=tuple(options),
        ),
        ClosePoll(actor=FAC, poll_id="prioritering"),
    )
    # A plan row to edit and to report status on.
    areas = await store.focus_areas_of(svc.repo, engagement_id)
    await engagement_plan.add_row(
        svc.repo,
        engagement_id,
        areas[0].id,
        {"owner": "Leder", "purpose": "Formål"},
        session_id=workshop,
    )
    (hearing,) = await consultation.consultations_of(svc.repo, engagement_id)
    cases = await store.cases_of(svc.repo, engagement_id)
    return Filled(
        svc,
        engagement_id,
        sessions,
        cases[0].id,
        hearing.id,
        hearing.link_token,
        hearing.access_code,
        kvifa.join_code,
    )


# -- the crawl ---------------------------------------------------------------------------------------


def _pattern(path: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\{(\w+)\\}", r"[^/]+", re.escape(path)))


def urls(filled: Filled, path: str) -> list[str]:
    values: dict[str, list[str]] = {
        "engagement_id": [filled.engagement_id],
        "session_id": sorted(filled.sessions.values()),
        "case_id": [filled.case_id],
        "consultation_id": [filled.consultation_id],
        "token": [filled.token],
        "code": [filled.join_code],
    }
    names = re.findall(r"{(\w+)}", path)
    missing = [n for n in names if n not in values]
    assert not missing, f"test_cpr_in_forms: say how to fill the path parameter(s) {missing}"
    out = []
    for combo in itertools.product(*(values[n] for n in names)):
        url = path
        for name, value in zip(names, combo, strict=True):
            url = url.replace("{" + name + "}", value)
        out.append(url)
    return out


def csrf_token(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html) or re.search(
        r'"X-CSRF-Token"\s*:\s*"([^"]+)"', html
    )
    return found.group(1) if found else ""


@dataclass
class Found:
    route: str
    form: Form
    browser: TestClient
    token: str


def crawl(
    app: Any, filled: Filled, browsers: dict[str, TestClient]
) -> dict[tuple[Any, ...], Found]:
    """Every form every page offers, once per (route, field names): the fullest one wins."""
    posts = {
        route.path: _pattern(route.path)
        for route in app.routes
        if isinstance(route, Route) and "POST" in (route.methods or ())
    }
    pages = [
        route.path
        for route in app.routes
        if isinstance(route, Route)
        and "GET" in (route.methods or ())
        and not SKIPPED_PAGES.search(route.path)
    ]
    found: dict[tuple[Any, ...], Found] = {}
    for path in pages:
        for url in urls(filled, path):
            for who, browser in browsers.items():
                if who == "reader" and not url.startswith("/h/"):
                    continue
                r = browser.get(url)
                if r.status_code != 200 or "text/html" not in r.headers.get("content-type", ""):
                    continue
                for form in forms_in(r.url.path, r.text):
                    action = urlsplit(form.action).path
                    route = next((t for t, rx in posts.items() if rx.fullmatch(action)), None)
                    assert route is not None, f"{url}: a form posts to {action}, which is no route"
                    key = (route, frozenset(form.fields))
                    filled_in = sum(1 for v in form.fields.values() if v)
                    best = found.get(key)
                    if best is None or filled_in > sum(1 for v in best.form.fields.values() if v):
                        found[key] = Found(route, form, browser, csrf_token(r.text))
    return found


# -- sending each field a CPR number ---------------------------------------------------------------


def register(cpr: str) -> str:
    """A case register as a spreadsheet exports it, the number in every free-text column."""
    return (
        "Sag;Forklæde;Resumé;Læringsspørgsmål;Fokuspunkter\r\n"
        f"Sag 9{cpr[:4]};Forklæde om barn {cpr};Resumé {cpr};Hvornår blev {cpr} hørt?;"
        f"tema {cpr}\r\n"
    )


def working_value(form: Form, name: str, filled: Filled) -> str:
    """A value the form accepts, for the fields that are not the one under test."""
    value = form.fields[name]
    if value or form.kinds[name] in ("checkbox", "radio", "select", "file"):
        return value
    kind = form.kinds[name]
    if kind == "date":
        return "2031-06-03"
    if kind == "number":
        return "10"
    if name == "code" and form.action.startswith("/h/"):
        return filled.access_code
    if name == "code" and form.action == "/join":
        return filled.join_code
    return "Almindelig tekst"


def hostile_value(form: Form, name: str, cpr: str) -> str:
    if form.kinds[name] == "hidden":
        return cpr  # an id or a token: the number alone, as an id would be
    if name == "text" and form.action.endswith("/cases/import"):
        return register(cpr)
    return f"Barn {cpr} er nævnt"


def send(found: Found, name: str, cpr: str, filled: Filled) -> int:
    form = found.form
    data: dict[str, str] = {}
    files: dict[str, tuple[str, bytes, str]] = {}
    for other in form.fields:
        if form.kinds[other] == "file":
            if other == name:
                files[other] = ("register.csv", register(cpr).encode("utf-8"), "text/csv")
            continue
        if form.kinds[other] in ("checkbox", "radio") and not form.fields[other]:
            continue  # not ticked: not sent
        data[other] = (
            hostile_value(form, other, cpr) if other == name else working_value(form, other, filled)
        )
    if form.button:
        data.setdefault(*form.button)
    headers = {"X-CSRF-Token": found.token} if found.token else {}
    r = found.browser.post(
        form.action, data=data, files=files or None, headers=headers, follow_redirects=False
    )
    assert r.status_code < 500, (form.action, name, r.status_code)
    return r.status_code


# -- reading the database back ------------------------------------------------------------------------


async def everything_stored(svc: Services) -> list[tuple[str, str, str]]:
    """(table, column, value as text) for every value of every row of every table."""
    out = []
    async with svc.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            for row in (await conn.execute(select(table))).mappings():
                for column, value in row.items():
                    if isinstance(value, bytes | bytearray):
                        text = bytes(value).decode("utf-8", "replace")
                    elif isinstance(value, dict | list):
                        text = json.dumps(value, ensure_ascii=False)
                    else:
                        text = "" if value is None else str(value)
                    out.append((table.name, str(column), text))
    return out


def test_no_form_field_stores_a_cpr_number(
    client: TestClient, new_browser: Callable[[], TestClient]
) -> None:
    people = cast(client, new_browser)
    svc = people.services
    filled = client.portal.call(fill, svc, people.engagement_id, people.users["facilitator"])

    reader = new_browser()
    page = reader.get(f"/h/{filled.token}")
    r = reader.post(
        f"/h/{filled.token}",
        data={"csrf": csrf_token(page.text), "code": filled.access_code},
        follow_redirects=False,
    )
    assert r.status_code in (200, 303), r.text[:300]
    browsers = {"admin": people.browsers["admin"], "visitor": new_browser(), "reader": reader}
    found = crawl(client.app, filled, browsers)

    seen_routes = {f.route for f in found.values()}
    post_routes = {
        route.path
        for route in client.app.routes
        if isinstance(route, Route) and "POST" in (route.methods or ())
    }
    unseen = sorted(post_routes - seen_routes - set(NOT_ON_ANY_PAGE))
    assert not unseen, (
        f"no page offers a form for {unseen}: fill the engagement in `fill` until one does, "
        "or say in NOT_ON_ANY_PAGE why the route takes no text"
    )

    numbers = cpr_numbers()
    sent: dict[str, str] = {}  # the date part -> "route field"
    outcomes: dict[str, int] = {}
    for key in sorted(found, key=lambda k: (k[0], sorted(k[1]))):
        item = found[key]
        for name in item.form.texts():
            cpr = next(numbers)
            sent[cpr[:6]] = f"{item.route} [{name}] (form on {item.form.page})"
            outcomes[sent[cpr[:6]]] = send(item, name, cpr, filled)
    assert len(sent) > 40, f"only {len(sent)} fields were tried: {sorted(sent.values())}"
    accepted = [where for where, status in outcomes.items() if status in (200, 204, 303)]
    assert len(accepted) > 20, f"too few posts were accepted to show anything: {outcomes}"

    stored = client.portal.call(everything_stored, svc)
    leaks = sorted(
        {
            f"{sent[m.group(1)]} -> {table}.{column}: {text[max(0, m.start() - 60) : m.end() + 20]!r}"
            for table, column, text in stored
            for m in FOUND.finditer(text)
            if m.group(1) in sent
        }
    )
    assert not leaks, "a CPR number typed into a form was stored:\n" + "\n".join(leaks)
    assert any(MASK in text for _, _, text in stored), "nothing was masked: did any post land?"

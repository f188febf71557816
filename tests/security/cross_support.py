"""Two engagements for tests/security/test_authz_cross.py: A full of children, B beside it.

Engagement A is `sec_support.cast`'s engagement (one member per role). It gets
one of each child: a case in the register (selected), focus areas, a case
meeting (cards, a theme, a decision, an action, someone let in and someone
still at the door), an implementation workshop with a counted ranking, a
consultation with a comment, a plan row with a status update. Every text of
A's carries the marker `MARK`, so one search of a response body says whether
anything of A's showed.

Engagement B has A's facilitator (as facilitator) and coordinator (as
coordinator), so a request on B's URLs passes the permission check, plus a
facilitator, a coordinator and an observer who are members of B only.
"""

from __future__ import annotations

import contextlib
import io
import sqlite3
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from server.engagement import consultation as hearing
from server.engagement import focus_areas as areas
from server.engagement import plan as dev_plan
from server.engagement import status as plan_status
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
from server.engine.steps.poll import AssignHorizon, CastBallot, ClosePoll, OpenPoll
from server.privacy import retention
from server.store.repo import new_id
from server.store.tables import Case
from server.web.services import Services
from tests.security.sec_support import Cast, cast, form_token, log_in
from tests.support import PASSWORD

MARK = "Qxalfa"
"""In every text engagement A holds (and in nothing else): found in a body = A leaked."""

CASE = {
    "label": f"Sag {MARK}",
    "cover": f"{MARK} forklæde: barnet bor hos sin moster",
    "summary": f"{MARK} resumé: underretning fra skolen",
    "learning_question": f"{MARK} læringsspørgsmål: blev barnet hørt",
    "tags": f"{MARK} barnets stemme",
    "selection_reason": f"{MARK} begrundelse: viser et mønster",
}
AREA_TITLES = (f"{MARK} område: barnets stemme", f"{MARK} område: opfølgning")
AREA_DESCRIPTION = f"{MARK} beskrivelse af området"
CARD = f"{MARK} kort: barnet skal høres før afgørelsen"
THEME = f"{MARK} tema: høring af børn"
DECISION = f"{MARK} beslutning: børnesamtale i alle sager"
ACTION = f"{MARK} handling: skabelon til børnesamtale"
ACTION_WHO = f"{MARK} ansvarlig"
PERSON = f"{MARK} Deltager Inde"
KNOCKER = f"{MARK} Banker På"
VOTER = f"{MARK} Stemmer"
OWNER = f"{MARK} Ejer"
WORKSHOP_DECISION = f"{MARK} beslutning i workshoppen"
HEARING = f"{MARK} høring"
COMMENT = f"{MARK} kommentar fra modtagelsen"
COMMENT_AUTHOR = f"{MARK} Modtagelsen"
PURPOSE = f"{MARK} formål med rækken"
STATUS_NOTE = f"{MARK} statusnote"

# A's item ids inside its sessions (not secret: they are in URLs and forms).
CARD_ID, THEME_ID = "alfa-card", "alfa-theme"
DECISION_ID, ACTION_ID, WORKSHOP_DECISION_ID = "alfa-d1", "alfa-a1", "alfa-wd1"
INSIDE_ID, KNOCK_ID = "alfa-inside", "alfa-knock"

B_ONLY = ("b_facilitator", "b_coordinator", "b_observer")
FLASH_COOKIE = "tv_flash"


def fac_actor(user_id: int | None) -> Actor:
    return Actor(ActorRole.FACILITATOR, f"user:{user_id}")


def p(pid: str) -> Actor:
    return Actor(ActorRole.PARTICIPANT, pid)


@dataclass
class Alfa:
    """A's children: ids to put in URLs and forms, secrets that must not show."""

    case_id: str
    area_ids: tuple[str, ...]
    meeting_id: str  # a case meeting (heldagsmoede): the wall, cards, theme, decision, action
    workshop_id: str  # an implementation workshop with a counted ranking
    consultation_id: str
    link_token: str
    access_code: str
    row_id: str

    @property
    def secrets(self) -> tuple[str, ...]:
        """Besides MARK: what only A's pages show (the consultation's link and code)."""
        return (self.link_token, self.access_code)

    @property
    def ids(self) -> tuple[str, ...]:
        """Every id of A's: none of them may end up in B's rows."""
        return (
            self.case_id,
            *self.area_ids,
            self.meeting_id,
            self.workshop_id,
            self.consultation_id,
            self.link_token,
            self.access_code,
            self.row_id,
            CARD_ID,
            THEME_ID,
            DECISION_ID,
            ACTION_ID,
            WORKSHOP_DECISION_ID,
            INSIDE_ID,
            KNOCK_ID,
        )


@dataclass
class Two:
    people: Cast  # engagement A with every role, an outsider and the admin
    b_id: str
    b_session_id: str
    alfa: Alfa
    b_browsers: dict[str, TestClient] = field(default_factory=dict)
    _tokens: dict[int, str] = field(default_factory=dict)
    _queries: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    @property
    def services(self) -> Services:
        return self.people.services

    @property
    def a_id(self) -> str:
        return self.people.engagement_id

    def csrf(self, c: TestClient) -> str:
        """The browser's CSRF token (read once: the cookie does not change)."""
        if id(c) not in self._tokens:
            self._tokens[id(c)] = form_token(c)
        return self._tokens[id(c)]


async def submit_all(svc: Services, session_id: str, commands: Iterable[Command]) -> None:
    live = await svc.live.get(session_id)
    assert live is not None
    for command in commands:
        out = await live.submit(command)
        assert not isinstance(out, CommandRejected), (command, out)


async def seed_alfa(svc: Services, engagement_id: str, users: dict[str, Any]) -> Alfa:
    """One of each child in engagement A (through the same code the pages use)."""
    repo = svc.repo
    fac = users["facilitator"]
    actor = fac_actor(fac.id)
    case_id = new_id()
    async with repo.sessions() as db:
        db.add(Case(id=case_id, engagement_id=engagement_id, selected=True, **CASE))
        await db.commit()
    made = [
        (await areas.add_focus_area(repo, engagement_id, title, AREA_DESCRIPTION))[0]
        for title in AREA_TITLES
    ]
    area_ids = tuple(a.id for a in made)

    meeting = await svc.create_session(engagement_id, "heldagsmoede", fac)
    await submit_all(
        svc,
        meeting.id,
        [
            StartSession(actor=actor),
            GoToStep(actor=actor, step_id="sager-formiddag"),
            AddCard(actor=actor, card_id=CARD_ID, text=CARD),
            GoToStep(actor=actor, step_id="temaer"),
            AddCluster(actor=actor, cluster_id=THEME_ID, title=THEME),
            GroupCard(actor=actor, card_id=CARD_ID, cluster_id=THEME_ID),
            GoToStep(actor=actor, step_id="naeste-skridt"),
            RecordDecision(actor=actor, decision_id=DECISION_ID, text=DECISION),
            AddAction(actor=actor, action_id=ACTION_ID, what=ACTION, who=ACTION_WHO),
            lobby.AskToJoin(actor=p(INSIDE_ID), name=PERSON),
            lobby.Admit(actor=actor, participant_id=INSIDE_ID),
            lobby.AskToJoin(actor=p(KNOCK_ID), name=KNOCKER),
        ],
    )

    workshop = await svc.create_session(engagement_id, "implementeringsworkshop", fac)
    voters = ("alfa-v1", "alfa-v2")
    await submit_all(
        svc,
        workshop.id,
        [
            StartSession(actor=actor),
            *(Join(actor=p(v), name=f"{VOTER} {i}") for i, v in enumerate(voters)),
            GoToStep(actor=actor, step_id="prioritering"),
            OpenPoll(actor=actor, poll_id="prioritering"),
            *(
                CastBallot(
                    actor=p(v),
                    poll_id="prioritering",
                    ballot_id=f"b-{v}",
                    voter=f"anon-{v}",
                    payload=area_ids,
                )
                for v in voters
            ),
            ClosePoll(actor=actor, poll_id="prioritering"),
            *(
                AssignHorizon(
                    actor=actor, poll_id="prioritering", option_id=a, horizon="short", owner=OWNER
                )
                for a in area_ids
            ),
            GoToStep(actor=actor, step_id="beslutninger"),
            RecordDecision(actor=actor, decision_id=WORKSHOP_DECISION_ID, text=WORKSHOP_DECISION),
        ],
    )

    opened = await hearing.open_consultation(
        repo, engagement_id, title=HEARING, days="12", session_id=None, user_id=fac.id
    )
    found = opened.consultation
    await hearing.add_comment(
        repo, found, focus_area_id=area_ids[0], text=COMMENT, author=COMMENT_AUTHOR
    )
    row, _ = await dev_plan.add_row(
        repo, engagement_id, area_ids[0], {"owner": OWNER, "purpose": PURPOSE}
    )
    await plan_status.update_status(
        repo,
        engagement_id,
        row.id,
        status="on_track",
        note=STATUS_NOTE,
        session=None,
        user_id=fac.id,
    )
    return Alfa(
        case_id=case_id,
        area_ids=area_ids,
        meeting_id=meeting.id,
        workshop_id=workshop.id,
        consultation_id=found.id,
        link_token=found.link_token,
        access_code=found.access_code,
        row_id=row.id,
    )


def two_engagements(client: TestClient, new_browser: Callable[[], TestClient]) -> Two:
    people = cast(client, new_browser)
    svc = people.services
    users = people.users

    async def seed() -> tuple[str, str, Alfa]:
        alfa = await seed_alfa(svc, people.engagement_id, users)
        only = {name: await svc.repo.add_user(name, PASSWORD, name) for name in B_ONLY}
        members = {
            users["facilitator"].id or 0: "facilitator",
            users["coordinator"].id or 0: "coordinator",
            only["b_facilitator"].id or 0: "facilitator",
            only["b_coordinator"].id or 0: "coordinator",
            only["b_observer"].id or 0: "observer",
        }
        bravo = await svc.repo.add_engagement("Bravo", "Bravo Kommune", members)
        row = await svc.create_session(bravo.id, "opstartsworkshop", users["facilitator"])
        actor = fac_actor(users["facilitator"].id)
        await submit_all(
            svc,
            row.id,
            [
                StartSession(actor=actor),
                RecordDecision(actor=actor, decision_id="bravo-d1", text="Bravo beslutning"),
                AddAction(actor=actor, action_id="bravo-a1", what="Bravo handling", who="Bo"),
            ],
        )
        return bravo.id, row.id, alfa

    b_id, b_session_id, alfa = client.portal.call(seed)
    two = Two(people, b_id, b_session_id, alfa)
    for name in B_ONLY:
        browser = new_browser()
        log_in(browser, name)
        two.b_browsers[name] = browser
    return two


# -- what an engagement holds, to compare before and after ------------------------------------


Snapshot = tuple[dict[str, list[tuple[Any, ...]]], dict[str, tuple[int, Any]]]


def _queries(engagement_id: str) -> list[tuple[str, str]]:
    """SQL for every row the engagement owns (retention's classification, so new tables
    come along), compiled once: read with the standard library's sqlite3, which is
    much quicker between two requests than a round trip through the app's loop."""
    owned = retention.owned_tables()
    names = {t.name for t in owned}
    dialect = sqlite.dialect()
    out = []
    for table in owned:
        query = select(table).where(retention._condition(table, engagement_id, names))
        sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        out.append((table.name, sql))
    return out


def snapshot(two: Two, engagement_id: str) -> Snapshot:
    """Every row the engagement owns, and the live state of each of its sessions."""
    url = make_url(two.services.settings.db_url)
    assert url.get_backend_name() == "sqlite" and url.database, url
    if engagement_id not in two._queries:
        two._queries[engagement_id] = _queries(engagement_id)
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with contextlib.closing(sqlite3.connect(f"file:{url.database}?mode=ro", uri=True)) as db:
        for name, sql in two._queries[engagement_id]:
            rows[name] = sorted(db.execute(sql).fetchall(), key=repr)
        session_ids = [
            r[0]
            for r in db.execute("SELECT id FROM session WHERE engagement_id = ?", (engagement_id,))
        ]
    live: dict[str, tuple[int, Any]] = {}
    for session_id in session_ids:
        running = two.services.live.sessions.get(session_id)
        if running is not None:
            live[session_id] = (running.seq, running.state)
    return rows, live


def changes(before: Snapshot, after: Snapshot) -> list[str]:
    """What differs between two snapshots, by table / session (for a message)."""
    out = [
        name
        for name in sorted(set(before[0]) | set(after[0]))
        if before[0].get(name) != after[0].get(name)
    ]
    out += [
        f"live session {sid}"
        for sid in sorted(set(before[1]) | set(after[1]))
        if before[1].get(sid) != after[1].get(sid)
    ]
    return out


def foreign_in(snap: Snapshot, alfa: Alfa) -> list[str]:
    """A's texts or ids found in (B's) snapshot."""
    blob = repr(snap)
    return [x for x in (MARK, *alfa.ids) if x in blob]


# -- responses ---------------------------------------------------------------------------------


def body_text(response: Any) -> str:
    """A response's text, with the members of a zip (docx, export) unpacked."""
    content: bytes = response.content
    if content[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                return "\n".join(
                    archive.read(n).decode("utf-8", "replace") for n in archive.namelist()
                )
        except zipfile.BadZipFile:
            pass
    return content.decode("utf-8", "replace")


def leaks(two: Two, response: Any) -> list[str]:
    text = body_text(response)
    return [x for x in (MARK, *two.alfa.secrets) if x in text]


def flash_kinds(two: Two, response: Any) -> list[str]:
    """The kinds ("ok", "error", ...) of the messages a redirect carries to the next page."""
    raw = response.cookies.get(FLASH_COOKIE)
    if not raw:
        return []
    signer = URLSafeSerializer(two.services.settings.secret_keys, salt="flash")
    try:
        items = signer.loads(raw)
    except BadSignature:
        return ["unreadable"]
    return [str(item[0]) for item in items if isinstance(item, list) and item]

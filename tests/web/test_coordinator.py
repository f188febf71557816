"""The coordinator page, the minutes preview, every download, and editing the wording."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

import docx
import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from server.engine import Actor, ActorRole, CommandRejected
from server.engine.commands import (
    AddAction,
    AddCard,
    AgreeNextMeeting,
    EndSession,
    GoToStep,
    Join,
    RecordDecision,
    SetCaseOwner,
    StartSession,
)
from server.engine.events import DecisionEdited
from server.engine.registry import Command
from server.store.tables import AuditLog
from server.web.pages.coordinator import content_disposition, slug
from tests.support import PASSWORD, World, csrf_of

FAC = Actor(ActorRole.FACILITATOR, "user:1")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ALWAYS = {
    "minutes.pdf": "application/pdf",
    "minutes.docx": DOCX,
    "minutes.md": "text/markdown; charset=utf-8",
    "minutes.json": "application/json",
    "decisions.csv": "text/csv; charset=utf-8",
    "actions.csv": "text/csv; charset=utf-8",
}


def submit(world: World, session_id: str, *commands: Command) -> None:
    live = world.fac.portal.call(world.services.live.get, session_id)
    assert live is not None
    for cmd in commands:
        out = world.fac.portal.call(live.submit, cmd)
        assert not isinstance(out, CommandRejected), out


def enter(world: World, session_id: str, pid: str, name: str) -> None:
    """Join; through the lobby (ask, then be let in) where the meeting has one."""
    actor = Actor(ActorRole.PARTICIPANT, pid)
    live = world.fac.portal.call(world.services.live.get, session_id)
    assert live is not None
    out = world.fac.portal.call(live.submit, Join(actor=actor, name=name))
    if isinstance(out, CommandRejected) and out.code == "lobby":
        from server.engine import lobby  # only in sessions whose script has a lobby

        submit(
            world,
            session_id,
            lobby.AskToJoin(actor=actor, name=name),
            lobby.Admit(actor=FAC, participant_id=pid),
        )
    else:
        assert not isinstance(out, CommandRejected), out


def kvifa(world: World, *, end: bool = True) -> str:
    """A Kvifa session run through the live actor, with æøå in every part."""
    session_id, _ = world.create_session("kvifa")

    def p(pid: str) -> Actor:
        return Actor(ActorRole.PARTICIPANT, pid)

    enter(world, session_id, "m", "Mette Søgaard")
    enter(world, session_id, "s", "Søren Bøgh")
    submit(
        world,
        session_id,
        StartSession(actor=FAC),
        SetCaseOwner(actor=FAC, participant_id="m"),
        GoToStep(actor=FAC, step_id="loesningsforslag"),
        AddCard(actor=p("s"), card_id="c1", text="Børnesamtale på skolen"),
        GoToStep(actor=FAC, step_id="beslutning"),
        RecordDecision(
            actor=FAC,
            decision_id="d1",
            text="Første beslutning: netværksmøde",
            decided_by="Sagsejer",
        ),
        RecordDecision(
            actor=FAC, decision_id="d2", text="Anden beslutning: børnesamtale på skolen"
        ),
        AddAction(
            actor=FAC,
            action_id="a1",
            what="Indkalde til møde",
            who="Mette Søgaard",
            due="2025-03-18",
        ),
        AddAction(actor=FAC, action_id="a2", what="Sende materiale om ærlighed", who="Søren Bøgh"),
    )
    if end:
        submit(world, session_id, EndSession(actor=FAC))
    return session_id


def login_as(browser: TestClient, world: World, username: str) -> None:
    world.fac.portal.call(world.services.repo.add_user, username, PASSWORD, username.title())
    r = browser.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf": csrf_of(browser), "next": ""},
        follow_redirects=False,
    )
    assert r.status_code == 303


def audit_rows(world: World) -> list[AuditLog]:
    async def rows() -> list[AuditLog]:
        async with world.services.repo.sessions() as db:
            return list((await db.exec(select(AuditLog))).all())

    return world.fac.portal.call(rows)


def pdftotext(pdf: bytes) -> str:
    exe = shutil.which("pdftotext")
    if exe is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    done = subprocess.run(
        [exe, "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return re.sub(r"\s+", " ", done.stdout.decode("utf-8"))


# -- pages ----------------------------------------------------------------------------------


def test_coordinator_page_lists_the_engagements_sessions(world: World) -> None:
    session_id = kvifa(world)
    r = world.fac.get("/coordinator")
    assert r.status_code == 200
    assert "Varde" in r.text
    assert "Faglig sparring i team (Kvifa)" in r.text
    assert f"/facilitator/sessions/{session_id}/minutes" in r.text
    assert f"/facilitator/sessions/{session_id}/minutes.pdf" in r.text
    # The status comes from the log: this session has ended, the new one is planned.
    world.create_session("kvifa")
    english = world.fac.get("/coordinator?lang=en").text
    assert english.count("<td>ended</td>") == 1 and english.count("<td>planned</td>") == 1


def test_anonymous_is_sent_to_login(client: TestClient, world: World) -> None:
    session_id = kvifa(world)
    anonymous = TestClient(client.app, base_url="http://testserver")
    anonymous.portal = client.portal
    for path in (
        "/coordinator",
        f"/facilitator/sessions/{session_id}/minutes",
        f"/facilitator/sessions/{session_id}/minutes.pdf",
    ):
        r = anonymous.get(path, follow_redirects=False)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/login?next=")


def test_minutes_page_previews_and_offers_every_download(world: World) -> None:
    session_id = kvifa(world)
    r = world.fac.get(f"/facilitator/sessions/{session_id}/minutes")
    assert r.status_code == 200
    page = r.text
    assert "Første beslutning: netværksmøde" in page
    assert "Indkalde til møde" in page
    assert "Børnesamtale på skolen" in page  # the card
    for name in (*ALWAYS, "journal-note.txt"):
        assert f"/facilitator/sessions/{session_id}/{name}" in page, name
    assert "next-meeting.ics" not in page and "plan.pdf" not in page
    # The journal note as copy-ready text: roles, not names.
    note = re.search(r'<textarea id="journal-text"[^>]*>(.*?)</textarea>', page, flags=re.S)
    assert note is not None
    assert "Første beslutning" in note.group(1)
    assert "Mette" not in note.group(1) and "Sagsejer" in note.group(1)


def test_every_download_for_a_member_with_type_name_and_audit(world: World) -> None:
    session_id = kvifa(world)
    base = f"/facilitator/sessions/{session_id}"
    for name, media_type in {**ALWAYS, "journal-note.txt": "text/plain; charset=utf-8"}.items():
        r = world.fac.get(f"{base}/{name}")
        assert r.status_code == 200, (name, r.text[:300])
        assert r.headers["content-type"] == media_type
        disposition = r.headers["content-disposition"]
        assert disposition.startswith("inline;" if name.endswith(".json") else "attachment;")
        ascii_name = re.search(r'filename="([^"]+)"', disposition)
        assert ascii_name and re.fullmatch(r"[a-z0-9.-]+", ascii_name.group(1)), disposition
        assert "filename*=UTF-8''" in disposition
        assert r.headers["cache-control"] == "no-store"
        assert r.content
    for name in ("next-meeting.ics", "plan.pdf", "plan.docx", "plan.csv"):
        assert world.fac.get(f"{base}/{name}").status_code == 404, name
    rows = [row for row in audit_rows(world) if row.action == "export"]
    assert sorted(row.target for row in rows) == sorted(
        f"{session_id}:{name}" for name in (*ALWAYS, "journal-note.txt")
    )
    assert all(
        row.user_id == world.user.id and row.engagement_id == world.engagement_id for row in rows
    )
    assert not any("beslutning" in row.target.lower() for row in rows)  # ids only, never text


def test_non_member_gets_404_and_nothing_is_audited(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    session_id = kvifa(world)
    outsider = new_browser()
    login_as(outsider, world, "bent")
    base = f"/facilitator/sessions/{session_id}"
    for path in (
        f"{base}/minutes",
        f"{base}/minutes.pdf",
        f"{base}/minutes.json",
        f"{base}/decisions.csv",
    ):
        r = outsider.get(path)
        assert r.status_code == 404, path
        assert "Første beslutning" not in r.text
    r = outsider.post(
        f"{base}/minutes/decisions/d1", data={"csrf": csrf_of(outsider), "text": "Hacked"}
    )
    assert r.status_code == 404
    overview = outsider.get("/coordinator")
    assert overview.status_code == 200
    assert "Varde" not in overview.text and session_id not in overview.text
    assert [row for row in audit_rows(world) if row.action == "export"] == []


def test_unknown_session_is_404(world: World) -> None:
    assert world.fac.get("/facilitator/sessions/nope/minutes").status_code == 404
    assert world.fac.get("/facilitator/sessions/nope/minutes.pdf").status_code == 404


# -- the documents' content --------------------------------------------------------------------


def test_downloaded_docx_and_pdf_hold_decisions_actions_and_danish_letters(world: World) -> None:
    session_id = kvifa(world)
    base = f"/facilitator/sessions/{session_id}"
    document = docx.Document(io.BytesIO(world.fac.get(f"{base}/minutes.docx").content))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    body = re.sub(r"\s+", " ", "\n".join(parts))
    pdf = pdftotext(world.fac.get(f"{base}/minutes.pdf").content)
    wanted = [
        "Første beslutning: netværksmøde",
        "Anden beslutning: børnesamtale på skolen",
        "Indkalde til møde",
        "Sende materiale om ærlighed",
    ]
    for text in (body, pdf):
        positions = [text.find(w) for w in wanted]
        assert all(x >= 0 for x in positions), (positions, text[:2000])
        assert positions == sorted(positions)
        assert "Søren Bøgh" in text and "Åse" not in text


def test_running_session_downloads_a_draft(world: World) -> None:
    session_id = kvifa(world, end=False)
    md = world.fac.get(f"/facilitator/sessions/{session_id}/minutes.md").text
    assert "UDKAST" in md
    page = world.fac.get(f"/facilitator/sessions/{session_id}/minutes").text
    assert "Udkast: mødet er ikke afsluttet" in page


def test_a_follow_up_offers_the_ics_and_a_workshop_the_plan(world: World) -> None:
    session_id, _ = world.create_session("opfoelgningsmoede")
    submit(
        world,
        session_id,
        StartSession(actor=FAC),
        GoToStep(actor=FAC, step_id="naeste-moede"),
        AgreeNextMeeting(
            actor=FAC, date="2025-06-12 kl. 10.00-12.00", goals=("Alle handleplaner har mål",)
        ),
        EndSession(actor=FAC),
    )
    r = world.fac.get(f"/facilitator/sessions/{session_id}/next-meeting.ics")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/calendar; charset=utf-8"
    assert "DTSTART:20250612T080000Z" in r.text
    assert f"UID:next-meeting-{session_id}@tovholder" in r.text
    assert "next-meeting.ics" in world.fac.get(f"/facilitator/sessions/{session_id}/minutes").text


def test_an_implementation_workshop_offers_the_development_plan(world: World) -> None:
    from server.engine.steps.poll import (
        AddPollOption,
        AssignHorizon,
        CastBallot,
        ClosePoll,
        OpenPoll,
    )

    session_id, _ = world.create_session("implementeringsworkshop")
    for pid in ("a", "b"):
        enter(world, session_id, pid, "")
    areas = (("fa1", "Barnets perspektiv"), ("fa2", "Tidlig indsats"), ("fa3", "Handleplaner"))
    submit(
        world,
        session_id,
        StartSession(actor=FAC),
        GoToStep(actor=FAC, step_id="prioritering"),
        *(AddPollOption(actor=FAC, poll_id="prioritering", option_id=i, label=t) for i, t in areas),
        OpenPoll(actor=FAC, poll_id="prioritering"),
        *(
            CastBallot(
                actor=Actor(ActorRole.PARTICIPANT, pid),
                poll_id="prioritering",
                ballot_id=f"b-{pid}",
                voter=f"anon-{pid}",
                payload=("fa2", "fa1", "fa3"),
            )
            for pid in ("a", "b")
        ),
        ClosePoll(actor=FAC, poll_id="prioritering"),
        AssignHorizon(
            actor=FAC, poll_id="prioritering", option_id="fa2", horizon="short", owner="Bo Ærø"
        ),
        EndSession(actor=FAC),
    )
    base = f"/facilitator/sessions/{session_id}"
    page = world.fac.get(f"{base}/minutes").text
    assert f"{base}/plan.pdf" in page and "Bo Ærø" in page
    for name, media_type in (("plan.pdf", "application/pdf"), ("plan.docx", DOCX)):
        r = world.fac.get(f"{base}/{name}")
        assert r.status_code == 200 and r.headers["content-type"] == media_type
        assert "udviklingsplan-" in r.headers["content-disposition"]
    csv = world.fac.get(f"{base}/plan.csv").content.decode("utf-8-sig").splitlines()
    assert csv[1].startswith("1;Tidlig indsats;Kort sigt;Bo Ærø")
    assert csv[2].startswith("2;Barnets perspektiv")


# -- editing the wording -------------------------------------------------------------------------


def edit(world: World, session_id: str, kind: str, item_id: str, **fields: Any) -> Any:
    return world.fac.post(
        f"/facilitator/sessions/{session_id}/minutes/{kind}/{item_id}",
        data={"csrf": csrf_of(world.fac), **fields},
        follow_redirects=False,
    )


def test_edit_a_decision_after_the_end_is_an_event_and_shows_as_edited(world: World) -> None:
    session_id = kvifa(world)
    r = edit(
        world, session_id, "decisions", "d2", text="Anden beslutning, omformuleret: børnesamtale"
    )
    assert r.status_code == 303
    assert r.headers["location"] == f"/facilitator/sessions/{session_id}/minutes#decision-d2"
    events = world.fac.portal.call(world.services.eventlog.load, session_id)
    edited = [e for e in events if isinstance(e, DecisionEdited)]
    assert len(edited) == 1 and edited[0].edited_by == f"user:{world.user.id}"
    page = world.fac.get(f"/facilitator/sessions/{session_id}/minutes").text
    assert "Anden beslutning, omformuleret" in page
    assert "(redigeret)" in page
    md = world.fac.get(f"/facilitator/sessions/{session_id}/minutes.md").text
    assert "Anden beslutning, omformuleret: børnesamtale *(redigeret)*" in md
    csv = world.fac.get(f"/facilitator/sessions/{session_id}/decisions.csv").content.decode(
        "utf-8-sig"
    )
    assert "omformuleret" in csv


def test_edit_an_action(world: World) -> None:
    session_id = kvifa(world)
    r = edit(
        world,
        session_id,
        "actions",
        "a2",
        what="Sende materiale om åbenhed",
        who="Søren Bøgh",
        due="2025-03-21",
    )
    assert r.status_code == 303
    md = world.fac.get(f"/facilitator/sessions/{session_id}/minutes.md").text
    assert "Sende materiale om åbenhed | Søren Bøgh | 21.03.2025" in md


def test_edit_needs_csrf_and_valid_text(world: World) -> None:
    session_id = kvifa(world)
    r = world.fac.post(
        f"/facilitator/sessions/{session_id}/minutes/decisions/d1",
        data={"text": "Uden token"},
        follow_redirects=False,
    )
    assert r.status_code == 400
    r = edit(world, session_id, "decisions", "d1", text="   ")
    assert r.status_code == 400
    assert 'class="flash flash-error"' in r.text
    r = edit(world, session_id, "decisions", "nope", text="Findes ikke")
    assert r.status_code == 400
    assert edit(world, session_id, "other", "d1", text="x").status_code == 404
    events = world.fac.portal.call(world.services.eventlog.load, session_id)
    assert not [e for e in events if isinstance(e, DecisionEdited)]


# -- file names ------------------------------------------------------------------------------------


def test_content_disposition_has_ascii_fallback_and_utf8_name() -> None:
    header = content_disposition('referat-faglig-sparring-i-team-"æøå"-2025-03-04.pdf')
    assert header.startswith(
        'attachment; filename="referat-faglig-sparring-i-team-aeoeaa-2025-03-04.pdf"'
    )
    assert (
        "filename*=UTF-8''referat-faglig-sparring-i-team-%22%C3%A6%C3%B8%C3%A5%22-2025-03-04.pdf"
        in header
    )
    assert (
        slug("Udviklingsplan: Børn & Unge / 2025", ascii_only=True)
        == "udviklingsplan-boern-unge-2025"
    )
    assert slug("Kvifa\r\nheader: injection", ascii_only=False) == "kvifa-header-injection"

"""A whole engagement through the engine and the web edge, and the bad input on the way.

kick-off -> register of 50 -> 20 selected -> full-day meeting -> themes ->
focus areas -> consultation comments -> prioritisation -> plan rows ->
follow-up updates a status -> the status note holds it all.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from docx import Document
from sqlmodel import select
from starlette.testclient import TestClient

from server.engagement import demo_data, store
from server.engine import Actor, ActorRole, CommandRejected
from server.engine.commands import (
    AddCard,
    AddCluster,
    GoToStep,
    GroupCard,
    Join,
    RecordDecision,
    StartSession,
)
from server.engine.registry import Command
from server.engine.steps.case_walkthrough import NextCase
from server.engine.steps.poll import AssignHorizon, CastBallot, ClosePoll, OpenPoll
from server.store.tables import AuditLog, Case, PlanRow
from server.web.render import render_audience
from tests.support import World, csrf_of

FAC = Actor(ActorRole.FACILITATOR, "user:1")


@pytest.fixture(autouse=True)
def english(world: World) -> None:
    """The tests read the interface in English (the msgids); documents stay Danish."""
    world.fac.cookies.set("tv_lang", "en")


def english_browser(new_browser: Callable[[], TestClient]) -> TestClient:
    c = new_browser()
    c.cookies.set("tv_lang", "en")
    return c


def submit(world: World, session_id: str, command: Command) -> Any:
    live = world.fac.portal.call(world.services.live.get, session_id)
    assert live is not None
    out = world.fac.portal.call(live.submit, command)
    assert not isinstance(out, CommandRejected), out
    return out


def state(world: World, session_id: str) -> Any:
    live = world.fac.portal.call(world.services.live.get, session_id)
    assert live is not None
    return live.state


def post(c: TestClient, url: str, data: dict[str, Any], **kwargs: Any) -> Any:
    return c.post(url, data={"csrf": csrf_of(c), **data}, **kwargs)


def text_of(docx_bytes: bytes) -> str:
    doc = Document(io.BytesIO(docx_bytes))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def run(world: World, coro: Callable[..., Any], *args: Any) -> Any:
    return world.fac.portal.call(coro, *args)


THEMES = (
    "Underretninger skal vurderes tidligt og samlet",
    "Barnets stemme i alle afgørelser",
    "Handleplaner med mål, der kan følges op",
    "Opfølgning på foranstaltninger",
    "Afgørelser i et sprog, familien forstår",
    "Ledelsestilsyn med frister",
    "Læring af klager og aktindsigt",
    "Kriterier for at åbne og lukke sager",
    "Sparring med almenområdet",
)


def test_a_whole_engagement_from_kick_off_to_status_note(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    fac, eid = world.fac, world.engagement_id
    base = f"/engagements/{eid}"

    # -- kick-off: the agreed focus points steer the case selection ------------------------
    kickoff, _ = world.create_session("opstartsworkshop")
    submit(world, kickoff, StartSession(actor=FAC))
    submit(world, kickoff, GoToStep(actor=FAC, step_id="enighed"))
    for i, point in enumerate(demo_data.FOCUS_POINTS):
        submit(world, kickoff, RecordDecision(actor=FAC, decision_id=f"d{i}", text=point))
    r = post(fac, f"{base}/focus-points", {"session_id": kickoff})
    assert r.status_code == 200 and "4 focus points from the kick-off" in r.text
    assert "Klagesager og aktindsigt som kilde til læring" in r.text  # on the selection page

    # -- the register: 50 cases from a semicolon CSV with Danish headers ---------------------
    csv_bytes = demo_data.register_csv(50).encode("utf-8")
    r = fac.post(
        f"{base}/cases/import",
        data={"csrf": csrf_of(fac)},
        files={"file": ("sagsregister.csv", csv_bytes, "text/csv")},
    )
    assert r.status_code == 200, r.text[:2000]
    assert "50 cases were imported." in r.text
    assert r.text.count('href="/engagements/' + eid + "/cases/") >= 50

    # -- 20 selected, each with a reason ---------------------------------------------------------
    cases = run(world, store.cases_of, world.services.repo, eid)
    assert len(cases) == 50
    chosen = [c for c in cases if c.label in {f"Sag {n}" for n in demo_data.SELECTED}]
    assert len(chosen) == 20
    r = post(fac, f"{base}/selection", {"case_id": chosen[0].id, "action": "select", "reason": ""})
    assert "Give the reason for selecting Sag 1" in r.text
    for case in chosen:
        r = post(
            fac,
            f"{base}/selection",
            {"case_id": case.id, "action": "select", "reason": f"{case.label}: viser et mønster"},
        )
        assert r.status_code == 200
    assert "20 of 20 selected" in r.text
    assert "Sag 47 is selected (20 of 20)." in r.text

    # -- the full-day meeting: 20 cases on the wall, learnings per case ----------------------
    meeting, _ = world.create_session("heldagsmoede")
    s = state(world, meeting)
    assert [c.label for c in s.cases] == [c.label for c in chosen]
    assert s.cases[0].cover.startswith("Udvalgt, fordi:")
    submit(world, meeting, StartSession(actor=FAC))
    submit(world, meeting, GoToStep(actor=FAC, step_id="sager-formiddag"))
    room = run(world, world.services.room, meeting)
    wall = render_audience(state(world, meeting), room, "projector", time.time())["p-stage"]
    first = s.cases[0]
    assert first.label in wall and first.learning_question in wall
    assert first.cover.split("\n")[1] in wall and first.summary in wall
    assert re.search(r"1 (of|af) 20", wall)
    learnings: list[tuple[str, str]] = []
    for index, case in enumerate(s.cases[:10]):
        card_id = f"learn-{index}"
        text = f"Læring fra {case.label}: barnet skal høres før afgørelsen"
        submit(world, meeting, AddCard(actor=FAC, card_id=card_id, text=text))
        learnings.append((card_id, text))
        if index < 9:
            submit(world, meeting, NextCase(actor=FAC, from_case=case.id))
    s = state(world, meeting)
    assert s.cards["learn-3"].case_id == s.cases[3].id
    wall = render_audience(s, room, "projector", time.time())["p-stage"]
    assert "Læring fra Sag 14" in wall or s.cases[9].label in wall

    # -- themes across the cases, proposed as focus areas ----------------------------------
    submit(world, meeting, GoToStep(actor=FAC, step_id="temaer"))
    for i, title in enumerate(THEMES):
        submit(world, meeting, AddCluster(actor=FAC, cluster_id=f"t{i}", title=title))
    for i, (card_id, _) in enumerate(learnings):
        submit(world, meeting, GroupCard(actor=FAC, card_id=card_id, cluster_id=f"t{i % 9}"))
    r = fac.get(f"{base}/sessions/{meeting}")
    assert r.status_code == 200
    assert "Learnings per case" in r.text and learnings[0][1] in r.text
    assert THEMES[0] in r.text
    form = {f"use_t{i}": "1" for i in range(9)} | {f"title_t{i}": t for i, t in enumerate(THEMES)}
    form["title_t1"] = "Barnets stemme skal høres i alle afgørelser"
    r = post(fac, f"{base}/sessions/{meeting}/focus-areas", form)
    assert "9 focus areas proposed, 0 updated." in r.text
    r = post(fac, f"{base}/sessions/{meeting}/focus-areas", form)  # again: nothing doubles
    assert "0 focus areas proposed, 9 updated." in r.text
    areas = run(world, store.focus_areas_of, world.services.repo, eid)
    assert len(areas) == 9
    assert "Barnets stemme skal høres i alle afgørelser" in {a.title for a in areas}

    # -- the consultation: its own link and code, comments per focus area ---------------------
    hearing, _ = world.create_session("hoering")
    assert len(state(world, hearing).focus_areas) == 9
    r = post(fac, f"{base}/consultations", {"session_id": hearing, "days": "12"})
    assert "The consultation is open." in r.text
    link = re.search(r"http://testserver/h/([\w-]+)", r.text)
    code = re.search(r'class="access-code">(\w+)<', r.text)
    assert link and code
    consultation_url = str(r.url)
    phone = english_browser(new_browser)
    page = phone.get(f"/h/{link.group(1)}")
    assert "Access code" in page.text and areas[0].title not in page.text
    r = post(phone, f"/h/{link.group(1)}", {"code": "WRONGCODE"})
    assert r.status_code == 400 and "That code is not right" in r.text
    r = post(phone, f"/h/{link.group(1)}", {"code": code.group(1).lower()})
    assert r.status_code == 200 and areas[0].title in r.text
    r = post(
        phone,
        f"/h/{link.group(1)}/comments",
        {
            "focus_area_id": areas[0].id,
            "text": "Skabelonen skal være kort.",
            "author": "Modtagelsen",
        },
    )
    assert "Your comment was received." in r.text
    r = post(
        phone,
        f"/h/{link.group(1)}/comments",
        {"focus_area_id": areas[1].id, "text": "Som i sagen om 010203-1234 skal barnet høres."},
    )
    assert "1 number that looked like a CPR number was masked" in r.text
    r = fac.get(consultation_url)
    assert "Skabelonen skal være kort." in r.text and "Modtagelsen" in r.text
    assert "010203-1234" not in r.text and "[CPR fjernet]" in r.text
    r = post(fac, consultation_url + "/close", {})
    assert "The consultation is closed" in r.text
    r = post(
        phone,
        f"/h/{link.group(1)}/comments",
        {"focus_area_id": areas[2].id, "text": "For sent, men vigtigt."},
    )
    assert r.status_code == 409
    assert "The consultation closed on" in r.text and "can no longer be added" in r.text
    assert "For sent, men vigtigt." in r.text  # the text is kept for the coordinator

    # -- the implementation workshop: focus areas (+ comments) into the prioritisation ---------
    workshop, _ = world.create_session("implementeringsworkshop")
    ws = state(world, workshop)
    assert [fa.title for fa in ws.focus_areas] == [a.title for a in areas]
    r = fac.get(f"{base}/sessions/{workshop}")
    assert "Skabelonen skal være kort." in r.text  # the comments travel with their area
    submit(world, workshop, StartSession(actor=FAC))
    voters = [f"p{i}" for i in range(3)]
    for pid in voters:
        submit(world, workshop, Join(actor=Actor(ActorRole.PARTICIPANT, pid), name=pid))
    submit(world, workshop, GoToStep(actor=FAC, step_id="prioritering"))
    poll = state(world, workshop).polls["prioritering"]
    option_ids = [o for o, _ in poll.options]
    assert len(option_ids) == 9
    submit(world, workshop, OpenPoll(actor=FAC, poll_id="prioritering"))
    order = [areas[1].id, areas[0].id] + [a.id for a in areas[2:]]
    for pid in voters:
        submit(
            world,
            workshop,
            CastBallot(
                actor=Actor(ActorRole.PARTICIPANT, pid),
                poll_id="prioritering",
                ballot_id=f"b-{pid}",
                voter=f"anon-{pid}",
                payload=tuple(order),
            ),
        )
    submit(world, workshop, ClosePoll(actor=FAC, poll_id="prioritering"))
    horizons = ("short", "short", "medium", "medium", "medium", "long", "long", "long", "long")
    for i, area in enumerate(areas):
        owner = "" if area.id == areas[4].id else f"Leder {i + 1}"
        submit(
            world,
            workshop,
            AssignHorizon(
                actor=FAC,
                poll_id="prioritering",
                option_id=area.id,
                horizon=horizons[i],
                owner=owner,
            ),
        )
    r = fac.get(f"{base}/sessions/{workshop}")
    assert "The prioritisation" in r.text and 'name="owner_' in r.text
    # a row without an owner is refused, and nothing is written
    r = post(fac, f"{base}/sessions/{workshop}/plan", {})
    assert f"“{areas[4].title}” has no owner" in r.text
    assert run(world, store.plan_rows_of, world.services.repo, eid) == []
    r = post(
        fac, f"{base}/sessions/{workshop}/plan", {f"owner_{areas[4].id}": "Teamleder Modtagelsen"}
    )
    assert "The development plan has 9 new rows" in r.text
    rows = run(world, store.plan_rows_of, world.services.repo, eid)
    assert len(rows) == 9
    prioritised = run(world, store.focus_areas_of, world.services.repo, eid)
    assert prioritised[0].id == areas[1].id and prioritised[0].priority == 1
    assert prioritised[0].horizon == "short"
    first_row = next(r for r in rows if r.focus_area_id == areas[1].id)
    r = post(
        fac,
        f"{base}/plan/rows/{first_row.id}",
        {
            "owner": first_row.owner,
            "purpose": "Barnets synspunkter indgår i hver afgørelse.",
            "activity": "Børnesamtale før hver afgørelse, efter fast skabelon.",
            "goal": "Alle afgørelser viser, hvordan barnet er hørt.",
            "actors": "Rådgiverne i myndighedsteamet",
            "schedule": "Fra 1. marts; opfølgning ved sagsgennemgang efter et halvt år.",
        },
    )
    assert "Saved." in r.text
    r = post(fac, f"{base}/plan/rows/{first_row.id}", {"owner": "  "})
    assert "has no owner" in r.text

    # -- a follow-up meeting updates a row's status and agrees the next date ------------------
    follow_up, _ = world.create_session("opfoelgningsmoede")
    submit(world, follow_up, StartSession(actor=FAC))
    r = fac.get(f"{base}/sessions/{follow_up}")
    assert "Børnesamtale før hver afgørelse" in r.text
    r = post(
        fac,
        f"{base}/plan/rows/{first_row.id}/status",
        {
            "status": "on_track",
            "note": "Skabelonen er i brug i to teams",
            "session_id": follow_up,
            "next": f"{base}/sessions/{follow_up}",
        },
    )
    assert "Status saved." in r.text
    r = post(
        fac,
        f"{base}/sessions/{follow_up}/next-meeting",
        {
            "date": "2026-05-12",
            "goals": "Skabelonen i brug i alle teams\nFørste måling af børnesamtaler",
        },
    )
    assert "The next meeting and its goals are agreed." in r.text
    assert state(world, follow_up).next_meeting.date == "2026-05-12"

    # -- the timeline shows the chain, the status note gathers it all ----------------------
    r = fac.get(base)
    assert r.status_code == 200
    for title in ("Opstartsworkshop", "Heldagsmøde", "Høring", "Implementeringsworkshop"):
        assert title in r.text
    assert "12/05/2026" in r.text  # the agreed date, as English writes it
    r = fac.get(f"{base}/status-note.docx")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    note = text_of(r.content)
    for expected in (
        "Statusnotat",
        demo_data.FOCUS_POINTS[2],  # the kick-off's focus points
        "50 sager er gennemgået, og 20 af dem er udvalgt",
        "Sag 1: viser et mønster",  # the reason for a selection
        chosen[0].learning_question,
        learnings[0][1],  # a learning from the full-day meeting
        THEMES[0],  # a theme across cases
        "Barnets stemme skal høres i alle afgørelser",  # a focus area
        "Skabelonen skal være kort.",  # a consultation comment
        "Børnesamtale før hver afgørelse, efter fast skabelon.",  # the plan row
        "Teamleder Modtagelsen",  # the owner given at the web edge
        "kort sigt",
        "på sporet: Skabelonen er i brug i to teams",  # the follow-up's status
        "Skabelonen i brug i alle teams",  # the next meeting's goals
    ):
        assert expected in note, expected
    assert "010203-1234" not in note

    # -- reading case material left a trace in the audit log ----------------------------------
    async def audit_actions() -> list[str]:
        async with world.services.repo.sessions() as db:
            return [a.action for a in (await db.exec(select(AuditLog))).all()]

    actions = run(world, audit_actions)
    assert "cases.read" in actions and "cases.import" in actions and "minutes.read" in actions


# -- bad input ------------------------------------------------------------------------------


def import_text(world: World, text: str) -> Any:
    return world.fac.post(
        f"/engagements/{world.engagement_id}/cases/import",
        data={"csrf": csrf_of(world.fac), "text": text},
    )


def test_a_cpr_number_in_an_import_is_masked_with_a_note_for_its_row(world: World) -> None:
    text = (
        "Sag;Forklæde;Resumé;Læringsspørgsmål\n"
        "Sag 1;Udvalgt fordi mange underretninger;Kort resumé;Hvornår handler vi?\n"
        "Sag 2;Barnet (CPR 0102031234) flyttede;Mor, 121285-4321, klagede;Hvad lærer vi?\n"
    )
    r = import_text(world, text)
    assert r.status_code == 200
    assert "2 cases were imported." in r.text
    assert "Row 3 (Sag 2): 2 CPR numbers masked in Cover, Summary." in r.text
    cases = run(world, store.cases_of, world.services.repo, world.engagement_id)
    stored = next(c for c in cases if c.label == "Sag 2")
    assert "0102031234" not in stored.cover and "[CPR fjernet]" in stored.cover
    assert "121285-4321" not in stored.summary


def test_duplicate_labels_are_refused_and_nothing_is_imported(world: World) -> None:
    text = "Sag;Forklæde\nSag 1;a\nsag 2;b\n2;c\nSag 3;d\n"
    r = import_text(world, text)
    assert r.status_code == 400
    assert "Nothing was imported" in r.text
    assert "Row 4: Sag 2 is also in row 3; every case needs its own label." in r.text
    assert run(world, store.cases_of, world.services.repo, world.engagement_id) == []
    assert import_text(world, "Sag;Forklæde\nSag 1;a\n").status_code == 200
    r = import_text(world, "Sag;Forklæde\nSag 1;igen\nSag 9;ny\n")
    assert r.status_code == 400
    assert "Row 2: Sag 1 is already in the register." in r.text
    assert len(run(world, store.cases_of, world.services.repo, world.engagement_id)) == 1


def test_a_name_instead_of_a_pseudonym_is_refused(world: World) -> None:
    r = import_text(world, "Sag;Forklæde\nAnders Andersen;a\n")
    assert r.status_code == 400
    assert "is not a pseudonym such as “Sag 17”" in r.text


def test_a_plan_row_needs_an_owner(world: World) -> None:
    fac, eid = world.fac, world.engagement_id
    r = post(fac, f"/engagements/{eid}/focus-areas", {"title": "Tidlig indsats"})
    assert "Saved." in r.text
    area = run(world, store.focus_areas_of, world.services.repo, eid)[0]
    r = post(fac, f"/engagements/{eid}/plan/rows", {"focus_area_id": area.id, "activity": "Noget"})
    assert "“Tidlig indsats” has no owner" in r.text
    assert run(world, store.plan_rows_of, world.services.repo, eid) == []
    r = post(
        fac,
        f"/engagements/{eid}/plan/rows",
        {"focus_area_id": area.id, "activity": "Noget", "owner": "Teamleder"},
    )
    assert "Saved." in r.text
    rows: list[PlanRow] = run(world, store.plan_rows_of, world.services.repo, eid)
    assert [r.owner for r in rows] == ["Teamleder"] and rows[0].actors == "Teamleder"


def test_a_comment_after_the_window_is_refused(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    from datetime import timedelta

    from server.engagement import consultation
    from server.store.tables import Consultation, utcnow

    fac, eid = world.fac, world.engagement_id
    post(fac, f"/engagements/{eid}/focus-areas", {"title": "Tidlig indsats"})
    r = post(fac, f"/engagements/{eid}/consultations", {"days": "14"})
    link = re.search(r"/h/([\w-]+)", r.text)
    code = re.search(r'class="access-code">(\w+)<', r.text)
    assert link and code
    found = run(world, consultation.by_token, world.services.repo, link.group(1))

    async def expire() -> None:
        async with world.services.repo.sessions() as db:
            row = await db.get(Consultation, found.id)
            row.closes_at = utcnow() - timedelta(hours=1)
            db.add(row)
            await db.commit()

    phone = english_browser(new_browser)
    post(phone, f"/h/{link.group(1)}", {"code": code.group(1)})
    run(world, expire)
    area = run(world, store.focus_areas_of, world.services.repo, eid)[0]
    r = post(phone, f"/h/{link.group(1)}/comments", {"focus_area_id": area.id, "text": "Sent"})
    assert r.status_code == 409
    assert "The consultation closed on" in r.text


def test_pages_need_a_member_and_case_pages_are_audited(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    eid = world.engagement_id
    stranger = english_browser(new_browser)
    r = stranger.get(f"/engagements/{eid}", follow_redirects=False)
    assert r.status_code == 303 and "/login" in r.headers["location"]
    assert world.fac.get(f"/engagements/{eid}").status_code == 200
    assert world.fac.get("/engagements/nope").status_code == 404
    assert world.fac.get(f"/engagements/{eid}/cases").status_code == 200

    async def cases_read() -> int:
        async with world.services.repo.sessions() as db:
            rows = (await db.exec(select(AuditLog).where(AuditLog.action == "cases.read"))).all()
            return len(rows)

    assert run(world, cases_read) == 1


@pytest.mark.parametrize("path", ["", "/cases", "/selection", "/focus-areas", "/plan"])
def test_every_engagement_page_renders_with_the_demo_register(world: World, path: str) -> None:
    r = import_text(world, demo_data.register_csv(50, with_selection=True))
    assert r.status_code == 200, r.text[:1000]
    r = world.fac.get(f"/engagements/{world.engagement_id}{path}")
    assert r.status_code == 200
    assert "Traceback" not in r.text


def test_case_register_is_stored_for_this_engagement_only(world: World) -> None:
    import_text(world, "Sag;Forklæde\nSag 1;a\n")

    async def all_cases() -> list[Case]:
        async with world.services.repo.sessions() as db:
            return list((await db.exec(select(Case))).all())

    assert [c.engagement_id for c in run(world, all_cases)] == [world.engagement_id]

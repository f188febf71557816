"""The links of the chain, one by one, over a real store and sessions of the shipped scripts."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from docx import Document

from server.engagement import consultation, demo_data, focus_areas, plan, selection, status, store
from server.engagement.cases import import_cases
from server.engagement.common import Refused
from server.engagement.sessions import case_mode, learnings, themes, wants_focus_areas
from server.engagement.status_note import gather, status_note_docx
from server.engagement.timeline import timeline
from server.engine import Actor, ActorRole, SessionState
from server.engine.commands import (
    AddCard,
    AddCluster,
    AgreeNextMeeting,
    GoToStep,
    GroupCard,
    Join,
    StartSession,
)
from server.engine.steps.case_walkthrough import NextCase
from server.engine.steps.poll import AssignHorizon, CastBallot, ClosePoll, OpenPoll
from server.store.repo import Repo
from server.store.tables import Engagement, FocusArea
from tests.engagement.conftest import CATALOG, FAC, Driven, drive


def texts(refused: Refused) -> list[str]:
    return [m.render("en") for m in refused.messages]


@pytest.mark.parametrize(
    ("script_id", "cases", "areas"),
    [
        ("opstartsworkshop", None, False),
        ("heldagsmoede", "selected", False),
        ("hoering", None, True),
        ("implementeringsworkshop", None, True),
        ("opfoelgningsmoede", None, True),
        ("styregruppemoede", None, True),
        ("praesentation-politikere", None, True),
        ("kvifa", None, False),
        ("familieraadslagning", None, False),
    ],
)
def test_what_each_shipped_script_starts_from(
    script_id: str, cases: str | None, areas: bool
) -> None:
    script = CATALOG.get(script_id)
    assert script is not None
    assert case_mode(script) == cases
    assert wants_focus_areas(script) is areas


async def register(repo: Repo, eng: Engagement, count: int = 50) -> None:
    result = await import_cases(repo, eng.id, demo_data.register_csv(count))
    assert result.ok


async def test_selection_needs_a_reason_and_tells_when_over_the_target(
    repo: Repo, eng: Engagement
) -> None:
    await register(repo, eng, 5)
    cases = await store.cases_of(repo, eng.id)
    with pytest.raises(Refused) as refused:
        await selection.set_selected(repo, eng.id, cases[0].id, selected=True, reason=" ", target=2)
    assert texts(refused.value) == [
        "Give the reason for selecting Sag 1: what can the meeting learn from it?"
    ]
    for case in cases[:3]:
        done = await selection.set_selected(
            repo, eng.id, case.id, selected=True, reason="Godt eksempel", target=2
        )
    assert done.selected_count == 3
    assert [m.render("en") for m in done.notes] == [
        "3 cases are selected, more than the 2 planned for the meeting."
    ]
    done = await selection.set_selected(
        repo, eng.id, cases[0].id, selected=False, reason="", target=2
    )
    assert done.selected_count == 2 and done.case.selection_reason == ""


async def full_day_meeting(repo: Repo, eng: Engagement) -> tuple[Driven, SessionState]:
    await register(repo, eng, 50)
    for case in (await store.cases_of(repo, eng.id))[:20]:
        await selection.set_selected(
            repo, eng.id, case.id, selected=True, reason=f"{case.label} lærer os noget", target=20
        )
    meeting = await drive(repo, eng, "heldagsmoede")
    assert len(meeting.state.cases) == 20
    meeting.ok(StartSession(actor=FAC))
    meeting.ok(GoToStep(actor=FAC, step_id="sager-formiddag"))
    for i in range(3):
        case = meeting.state.cases[i]
        meeting.ok(AddCard(actor=FAC, card_id=f"c{i}", text=f"Læring om {case.label}"))
        meeting.ok(NextCase(actor=FAC, from_case=case.id))
    meeting.ok(GoToStep(actor=FAC, step_id="temaer"))
    for i in range(9):
        meeting.ok(AddCluster(actor=FAC, cluster_id=f"k{i}", title=f"Tema {i + 1}"))
    meeting.ok(GroupCard(actor=FAC, card_id="c0", cluster_id="k0"))
    meeting.ok(GroupCard(actor=FAC, card_id="c1", cluster_id="k0"))
    return meeting, meeting.state


async def test_learnings_per_case_and_themes_become_focus_areas(
    repo: Repo, eng: Engagement
) -> None:
    meeting, state = await full_day_meeting(repo, eng)
    per_case = learnings(state)
    assert [len(x.cards) for x in per_case[:4]] == [1, 1, 1, 0]
    assert per_case[1].cards[0].text == "Læring om Sag 2"
    found = themes(state)
    assert [t.title for t in found][:2] == ["Tema 1", "Tema 2"]
    assert found[0].cards == ("Læring om Sag 1", "Læring om Sag 2")

    chosen = {t.cluster_id: t.title for t in found[:7]}
    done = await focus_areas.propose_from_session(repo, eng.id, meeting.row.id, state, chosen)
    assert (done.created, done.updated) == (7, 0)
    assert [m.render("en") for m in done.notes] == [
        "There are 7 focus areas; the process expects 8 to 12. Merge or split themes if you can."
    ]
    areas = await store.focus_areas_of(repo, eng.id)
    assert areas[0].description == "– Læring om Sag 1\n– Læring om Sag 2"
    again = await focus_areas.propose_from_session(
        repo, eng.id, meeting.row.id, state, {"k0": "Barnets stemme", "k7": "Tema 8"}
    )
    assert (again.created, again.updated, again.notes) == (1, 1, ())
    with pytest.raises(Refused) as refused:
        await focus_areas.add_focus_area(repo, eng.id, "barnets stemme", "")
    assert texts(refused.value) == ["There is already a focus area called “barnets stemme”."]
    with pytest.raises(Refused):
        await focus_areas.propose_from_session(repo, eng.id, meeting.row.id, state, {"nope": "x"})


async def with_focus_areas(repo: Repo, eng: Engagement, count: int = 9) -> list[FocusArea]:
    for title, description in demo_data.FOCUS_AREAS[:count]:
        await focus_areas.add_focus_area(repo, eng.id, title, description)
    return list(await store.focus_areas_of(repo, eng.id))


async def test_consultation_window_comments_and_close(repo: Repo, eng: Engagement) -> None:
    areas = await with_focus_areas(repo, eng, 3)
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with pytest.raises(Refused) as refused:
        await consultation.open_consultation(
            repo, eng.id, title="Høring", days="0", session_id=None, user_id=None, now=start
        )
    assert "1 to 60 days" in texts(refused.value)[0]
    opened = await consultation.open_consultation(
        repo, eng.id, title="Høring", days="12", session_id=None, user_id=None, now=start
    )
    c = opened.consultation
    assert opened.notes == () and c.closes_at == start + timedelta(days=12)
    assert len(c.access_code) == 8 and len(c.link_token) >= 20
    assert consultation.code_ok(c, c.access_code.lower()) and not consultation.code_ok(c, "X")
    with pytest.raises(Refused) as refused:
        await consultation.open_consultation(
            repo, eng.id, title="Igen", days="12", session_id=None, user_id=None, now=start
        )
    assert "already open until 14 March 2026" in texts(refused.value)[0]
    _, notes = await consultation.add_comment(
        repo, c, focus_area_id=areas[0].id, text="Godt", author="", now=start + timedelta(days=1)
    )
    assert notes == ()
    _, notes = await consultation.add_comment(
        repo,
        c,
        focus_area_id=areas[1].id,
        text="Sag med 010203-1234",
        author="Team Syd",
        now=start + timedelta(days=2),
    )
    assert "CPR" in notes[0].render("en")
    with pytest.raises(Refused) as refused:
        await consultation.add_comment(
            repo,
            c,
            focus_area_id=areas[0].id,
            text="Sent",
            author="",
            now=start + timedelta(days=12),
        )
    assert texts(refused.value) == [
        "The consultation closed on 14 March 2026, so comments can no longer be added. Send your comment to the coordinator instead."
    ]
    closed = await consultation.close(repo, c.id, now=start + timedelta(days=5))
    assert closed.closed_at == start + timedelta(days=5)
    with pytest.raises(Refused) as refused:
        await consultation.add_comment(
            repo,
            closed,
            focus_area_id=areas[0].id,
            text="x",
            author="",
            now=start + timedelta(days=6),
        )
    assert "closed on 7 March 2026" in texts(refused.value)[0]
    assert "lukkede 7. marts 2026" in refused.value.messages[0].render("da")
    comments = await consultation.comments_by_area(repo, eng.id)
    assert [x.text for x in comments[areas[1].id]] == ["Sag med [CPR fjernet]"]


async def workshop(
    repo: Repo, eng: Engagement, owners: dict[int, str]
) -> tuple[object, list[object]]:
    areas = await with_focus_areas(repo, eng, 4)
    run = await drive(repo, eng, "implementeringsworkshop")
    assert [f.id for f in run.state.focus_areas] == [a.id for a in areas]
    run.ok(StartSession(actor=FAC))
    for pid in ("a", "b"):
        run.ok(Join(actor=Actor(ActorRole.PARTICIPANT, pid), name=pid))
    run.ok(GoToStep(actor=FAC, step_id="prioritering"))
    run.ok(OpenPoll(actor=FAC, poll_id="prioritering"))
    order = (areas[2].id, areas[0].id, areas[1].id, areas[3].id)
    for pid in ("a", "b"):
        run.ok(
            CastBallot(
                actor=Actor(ActorRole.PARTICIPANT, pid),
                poll_id="prioritering",
                ballot_id=f"b{pid}",
                voter=f"x-{pid}",
                payload=order,
            )
        )
    run.ok(ClosePoll(actor=FAC, poll_id="prioritering"))
    for i, area in enumerate(areas):
        run.ok(
            AssignHorizon(
                actor=FAC,
                poll_id="prioritering",
                option_id=area.id,
                horizon=("short", "medium", "long", "short")[i],
                owner=owners.get(i, ""),
            )
        )
    return run, areas


async def test_the_ranking_writes_plan_rows_and_refuses_one_without_owner(
    repo: Repo, eng: Engagement
) -> None:
    run, areas = await workshop(repo, eng, {0: "Leder A", 1: "Leder B", 2: "Leder C"})
    ranked = plan.ranking(run.state)
    assert ranked is not None and [o.place for o in ranked.options] == [1, 2, 3, 4]
    with pytest.raises(Refused) as refused:
        await plan.write_from_ranking(repo, eng.id, run.row.id, run.state)
    title = areas[3].title
    assert texts(refused.value) == [
        f"“{title}” has no owner. Give it a named person who answers for it (not “the department”) before it becomes a plan row."
    ]
    assert await store.plan_rows_of(repo, eng.id) == []
    done = await plan.write_from_ranking(
        repo,
        eng.id,
        run.row.id,
        run.state,
        {areas[3].id: "Leder D"},
    )
    assert (done.created, done.updated) == (4, 0)
    ordered = await plan.plan_of(repo, eng.id)
    assert ordered[0].area.title == areas[2].title
    assert [(a.area.priority, a.area.horizon, a.rows[0].owner) for a in ordered] == [
        (1, "long", "Leder C"),
        (2, "short", "Leder A"),
        (3, "medium", "Leder B"),
        (4, "short", "Leder D"),
    ]
    again = await plan.write_from_ranking(
        repo,
        eng.id,
        run.row.id,
        run.state,
        {areas[3].id: "Leder E"},
    )
    assert (again.created, again.updated) == (0, 4)
    rows = await store.plan_rows_of(repo, eng.id)
    assert len(rows) == 4 and "Leder E" in {r.owner for r in rows}


async def test_follow_up_updates_status_with_history_and_the_plan_for_the_minutes(
    repo: Repo, eng: Engagement
) -> None:
    run, _ = await workshop(repo, eng, {0: "A", 1: "B", 2: "C", 3: "D"})
    await plan.write_from_ranking(repo, eng.id, run.row.id, run.state)
    row = (await store.plan_rows_of(repo, eng.id))[0]
    await plan.edit_row(
        repo, eng.id, row.id, {"activity": "Fast skabelon", "goal": "Alle bruger den"}
    )
    follow = await drive(repo, eng, "opfoelgningsmoede")
    with pytest.raises(Refused):
        await status.update_status(
            repo, eng.id, row.id, status="fine", note="", session=follow.row, user_id=None
        )
    first = await status.update_status(
        repo, eng.id, row.id, status="delayed", note="Mangler tid", session=follow.row, user_id=None
    )
    same = await status.update_status(
        repo, eng.id, row.id, status="delayed", note="Mangler tid", session=follow.row, user_id=None
    )
    assert first.changed and not same.changed
    await status.update_status(
        repo, eng.id, row.id, status="on_track", note="", session=follow.row, user_id=None
    )
    moves = await status.history(repo, eng.id)
    assert [u.status for u in moves[row.id]] == ["delayed", "on_track"]
    assert moves[row.id][0].session_id == follow.row.id
    eng_row = await repo.engagement(eng.id)
    assert eng_row is not None
    developed = await plan.development_plan(repo, eng_row, status_names={"on_track": "på sporet"})
    entry = next(e for e in developed.rows if e.activity == "Fast skabelon")
    assert entry.goal == "Alle bruger den" and entry.status == "på sporet"
    assert [e.priority for e in developed.rows] == [1, 2, 3, 4]


async def test_timeline_orders_sessions_and_computes_the_cadences(
    repo: Repo, eng: Engagement
) -> None:
    await store.save_settings(
        repo,
        eng.id,
        starts_on="2026-01-05",
        steering_every_weeks="8",
        steering_meetings="3",
        follow_up_every_weeks="6",
        selection_target="20",
        focus_points="Et\nTo",
    )
    steering = await drive(repo, eng, "styregruppemoede")
    follow = await drive(repo, eng, "opfoelgningsmoede")
    follow.ok(StartSession(actor=FAC))
    follow.ok(AgreeNextMeeting(actor=FAC, date="2026-04-20", goals=("Mål 1",)))
    states = {steering.row.id: steering.state, follow.row.id: follow.state}
    await store.plan_session(repo, steering.row.id, "2026-02-02", "Rådhuset")

    async def state_of(session_id: str) -> SessionState | None:
        return states.get(session_id)

    line = await timeline(repo, eng.id, state_of, today=date(2026, 1, 10))
    assert [i.session.id for i in line.items] == [steering.row.id, follow.row.id]
    assert line.items[0].planned_on == date(2026, 2, 2) and line.items[0].place == "Rådhuset"
    assert line.steering.next_on == date(2026, 2, 2)  # the planned meeting
    assert (line.steering.meetings, line.steering.held, line.steering.every_weeks) == (3, 0, 8)
    assert line.follow_up.agreed is not None and line.follow_up.agreed.goals == ("Mål 1",)
    assert line.follow_up.next_on == date(2026, 4, 20)
    with pytest.raises(Refused):
        await store.save_settings(repo, eng.id, steering_every_weeks="hver uge")
    with pytest.raises(Refused):
        await store.plan_session(repo, steering.row.id, "31-02-2026", "")


async def test_the_status_note_gathers_the_engagement(repo: Repo, eng: Engagement) -> None:
    meeting, state = await full_day_meeting(repo, eng)
    await store.save_settings(repo, eng.id, focus_points="\n".join(demo_data.FOCUS_POINTS))
    found = themes(state)
    await focus_areas.propose_from_session(
        repo,
        eng.id,
        meeting.row.id,
        state,
        {t.cluster_id: t.title for t in found},
    )
    states = {meeting.row.id: state}

    async def state_of(session_id: str) -> SessionState | None:
        return states.get(session_id)

    eng_row = await repo.engagement(eng.id)
    assert eng_row is not None
    data = await gather(repo, eng_row, state_of, today=date(2026, 6, 1))
    for language, expected in (
        (
            "da",
            (
                "Statusnotat",
                "50 sager er gennemgået, og 20 af dem er udvalgt",
                "Sag 1 lærer os noget",
            ),
        ),
        (
            "en",
            ("Status note", "50 cases were reviewed; 20 of them were selected", "Læring om Sag 1"),
        ),
    ):
        doc = Document(io.BytesIO(status_note_docx(data, language)))
        text = "\n".join(p.text for p in doc.paragraphs) + "\n".join(
            c.text for t in doc.tables for r in t.rows for c in r.cells
        )
        for part in (*expected, demo_data.FOCUS_POINTS[0], "Tema 1", "Læring om Sag 2"):
            assert part in text, (language, part)

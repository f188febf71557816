"""Issue 16, the facilitator's laptop: one start, a control bar with the step and
timer buttons while the meeting runs, a way back in after it ends, the script's
step questions, "let everyone in" at the door, a multi-line decision field and a
copy button on the journal note."""

from __future__ import annotations

import re

from sqlmodel import select

from server.engine import Actor, ActorRole, CommandRejected, lobby
from server.engine.commands import EndSession, GoToStep, StartSession
from server.engine.registry import Command
from server.store.tables import AuditLog
from server.web.messages import MESSAGES
from tests.support import World, csrf_of

FAC = Actor(ActorRole.FACILITATOR, "user:1")


def submit(world: World, session_id: str, *commands: Command) -> None:
    live = world.fac.portal.call(world.services.live.get, session_id)
    assert live is not None
    for cmd in commands:
        out = world.fac.portal.call(live.submit, cmd)
        assert not isinstance(out, CommandRejected), out


def status_bar(page: str) -> str:
    """The control bar's fragment, up to the stage below it."""
    start = page.index('id="f-status"')
    return page[start : page.index('id="f-stage"', start)]


def test_one_start_before_the_meeting_and_the_controls_while_it_runs(world: World) -> None:
    sid, _ = world.create_session("heldagsmoede")
    page = world.fac.get(f"/facilitator/sessions/{sid}").text
    assert page.count('"type": "start_session"') == 1
    assert '"type": "start_timer"' not in page  # the timer's own start waits for the meeting
    assert '"type": "next_step"' not in page

    submit(world, sid, StartSession(actor=FAC))
    page = world.fac.get(f"/facilitator/sessions/{sid}").text
    bar = status_bar(page)
    assert 'class="control-bar"' in page
    for kind in ("previous_step", "next_step", "start_timer", "pause_timer", "end_session"):
        assert f'"type": "{kind}"' in bar, kind
    assert '"type": "start_session"' not in page
    assert "data-confirm" not in bar  # ending is undone by reopening, not confirmed


def test_after_the_end_the_controls_go_and_the_meeting_can_be_reopened(world: World) -> None:
    sid, _ = world.create_session("heldagsmoede")
    submit(world, sid, StartSession(actor=FAC), EndSession(actor=FAC))
    page = world.fac.get(f"/facilitator/sessions/{sid}").text
    for kind in ("next_step", "previous_step", "start_timer", "pause_timer", "extend_timer"):
        assert f'"type": "{kind}"' not in page, kind
    assert '"type": "reopen_session"' in page

    reopen = MESSAGES["reopen_session"]
    submit(world, sid, reopen.build(FAC, {"type": "reopen_session"}))
    page = world.fac.get(f"/facilitator/sessions/{sid}").text
    assert '"type": "next_step"' in page and '"type": "reopen_session"' not in page


def test_the_facilitator_sees_the_steps_questions(world: World) -> None:
    sid, _ = world.create_session("heldagsmoede")
    submit(world, sid, StartSession(actor=FAC), GoToStep(actor=FAC, step_id="genkendelse"))
    page = world.fac.get(f"/facilitator/sessions/{sid}").text
    assert 'class="step-questions"' in page
    assert "Hvad genkender I fra jeres egne sager?" in page
    assert "Hvad overrasker jer?" in page


def test_let_everyone_in_admits_each_and_audits_each(world: World) -> None:
    sid, _ = world.create_session("kvifa")
    people = {"p-anna": "Anna Hansen", "p-bo": "Bo Berg", "p-carl": "Carl Dam"}
    submit(
        world,
        sid,
        *(
            lobby.AskToJoin(actor=Actor(ActorRole.PARTICIPANT, pid), name=n)
            for pid, n in people.items()
        ),
    )
    page = world.fac.get(f"/facilitator/sessions/{sid}").text
    assert 'value="admit_all"' in page
    r = world.fac.post(
        f"/facilitator/sessions/{sid}/lobby",
        data={"decision": "admit_all", "csrf": csrf_of(world.fac)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:300]
    live = world.fac.portal.call(world.services.live.get, sid)
    assert live is not None
    assert set(people) <= set(live.state.participants)
    assert not lobby.waiting(live.state)

    async def rows() -> list[AuditLog]:
        async with world.services.repo.sessions() as db:
            return list((await db.exec(select(AuditLog))).all())

    admitted = [a.target for a in world.fac.portal.call(rows) if a.action == "participant.admit"]
    assert sorted(admitted) == sorted(f"session:{sid} participant:{n}" for n in people.values())
    page = world.fac.get(f"/facilitator/sessions/{sid}").text
    assert 'value="admit_all"' not in page


def test_the_decision_field_takes_several_lines(world: World) -> None:
    sid, _ = world.create_session("heldagsmoede")
    submit(world, sid, StartSession(actor=FAC))
    page = world.fac.get(f"/facilitator/sessions/{sid}").text
    assert re.search(r'<textarea id="decision-text" name="text"', page)


def test_the_journal_note_has_a_copy_button(world: World) -> None:
    sid, _ = world.create_session("kvifa")
    submit(world, sid, StartSession(actor=FAC), EndSession(actor=FAC))
    page = world.fac.get(f"/facilitator/sessions/{sid}/minutes").text
    assert 'id="journal-text"' in page
    assert 'data-copy="journal-text"' in page

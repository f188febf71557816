"""What one phone shows of its own: who may write, and who waits while another
group has its private time (rendered through the real template)."""

from __future__ import annotations

from server.engine.commands import GoToStep, SetCaseOwner
from server.web import render, views
from server.web.render import Room
from server.web.voters import voter_key
from tests.engine.steps_helpers import FAC, SCRIPT, Run

KEY = voter_key("a-test-secret-key-that-is-long-enough-to-use")
ROOM = Room("s1", "Titel", "ABCD2345", "http://testserver/j/ABCD2345", "da", voter_key=KEY)


def test_during_private_time_the_others_wait_and_the_group_writes() -> None:
    run = Run().start("mor", "raadgiver", step="familietid")
    run.role("mor", "family")
    away = views.private_view(run.state, "raadgiver", KEY)
    home = views.private_view(run.state, "mor", KEY)
    assert away.away == "Familien arbejder alene." and not away.writes
    assert home.away is None and home.writes
    html = render.render_private(run.state, ROOM, "raadgiver", run.now)
    assert 'data-writes="0"' in html and "Familien arbejder alene." in html
    assert "Vent lidt" in html  # Danish, the session's language
    mine = render.render_private(run.state, ROOM, "mor", run.now)
    assert 'data-writes="1"' in mine and "notice-away" not in mine
    run.ok(GoToStep(actor=FAC, step_id="droeft"))
    assert views.private_view(run.state, "raadgiver", KEY).writes


def test_the_listening_case_owner_writes_no_cards_in_the_round() -> None:
    steps = [dict(st, cards=True) if st["id"] == "runde" else st for st in SCRIPT["steps"]]
    run = Run({**SCRIPT, "steps": steps}).start("ejer", "kollega", step="runde")
    run.ok(SetCaseOwner(actor=FAC, participant_id="ejer"))
    owner = views.private_view(run.state, "ejer", KEY)
    assert owner.listening and not owner.writes
    assert views.private_view(run.state, "kollega", KEY).writes
    html = render.render_private(run.state, ROOM, "ejer", run.now)
    assert 'data-writes="0"' in html and "I denne runde lytter du kun." in html

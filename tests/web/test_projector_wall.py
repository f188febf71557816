"""The wall from the back of the room (issue 16): the fragments the projector is
sent for a meeting that has ended (no join code, it says so), a break (when the
group starts again) and a decision step (what was decided). The layout at
1920x1080 is measured in tests/e2e/test_projector_wall.py, from these states."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from server.engine.commands import (
    AddAction,
    AddCard,
    AddCluster,
    EndSession,
    GoToStep,
    GroupCard,
    PauseTimer,
    RecordDecision,
)
from server.engine.state import SessionState
from server.minutes.fmt import LOCAL_TZ
from server.web import render
from server.web.render import Room
from tests.engine.steps_helpers import FAC, Run, p

ROOM = Room("s1", "Opstart", "ABCD2345", "http://testserver/j/ABCD2345", "da")
SCRIPT: dict[str, Any] = {
    "id": "vaeg",
    "title": "Opstartsworkshop",
    "duration": 120,
    "steps": [
        {"id": "intro", "kind": "presentation", "title": "Velkommen", "timebox": 5},
        {
            "id": "ideer",
            "kind": "brainstorm",
            "title": "Hvad skal lykkes?",
            "prompt": "Skriv ét kort pr. idé på din telefon.",
            "timebox": 10,
            "max_cards_per_participant": 100,
        },
        {"id": "pause", "kind": "break", "title": "Pause", "timebox": 15},
        {"id": "beslut", "kind": "decision", "title": "Beslutning"},
    ],
}
TEXTS = (
    "Forældrene skal høres før mødet",
    "Fælles sprog om barnets trivsel",
    "Tid til sparring i teamet hver uge, også når der er travlt",
    "Skolen med fra start",
    "Klare aftaler om hvem der gør hvad og hvornår",
    "Mindre dobbeltregistrering",
    "Opfølgning efter tre måneder",
    "Ledelsen bakker op",
)
# 10.30 Danish time on a winter's day: the break's end reads the same on any host.
T0 = dt.datetime(2026, 12, 3, 10, 30, tzinfo=LOCAL_TZ).timestamp()


def run_at(step: str) -> Run:
    """The session in `step`, entered at T0 (its timebox's timer starts then)."""
    run = Run(script=SCRIPT)
    run.now = T0 - 600
    run.start("a", "b", "c")
    if step != "intro":
        run.now = T0 - 1  # ok() adds a second
        run.ok(GoToStep(actor=FAC, step_id=step))
    return run


def wall_with(cards: int) -> tuple[SessionState, float]:
    """The brainstorm step with `cards` cards, the timer running."""
    run = run_at("ideer")
    for i in range(cards):
        author = "abc"[i % 3]
        run.ok(AddCard(actor=p(author), card_id=f"k{i}", text=f"{TEXTS[i % len(TEXTS)]} ({i + 1})"))
    return run.state, run.now


def clustered_wall(clusters: int, cards: int) -> tuple[SessionState, float]:
    """The brainstorm step with `cards` cards grouped in turn into `clusters`
    themes, and two loose ones."""
    run = run_at("ideer")
    for n in range(clusters):
        run.ok(AddCluster(actor=FAC, cluster_id=f"t{n}", title=f"Tema {n + 1}"))
    for i in range(cards + 2):
        text = f"{TEXTS[i % len(TEXTS)]} ({i + 1})"
        run.ok(AddCard(actor=p("abc"[i % 3]), card_id=f"k{i}", text=text))
        if i < cards:
            run.ok(GroupCard(actor=FAC, card_id=f"k{i}", cluster_id=f"t{i % clusters}"))
    return run.state, run.now


def break_state(paused: bool = False) -> tuple[SessionState, float]:
    run = run_at("pause")  # the timer starts at 10.30
    if paused:
        run.now += 119
        run.ok(PauseTimer(actor=FAC))  # two minutes in: 13 left
    return run.state, run.now


def decision_state() -> tuple[SessionState, float]:
    run = run_at("beslut")
    run.ok(
        RecordDecision(actor=FAC, decision_id="d1", text="Vi afprøver sparringsmodellen i to teams")
    )
    run.ok(RecordDecision(actor=FAC, decision_id="d2", text="Forældre inviteres til første møde"))
    run.ok(
        AddAction(actor=FAC, action_id="a1", what="Sende invitation", who="Mette", due="2026-12-10")
    )
    return run.state, run.now


def ended_state() -> tuple[SessionState, float]:
    run = run_at("ideer")
    run.ok(EndSession(actor=FAC))
    return run.state, run.now


def stage(state: SessionState, now: float) -> str:
    return render.render_fragment(state, ROOM, "projector", "p-stage", now)


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_ended_wall_says_the_meeting_has_ended_and_drops_the_join_code() -> None:
    state, now = ended_state()
    html = stage(state, now)
    assert 'data-status="ended"' in html  # the footer's join code goes (static/css/app.css)
    assert "Mødet er slut." in text_of(html)
    assert "qr.svg" not in html and ROOM.join_code not in html


def test_a_break_says_when_the_group_starts_again() -> None:
    state, now = break_state()
    assert "Vi starter igen kl. 10.45" in text_of(stage(state, now))
    # Still 10.45 a few minutes later: the end of the timer, not now plus 15.
    assert "Vi starter igen kl. 10.45" in text_of(stage(state, now + 300))


def test_a_paused_break_moves_its_end_and_says_it_is_paused() -> None:
    state, now = break_state(paused=True)
    text = text_of(stage(state, now + 60))  # 13 minutes left at 10.33
    assert "Vi starter igen kl. 10.46" in text
    assert "Pausen er sat på pause" in text


def test_a_decision_step_shows_what_was_decided() -> None:
    state, now = decision_state()
    text = text_of(stage(state, now))
    assert "Vi afprøver sparringsmodellen i to teams" in text
    assert "Forældre inviteres til første møde" in text
    assert "Sende invitation" in text and "Mette" in text
    assert text.index("sparringsmodellen") < text.index("Forældre inviteres")


def test_a_decision_step_without_decisions_says_none_yet() -> None:
    state, now = run_at("beslut").state, T0
    assert "Der er ikke truffet nogen beslutninger endnu." in text_of(stage(state, now))


def test_the_join_code_is_large_while_people_join_only() -> None:
    first = run_at("intro")
    assert "is-joining" in stage(first.state, first.now)
    state, now = wall_with(3)
    assert "is-joining" not in stage(state, now)


def test_every_card_is_on_the_wall_for_the_append_to_find() -> None:
    """Sixty cards: all sixty in the wall's list (the oldest hidden by the style
    sheet), so a card appended later lands where a whole render puts it."""
    state, now = wall_with(60)
    html = stage(state, now)
    assert html.count('class="card"') == 60
    assert 'id="wall-loose"' in html and 'data-more="flere kort"' in html

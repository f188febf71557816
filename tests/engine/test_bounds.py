"""The engine's bounds on what code holders can pile up (security.md, resource exhaustion):
the lobby's waiting list and the cards one participant adds in a step."""

from __future__ import annotations

from typing import Any

from server.engine import CommandRejected, lobby, replay
from server.engine.commands import AddCard, GoToStep, WithdrawCard
from server.engine.events import from_record, to_record
from server.scripts.schema import CARDS_PER_PARTICIPANT
from tests.engine.steps_helpers import FAC, SCRIPT, Run, p

LOBBY_SCRIPT: dict[str, Any] = {**SCRIPT, "session_type": "case_meeting"}


# -- the lobby ------------------------------------------------------------------------------


def test_at_most_a_hundred_people_wait_at_the_door() -> None:
    run = Run(LOBBY_SCRIPT)
    assert lobby.MAX_WAITING == 100
    for i in range(lobby.MAX_WAITING):
        run.ok(lobby.AskToJoin(actor=p(f"w{i}"), name=f"W{i}"))
    late = run.no(lobby.AskToJoin(actor=p("late"), name="Late"))
    assert late.code == "full"
    assert late.reason == "Too many people are waiting. Try again in a moment."
    # Someone already waiting may still correct their name; a refusal frees a place.
    run.ok(lobby.AskToJoin(actor=p("w0"), name="W nul"))
    run.ok(lobby.Deny(actor=FAC, participant_id="w1"))
    run.ok(lobby.AskToJoin(actor=p("late"), name="Late"))
    assert len(lobby.waiting(run.state)) == lobby.MAX_WAITING


def test_a_knock_nobody_answers_lapses_after_an_hour() -> None:
    run = Run(LOBBY_SCRIPT)
    for i in range(lobby.MAX_WAITING):
        run.ok(lobby.AskToJoin(actor=p(f"w{i}"), name=f"W{i}"))
    run.ok(lobby.Deny(actor=FAC, participant_id="w0"))
    run.ok(lobby.AskToJoin(actor=p("w100"), name="W100"))
    # Still within the hour: the list is full.
    run.now += lobby.KNOCK_TTL - 200
    assert run.no(lobby.AskToJoin(actor=p("late"), name="Late")).code == "full"
    # An hour after those knocks, they hold no place; the next knock clears them out.
    run.now += 300
    events = run.ok(lobby.AskToJoin(actor=p("late"), name="Late"))
    lapsed = events[0]
    assert isinstance(lapsed, lobby.EntriesLapsed)
    assert sorted(lapsed.participant_ids) == sorted(f"w{i}" for i in range(1, 101))
    assert [k.id for k in lobby.waiting(run.state)] == ["late"]
    assert lobby.status(run.state, "w5") == "none"  # may ask again
    assert lobby.status(run.state, "w0") == "denied"  # is still told, and stays out
    assert run.no(lobby.AskToJoin(actor=p("w0"), name="W0")).code == "denied"
    # The one whose knock lapsed asks again and waits afresh.
    run.ok(lobby.AskToJoin(actor=p("w5"), name="W5"))
    assert lobby.status(run.state, "w5") == "waiting"
    # The log replays to the same state, and the event survives being stored.
    assert replay(run.log) == run.state
    assert from_record(*to_record(lapsed)) == lapsed


def test_a_waiting_person_asking_again_after_the_hour_starts_afresh() -> None:
    run = Run(LOBBY_SCRIPT)
    run.ok(lobby.AskToJoin(actor=p("x"), name="Xena"))
    run.now += lobby.KNOCK_TTL + 1
    events = run.ok(lobby.AskToJoin(actor=p("x"), name="Xena"))
    assert [type(e).__name__ for e in events] == ["EntriesLapsed", "EntryAsked"]
    (knock,) = lobby.waiting(run.state)
    assert knock.id == "x" and knock.asked_at == run.now
    # A lapsed knock that is still on the facilitator's list can be let in.
    run.now += lobby.KNOCK_TTL + 1
    run.ok(lobby.Admit(actor=FAC, participant_id="x"))
    assert "x" in run.state.participants
    assert replay(run.log) == run.state


# -- cards ----------------------------------------------------------------------------------


def _card(run: Run, who: str, i: int) -> list[Any] | CommandRejected:
    return run.do(AddCard(actor=p(who), card_id=f"{who}-{i}", text=f"kort {i}"))


def test_a_step_without_a_card_limit_takes_fifty_cards_per_person() -> None:
    run = Run().start("a", "b", step="droeft")  # a discussion with cards, no limit set
    assert CARDS_PER_PARTICIPANT == 50
    for i in range(CARDS_PER_PARTICIPANT):
        assert not isinstance(_card(run, "a", i), CommandRejected)
    refused = _card(run, "a", CARDS_PER_PARTICIPANT)
    assert isinstance(refused, CommandRejected) and refused.code == "card_limit"
    assert refused.reason == "You can add at most 50 cards in this step."
    # Others are not held back; a withdrawn card frees a place; the facilitator is not counted.
    assert not isinstance(_card(run, "b", 0), CommandRejected)
    run.ok(WithdrawCard(actor=p("a"), card_id="a-0"))
    assert not isinstance(_card(run, "a", 100), CommandRejected)
    assert isinstance(_card(run, "a", 101), CommandRejected)
    for i in range(CARDS_PER_PARTICIPANT + 1):
        run.ok(AddCard(actor=FAC, card_id=f"fac-{i}", text="fra tavlen"))
    # The limit is per step: the next step with cards starts from nothing.
    run.ok(GoToStep(actor=FAC, step_id="ideer"))
    assert not isinstance(_card(run, "a", 200), CommandRejected)
    assert replay(run.log) == run.state


def test_a_script_limit_is_used_instead_of_the_default() -> None:
    script = {
        **SCRIPT,
        "steps": [
            {**step, "max_cards_per_participant": 80} if step["id"] == "ideer" else step
            for step in SCRIPT["steps"]
        ],
    }
    run = Run(script).start("a", step="ideer")
    for i in range(80):
        assert not isinstance(_card(run, "a", i), CommandRejected), i
    refused = _card(run, "a", 80)
    assert isinstance(refused, CommandRejected) and refused.code == "card_limit"
    assert refused.reason == "You can add at most 80 cards in this step."

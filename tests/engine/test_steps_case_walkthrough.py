"""Case walkthrough: one case at a time, idempotent moves, cards tied to the case."""

from __future__ import annotations

from server.engine.commands import AddCard, GoToStep
from server.engine.state import TimerStatus
from server.engine.steps.case_walkthrough import GoToCase, NextCase, PreviousCase, current_case
from tests.engine.steps_helpers import FAC, Run, p


def at_cases(*people: str) -> Run:
    return Run().start(*people, step="sager")


def test_entering_shows_the_first_case_with_the_per_case_timer() -> None:
    run = at_cases()
    assert run.state.case_positions == {"sager": 0}
    case = current_case(run.state)
    assert case is not None and case.label == "Sag 1"
    assert case.learning_question == "Hvornår blev barnet hørt?"
    assert run.state.timer.status is TimerStatus.RUNNING
    assert run.state.timer.duration == 10 * 60  # per case, not the step's 60 minutes


def test_next_and_previous_are_idempotent_by_the_case_the_sender_saw() -> None:
    run = at_cases()
    run.ok(NextCase(actor=FAC, from_case="k1"))
    assert run.do(NextCase(actor=FAC, from_case="k1")) == []  # a double click
    assert current_case(run.state).id == "k2"  # type: ignore[union-attr]
    run.ok(NextCase(actor=FAC))
    assert run.no(NextCase(actor=FAC)).code == "no_case"
    run.ok(PreviousCase(actor=FAC, from_case="k3"))
    assert run.do(PreviousCase(actor=FAC, from_case="k3")) == []
    assert current_case(run.state).id == "k2"  # type: ignore[union-attr]
    run.ok(GoToCase(actor=FAC, index=0))
    assert run.no(PreviousCase(actor=FAC)).code == "no_case"


def test_each_case_restarts_the_timer() -> None:
    run = at_cases()
    run.now += 300  # five minutes pass
    assert run.state.timer.remaining_at(run.now) < 10 * 60
    run.ok(NextCase(actor=FAC))
    assert run.state.timer.remaining_at(run.now) == 10 * 60


def test_go_to_case_refuses_hostile_indexes() -> None:
    run = at_cases()
    for index in (-1, 3, 10**9, True, 1.5, float("nan"), "1", None):
        out = run.no(GoToCase(actor=FAC, index=index))  # type: ignore[arg-type]
        assert out.code in {"no_case", "invalid"}
    assert run.do(GoToCase(actor=FAC, index=0)) == []
    run.ok(GoToCase(actor=FAC, index=2))
    assert run.state.case_positions["sager"] == 2


def test_only_the_facilitator_moves_and_only_in_a_case_step() -> None:
    run = at_cases("a")
    assert run.no(NextCase(actor=p("a"))).code == "forbidden"
    run.ok(GoToStep(actor=FAC, step_id="velkomst"))
    assert run.no(NextCase(actor=FAC)).code == "wrong_step"
    empty = Run(cases=()).start(step="sager")
    assert empty.state.case_positions == {}
    assert empty.no(NextCase(actor=FAC)).code == "no_cases"


def test_coming_back_keeps_the_case() -> None:
    run = at_cases()
    run.ok(GoToCase(actor=FAC, index=2))
    run.ok(GoToStep(actor=FAC, step_id="velkomst"))
    run.ok(GoToStep(actor=FAC, step_id="sager"))
    assert current_case(run.state).id == "k3"  # type: ignore[union-attr]


def test_cards_are_tied_to_the_case_on_the_wall() -> None:
    run = at_cases("a")
    run.ok(AddCard(actor=p("a"), card_id="c1", text="Barnet blev ikke hørt"))
    run.ok(NextCase(actor=FAC))
    run.ok(AddCard(actor=p("a"), card_id="c2", text="God inddragelse af skolen"))
    run.ok(GoToStep(actor=FAC, step_id="droeft"))
    run.ok(AddCard(actor=p("a"), card_id="c3", text="Ikke en sag"))
    cards = run.state.cards
    assert (cards["c1"].case_id, cards["c2"].case_id, cards["c3"].case_id) == ("k1", "k2", None)
    assert run.replayed() == run.state

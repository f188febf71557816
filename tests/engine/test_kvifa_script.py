"""The shipped Kvifa scripts run through the engine with a case owner: who takes a
turn in each round (Socialstyrelsen 2014, example 11)."""

from __future__ import annotations

import pytest

from server.engine.commands import GoToStep, SetCaseOwner
from server.engine.steps.round import ReorderRound, is_listening
from server.scripts.loader import load_script
from server.settings import ROOT
from tests.engine.steps_helpers import FAC, Run

ROUNDS = {  # script: (question round, reflection round, proposals round)
    "kvifa": ("spoergerunde", "refleksionsrunde", "loesningsforslag"),
    "kvifa-en": ("questions", "reflection", "proposals"),
}


def kvifa(name: str) -> Run:
    script = load_script(ROOT / "facilitation_scripts" / f"{name}.yaml")
    run = Run(script=script.model_dump(mode="json"), cases=(), focus_areas=())
    run.start("ejer", "b", "c", "d")  # the case owner joined first
    run.ok(SetCaseOwner(actor=FAC, participant_id="ejer"))
    return run


@pytest.mark.parametrize("name", sorted(ROUNDS))
def test_the_case_owner_answers_the_question_round_and_takes_no_turn(name: str) -> None:
    questions, _, _ = ROUNDS[name]
    run = kvifa(name)
    run.ok(GoToStep(actor=FAC, step_id=questions))
    rnd = run.state.rounds[questions]
    assert rnd.order == ("b", "c", "d")
    assert rnd.current == "b"
    assert not is_listening(run.state, "ejer")  # the case owner answers: not silenced
    refused = run.no(ReorderRound(actor=FAC, order=("ejer", "b", "c", "d")))
    assert refused.code == "answerer"
    assert run.replayed() == run.state


@pytest.mark.parametrize("name", sorted(ROUNDS))
def test_everyone_reflects_and_the_case_owner_listens_to_the_proposals(name: str) -> None:
    _, reflection, proposals = ROUNDS[name]
    run = kvifa(name)
    run.ok(GoToStep(actor=FAC, step_id=reflection))
    assert run.state.rounds[reflection].order == ("ejer", "b", "c", "d")
    run.ok(GoToStep(actor=FAC, step_id=proposals))
    assert run.state.rounds[proposals].order == ("b", "c", "d")
    assert is_listening(run.state, "ejer")

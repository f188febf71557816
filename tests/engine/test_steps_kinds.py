"""The step-kind registry and the small kinds: brainstorm, presentation, decision,
private time, plan edit, consultation; and every shipped script walked end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.engine import CommandRejected
from server.engine.commands import (
    AddAction,
    AddCard,
    GoToStep,
    NextStep,
    RecordDecision,
    SetCaseOwner,
    WithdrawCard,
)
from server.engine.registry import ENTER_HOOKS
from server.engine.steps import KINDS
from server.engine.steps.brainstorm import cards_left, preset_cluster_id
from server.engine.steps.consultation import DAY, closes_at
from server.engine.steps.decision import journal_note
from server.engine.steps.plan_edit import editable_fields
from server.engine.steps.presentation import presenters
from server.engine.steps.private_time import is_excluded, others_message
from server.scripts.loader import load_script
from server.scripts.schema import (
    STEP_KINDS,
    BrainstormStep,
    ConsultationStep,
    PlanEditStep,
    PresentationStep,
)
from tests.engine.steps_helpers import FAC, SCRIPT, Run, p

SHIPPED = sorted((Path(__file__).parents[2] / "facilitation_scripts").glob("*.yaml"))


def test_every_script_kind_has_exactly_one_module() -> None:
    assert set(KINDS) == set(STEP_KINDS)
    assert len(KINDS) == len(STEP_KINDS)
    for name, module in KINDS.items():
        assert name == module.KIND
    assert set(ENTER_HOOKS) <= set(KINDS)


def test_the_test_script_has_every_kind() -> None:
    assert {s["kind"] for s in SCRIPT["steps"]} == set(STEP_KINDS)


# -- brainstorm -------------------------------------------------------------------------------


def test_brainstorm_adds_preset_clusters_once() -> None:
    run = Run().start(step="ideer")
    titles = [c.title for c in run.state.clusters_for("ideer")]
    assert titles == ["Kvalitet", "Tidlige forløb"]
    assert preset_cluster_id("ideer", 1) in run.state.clusters
    run.ok(GoToStep(actor=FAC, step_id="velkomst"))
    run.ok(GoToStep(actor=FAC, step_id="ideer"))
    assert len(run.state.clusters_for("ideer")) == 2


def test_brainstorm_limits_cards_per_participant_but_not_the_facilitator() -> None:
    run = Run().start("a", "b", step="ideer")
    step = run.state.step
    assert isinstance(step, BrainstormStep)
    run.ok(AddCard(actor=p("a"), card_id="a1", text="En"))
    run.ok(AddCard(actor=p("a"), card_id="a2", text="To"))
    assert cards_left(run.state, step, "a") == 0
    out = run.no(AddCard(actor=p("a"), card_id="a3", text="Tre"))
    assert (out.code, out.reason) == ("card_limit", "You can add at most 2 cards in this step.")
    run.ok(AddCard(actor=p("b"), card_id="b1", text="Andens"))
    run.ok(AddCard(actor=FAC, card_id="f1", text="Fra tavlen"))
    run.ok(AddCard(actor=FAC, card_id="f2", text="Fra tavlen igen"))
    run.ok(AddCard(actor=FAC, card_id="f3", text="Og igen"))
    # a withdrawn card frees its place, and cannot be brought back by a late resend
    run.ok(WithdrawCard(actor=p("a"), card_id="a2"))
    assert run.do(AddCard(actor=p("a"), card_id="a2", text="To")) == []
    assert "a2" not in run.state.cards
    run.ok(AddCard(actor=p("a"), card_id="a3", text="Tre"))
    # the limit is per step: the discussion step has none
    run.ok(NextStep(actor=FAC))
    run.ok(AddCard(actor=p("a"), card_id="a4", text="Fire"))


# -- presentation, plan edit, consultation -----------------------------------------------


def test_presenters_are_the_participants_with_the_presenter_role() -> None:
    run = Run().start("a", "b", "c")
    run.role("c", "consultant")
    run.role("a", "consultant")
    step = run.state.step
    assert isinstance(step, PresentationStep)
    assert presenters(run.state, step) == ("a", "c")
    assert presenters(run.state, step.model_copy(update={"presenter": None})) == ()


def test_plan_edit_fields_and_consultation_window() -> None:
    plan = PlanEditStep(id="plan", kind="plan_edit", title="Plan", fields=("goal", "status"))
    assert editable_fields(plan) == ("goal", "status")
    hearing = ConsultationStep(id="h", kind="consultation", title="Høring", window_days=10)
    assert closes_at(hearing, 1000.0) == 1000.0 + 10 * DAY


# -- private time -----------------------------------------------------------------------


def test_private_time_excludes_everyone_outside_the_group() -> None:
    run = Run().start("mor", "far", "raadgiver")
    run.role("mor", "family")
    run.role("far", "family")
    assert not is_excluded(run.state, "raadgiver")  # not private time yet
    run.ok(GoToStep(actor=FAC, step_id="familietid"))
    assert not is_excluded(run.state, "mor")
    assert is_excluded(run.state, "raadgiver")
    assert is_excluded(run.state, "stranger")
    assert others_message(run.state, "raadgiver") == "Familien arbejder alene."
    assert others_message(run.state, "far") is None
    run.ok(AddCard(actor=p("mor"), card_id="m1", text="Mormor henter om fredagen"))
    assert run.no(AddCard(actor=p("raadgiver"), card_id="r1", text="Kig med")).code == "private"
    run.ok(NextStep(actor=FAC))
    assert not is_excluded(run.state, "raadgiver")


def test_a_listener_adds_no_cards_in_the_round_the_others_do() -> None:
    steps = [dict(st, cards=True) if st["id"] == "runde" else st for st in SCRIPT["steps"]]
    run = Run({**SCRIPT, "steps": steps}).start("ejer", "kollega", step="runde")
    run.ok(SetCaseOwner(actor=FAC, participant_id="ejer"))
    refused = run.no(AddCard(actor=p("ejer"), card_id="e1", text="Men vi har jo prøvet"))
    assert refused.code == "listening" and "only listen" in refused.reason
    run.ok(AddCard(actor=p("kollega"), card_id="k1", text="Netværksmøde med skolen"))
    run.ok(AddCard(actor=FAC, card_id="f1", text="Tavlens noter"))  # the facilitator writes
    run.ok(GoToStep(actor=FAC, step_id="droeft"))  # not a round: the case owner writes again
    run.ok(AddCard(actor=p("ejer"), card_id="e2", text="Tak for forslagene"))


# -- decisions -------------------------------------------------------------------------------


def test_decisions_are_allowed_anywhere_and_the_journal_note_reads_a_step() -> None:
    run = Run(cases=({"id": "k17", "label": "Sag 17"},)).start("ejer")
    run.ok(SetCaseOwner(actor=FAC, participant_id="ejer"))
    run.ok(RecordDecision(actor=FAC, decision_id="d0", text="Vi følger planen"))
    run.ok(GoToStep(actor=FAC, step_id="beslut"))
    run.ok(RecordDecision(actor=FAC, decision_id="d1", text="Netværksmøde indkaldes"))
    run.ok(AddAction(actor=FAC, action_id="a1", what="Indkald", who="Sagsejer", due="1/3"))
    note = journal_note(run.state, "beslut")
    assert [d.id for d in note.decisions] == ["d1"]
    assert [a.id for a in note.actions] == ["a1"]
    assert note.case is not None and note.case.label == "Sag 17"
    assert [d.id for d in journal_note(run.state, "velkomst").decisions] == ["d0"]
    assert journal_note(Run().state, "beslut").case is None  # several cases: none is "the" case


# -- the shipped scripts -----------------------------------------------------------------------


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_every_shipped_script_walks_from_first_to_last_step(path: Path) -> None:
    script = load_script(path).model_dump(mode="json")
    run = Run(script=script).start("a", "b")
    for step in script["steps"][1:]:
        run.ok(NextStep(actor=FAC, from_step=run.state.step_id))
        assert run.state.step_id == step["id"]
        if step["kind"] == "poll":
            assert step["id"] in run.state.polls
        out = run.do(AddCard(actor=p("a"), card_id=f"c-{step['id']}", text="Et kort"))
        current = run.state.step
        assert current is not None
        opened = current.cards and current.kind != "private_time"
        assert isinstance(out, list) if opened else isinstance(out, CommandRejected)
    assert run.replayed() == run.state

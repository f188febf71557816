"""The scripts we ship load, pass check-script, and follow the processes they describe."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.scripts.check import PROMPT_MAX, dry_run, main, total_timebox
from server.scripts.loader import load_script
from server.scripts.schema import (
    BrainstormStep,
    CaseWalkthroughStep,
    ConsultationStep,
    DecisionStep,
    DiscussionStep,
    Language,
    PlanEditStep,
    PollStep,
    PresentationStep,
    PrivateTimeStep,
    RoundStep,
    Script,
    SessionType,
)

FOLDER = Path(__file__).resolve().parents[2] / "facilitation_scripts"
PATHS = sorted(FOLDER.glob("*.yaml"))
NINE = {
    "opstartsworkshop": SessionType.KICKOFF,
    "heldagsmoede": SessionType.CASE_MEETING,
    "hoering": SessionType.CONSULTATION,
    "implementeringsworkshop": SessionType.IMPLEMENTATION,
    "kvifa": SessionType.KVIFA,
    "styregruppemoede": SessionType.STEERING_GROUP,
    "opfoelgningsmoede": SessionType.FOLLOW_UP,
    "praesentation-politikere": SessionType.POLITICIANS,
    "familieraadslagning": SessionType.FAMILY_CONFERENCE,
}


def script(name: str) -> Script:
    return load_script(FOLDER / f"{name}.yaml")


def test_the_folder_holds_the_nine_sessions_and_english_kvifa() -> None:
    assert {p.stem for p in PATHS} == {*NINE, "kvifa-en"}


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_shipped_script_loads_and_passes_check(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    loaded = load_script(path)
    assert loaded.id == path.stem
    assert dry_run(loaded) == []
    assert main([str(path)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.startswith(f"{path}: OK: {len(loaded.steps)} steps")


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_shipped_script_reads_well_on_a_projector(path: Path) -> None:
    loaded = load_script(path)
    assert 0.75 * loaded.duration <= total_timebox(loaded) <= loaded.duration
    for step in loaded.steps:
        assert len(step.prompt) <= PROMPT_MAX, step.id
        if step.kind != "break":
            assert step.prompt and step.notes, step.id


@pytest.mark.parametrize(("name", "session_type"), NINE.items())
def test_each_session_type_has_its_danish_script(name: str, session_type: SessionType) -> None:
    loaded = script(name)
    assert loaded.session_type is session_type
    assert loaded.language is Language.DA


KVIFA_ORDER = [
    (PresentationStep, "presentation by the case owner"),
    (RoundStep, "question round"),
    (RoundStep, "reflection round"),
    (RoundStep, "proposals round"),
    (DecisionStep, "decision on action"),
    (DiscussionStep, "evaluation"),
    (PresentationStep, "the coordinator closes"),
]


@pytest.mark.parametrize("name", ["kvifa", "kvifa-en"])
def test_kvifa_has_exactly_the_seven_steps_in_order(name: str) -> None:
    loaded = script(name)
    assert [type(s) for s in loaded.steps] == [kind for kind, _ in KVIFA_ORDER]
    presentation, questions, reflection, proposals, decision, _evaluation, closing = loaded.steps
    assert {r.id for r in loaded.roles} == {"case_owner", "coordinator"}
    assert 45 <= loaded.duration <= 60
    assert isinstance(presentation, PresentationStep) and presentation.presenter == "case_owner"
    assert isinstance(questions, RoundStep) and questions.listeners == ()
    assert isinstance(reflection, RoundStep) and reflection.listeners == ()
    assert isinstance(proposals, RoundStep) and proposals.listeners == ("case_owner",)
    assert isinstance(decision, DecisionStep) and decision.journal_note
    assert isinstance(closing, PresentationStep) and closing.presenter == "coordinator"


def test_english_kvifa_mirrors_the_danish_one() -> None:
    da, en = script("kvifa"), script("kvifa-en")
    assert en.language is Language.EN
    assert [s.timebox for s in da.steps] == [s.timebox for s in en.steps]
    assert [s.kind for s in da.steps] == [s.kind for s in en.steps]


def test_kickoff_ends_with_agreed_focus_points() -> None:
    loaded = script("opstartsworkshop")
    assert loaded.duration == 120
    assert any(isinstance(s, BrainstormStep) and s.cards for s in loaded.steps)
    assert any(isinstance(s, DecisionStep) for s in loaded.steps[-2:])


def test_case_meeting_walks_through_cases_and_proposes_focus_areas() -> None:
    loaded = script("heldagsmoede")
    walks = [s for s in loaded.steps if isinstance(s, CaseWalkthroughStep)]
    assert walks and all(s.per_case_timebox and s.cases == "selected" for s in walks)
    assert any(isinstance(s, BrainstormStep) and s.propose_focus_areas for s in loaded.steps)
    assert sum(s.kind == "break" for s in loaded.steps) >= 3  # coffee, lunch, coffee
    first_walk = loaded.steps.index(walks[0])
    assert any(isinstance(s, PresentationStep) for s in loaded.steps[:first_walk])


def test_consultation_window_is_one_and_a_half_to_two_weeks() -> None:
    steps = [s for s in script("hoering").steps if isinstance(s, ConsultationStep)]
    assert len(steps) == 1 and 10 <= steps[0].window_days <= 14


def test_implementation_workshop_prioritises_focus_areas() -> None:
    loaded = script("implementeringsworkshop")
    polls = [s for s in loaded.steps if isinstance(s, PollStep)]
    assert {p.type.value for p in polls} >= {"dot", "rank"}
    assert all(p.options_from.value == "focus_areas" for p in polls)
    assert any(p.assign_horizon for p in polls)
    plans = [s for s in loaded.steps if isinstance(s, PlanEditStep)]
    assert plans and set(plans[0].fields) == {"purpose", "activity", "goal", "actors", "schedule"}
    assert any(isinstance(s, DecisionStep) for s in loaded.steps)


def test_steering_group_updates_status_and_decides() -> None:
    loaded = script("styregruppemoede")
    assert any(isinstance(s, PlanEditStep) and "status" in s.fields for s in loaded.steps)
    assert any(isinstance(s, DecisionStep) for s in loaded.steps)


def test_follow_up_ends_by_agreeing_the_next_meeting() -> None:
    last = script("opfoelgningsmoede").steps[-1]
    assert isinstance(last, DecisionStep) and last.next_meeting


def test_family_conference_gives_the_family_private_time() -> None:
    loaded = script("familieraadslagning")
    assert {r.id for r in loaded.roles} == {"family", "professionals", "samordner"}
    private = [s for s in loaded.steps if isinstance(s, PrivateTimeStep)]
    assert len(private) == 1 and private[0].group == "family" and private[0].others_message
    index = loaded.steps.index(private[0])
    before, after = loaded.steps[:index], loaded.steps[index + 1 :]
    assert any(isinstance(s, PresentationStep) and s.presenter == "professionals" for s in before)
    assert any(isinstance(s, PresentationStep) and s.presenter == "family" for s in after)
    assert any(isinstance(s, DecisionStep) for s in after)

"""The timer: minutes taken off never take the timer away, and a step returned to
keeps what was left of its time (issue 16)."""

from __future__ import annotations

from typing import Any

from server.engine.commands import (
    ExtendTimer,
    GoToStep,
    NextStep,
    PauseTimer,
    PreviousStep,
    ResetTimer,
    StartTimer,
)
from server.engine.state import TimerStatus
from server.engine.steps.case_walkthrough import NextCase, current_case
from server.engine.steps.round import NextSpeaker
from tests.engine.steps_helpers import FAC, Run

SCRIPT: dict[str, Any] = {
    "id": "tid",
    "title": "Tid",
    "duration": 60,
    "steps": [
        {"id": "intro", "kind": "presentation", "title": "Velkommen", "timebox": 10},
        {"id": "snak", "kind": "discussion", "title": "Drøftelse", "timebox": 20},
        {"id": "fri", "kind": "discussion", "title": "Uden tid"},
        {
            "id": "runde",
            "kind": "round",
            "title": "Runde",
            "timebox": 8,
            "speaker_timebox": 1,
        },
    ],
}


def run_at(step: str = "intro", *people: str) -> Run:
    return Run(script=SCRIPT).start(*people, step=None if step == "intro" else step)


# -- taking minutes off -----------------------------------------------------------------


def test_minus_one_minute_with_under_a_minute_left_shows_zero_not_nothing() -> None:
    """A one-minute speaker timer (Kvifa's question round) with 30 s left: −1 min
    used to take the timer's length to 0 too, and every screen then had no timer."""
    run = run_at("runde", "a", "b")
    assert run.state.timer.duration == 60
    run.now += 30
    run.ok(ExtendTimer(actor=FAC, minutes=-1))
    timer = run.state.timer
    assert timer.duration == 60  # the time it was set to stays (it went to 0)
    assert timer.is_set
    assert timer.status is TimerStatus.RUNNING
    assert timer.remaining_at(run.now) == 0
    assert timer.expired_at(run.now)
    run.now += 12
    assert timer.left_at(run.now) == -12  # overtime counts on
    run.ok(ExtendTimer(actor=FAC, minutes=1))
    assert run.state.timer.remaining_at(run.now) == 60
    assert run.replayed() == run.state


def test_minus_one_minute_in_overtime_changes_nothing() -> None:
    run = run_at("runde", "a", "b")
    run.now += 75  # 15 s over
    before = run.state.timer
    assert run.do(ExtendTimer(actor=FAC, minutes=-1)) == []
    assert run.state.timer == before
    assert before.left_at(run.now) == -16  # and the second the click took


def test_minus_one_minute_on_a_paused_or_idle_timer_stops_at_zero() -> None:
    run = run_at("runde", "a", "b")
    run.now += 20
    run.ok(PauseTimer(actor=FAC))
    for _ in range(3):
        run.do(ExtendTimer(actor=FAC, minutes=-1))
    timer = run.state.timer
    assert timer.is_set and timer.status is TimerStatus.PAUSED
    assert timer.remaining == 0 and timer.expired_at(run.now)
    assert run.no(StartTimer(actor=FAC)).code == "no_time"
    run.ok(ResetTimer(actor=FAC))  # the step's full time, not started
    run.ok(ExtendTimer(actor=FAC, minutes=-60))
    idle = run.state.timer
    assert idle.status is TimerStatus.IDLE and idle.is_set and idle.remaining == 0


def test_a_step_without_a_timebox_has_no_timer_until_one_is_set() -> None:
    run = run_at("fri")
    assert not run.state.timer.is_set
    assert run.do(ExtendTimer(actor=FAC, minutes=-1)) == []
    run.ok(ExtendTimer(actor=FAC, minutes=1))
    assert run.state.timer.is_set and run.state.timer.remaining == 60


# -- going back -------------------------------------------------------------------------


def test_going_back_keeps_what_was_left_and_the_time_away_does_not_count() -> None:
    run = run_at()
    run.now += 4 * 60  # four of ten minutes used
    run.ok(NextStep(actor=FAC, from_step="intro"))
    assert run.state.timer.remaining_at(run.now) == 20 * 60  # a new step: its full time
    run.now += 5 * 60
    run.ok(PreviousStep(actor=FAC, from_step="snak"))
    timer = run.state.timer
    assert run.state.step_id == "intro"
    assert timer.status is TimerStatus.RUNNING  # as it was left: running
    assert timer.remaining_at(run.now) == 6 * 60 - 1  # the second the click took
    run.now += 60
    run.ok(GoToStep(actor=FAC, step_id="snak"))
    assert run.state.timer.remaining_at(run.now) == 15 * 60 - 1
    assert run.replayed() == run.state


def test_a_paused_step_comes_back_paused_and_reset_gives_the_full_time() -> None:
    run = run_at()
    run.now += 90
    run.ok(PauseTimer(actor=FAC))
    paused_at = run.state.timer.remaining
    run.ok(NextStep(actor=FAC, from_step="intro"))
    run.now += 600
    run.ok(PreviousStep(actor=FAC, from_step="snak"))
    timer = run.state.timer
    assert timer.status is TimerStatus.PAUSED and timer.remaining == paused_at
    run.ok(StartTimer(actor=FAC))
    assert run.state.timer.remaining_at(run.now) == paused_at
    # Restarting the full time: Reset (the step's timebox, not started), then Start.
    run.ok(ResetTimer(actor=FAC))
    assert run.state.timer.status is TimerStatus.IDLE
    assert run.state.timer.remaining == 10 * 60
    run.ok(StartTimer(actor=FAC))
    assert run.state.timer.remaining_at(run.now) == 10 * 60


def test_a_step_left_in_overtime_comes_back_in_overtime() -> None:
    run = run_at()
    run.now += 10 * 60 + 30  # 30 s over (plus the second of the next click)
    run.ok(NextStep(actor=FAC, from_step="intro"))
    run.ok(PreviousStep(actor=FAC, from_step="snak"))
    timer = run.state.timer
    assert timer.status is TimerStatus.RUNNING and timer.is_set
    assert timer.left_at(run.now) == -31
    assert run.do(ExtendTimer(actor=FAC, minutes=-1)) == []


def test_a_round_returned_to_keeps_the_speakers_time() -> None:
    run = run_at("runde", "a", "b", "c")
    run.ok(NextSpeaker(actor=FAC, from_speaker="a"))
    run.now += 20
    run.ok(GoToStep(actor=FAC, step_id="snak"))
    run.now += 300
    run.ok(GoToStep(actor=FAC, step_id="runde"))
    rnd = run.state.rounds["runde"]
    assert rnd.current == "b"  # the round kept its place ...
    assert run.state.timer.duration == 60  # ... and b's timer, not the round's 8 minutes
    assert run.state.timer.remaining_at(run.now) == 60 - 21
    assert run.replayed() == run.state


def test_a_case_walkthrough_returned_to_keeps_the_case_and_its_time() -> None:
    run = Run().start(step="sager")
    run.ok(NextCase(actor=FAC))
    run.now += 120
    run.ok(GoToStep(actor=FAC, step_id="velkomst"))
    run.now += 600
    run.ok(GoToStep(actor=FAC, step_id="sager"))
    assert current_case(run.state).id == "k2"  # type: ignore[union-attr]
    assert run.state.timer.remaining_at(run.now) == 10 * 60 - 121
    run.ok(NextCase(actor=FAC))  # a new case gets its full time
    assert run.state.timer.remaining_at(run.now) == 10 * 60

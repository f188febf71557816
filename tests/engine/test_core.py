"""The engine's general commands: steps, timer, people, cards, decisions."""

from __future__ import annotations

from server.engine import Actor, ActorRole, CommandRejected, SessionState, apply_all, decide, replay
from server.engine.commands import AddCard, Join, NextStep, PreviousStep, StartSession, WithdrawCard
from server.engine.events import SessionCreated, from_record, to_record
from server.engine.registry import Command, Event
from server.engine.state import SessionStatus
from server.engine.steps.round import NextSpeaker

FAC = Actor(ActorRole.FACILITATOR, "u1")
SCRIPT = {
    "id": "demo",
    "title": "Demo",
    "duration": 30,
    "roles": [{"id": "case_owner", "title": "Sagsejer"}],
    "steps": [
        {"id": "intro", "kind": "presentation", "title": "Velkommen", "timebox": 5},
        {"id": "ideas", "kind": "brainstorm", "title": "Idéer"},
        {"id": "turns", "kind": "round", "title": "Runde", "listeners": ["case_owner"]},
    ],
}


class Run:
    """A session driven through decide/apply, keeping its log."""

    def __init__(self) -> None:
        created = SessionCreated(at=0.0, session_id="s1", script=SCRIPT)
        self.log: list[Event] = [created]
        self.state: SessionState = replay(self.log)
        self.now = 1.0

    def do(self, cmd: Command) -> list[Event] | CommandRejected:
        self.now += 1
        out = decide(self.state, cmd, self.now)
        if not isinstance(out, CommandRejected):
            self.log.extend(out)
            self.state = apply_all(self.state, out)
        return out


def p(pid: str) -> Actor:
    return Actor(ActorRole.PARTICIPANT, pid)


def test_start_and_double_click_next_moves_once() -> None:
    run = Run()
    run.do(StartSession(actor=FAC))
    assert run.state.status is SessionStatus.RUNNING
    assert run.state.step_id == "intro"
    assert run.state.timer.remaining_at(run.now) > 0
    run.do(NextStep(actor=FAC, from_step="intro"))
    assert run.do(NextStep(actor=FAC, from_step="intro")) == []
    assert run.state.step_id == "ideas"
    run.do(PreviousStep(actor=FAC, from_step="ideas"))
    assert run.state.step_id == "intro"


def test_participant_cannot_move_steps() -> None:
    run = Run()
    run.do(StartSession(actor=FAC))
    out = run.do(NextStep(actor=p("x")))
    assert isinstance(out, CommandRejected)
    assert out.code == "forbidden"


def test_cards_are_idempotent_masked_and_withdrawable() -> None:
    run = Run()
    run.do(StartSession(actor=FAC))
    run.do(Join(actor=p("a"), name="Anna"))
    assert isinstance(run.do(AddCard(actor=p("a"), card_id="c1", text="hej")), CommandRejected)
    run.do(NextStep(actor=FAC))
    run.do(AddCard(actor=p("a"), card_id="c1", text="Barnet, CPR 010203-1234, trives"))
    assert run.do(AddCard(actor=p("a"), card_id="c1", text="again")) == []
    card = run.state.cards["c1"]
    assert "010203" not in card.text
    out = run.do(WithdrawCard(actor=p("b"), card_id="c1"))
    assert isinstance(out, CommandRejected)
    run.do(WithdrawCard(actor=p("a"), card_id="c1"))
    assert run.state.cards_for("ideas") == []


def test_round_leaves_listeners_out_and_log_replays() -> None:
    run = Run()
    run.do(StartSession(actor=FAC))
    for pid in ("a", "b", "c"):
        run.do(Join(actor=p(pid), name=None))
    from server.engine.commands import SetCaseOwner

    run.do(SetCaseOwner(actor=FAC, participant_id="b"))
    run.do(NextStep(actor=FAC))
    run.do(NextStep(actor=FAC))
    rnd = run.state.rounds["turns"]
    assert rnd.order == ("a", "c")
    run.do(NextSpeaker(actor=FAC, from_speaker="a"))
    assert run.do(NextSpeaker(actor=FAC, from_speaker="a")) == []
    assert run.state.rounds["turns"].current == "c"
    records = [to_record(e) for e in run.log]
    assert replay(from_record(n, d) for n, d in records) == run.state


def test_speaker_timebox_restarts_the_timer_for_each_turn() -> None:
    script = {
        **SCRIPT,
        "steps": [
            {"id": "turns", "kind": "round", "title": "Runde", "timebox": 10, "speaker_timebox": 2}
        ],
    }
    run = Run()
    run.state = replay([SessionCreated(at=0.0, session_id="s2", script=script)])
    for pid in ("a", "b"):
        run.do(Join(actor=p(pid), name=None))
    run.do(StartSession(actor=FAC))
    assert run.state.timer.duration == 120
    run.now += 100
    run.do(NextSpeaker(actor=FAC, from_speaker="a"))
    assert run.state.timer.remaining_at(run.now) == 120


def test_reopen_session_takes_up_the_step_it_ended_on() -> None:
    from server.engine.commands import EndSession, ReopenSession

    run = Run()
    assert run.do(ReopenSession(actor=FAC)) == []  # nothing ended yet
    run.do(StartSession(actor=FAC))
    run.do(NextStep(actor=FAC, from_step="intro"))
    run.do(EndSession(actor=FAC))
    assert run.state.status is SessionStatus.ENDED
    assert isinstance(run.do(ReopenSession(actor=p("x"))), CommandRejected)
    run.do(ReopenSession(actor=FAC))
    assert run.state.status is SessionStatus.RUNNING
    assert run.state.ended_at is None
    assert run.state.step_id == "ideas"
    assert run.state.visits[-1].step_id == "ideas" and run.state.visits[-1].ended_at is None
    assert run.do(ReopenSession(actor=FAC)) == []  # a double click changes nothing
    assert replay(run.log) == run.state
    run.do(NextStep(actor=FAC, from_step="ideas"))
    assert run.state.step_id == "turns"

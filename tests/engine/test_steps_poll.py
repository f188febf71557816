"""Poll step: lifecycle, idempotent ballots, privacy of the views, runoffs, horizons."""

from __future__ import annotations

import pytest

from server.engine import CommandRejected
from server.engine.commands import AddCard, AddCluster, GoToStep, WithdrawCard
from server.engine.poll import (
    TRANSITIONS,
    Horizon,
    PollStatus,
    ballot_count,
    facilitator_view,
    own_ballot,
    participant_view,
    projector_view,
    ranked_options,
)
from server.engine.steps.poll import (
    AddPollOption,
    AssignHorizon,
    BallotCast,
    CastBallot,
    ClosePoll,
    OpenPoll,
    PollClosed,
    PollCreated,
    PublishPoll,
    RemovePollOption,
    ReopenPoll,
    RetractBallot,
    StartRunoff,
)
from server.engine.tally import PollType
from tests.engine.steps_helpers import FAC, Run, p


def vote(run: Run, pid: str, payload: object, *, poll: str, ballot: str | None = None) -> object:
    """A ballot as the edge sends it: named polls by participant id, else a pseudonym."""
    anonymous = run.state.polls[poll].anonymous
    voter = f"anon-{pid}" if anonymous else pid
    return run.do(
        CastBallot(
            actor=p(pid),
            poll_id=poll,
            ballot_id=ballot or f"{poll}-{pid}-{len(run.log)}",
            voter=voter,
            payload=payload,
        )
    )


def opened(step: str, *people: str) -> Run:
    run = Run().start(*people, step=step)
    run.ok(OpenPoll(actor=FAC, poll_id=step))
    return run


# -- creation: options from where the script says --------------------------------------------


def test_entering_a_poll_step_creates_a_draft_with_script_options() -> None:
    run = Run().start(step="valg")
    poll = run.state.polls["valg"]
    assert poll.status is PollStatus.DRAFT
    assert poll.options == (("o1", "Alfa"), ("o2", "Beta"), ("o3", "Gamma"))
    assert poll.type is PollType.CHOICE
    assert not poll.anonymous and not poll.allow_change
    run.ok(GoToStep(actor=FAC, step_id="velkomst"))
    run.ok(GoToStep(actor=FAC, step_id="valg"))
    assert run.state.polls["valg"] == poll  # coming back does not recreate it


def test_options_from_focus_areas_cards_and_clusters() -> None:
    run = Run().start("a", step="ideer")
    run.ok(AddCard(actor=p("a"), card_id="c1", text="Hør barnet"))
    run.ok(AddCard(actor=p("a"), card_id="c2", text="Trukket tilbage"))
    run.ok(WithdrawCard(actor=p("a"), card_id="c2"))
    run.ok(AddCluster(actor=FAC, cluster_id="k9", title="Egen klynge"))
    run.ok(GoToStep(actor=FAC, step_id="droeft"))
    run.ok(AddCard(actor=p("a"), card_id="c3", text="Skolen med fra start"))
    for step in ("prikker", "kortvalg", "klynger"):
        run.ok(GoToStep(actor=FAC, step_id=step))
    polls = run.state.polls
    assert polls["prikker"].options == (
        ("fa1", "Barnets perspektiv"),
        ("fa2", "Tidlig indsats"),
        ("fa3", "Samarbejde med skolen"),
    )
    assert polls["kortvalg"].options == (("c1", "Hør barnet"), ("c3", "Skolen med fra start"))
    assert [label for _, label in polls["klynger"].options] == [
        "Kvalitet",
        "Tidlige forløb",
        "Egen klynge",
    ]


def test_facilitator_adds_and_removes_options_only_while_draft() -> None:
    run = Run().start("a", step="fri")
    assert run.state.polls["fri"].options == ()
    assert run.no(OpenPoll(actor=FAC, poll_id="fri")).code == "too_few_options"
    run.ok(AddPollOption(actor=FAC, poll_id="fri", option_id="x", label="Ja"))
    assert run.do(AddPollOption(actor=FAC, poll_id="fri", option_id="x", label="Ja")) == []
    assert run.no(AddPollOption(actor=FAC, poll_id="fri", option_id="y", label="Ja")).code == (
        "duplicate"
    )
    assert run.no(AddPollOption(actor=p("a"), poll_id="fri", option_id="z", label="Z")).code == (
        "forbidden"
    )
    assert run.no(AddPollOption(actor=FAC, poll_id="fri", option_id="", label="Z")).code == (
        "invalid"
    )
    assert run.no(AddPollOption(actor=FAC, poll_id="fri", option_id="z", label=" ")).code == (
        "empty"
    )
    run.ok(AddPollOption(actor=FAC, poll_id="fri", option_id="y", label="Nej"))
    run.ok(AddPollOption(actor=FAC, poll_id="fri", option_id="m", label="Måske"))
    run.ok(RemovePollOption(actor=FAC, poll_id="fri", option_id="m"))
    assert run.do(RemovePollOption(actor=FAC, poll_id="fri", option_id="m")) == []
    run.ok(OpenPoll(actor=FAC, poll_id="fri"))
    assert run.state.polls["fri"].options == (("x", "Ja"), ("y", "Nej"))
    assert run.no(AddPollOption(actor=FAC, poll_id="fri", option_id="q", label="Q")).code == (
        "not_draft"
    )


# -- the lifecycle ------------------------------------------------------------------------


def test_lifecycle_legal_path_and_repeats_are_no_ops() -> None:
    run = Run().start("a", step="valg")
    run.ok(OpenPoll(actor=FAC, poll_id="valg"))
    assert run.do(OpenPoll(actor=FAC, poll_id="valg")) == []
    assert run.state.polls["valg"].status is PollStatus.OPEN
    run.ok(ClosePoll(actor=FAC, poll_id="valg"))
    assert run.do(ClosePoll(actor=FAC, poll_id="valg")) == []
    run.ok(ReopenPoll(actor=FAC, poll_id="valg"))
    assert run.state.polls["valg"].result is None
    run.ok(ClosePoll(actor=FAC, poll_id="valg"))
    run.ok(PublishPoll(actor=FAC, poll_id="valg"))
    assert run.do(PublishPoll(actor=FAC, poll_id="valg")) == []
    assert run.state.polls["valg"].status is PollStatus.PUBLISHED


@pytest.mark.parametrize(
    ("moves", "command", "reason"),
    [
        ((), ClosePoll, "The vote has not been opened yet."),
        ((), PublishPoll, "The vote has not been opened yet."),
        ((), ReopenPoll, "The vote has not been opened yet."),
        ((OpenPoll,), PublishPoll, "The vote is still open."),
        ((OpenPoll, ClosePoll), OpenPoll, "The vote is closed."),
        ((OpenPoll, ClosePoll, PublishPoll), ReopenPoll, "The result has already been published."),
        ((OpenPoll, ClosePoll, PublishPoll), ClosePoll, "The result has already been published."),
        ((OpenPoll, ClosePoll, PublishPoll), OpenPoll, "The result has already been published."),
    ],
)
def test_illegal_transitions_are_refused_with_a_reason(
    moves: tuple[type[OpenPoll], ...], command: type[OpenPoll], reason: str
) -> None:
    run = Run().start(step="valg")
    for move in moves:
        run.ok(move(actor=FAC, poll_id="valg"))
    before = run.state
    out = run.no(command(actor=FAC, poll_id="valg"))
    assert out.reason == reason
    assert run.state == before


def test_every_move_the_commands_make_is_in_the_transition_table() -> None:
    moves = {
        (PollStatus.DRAFT, PollStatus.OPEN),
        (PollStatus.OPEN, PollStatus.CLOSED),
        (PollStatus.CLOSED, PollStatus.PUBLISHED),
        (PollStatus.CLOSED, PollStatus.OPEN),
    }
    table = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert moves == table


def test_only_the_facilitator_moves_the_lifecycle_and_unknown_polls_are_refused() -> None:
    run = Run().start("a", step="valg")
    assert run.no(OpenPoll(actor=p("a"), poll_id="valg")).code == "forbidden"
    assert run.no(OpenPoll(actor=FAC, poll_id="nope")).code == "unknown_poll"
    assert run.no(OpenPoll(actor=FAC, poll_id="prikker")).code == "unknown_poll"  # not entered


# -- ballots --------------------------------------------------------------------------------


def test_same_ballot_id_twice_is_one_vote_even_after_close() -> None:
    run = opened("prikker", "a")
    first = vote(run, "a", {"fa1": 3, "fa2": 2}, poll="prikker", ballot="b1")
    assert isinstance(first, list) and isinstance(first[0], BallotCast)
    assert vote(run, "a", {"fa1": 3, "fa2": 2}, poll="prikker", ballot="b1") == []
    assert ballot_count(run.state.polls["prikker"]) == 1
    run.ok(ClosePoll(actor=FAC, poll_id="prikker"))
    assert vote(run, "a", {"fa1": 3, "fa2": 2}, poll="prikker", ballot="b1") == []


def test_a_new_ballot_replaces_the_old_when_changes_are_allowed() -> None:
    run = opened("prikker", "a", "b")
    vote(run, "a", {"fa1": 3}, poll="prikker", ballot="b1")
    vote(run, "a", {"fa2": 1}, poll="prikker", ballot="b2")
    vote(run, "b", {"fa1": 1}, poll="prikker", ballot="b3")
    # the late resend of the replaced ballot must not undo the change
    assert vote(run, "a", {"fa1": 3}, poll="prikker", ballot="b1") == []
    poll = run.state.polls["prikker"]
    assert own_ballot(poll, "anon-a") is not None
    assert own_ballot(poll, "anon-a").payload == {"fa2": 1}  # type: ignore[union-attr]
    run.ok(ClosePoll(actor=FAC, poll_id="prikker"))
    result = run.state.polls["prikker"].result
    assert result is not None and result.ballots == 2
    assert {row.option_id: row.value for row in result.rows} == {"fa1": 1, "fa2": 1, "fa3": 0}


def cast(pid: str, ballot: str, payload: object, poll: str = "valg") -> CastBallot:
    return CastBallot(actor=p(pid), poll_id=poll, ballot_id=ballot, voter=pid, payload=payload)


def test_a_second_ballot_is_refused_when_changes_are_not_allowed() -> None:
    run = opened("valg", "a")
    run.ok(cast("a", "b1", ["o1"]))
    out = run.no(cast("a", "b2", ["o2"]))
    assert (out.reason, out.code) == ("You have already voted.", "already_voted")
    assert run.no(RetractBallot(actor=p("a"), poll_id="valg", voter="a")).code == "no_change"
    assert run.do(cast("a", "b1", ["o1"])) == []
    assert own_ballot(run.state.polls["valg"], "a").payload == ("o1",)  # type: ignore[union-attr]


def test_ballots_after_close_and_before_open_are_refused() -> None:
    run = Run().start("a", step="valg")
    assert run.no(cast("a", "x1", ["o1"])).reason == "The vote has not been opened yet."
    run.ok(OpenPoll(actor=FAC, poll_id="valg"))
    run.ok(ClosePoll(actor=FAC, poll_id="valg"))
    assert run.no(cast("a", "x2", ["o1"])).reason == "The vote is closed."
    run.ok(PublishPoll(actor=FAC, poll_id="valg"))
    assert run.no(cast("a", "x3", ["o1"])).reason == "The vote is closed."
    assert ballot_count(run.state.polls["valg"]) == 0


@pytest.mark.parametrize(
    "payload",
    [
        {"fa1": 4},
        {"fa1": 2, "fa2": 2, "fa3": 2},
        {"zz": 1},
        ["fa1"],
        None,
        "fa1",
        {"fa1": True},
        {"fa1": float("nan")},
        {"fa1": -1},
        {"fa1": 10**100},
    ],
)
def test_invalid_payloads_are_refused_with_the_tally_reason(payload: object) -> None:
    run = opened("prikker", "a")
    out = vote(run, "a", payload, poll="prikker")
    assert isinstance(out, CommandRejected) and out.code == "invalid_ballot"
    assert out.reason and len(out.reason) < 200
    assert ballot_count(run.state.polls["prikker"]) == 0


def test_tally_reason_reaches_the_voter() -> None:
    run = opened("prikker", "a")
    out = vote(run, "a", {"fa1": 4}, poll="prikker")
    assert isinstance(out, CommandRejected)
    assert out.reason.startswith("Too many dots on")


def test_who_may_vote_and_as_whom() -> None:
    run = opened("valg", "a", "b")
    cast = CastBallot(actor=FAC, poll_id="valg", ballot_id="f1", voter="fac", payload=["o1"])
    assert run.no(cast).code == "forbidden"
    stranger = CastBallot(actor=p("zz"), poll_id="valg", ballot_id="z1", voter="zz", payload=[])
    assert run.no(stranger).code == "not_joined"
    # named poll: one can only vote as oneself
    other = CastBallot(actor=p("a"), poll_id="valg", ballot_id="a1", voter="b", payload=["o1"])
    assert run.no(other).code == "invalid_voter"
    # anonymous poll: the participant id must not be stored
    run.ok(GoToStep(actor=FAC, step_id="prikker"))
    run.ok(OpenPoll(actor=FAC, poll_id="prikker"))
    named = CastBallot(actor=p("a"), poll_id="prikker", ballot_id="a2", voter="a", payload={})
    assert run.no(named).code == "invalid_voter"
    # a ballot id already used by somebody else
    vote(run, "a", {"fa1": 1}, poll="prikker", ballot="same")
    assert vote(run, "b", {"fa1": 1}, poll="prikker", ballot="same").code == "duplicate"  # type: ignore[union-attr]


def test_retract_removes_the_ballot_and_a_retracted_ballot_id_stays_spent() -> None:
    run = opened("prikker", "a")
    vote(run, "a", {"fa1": 1}, poll="prikker", ballot="b1")
    run.ok(RetractBallot(actor=p("a"), poll_id="prikker", voter="anon-a"))
    assert run.do(RetractBallot(actor=p("a"), poll_id="prikker", voter="anon-a")) == []
    assert ballot_count(run.state.polls["prikker"]) == 0
    assert vote(run, "a", {"fa1": 1}, poll="prikker", ballot="b1") == []
    assert ballot_count(run.state.polls["prikker"]) == 0


def test_the_result_is_counted_at_close_and_stored_in_the_event() -> None:
    run = opened("valg", "a", "b", "c")
    vote(run, "a", ["o1"], poll="valg")
    vote(run, "b", ["o2"], poll="valg")
    vote(run, "c", ["o2"], poll="valg")
    out = run.ok(ClosePoll(actor=FAC, poll_id="valg"))
    assert isinstance(out[0], PollClosed)
    assert out[0].result["ballots"] == 3
    run.ok(PublishPoll(actor=FAC, poll_id="valg"))
    result = run.state.polls["valg"].result
    assert result is not None and result.winners() == ("o2",)
    assert run.replayed() == run.state


# -- what each screen sees ------------------------------------------------------------------


def test_participant_view_shows_only_own_ballot_and_result_once_published() -> None:
    run = opened("prikker", "a", "b")
    vote(run, "a", {"fa1": 2}, poll="prikker")
    vote(run, "b", {"fa2": 3}, poll="prikker")
    poll = run.state.polls["prikker"]
    view = participant_view(poll, "anon-a")
    assert view.own_ballot is not None and view.own_ballot.payload == {"fa1": 2}
    assert view.dots_left == 3
    assert view.can_vote
    assert view.result is None
    assert "fa2" not in repr(view.own_ballot)
    assert not hasattr(view, "ballots") and not hasattr(view, "count")
    run.ok(ClosePoll(actor=FAC, poll_id="prikker"))
    assert participant_view(run.state.polls["prikker"], "anon-a").result is None
    assert not participant_view(run.state.polls["prikker"], "anon-a").can_vote
    run.ok(PublishPoll(actor=FAC, poll_id="prikker"))
    assert participant_view(run.state.polls["prikker"], "anon-a").result is not None


def test_projector_sees_count_if_allowed_and_result_only_when_published() -> None:
    run = opened("prikker", "a")
    vote(run, "a", {"fa1": 2}, poll="prikker")
    view = projector_view(run.state.polls["prikker"])
    assert view.count == 1 and view.result is None
    run.ok(ClosePoll(actor=FAC, poll_id="prikker"))
    assert projector_view(run.state.polls["prikker"]).result is None
    run.ok(PublishPoll(actor=FAC, poll_id="prikker"))
    assert projector_view(run.state.polls["prikker"]).result is not None
    quiet = Run().start("a", step="ideer")
    quiet.ok(AddCard(actor=p("a"), card_id="c1", text="En"))
    quiet.ok(AddCard(actor=p("a"), card_id="c2", text="To"))
    quiet.ok(GoToStep(actor=FAC, step_id="kortvalg"))
    quiet.ok(OpenPoll(actor=FAC, poll_id="kortvalg"))
    vote(quiet, "a", ["c1"], poll="kortvalg")
    assert projector_view(quiet.state.polls["kortvalg"]).count is None


def test_facilitator_sees_names_only_for_named_polls() -> None:
    run = opened("valg", "a")
    vote(run, "a", ["o3"], poll="valg")
    view = facilitator_view(run.state.polls["valg"])
    assert view.voters == ("a",) and view.count == 1
    assert view.result is not None and view.result.winners() == ("o3",)
    anon = opened("prikker", "a")
    vote(anon, "a", {"fa1": 1}, poll="prikker")
    assert facilitator_view(anon.state.polls["prikker"]).voters == ()


# -- ties, runoffs and the prioritisation ------------------------------------------------------


def tied_rank_poll() -> Run:
    run = opened("prioritering", "a", "b")
    vote(run, "a", ["fa1", "fa2", "fa3"], poll="prioritering")
    vote(run, "b", ["fa2", "fa1", "fa3"], poll="prioritering")
    run.ok(ClosePoll(actor=FAC, poll_id="prioritering"))
    return run


def test_runoff_among_the_tied_options_settles_the_prioritisation() -> None:
    run = tied_rank_poll()
    ranked = ranked_options(run.state.polls, "prioritering")
    assert [(r.option_id, r.place, r.tied) for r in ranked] == [
        ("fa1", 1, True),
        ("fa2", 1, True),
        ("fa3", 3, False),
    ]
    assert run.no(StartRunoff(actor=FAC, poll_id="prioritering", option_ids=("fa1", "fa3"))).code
    assert run.no(StartRunoff(actor=FAC, poll_id="prioritering", option_ids=("fa1",))).code == (
        "not_tied"
    )
    out = run.ok(StartRunoff(actor=FAC, poll_id="prioritering", option_ids=("fa2", "fa1")))
    assert run.do(StartRunoff(actor=FAC, poll_id="prioritering", option_ids=("fa1", "fa2"))) == []
    runoff = run.state.polls["prioritering-runoff-1"]
    assert len(out) == 2
    assert runoff.status is PollStatus.OPEN and runoff.runoff_of == "prioritering"
    assert runoff.options == (("fa1", "Barnets perspektiv"), ("fa2", "Tidlig indsats"))
    assert runoff.type is PollType.RANK
    assert run.no(ReopenPoll(actor=FAC, poll_id="prioritering")).code == "has_runoff"
    vote(run, "a", ["fa2", "fa1"], poll="prioritering-runoff-1")
    run.ok(ClosePoll(actor=FAC, poll_id="prioritering-runoff-1"))
    ranked = ranked_options(run.state.polls, "prioritering")
    assert [(r.option_id, r.place, r.tied) for r in ranked] == [
        ("fa2", 1, False),
        ("fa1", 2, False),
        ("fa3", 3, False),
    ]
    assert run.replayed() == run.state


def test_a_runoff_of_a_choice_poll_is_a_single_choice_and_needs_a_count() -> None:
    run = opened("prikker", "a", "b")
    assert run.no(StartRunoff(actor=FAC, poll_id="prikker", option_ids=("fa1", "fa2"))).reason == (
        "The vote is still open."
    )
    vote(run, "a", {"fa1": 2}, poll="prikker")
    vote(run, "b", {"fa2": 2}, poll="prikker")
    run.ok(ClosePoll(actor=FAC, poll_id="prikker"))
    run.ok(StartRunoff(actor=FAC, poll_id="prikker", option_ids=("fa1", "fa2")))
    runoff = run.state.polls["prikker-runoff-1"]
    assert runoff.type is PollType.CHOICE and runoff.rules.max_choices == 1
    assert runoff.anonymous


def test_a_partial_ranking_counts_and_an_empty_one_is_refused() -> None:
    run = opened("prioritering", "a", "b", "c")
    refused = vote(run, "a", [], poll="prioritering")  # the untouched ranking form
    assert isinstance(refused, CommandRejected) and refused.code == "invalid_ballot"
    assert refused.reason == "Rank at least one option."
    assert ballot_count(run.state.polls["prioritering"]) == 0
    vote(run, "a", ["fa3"], poll="prioritering")
    vote(run, "b", ["fa2", "fa3"], poll="prioritering")
    run.ok(ClosePoll(actor=FAC, poll_id="prioritering"))
    result = run.state.polls["prioritering"].result
    assert result is not None and result.ballots == 2
    # k = 3: fa3 3 + 2 = 5, fa2 3, fa1 nothing (nobody ranked it).
    assert [(r.option_id, r.value, r.positions) for r in result.rows] == [
        ("fa3", 5, (1, 1, 0)),
        ("fa2", 3, (1, 0, 0)),
        ("fa1", 0, (0, 0, 0)),
    ]


def test_a_runoff_only_among_options_tied_where_it_decides_something() -> None:
    run = opened("valg", "a", "b", "c")  # Alfa, Beta, Gamma
    vote(run, "a", ["o1"], poll="valg")
    vote(run, "b", ["o1"], poll="valg")
    run.ok(ClosePoll(actor=FAC, poll_id="valg"))
    # Beta and Gamma share second place with no votes: nothing to settle.
    refused = run.no(StartRunoff(actor=FAC, poll_id="valg", option_ids=("o2", "o3")))
    assert refused.code == "not_tied"


TOP_TWO: dict[str, object] = {
    "id": "top-to",
    "title": "Top to",
    "duration": 30,
    "steps": [
        {
            "id": "top",
            "kind": "poll",
            "title": "De to vigtigste",
            "question": "Hvilke to?",
            "type": "rank",
            "top_k": 2,
            "options": ["A", "B", "C", "D", "E"],
        }
    ],
}


def test_a_tie_at_the_cut_off_of_the_top_k_may_go_to_a_runoff_one_below_it_not() -> None:
    run = Run(TOP_TWO).start("a", "b", "c", "d", step="top")
    run.ok(OpenPoll(actor=FAC, poll_id="top"))
    assert run.state.polls["top"].top_n == 2
    vote(run, "a", ["o1", "o2"], poll="top")
    vote(run, "b", ["o1", "o3"], poll="top")
    vote(run, "c", ["o2"], poll="top")
    vote(run, "d", ["o3"], poll="top")
    run.ok(ClosePoll(actor=FAC, poll_id="top"))
    result = run.state.polls["top"].result
    assert result is not None
    # o1 4; o2 and o3 3 each share second place, and only one fits the top 2.
    assert [(r.option_id, r.value, r.rank, r.tied) for r in result.rows] == [
        ("o1", 4, 1, False),
        ("o2", 3, 2, True),
        ("o3", 3, 2, True),
        ("o4", 0, 4, False),
        ("o5", 0, 4, False),
    ]
    assert run.no(StartRunoff(actor=FAC, poll_id="top", option_ids=("o4", "o5"))).code == (
        "not_tied"
    )
    run.ok(StartRunoff(actor=FAC, poll_id="top", option_ids=("o3", "o2")))
    assert run.state.polls["top-runoff-1"].top_n == 1  # one place left


def test_a_tie_below_the_cut_off_of_the_top_k_decides_nothing() -> None:
    run = Run(TOP_TWO).start("a", "b", "c", step="top")
    run.ok(OpenPoll(actor=FAC, poll_id="top"))
    vote(run, "a", ["o1", "o2"], poll="top")
    vote(run, "b", ["o1", "o3"], poll="top")
    vote(run, "c", ["o4", "o5"], poll="top")
    run.ok(ClosePoll(actor=FAC, poll_id="top"))
    # o1 4, o4 2: the top 2 is clean; o2, o3 and o5 share third place.
    ranked = ranked_options(run.state.polls, "top")
    assert [(r.option_id, r.place, r.tied, r.deciding) for r in ranked] == [
        ("o1", 1, False, False),
        ("o4", 2, False, False),
        ("o2", 3, True, False),
        ("o3", 3, True, False),
        ("o5", 3, True, False),
    ]
    assert run.no(StartRunoff(actor=FAC, poll_id="top", option_ids=("o2", "o3", "o5"))).code == (
        "not_tied"
    )


def test_a_runoff_of_a_cut_off_tie_gets_the_places_left() -> None:
    run = Run(TOP_TWO).start("a", "b", "c", step="top")
    run.ok(OpenPoll(actor=FAC, poll_id="top"))
    vote(run, "a", ["o1"], poll="top")  # o1 2
    vote(run, "b", ["o2"], poll="top")  # o2 2
    vote(run, "c", ["o3"], poll="top")  # o3 2: three share first place, two get in
    run.ok(ClosePoll(actor=FAC, poll_id="top"))
    out = run.ok(StartRunoff(actor=FAC, poll_id="top", option_ids=("o1", "o2", "o3")))
    runoff = run.state.polls["top-runoff-1"]
    assert runoff.among_top == 2 and runoff.top_n == 2
    assert runoff.type is PollType.RANK and runoff.rules.top_k is None
    assert isinstance(out[0], PollCreated) and out[0].among_top == 2
    # In the runoff, a tie for its second place is the cut-off again.
    vote(run, "a", ["o1"], poll="top-runoff-1")
    vote(run, "b", ["o1", "o2"], poll="top-runoff-1")
    vote(run, "c", ["o3", "o1"], poll="top-runoff-1")
    run.ok(ClosePoll(actor=FAC, poll_id="top-runoff-1"))
    # o1 3 + 3 + 2 = 8; o2 2, o3 3: the top 2 of the runoff is o1 and o3.
    ranked = ranked_options(run.state.polls, "top")
    assert [(r.option_id, r.place, r.deciding) for r in ranked[:3]] == [
        ("o1", 1, False),
        ("o3", 2, False),
        ("o2", 3, False),
    ]
    assert run.replayed() == run.state


def test_assign_horizon_after_close_only_and_it_rides_on_the_ranking() -> None:
    run = opened("prioritering", "a")
    assign = AssignHorizon(
        actor=FAC, poll_id="prioritering", option_id="fa1", horizon="short", owner="Leder Ane"
    )
    assert run.no(assign).reason == "The vote is still open."
    vote(run, "a", ["fa3", "fa1", "fa2"], poll="prioritering")
    run.ok(ClosePoll(actor=FAC, poll_id="prioritering"))
    run.ok(assign)
    assert run.do(assign) == []
    bad = AssignHorizon(actor=FAC, poll_id="prioritering", option_id="fa1", horizon="soon")
    assert run.no(bad).code == "invalid"
    unknown = AssignHorizon(actor=FAC, poll_id="prioritering", option_id="x", horizon="long")
    assert run.no(unknown).code == "unknown_option"
    by_participant = AssignHorizon(
        actor=p("a"), poll_id="prioritering", option_id="fa2", horizon="long"
    )
    assert run.no(by_participant).code == "forbidden"
    run.ok(AssignHorizon(actor=FAC, poll_id="prioritering", option_id="fa2", horizon="long"))
    ranked = ranked_options(run.state.polls, "prioritering")
    assert [(r.option_id, r.horizon, r.owner) for r in ranked] == [
        ("fa3", None, None),
        ("fa1", Horizon.SHORT, "Leder Ane"),
        ("fa2", Horizon.LONG, ""),
    ]
    other = opened("prikker", "a")
    vote(other, "a", {"fa1": 1}, poll="prikker")
    other.ok(ClosePoll(actor=FAC, poll_id="prikker"))
    no_horizons = AssignHorizon(actor=FAC, poll_id="prikker", option_id="fa1", horizon="short")
    assert other.no(no_horizons).code == "no_horizon"
    assert run.replayed() == run.state


def test_ranked_options_is_empty_before_the_count() -> None:
    run = opened("prioritering", "a")
    assert ranked_options(run.state.polls, "prioritering") == ()
    assert ranked_options(run.state.polls, "unknown") == ()

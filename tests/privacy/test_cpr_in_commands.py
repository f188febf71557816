"""No CPR number gets into the event log through any field of any command (issue 14).

Every command the engine knows (``COMMAND_TYPES``) is built here in a session
where it is allowed, then again with a CPR number in each of its text fields
(str, optional str, tuples of str, a ballot's payload), written each way
people write one. Whatever the engine makes of it, no event holds the number:

* free text (what people write: cards, decisions, action deadlines, names,
  option labels, ...) is accepted and masked;
* everything else is an id or a choice and is refused.

A command added without a line in ``SCENARIOS`` fails here: say how to allow
it, and the walk covers its fields.
"""

from __future__ import annotations

import dataclasses
import json
import re
import typing
from collections.abc import Callable
from typing import Any

import pytest

from server.engine import CommandRejected, apply_all, decide, lobby
from server.engine import commands as c
from server.engine.events import to_record
from server.engine.registry import COMMAND_TYPES, Command
from server.engine.steps import case_walkthrough as cw
from server.engine.steps import poll as pl
from server.engine.steps import round as rd
from server.privacy.cpr import MASK
from tests.engine.steps_helpers import FAC, SCRIPT, Run, p

CPRS = ("010190-1234", "0101901234", "010190 1234")
"""One number, written with a dash, without, and with one space."""

FOUND = re.compile(r"010190[\s\u00a0]*[-\u2010-\u2015\u2212]?[\s\u00a0]*1234")
"""The number however it comes back (masked text never matches)."""

FREE_TEXT = {"name", "text", "title", "decided_by", "what", "who", "due", "label", "owner"}
FREE_TEXT |= {"date", "goals"}  # the next meeting: "tirsdag 3. juni", "mål ..."
"""Fields that hold what people write: masked, never refused for a CPR number."""


# -- sessions where each command is allowed -------------------------------------------------------


def started(*people: str, step: str | None = None) -> Run:
    return Run().start(*people, step=step)


def ended() -> Run:
    run = started()
    run.ok(c.EndSession(actor=FAC))
    return run


def with_card() -> Run:
    run = started("a", step="ideer")
    run.ok(c.AddCard(actor=p("a"), card_id="c1", text="Kort"))
    return run


def with_cluster() -> Run:
    run = with_card()
    run.ok(c.AddCluster(actor=FAC, cluster_id="g1", title="Tema"))
    return run


def with_decision() -> Run:
    run = started(step="beslut")
    run.ok(c.RecordDecision(actor=FAC, decision_id="d1", text="Beslutning"))
    return run


def with_action() -> Run:
    run = started(step="beslut")
    run.ok(c.AddAction(actor=FAC, action_id="a1", what="Ring", who="Mette", due="uge 12"))
    return run


def opened(step: str, *people: str) -> Run:
    run = started(*people, step=step)
    run.ok(pl.OpenPoll(actor=FAC, poll_id=step))
    return run


def voted(step: str, ballots: dict[str, object]) -> Run:
    run = opened(step, *ballots)
    for pid, payload in ballots.items():
        anonymous = run.state.polls[step].anonymous
        voter = f"anon-{pid}" if anonymous else pid
        run.ok(
            pl.CastBallot(
                actor=p(pid), poll_id=step, ballot_id=f"b-{pid}", voter=voter, payload=payload
            )
        )
    return run


def closed(step: str, ballots: dict[str, object]) -> Run:
    run = voted(step, ballots)
    run.ok(pl.ClosePoll(actor=FAC, poll_id=step))
    return run


def tied_choice() -> Run:
    return closed("valg", {"a": ["o1"], "b": ["o2"]})


def ranked() -> Run:
    return closed("prioritering", {"a": ["fa1", "fa2", "fa3"]})


def case_meeting() -> Run:
    run = Run(script={**SCRIPT, "session_type": "case_meeting"})
    return run.start()


def knocking() -> Run:
    run = case_meeting()
    run.ok(lobby.AskToJoin(actor=p("x"), name="Bo"))
    return run


def at_second_case() -> Run:
    run = started(step="sager")
    run.ok(cw.NextCase(actor=FAC, from_case="k1"))
    return run


Scenario = tuple[Callable[[], Run], Callable[[], Command]]

SCENARIOS: dict[str, Scenario] = {
    # the session and its steps
    "StartSession": (Run, lambda: c.StartSession(actor=FAC)),
    "EndSession": (started, lambda: c.EndSession(actor=FAC)),
    "ReopenSession": (ended, lambda: c.ReopenSession(actor=FAC)),
    "GoToStep": (started, lambda: c.GoToStep(actor=FAC, step_id="ideer")),
    "NextStep": (started, lambda: c.NextStep(actor=FAC, from_step="velkomst")),
    "PreviousStep": (
        lambda: started(step="ideer"),
        lambda: c.PreviousStep(actor=FAC, from_step="ideer"),
    ),
    "StartTimer": (started, lambda: c.StartTimer(actor=FAC, minutes=5)),
    "PauseTimer": (started, lambda: c.PauseTimer(actor=FAC)),
    "ExtendTimer": (started, lambda: c.ExtendTimer(actor=FAC, minutes=2)),
    "ResetTimer": (started, lambda: c.ResetTimer(actor=FAC)),
    # people
    "Join": (started, lambda: c.Join(actor=p("x"), name="Bo")),
    "SetRole": (
        lambda: started("a"),
        lambda: c.SetRole(actor=FAC, participant_id="a", role="family"),
    ),
    "SetCaseOwner": (
        lambda: started("a"),
        lambda: c.SetCaseOwner(actor=FAC, participant_id="a"),
    ),
    "RemoveParticipant": (
        lambda: started("a"),
        lambda: c.RemoveParticipant(actor=FAC, participant_id="a"),
    ),
    "AskToJoin": (case_meeting, lambda: lobby.AskToJoin(actor=p("x"), name="Bo")),
    "Admit": (knocking, lambda: lobby.Admit(actor=FAC, participant_id="x")),
    "Deny": (knocking, lambda: lobby.Deny(actor=FAC, participant_id="x")),
    # cards and clusters
    "AddCard": (
        lambda: started("a", step="ideer"),
        lambda: c.AddCard(actor=p("a"), card_id="c9", text="Kort"),
    ),
    "EditCard": (with_card, lambda: c.EditCard(actor=p("a"), card_id="c1", text="Nyt kort")),
    "WithdrawCard": (with_card, lambda: c.WithdrawCard(actor=p("a"), card_id="c1")),
    "AddCluster": (
        lambda: started(step="ideer"),
        lambda: c.AddCluster(actor=FAC, cluster_id="g9", title="Tema"),
    ),
    "GroupCard": (with_cluster, lambda: c.GroupCard(actor=FAC, card_id="c1", cluster_id="g1")),
    # decisions, actions, the next meeting
    "RecordDecision": (
        lambda: started(step="beslut"),
        lambda: c.RecordDecision(
            actor=FAC, decision_id="d9", text="Beslutning", decided_by="Teamet"
        ),
    ),
    "EditDecision": (
        with_decision,
        lambda: c.EditDecision(actor=FAC, decision_id="d1", text="Ny ordlyd"),
    ),
    "AddAction": (
        lambda: started(step="beslut"),
        lambda: c.AddAction(actor=FAC, action_id="a9", what="Ring", who="Mette", due="uge 12"),
    ),
    "EditAction": (
        with_action,
        lambda: c.EditAction(
            actor=FAC, action_id="a1", what="Ring igen", who="Mette", due="næste møde"
        ),
    ),
    "AgreeNextMeeting": (
        lambda: started(step="beslut"),
        lambda: c.AgreeNextMeeting(actor=FAC, date="2025-06-03", goals=("Et mål",)),
    ),
    # case walkthrough
    "NextCase": (
        lambda: started(step="sager"),
        lambda: cw.NextCase(actor=FAC, from_case="k1"),
    ),
    "PreviousCase": (at_second_case, lambda: cw.PreviousCase(actor=FAC, from_case="k2")),
    "GoToCase": (lambda: started(step="sager"), lambda: cw.GoToCase(actor=FAC, index=2)),
    # round
    "NextSpeaker": (
        lambda: started("a", "b", step="runde"),
        lambda: rd.NextSpeaker(actor=FAC, from_speaker="a"),
    ),
    "SkipSpeaker": (
        lambda: started("a", "b", step="runde"),
        lambda: rd.SkipSpeaker(actor=FAC, from_speaker="a"),
    ),
    "ReorderRound": (
        lambda: started("a", "b", step="runde"),
        lambda: rd.ReorderRound(actor=FAC, order=("b", "a")),
    ),
    # polls
    "OpenPoll": (lambda: started(step="valg"), lambda: pl.OpenPoll(actor=FAC, poll_id="valg")),
    "ClosePoll": (
        lambda: voted("valg", {"a": ["o1"]}),
        lambda: pl.ClosePoll(actor=FAC, poll_id="valg"),
    ),
    "PublishPoll": (tied_choice, lambda: pl.PublishPoll(actor=FAC, poll_id="valg")),
    "ReopenPoll": (tied_choice, lambda: pl.ReopenPoll(actor=FAC, poll_id="valg")),
    "AddPollOption": (
        lambda: started(step="fri"),
        lambda: pl.AddPollOption(actor=FAC, poll_id="fri", option_id="o9", label="Forslag"),
    ),
    "RemovePollOption": (
        lambda: started(step="valg"),
        lambda: pl.RemovePollOption(actor=FAC, poll_id="valg", option_id="o1"),
    ),
    # an anonymous poll: there the voter is a pseudonym the engine cannot check against anybody
    "CastBallot": (
        lambda: opened("prikker", "a"),
        lambda: pl.CastBallot(
            actor=p("a"), poll_id="prikker", ballot_id="b1", voter="anon-a", payload={"fa1": 1}
        ),
    ),
    "RetractBallot": (
        lambda: voted("prikker", {"a": {"fa1": 1}}),
        lambda: pl.RetractBallot(actor=p("a"), poll_id="prikker", voter="anon-a"),
    ),
    "StartRunoff": (
        tied_choice,
        lambda: pl.StartRunoff(actor=FAC, poll_id="valg", option_ids=("o1", "o2")),
    ),
    "AssignHorizon": (
        ranked,
        lambda: pl.AssignHorizon(
            actor=FAC, poll_id="prioritering", option_id="fa1", horizon="short", owner="Ane"
        ),
    ),
}


# -- the walk ------------------------------------------------------------------------------------


def _takes_text(annotation: Any) -> bool:
    """str, str | None, tuple[str, ...], Any: a field a string can be put in."""
    if annotation is Any or annotation is str:
        return True
    return any(_takes_text(arg) for arg in typing.get_args(annotation))


def text_fields(cls: type[Command]) -> list[str]:
    hints = typing.get_type_hints(cls)
    return [
        f.name for f in dataclasses.fields(cls) if f.name != "actor" and _takes_text(hints[f.name])
    ]


def _with_cpr(value: object, cpr: str, free_text: bool) -> object:
    """The field's valid value with a CPR number in it (in the first item of a collection)."""
    text = f"barn {cpr}" if free_text else cpr
    if isinstance(value, tuple | list):
        return type(value)([text, *value[1:]])
    if isinstance(value, dict):
        rest = list(value.items())[1:]
        return {text: next(iter(value.values()), 1), **dict(rest)}
    return text


def stored_text(outcome: object) -> str:
    """What the engine would store (and say): the events as the log writes them."""
    if isinstance(outcome, CommandRejected):
        return outcome.reason
    assert isinstance(outcome, list)
    return json.dumps([to_record(e) for e in outcome], ensure_ascii=False)


def test_every_command_has_a_scenario() -> None:
    missing = sorted(set(COMMAND_TYPES) - set(SCENARIOS))
    assert not missing, (
        f"commands without a line in tests/privacy/test_cpr_in_commands.py SCENARIOS: {missing}"
    )
    assert not set(SCENARIOS) - set(COMMAND_TYPES), "SCENARIOS names commands that are gone"


@pytest.mark.parametrize("name", sorted(COMMAND_TYPES))
def test_no_field_of_any_command_stores_a_cpr_number(name: str) -> None:
    cls = COMMAND_TYPES[name]
    setup, make = SCENARIOS[name]
    base = make()
    assert type(base) is cls
    run = setup()
    allowed = decide(run.state, base, run.now + 1)
    assert isinstance(allowed, list) and allowed, f"{name}: the scenario does not allow it"
    problems = []
    for field in text_fields(cls):
        free_text = field in FREE_TEXT
        for cpr in CPRS:
            value = _with_cpr(getattr(base, field), cpr, free_text)
            command = dataclasses.replace(base, **{field: value})
            outcome = decide(run.state, command, run.now + 1)
            text = stored_text(outcome)
            where = f"{name}.{field} = {value!r}"
            if FOUND.search(text):
                problems.append(f"{where}: the CPR number is stored: {text[:300]}")
            elif free_text and isinstance(outcome, CommandRejected):
                problems.append(f"{where}: refused ({outcome.reason}), not masked")
            elif free_text and MASK not in text:
                problems.append(f"{where}: accepted but not masked: {text[:300]}")
            elif not free_text and not isinstance(outcome, CommandRejected):
                problems.append(f"{where}: an id holding a CPR number was not refused")
            if isinstance(outcome, list):  # and the state made from it does not hold it either
                state = apply_all(run.state, outcome)
                if FOUND.search(repr(state)):
                    problems.append(f"{where}: the CPR number is in the state")
    assert not problems, "\n".join(problems)


def test_a_deadline_is_free_text_cleaned_like_all_text() -> None:
    run = with_action()
    for due in ("1. marts", "næste møde", "2025-03-18", "uge 12"):
        (edited,) = run.ok(
            c.EditAction(actor=FAC, action_id="a1", what="Ring", who="Mette", due=due)
        )
        assert edited.due == due  # type: ignore[attr-defined]
    (edited,) = run.ok(
        c.EditAction(actor=FAC, action_id="a1", what="Ring", who="Mette", due="barn 010190-1234")
    )
    assert (edited.due, edited.masked) == (f"barn {MASK}", 1)  # type: ignore[attr-defined]
    assert run.state.actions[0].due == f"barn {MASK}"
    (added,) = run.ok(
        c.AddAction(actor=FAC, action_id="a2", what="Skriv", who="Bo", due="  0101901234 ")
    )
    assert (added.due, added.masked) == (MASK, 1)  # type: ignore[attr-defined]
    run.ok(c.EditAction(actor=FAC, action_id="a2", what="Skriv", who="Bo", due="   "))
    assert run.state.actions[1].due is None
    too_long = c.AddAction(actor=FAC, action_id="a3", what="x", who="y", due="u" * 41)
    assert run.no(too_long).reason == "The deadline is too long."
    assert run.replayed() == run.state


def test_random_ids_the_screens_make_are_not_taken_for_cpr_numbers() -> None:
    """Hex ids (24 digits from the phone, 16 for pseudonyms) may hold ten digits that form a
    date by chance; such a card is kept. An id a person could have typed is refused."""
    run = started("a", step="ideer")
    run.ok(c.AddCard(actor=p("a"), card_id="ab0101901234cdef01234567", text="Kort"))
    assert "ab0101901234cdef01234567" in run.state.cards
    assert run.no(c.AddCard(actor=p("a"), card_id="kort-010190-1234", text="Kort")).code == (
        "invalid"
    )

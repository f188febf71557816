"""Random and hostile commands: the engine never raises and keeps its invariants.

Two tests. The first sends random sequences of every kind of command from a
facilitator and a few participants (plus a stranger who never joined and the
system), decoded against the session so they name cards, polls and options
that really exist, with hostile values mixed in; after every command the
invariants are checked, and at the end the log, through a JSON round trip,
replays to the same state. The second sends every registered command type,
each field drawn freely for its type (empty and huge strings, unknown ids,
negative, huge and NaN numbers, payloads of any shape), to sessions in many
situations.
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, TypeVar

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.engine import (
    Actor,
    ActorRole,
    CommandRejected,
    Event,
    SessionState,
    apply_all,
    decide,
)
from server.engine import commands as c
from server.engine.events import CardWithdrawn
from server.engine.poll import (
    PollState,
    PollStatus,
    count,
    participant_view,
    projector_view,
    ranked_options,
    result_from_record,
)
from server.engine.registry import COMMAND_TYPES
from server.engine.state import SessionStatus
from server.engine.steps import case_walkthrough as cw
from server.engine.steps import poll as pl
from server.engine.steps import round as rd
from server.engine.steps.private_time import is_excluded
from server.engine.tally import PollType
from tests.engine.steps_helpers import FAC, SCRIPT, Run

PEOPLE = ("a", "b", "c")
PARTICIPANTS = tuple(Actor(ActorRole.PARTICIPANT, pid) for pid in (*PEOPLE, "zz"))
STEP_IDS = tuple(s["id"] for s in SCRIPT["steps"])
POLL_IDS = tuple(s["id"] for s in SCRIPT["steps"] if s["kind"] == "poll")
ROLES = ("case_owner", "family", "consultant")
OPTION_POOL = ("o1", "o2", "o3", "fa1", "fa2", "fa3", "x", "y")

T = TypeVar("T")
HUGE = "x" * 10_000
hostile_text = st.sampled_from(
    ["", " ", "\x00", "\n\n", HUGE, "CPR 010203-1234", "💥" * 300, "Hør barnet"]
) | st.text(max_size=12)
numbers = (
    st.floats(allow_nan=True, allow_infinity=True)
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.sampled_from([0, -1, 0.1, 5, float("nan"), True])
)
json_like = st.recursive(
    st.none() | st.booleans() | numbers | hostile_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4),
    max_leaves=8,
)


HOSTILE_TEXT = ("", " ", "\x00", "\n\n", HUGE, "CPR 010203-1234", "💥" * 300, "ø", "a" * 65)
HOSTILE_NUMBERS = (
    float("nan"),
    float("inf"),
    -float("inf"),
    -1,
    0,
    0.05,
    10**400,
    -(10**400),
    True,
)
HOSTILE_JSON = (None, True, 0, "o1", [], {}, [["o1"]], {"o1": "1"}, [None], {"": 1}, ["o1", "o1"])


class Dice:
    """Decodes one command from one drawn seed, against the state it is sent to.

    Hypothesis draws only the seeds (cheap, and shrinking drops commands);
    decoding against the current state lets commands name the cards, polls
    and options that really exist. Hostile values come from fixed pools here;
    the per-command test below draws them freely.
    """

    def __init__(self, seed: int, position: int) -> None:
        # Hypothesis favours a few seeds (0, boundaries): the position keeps them apart.
        self.rng = random.Random(f"{seed}/{position}")

    def roll(self, n: int) -> int:
        return self.rng.randrange(n)

    def choose(self, options: Sequence[T]) -> T:
        return options[self.roll(len(options))]

    def chance(self, one_in: int) -> bool:
        return self.roll(one_in) == 0

    def pick(self, known: Sequence[str]) -> str:
        """Usually something the session knows, sometimes something hostile."""
        return self.text() if not known or self.chance(8) else self.choose(known)

    def text(self) -> str:
        return self.choose(HOSTILE_TEXT) if self.chance(4) else self.choose(["Hør barnet", "Tema"])

    @property
    def number(self) -> Any:
        return self.choose(HOSTILE_NUMBERS) if self.chance(3) else self.rng.uniform(-70, 700)

    def actor(self) -> Actor:
        """Anybody: a participant, the facilitator, a stranger who never joined, the system."""
        who = self.choose([*PEOPLE, "fac", "zz", "sys"])
        if who == "fac":
            return FAC
        if who == "sys":
            return Actor(ActorRole.SYSTEM, "system")
        return Actor(ActorRole.PARTICIPANT, who)

    def sender(self, *, participant: bool) -> Actor:
        """Mostly who would send this command (so it can succeed), sometimes anybody."""
        if self.chance(8):
            return self.actor()
        return Actor(ActorRole.PARTICIPANT, self.choose(PEOPLE)) if participant else FAC


def payload(dice: Dice, poll: PollState | None) -> Any:
    """Mostly a ballot of the right shape (valid or not), sometimes any JSON at all."""
    options = list(poll.option_ids if poll and poll.option_ids else OPTION_POOL)
    kind = poll.type if poll else PollType.CHOICE
    if dice.chance(6):
        return dice.choose(HOSTILE_JSON)
    dice.rng.shuffle(options)
    if kind is PollType.RANK:
        return options[: len(options) - dice.roll(2)]
    chosen = options[: dice.choose([0, 1, 1, 1, 2, 3])]
    if kind in (PollType.DOT, PollType.SCORE):
        return {option_id: dice.roll(8) - 1 for option_id in chosen}
    return chosen


def poll_command(dice: Dice, state: SessionState) -> c.Command:
    name = dice.choose(POLL_COMMANDS)
    who = dice.sender(participant=name in ("cast", "retract"))
    here = state.step_id if state.step_id in state.polls else None
    known = (*state.polls, "valg-runoff-1") if state.polls else POLL_IDS
    poll_id = here if here and dice.chance(2) else dice.pick(known)
    voting = [pid for pid, poll in state.polls.items() if poll.status is PollStatus.OPEN]
    if name in ("cast", "retract") and voting and not dice.chance(4):
        poll_id = dice.choose(voting)  # ballots mostly go where a vote is open
    poll = state.polls.get(poll_id)
    options = poll.option_ids if poll else ()
    if name in ("cast", "retract"):
        anonymous = poll.anonymous if poll else True
        voter = f"anon-{who.id}" if anonymous else who.id
        voter = dice.pick((voter, voter, voter, voter, "anon-zz", who.id))
        if name == "retract":
            return pl.RetractBallot(actor=who, poll_id=poll_id, voter=voter)
        return pl.CastBallot(
            actor=who,
            poll_id=poll_id,
            ballot_id=dice.pick(("b1", "b2", "b3", "b4", "b5", "b6")),
            voter=voter,
            payload=payload(dice, poll),
        )
    if name == "add":
        option = dice.pick(OPTION_POOL)
        return pl.AddPollOption(actor=who, poll_id=poll_id, option_id=option, label=dice.text())
    if name == "remove":
        return pl.RemovePollOption(actor=who, poll_id=poll_id, option_id=dice.pick(options))
    if name == "runoff":
        tiers = poll.result.tiers() if poll and poll.result else ()
        tied = [t for t in tiers if len(t) > 1]
        chosen = dice.choose(tied) if tied and not dice.chance(4) else ()
        return pl.StartRunoff(actor=who, poll_id=poll_id, option_ids=chosen or (dice.text(),))
    if name == "horizon":
        return pl.AssignHorizon(
            actor=who,
            poll_id=poll_id,
            option_id=dice.pick(options),
            horizon=dice.pick(("short", "medium", "long")),
            owner=dice.text(),
        )
    lifecycle: dict[str, Callable[..., c.Command]] = {
        "open": pl.OpenPoll,
        "close": pl.ClosePoll,
        "publish": pl.PublishPoll,
        "reopen": pl.ReopenPoll,
    }
    return lifecycle[name](actor=who, poll_id=poll_id)


def card_command(dice: Dice, state: SessionState) -> c.Command:
    name = dice.choose(["add", "add", "add", "edit", "withdraw", "cluster", "group"])
    who = dice.sender(participant=name in ("add", "edit", "withdraw"))
    cards = (*state.cards, *state.withdrawn_cards)
    fresh = f"k{len(cards)}"
    card_id = dice.pick((*cards, fresh, fresh) if name == "add" else cards)
    if name == "add":
        return c.AddCard(actor=who, card_id=card_id, text=dice.text())
    if name == "edit":
        return c.EditCard(actor=who, card_id=card_id, text=dice.text())
    if name == "withdraw":
        return c.WithdrawCard(actor=who, card_id=card_id)
    clusters = tuple(state.clusters)
    if name == "cluster":
        return c.AddCluster(actor=who, cluster_id=dice.pick(clusters), title=dice.text())
    return c.GroupCard(actor=who, card_id=card_id, cluster_id=dice.choose([None, *clusters, "x"]))


def session_command(dice: Dice, state: SessionState) -> c.Command:
    name = dice.choose(SESSION_COMMANDS)
    if name == "end" and not dice.chance(20):
        name = "start"  # ending the session stops everything: make it rare
    who = dice.sender(participant=name == "join")
    step = state.step_id
    build: dict[str, Callable[[], c.Command]] = {
        "start": lambda: c.StartSession(actor=who),
        "next": lambda: c.NextStep(actor=who, from_step=dice.choose([step, step, "x"])),
        "previous": lambda: c.PreviousStep(actor=who, from_step=step),
        "goto": lambda: c.GoToStep(actor=who, step_id=dice.pick(STEP_IDS)),
        "timer": lambda: c.StartTimer(actor=who, minutes=dice.choose([None, dice.number])),
        "pause": lambda: c.PauseTimer(actor=who),
        "extend": lambda: c.ExtendTimer(actor=who, minutes=dice.number),
        "reset": lambda: c.ResetTimer(actor=who),
        "join": lambda: c.Join(actor=who, name=dice.choose([None, dice.text()])),
        "role": lambda: c.SetRole(
            actor=who, participant_id=dice.pick(PEOPLE), role=dice.choose([None, *ROLES, "x"])
        ),
        "owner": lambda: c.SetCaseOwner(actor=who, participant_id=dice.choose([None, *PEOPLE])),
        "decision": lambda: c.RecordDecision(
            actor=who, decision_id=dice.pick(("d1", "d2")), text=dice.text()
        ),
        "edit decision": lambda: c.EditDecision(actor=who, decision_id="d1", text=dice.text()),
        "action": lambda: c.AddAction(
            actor=who,
            action_id=dice.pick(("a1",)),
            what=dice.text(),
            who=dice.text(),
            due=dice.choose([None, dice.text()]),
        ),
        "meeting": lambda: c.AgreeNextMeeting(actor=who, date=dice.text(), goals=(dice.text(),)),
        "speaker": lambda: rd.NextSpeaker(actor=who, from_speaker=dice.choose([None, "a"])),
        "skip": lambda: rd.SkipSpeaker(actor=who),
        "reorder": lambda: rd.ReorderRound(actor=who, order=tuple(PEOPLE[: dice.roll(4)])),
        "next case": lambda: cw.NextCase(actor=who, from_case=dice.choose([None, "k1"])),
        "previous case": lambda: cw.PreviousCase(actor=who),
        "go to case": lambda: cw.GoToCase(
            actor=who, index=dice.choose([dice.roll(5) - 1, dice.number])
        ),
        "end": lambda: c.EndSession(actor=who),
    }
    return build[name]()


POLL_COMMANDS = (
    *("open", "open", "close", "close", "publish", "reopen", "add", "remove", "retract"),
    *("runoff", "horizon", "cast", "cast", "cast", "cast", "cast", "cast"),
)
SESSION_COMMANDS = (
    *("start", "next", "next", "previous", "goto", "goto", "timer", "pause", "extend", "reset"),
    *("join", "role", "owner", "decision", "edit decision", "action", "meeting", "speaker"),
    *("skip", "reorder", "next case", "previous case", "go to case", "end"),
)


def draw_command(dice: Dice, state: SessionState) -> c.Command:
    family = dice.choose(["poll", "poll", "poll", "card", "session", "session"])
    if family == "poll":
        return poll_command(dice, state)
    if family == "card":
        return card_command(dice, state)
    return session_command(dice, state)


# -- the invariants ------------------------------------------------------------------------


def check_transition(before: SessionState, events: list[Event]) -> None:
    """What a batch of events may do, judged against the state it was decided on."""
    for ev in events:
        if isinstance(ev, pl.BallotCast):
            assert before.polls[ev.poll_id].status is PollStatus.OPEN
        if isinstance(ev, pl.PollClosed):
            counted = result_from_record(ev.result)
            assert counted.ballots == len(before.polls[ev.poll_id].ballots)


def check(
    state: SessionState, now: float, withdrawn: set[str], before: SessionState | None = None
) -> None:
    if state.started_at is not None:  # a planned session may also be ended (cancelled)
        assert state.status is not SessionStatus.PLANNED
        assert state.current is not None
        assert 0 <= state.current < len(state.script.steps)
    timer = state.timer
    assert timer.remaining >= 0 and timer.duration >= 0
    assert timer.remaining_at(now) >= 0
    assert not math.isnan(timer.remaining) and not math.isnan(timer.duration)
    assert withdrawn <= state.withdrawn_cards
    assert not withdrawn & set(state.cards)
    if state.step_id is not None:
        assert not withdrawn & {card.id for card in state.cards_for(state.step_id)}
    for rnd in state.rounds.values():
        assert 0 <= rnd.position <= len(rnd.order)
    for step_id in state.case_positions:
        assert state.case_for(step_id) is not None
    for pid in state.participants:
        is_excluded(state, pid)
    for poll_id, poll in state.polls.items():
        if before is not None and before.polls.get(poll_id) is poll:
            continue  # unchanged, and checked when it last changed
        assert poll.poll_id == poll_id
        for voter, ballot in poll.ballots.items():
            assert poll.ballot_ids[ballot.ballot_id] == voter
        counted = count(poll)
        assert counted is not None and counted.ballots == len(poll.ballots)
        if poll.status in (PollStatus.CLOSED, PollStatus.PUBLISHED):
            assert poll.result is not None and poll.result.ballots == len(poll.ballots)
        else:
            assert poll.result is None
        for voter in (*PEOPLE, *(f"anon-{p}" for p in PEOPLE)):
            view = participant_view(poll, voter)
            assert view.own_ballot == poll.ballots.get(voter)
            assert (view.result is not None) == (poll.status is PollStatus.PUBLISHED)
        shown = projector_view(poll)
        assert (shown.result is not None) == (poll.status is PollStatus.PUBLISHED)
        ranked = ranked_options(state.polls, poll_id)
        assert sorted(r.option_id for r in ranked) == sorted(poll.option_ids if ranked else ())


def prepared(run: Run, first_step: str) -> None:
    """Started, joined, a few cards, every poll created and three open, then at `first_step`."""
    run.ok(c.StartSession(actor=FAC))
    for pid in PEOPLE:
        run.ok(c.Join(actor=Actor(ActorRole.PARTICIPANT, pid), name=pid))
    run.ok(c.GoToStep(actor=FAC, step_id="ideer"))
    for pid in PEOPLE[:2]:
        run.ok(c.AddCard(actor=Actor(ActorRole.PARTICIPANT, pid), card_id=f"c-{pid}", text=pid))
    for poll_id in POLL_IDS:
        run.ok(c.GoToStep(actor=FAC, step_id=poll_id))
    run.ok(pl.AddPollOption(actor=FAC, poll_id="fri", option_id="x", label="Ja"))
    run.ok(pl.AddPollOption(actor=FAC, poll_id="fri", option_id="y", label="Nej"))
    for poll_id in ("valg", "prikker", "prioritering"):  # named, anonymous dots, ranking
        run.ok(pl.OpenPoll(actor=FAC, poll_id=poll_id))
    run.do(c.GoToStep(actor=FAC, step_id=first_step))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    setup=st.sampled_from(["prepared", "prepared", "none", "joined"]),
    first_step=st.sampled_from([*POLL_IDS, *STEP_IDS]),
    program=st.lists(st.integers(0, 2**32 - 1), min_size=20, max_size=80),
)
def test_random_sequences_never_raise_and_keep_the_invariants(
    setup: str, first_step: str, program: list[int]
) -> None:
    run = Run()
    withdrawn: set[str] = set()
    if setup == "prepared":
        prepared(run, first_step)
    elif setup == "joined":
        run.ok(c.StartSession(actor=FAC))
        for pid in PEOPLE:
            run.ok(c.Join(actor=Actor(ActorRole.PARTICIPANT, pid), name=pid))
    for position, seed in enumerate(program):
        before = run.state
        dice = Dice(seed, position)
        cmd = draw_command(dice, before)
        out = run.do(cmd, dt=dice.choose([0.0, 0.5, 30.0, 700.0]))
        if isinstance(out, CommandRejected):
            assert run.state is before
            assert isinstance(out.reason, str) and 0 < len(out.reason) < 300
            assert HUGE not in out.reason
        else:
            check_transition(before, out)
            withdrawn |= {ev.card_id for ev in out if isinstance(ev, CardWithdrawn)}
        check(run.state, run.now, withdrawn, before)
    assert run.replayed() == run.state


# -- every command type, hostile fields, against sessions in many situations -------------------

FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "str": hostile_text,
    "str | None": st.none() | hostile_text,
    "float": numbers,
    "float | None": st.none() | numbers,
    "int": numbers,
    "tuple[str, ...]": st.lists(hostile_text, max_size=4).map(tuple),
    "Any": json_like,
}


@cache
def situations() -> tuple[tuple[SessionState, float], ...]:
    """Sessions in many situations: before start, in every step, polls in every status."""
    run = Run()
    seen = [(run.state, run.now)]
    run.ok(c.StartSession(actor=FAC))
    for pid in PEOPLE:
        run.ok(c.Join(actor=Actor(ActorRole.PARTICIPANT, pid), name=pid))
    run.ok(c.SetRole(actor=FAC, participant_id="a", role="family"))
    for step_id in STEP_IDS:
        run.ok(c.GoToStep(actor=FAC, step_id=step_id))
        run.do(c.AddCard(actor=Actor(ActorRole.PARTICIPANT, "b"), card_id=f"k-{step_id}", text="x"))
        if step_id in run.state.polls:
            voting(run, step_id)
        seen.append((run.state, run.now))
    run.ok(c.EndSession(actor=FAC))
    seen.append((run.state, run.now))
    return tuple(seen)


def voting(run: Run, poll_id: str) -> None:
    poll = run.state.polls[poll_id]
    if len(poll.options) < 2:
        return
    run.ok(pl.OpenPoll(actor=FAC, poll_id=poll_id))
    first, second = poll.option_ids[:2]
    votes = {
        "choice": ([first], [second]),
        "approval": ([first], [second]),
        "dot": ({first: 1}, {second: 1}),
        "rank": (list(poll.option_ids), [second, first, *poll.option_ids[2:]]),
        "score": ({first: 2}, {second: 2}),
    }[poll.type]
    for pid, ballot in zip(("a", "b"), votes, strict=True):
        voter = f"anon-{pid}" if poll.anonymous else pid
        who = Actor(ActorRole.PARTICIPANT, pid)
        run.ok(
            pl.CastBallot(actor=who, poll_id=poll_id, ballot_id=pid, voter=voter, payload=ballot)
        )
    if poll_id != "prikker":  # leave one open
        run.ok(pl.ClosePoll(actor=FAC, poll_id=poll_id))
    if poll_id == "valg":
        run.ok(pl.PublishPoll(actor=FAC, poll_id=poll_id))


def command_of(data: st.DataObject, cls: type[c.Command], who: Actor) -> c.Command:
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name == "actor":
            continue
        kind = str(f.type)
        assert kind in FIELD_VALUES, f"{cls.__name__}.{f.name}: add {kind!r} to FIELD_VALUES"
        values[f.name] = data.draw(FIELD_VALUES[kind], label=f"{cls.__name__}.{f.name}")
    return cls(actor=who, **values)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), name=st.sampled_from(sorted(COMMAND_TYPES)))
def test_every_command_type_survives_hostile_arguments(data: st.DataObject, name: str) -> None:
    state, now = data.draw(st.sampled_from(situations()), label="situation")
    who = data.draw(st.sampled_from([FAC, *PARTICIPANTS, Actor(ActorRole.SYSTEM, "sys")]))
    cmd = command_of(data, COMMAND_TYPES[name], who)
    out = decide(state, cmd, now + 1)
    if isinstance(out, CommandRejected):
        assert 0 < len(out.reason) < 300 and HUGE not in out.reason
        return
    check_transition(state, out)
    check(apply_all(state, out), now + 1, set(state.withdrawn_cards), state)

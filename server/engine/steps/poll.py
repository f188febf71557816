"""Poll: a vote (choice, approval, dot, rank, score) with an explicit lifecycle.

Entering a poll step creates its poll as a draft, options resolved from the
script's `options_from`. Only the facilitator moves the lifecycle
(draft -> open -> closed -> published; closed -> open while unpublished).

Ballots are idempotent by their client-made id: the same id again is a no-op,
also after the vote has closed. A voter has at most one ballot; a new one
replaces the old if the poll allows changes, else it is refused. `voter` is the
participant id for named polls and an edge-made pseudonym for anonymous ones;
the engine checks which is which and stores nothing else about the voter.

Closing counts the ballots in state at that moment and stores the result in
the PollClosed event. A tie that decides something (first place, or the
cut-off of the poll's top N; see tally.deciding_ties) can go to a runoff: a new
poll among exactly the tied options (a ranking if the original was ranked,
else one choice). A runoff of a cut-off tie remembers how many of its options
get in (`among_top`), so a tie at its own cut-off counts as deciding too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from server.engine.poll import (
    STATUS_REASONS,
    TRANSITIONS,
    Ballot,
    Horizon,
    HorizonAssignment,
    PollState,
    PollStatus,
    count,
    deciding_ties_of,
    result_from_record,
    result_to_record,
    runoffs_of,
)
from server.engine.reason import Reason
from server.engine.registry import (
    Command,
    CommandRejected,
    Event,
    Outcome,
    applies,
    command,
    event,
    handles,
    on_enter,
)
from server.engine.state import SessionState
from server.engine.steps._checks import facilitator_only, id_ok, joined_participant, running
from server.engine.tally import (
    InvalidBallotError,
    ParsedBallot,
    PollRules,
    PollType,
    parse_ballot,
    validate_ballot,
)
from server.engine.text import clean
from server.scripts.schema import OptionSource, PollStep, Step

KIND = "poll"
MAX_OPTIONS = 100
MAX_RUNOFFS = 20
VOTER_MAX = 128
LABEL_MAX = 200


# -- commands ---------------------------------------------------------------------------


@command
@dataclass(frozen=True, kw_only=True)
class OpenPoll(Command):
    poll_id: str


@command
@dataclass(frozen=True, kw_only=True)
class ClosePoll(Command):
    poll_id: str


@command
@dataclass(frozen=True, kw_only=True)
class PublishPoll(Command):
    poll_id: str


@command
@dataclass(frozen=True, kw_only=True)
class ReopenPoll(Command):
    """Closed -> open again (a close by mistake); not once the result is published."""

    poll_id: str


@command
@dataclass(frozen=True, kw_only=True)
class AddPollOption(Command):
    poll_id: str
    option_id: str
    label: str


@command
@dataclass(frozen=True, kw_only=True)
class RemovePollOption(Command):
    poll_id: str
    option_id: str


@command
@dataclass(frozen=True, kw_only=True)
class CastBallot(Command):
    """`voter`: the participant id (named poll) or the edge's pseudonym (anonymous)."""

    poll_id: str
    ballot_id: str
    voter: str
    payload: Any


@command
@dataclass(frozen=True, kw_only=True)
class RetractBallot(Command):
    poll_id: str
    voter: str


@command
@dataclass(frozen=True, kw_only=True)
class StartRunoff(Command):
    poll_id: str
    option_ids: tuple[str, ...]


@command
@dataclass(frozen=True, kw_only=True)
class AssignHorizon(Command):
    poll_id: str
    option_id: str
    horizon: str
    owner: str = ""


# -- events ------------------------------------------------------------------------------


@event
@dataclass(frozen=True, kw_only=True)
class PollCreated(Event):
    poll_id: str
    step_id: str
    question: str
    options: tuple[tuple[str, str], ...]
    poll_type: str
    max_choices: int = 1
    dots: int = 5
    max_per_option: int | None = None
    top_k: int | None = None
    scale_min: int = 1
    scale_max: int = 5
    anonymous: bool = True
    allow_change: bool = True
    show_count_on_projector: bool = True
    assign_horizon: bool = False
    runoff_of: str | None = None
    among_top: int | None = None


@event
@dataclass(frozen=True, kw_only=True)
class PollOptionAdded(Event):
    poll_id: str
    option_id: str
    label: str
    masked: int = 0


@event
@dataclass(frozen=True, kw_only=True)
class PollOptionRemoved(Event):
    poll_id: str
    option_id: str


@event
@dataclass(frozen=True, kw_only=True)
class PollOpened(Event):
    poll_id: str


@event
@dataclass(frozen=True, kw_only=True)
class PollClosed(Event):
    """`result` is the count at close as JSON-ready data (see poll.result_to_record)."""

    poll_id: str
    result: dict[str, Any]


@event
@dataclass(frozen=True, kw_only=True)
class PollPublished(Event):
    poll_id: str


@event
@dataclass(frozen=True, kw_only=True)
class PollReopened(Event):
    poll_id: str


@event
@dataclass(frozen=True, kw_only=True)
class BallotCast(Event):
    """A voter's ballot; it replaces any earlier ballot of the same voter."""

    poll_id: str
    ballot_id: str
    voter: str
    payload: Any


@event
@dataclass(frozen=True, kw_only=True)
class BallotRetracted(Event):
    poll_id: str
    voter: str


@event
@dataclass(frozen=True, kw_only=True)
class HorizonAssigned(Event):
    poll_id: str
    option_id: str
    horizon: str
    owner: str
    masked: int = 0


# -- entering the step: the poll is created as a draft --------------------------------------


def _earlier_steps(state: SessionState, step: Step) -> list[str]:
    index = state.script.index_of(step.id) or 0
    return [s.id for s in state.script.steps[:index]]


def resolve_options(state: SessionState, step: PollStep) -> tuple[tuple[str, str], ...]:
    """The poll's starting options, from where the script says they come from."""
    source = step.options_from
    found: list[tuple[str, str]] = []
    if source in (OptionSource.SCRIPT, OptionSource.FACILITATOR):
        found = [(f"o{i}", label) for i, label in enumerate(step.options, 1)]
    elif source is OptionSource.CARDS:
        for step_id in _earlier_steps(state, step):
            found.extend((c.id, c.text) for c in state.cards_for(step_id))
    elif source is OptionSource.CLUSTERS:
        for step_id in _earlier_steps(state, step):
            found.extend((c.id, c.title) for c in state.clusters_for(step_id))
    elif source is OptionSource.FOCUS_AREAS:
        found = [(fa.id, fa.title) for fa in state.focus_areas]
    unique: dict[str, str] = {}
    for option_id, label in found:
        unique.setdefault(option_id, label)  # the first of an id wins
    return tuple(unique.items())[:MAX_OPTIONS]


def created_from_step(state: SessionState, step: PollStep, now: float) -> PollCreated:
    return PollCreated(
        at=now,
        poll_id=step.id,
        step_id=step.id,
        question=step.question,
        options=resolve_options(state, step),
        poll_type=str(step.type),
        max_choices=step.max_choices,
        dots=step.dots,
        max_per_option=step.max_per_option,
        top_k=step.top_k,
        scale_min=step.scale_min,
        scale_max=step.scale_max,
        anonymous=step.anonymous,
        allow_change=step.allow_change,
        show_count_on_projector=step.show_count_on_projector,
        assign_horizon=step.assign_horizon,
    )


@on_enter(KIND)
def _enter(state: SessionState, step: Step, now: float) -> list[Event]:
    assert isinstance(step, PollStep)
    if step.id in state.polls:
        return []  # coming back to a poll keeps it as it was
    return [created_from_step(state, step, now)]


# -- the lifecycle ------------------------------------------------------------------------


def _poll(state: SessionState, poll_id: object) -> PollState | CommandRejected:
    poll = state.polls.get(poll_id) if isinstance(poll_id, str) else None
    if poll is None:
        return CommandRejected("That vote does not exist.", "unknown_poll")
    return poll


def _facilitator_poll(
    state: SessionState, cmd: Command, poll_id: str
) -> PollState | CommandRejected:
    if err := facilitator_only(cmd) or running(state):
        return err
    return _poll(state, poll_id)


def _refused(poll: PollState) -> CommandRejected:
    return CommandRejected(STATUS_REASONS[poll.status], f"poll_{poll.status}")


def _move(
    state: SessionState, cmd: Command, poll_id: str, source: PollStatus, target: PollStatus
) -> PollState | list[Event] | CommandRejected:
    """The poll if it may move source -> target; [] if it is there already (a repeat)."""
    assert target in TRANSITIONS[source]
    poll = _facilitator_poll(state, cmd, poll_id)
    if isinstance(poll, CommandRejected):
        return poll
    if poll.status is target:
        return []
    if poll.status is not source:
        return _refused(poll)
    return poll


@handles(OpenPoll)
def _open(state: SessionState, cmd: OpenPoll, now: float) -> Outcome:
    poll = _move(state, cmd, cmd.poll_id, PollStatus.DRAFT, PollStatus.OPEN)
    if not isinstance(poll, PollState):
        return poll
    if len(poll.options) < 2:
        return CommandRejected("A vote needs at least two options.", "too_few_options")
    return [PollOpened(at=now, poll_id=poll.poll_id)]


@handles(ClosePoll)
def _close(state: SessionState, cmd: ClosePoll, now: float) -> Outcome:
    poll = _move(state, cmd, cmd.poll_id, PollStatus.OPEN, PollStatus.CLOSED)
    if not isinstance(poll, PollState):
        return poll
    result = count(poll)
    if result is None:
        return CommandRejected("The votes could not be counted.", "uncountable")
    return [PollClosed(at=now, poll_id=poll.poll_id, result=result_to_record(result))]


@handles(PublishPoll)
def _publish(state: SessionState, cmd: PublishPoll, now: float) -> Outcome:
    poll = _move(state, cmd, cmd.poll_id, PollStatus.CLOSED, PollStatus.PUBLISHED)
    if not isinstance(poll, PollState):
        return poll
    return [PollPublished(at=now, poll_id=poll.poll_id)]


@handles(ReopenPoll)
def _reopen(state: SessionState, cmd: ReopenPoll, now: float) -> Outcome:
    poll = _move(state, cmd, cmd.poll_id, PollStatus.CLOSED, PollStatus.OPEN)
    if not isinstance(poll, PollState):
        return poll
    if runoffs_of(state.polls, poll.poll_id):
        return CommandRejected("A runoff has already been started from this vote.", "has_runoff")
    return [PollReopened(at=now, poll_id=poll.poll_id)]


# -- options while a draft -------------------------------------------------------------------


def _draft(state: SessionState, cmd: Command, poll_id: str) -> PollState | CommandRejected:
    poll = _facilitator_poll(state, cmd, poll_id)
    if isinstance(poll, PollState) and poll.status is not PollStatus.DRAFT:
        return CommandRejected("Options can only be changed before the vote opens.", "not_draft")
    return poll


@handles(AddPollOption)
def _add_option(state: SessionState, cmd: AddPollOption, now: float) -> Outcome:
    poll = _draft(state, cmd, cmd.poll_id)
    if isinstance(poll, CommandRejected):
        return poll
    if not id_ok(cmd.option_id):
        return CommandRejected("The option has no valid id.", "invalid")
    if cmd.option_id in poll.option_ids:
        return []  # sent twice
    if len(poll.options) >= MAX_OPTIONS:
        return CommandRejected(
            Reason("A vote can have at most %(n)s options.", n=MAX_OPTIONS), "full"
        )
    cleaned = clean(cmd.label, LABEL_MAX)
    if isinstance(cleaned, CommandRejected):
        return cleaned
    label, masked = cleaned
    if any(existing == label for _, existing in poll.options):
        return CommandRejected("That option is already in the vote.", "duplicate")
    return [
        PollOptionAdded(
            at=now, poll_id=poll.poll_id, option_id=cmd.option_id, label=label, masked=masked
        )
    ]


@handles(RemovePollOption)
def _remove_option(state: SessionState, cmd: RemovePollOption, now: float) -> Outcome:
    poll = _draft(state, cmd, cmd.poll_id)
    if isinstance(poll, CommandRejected):
        return poll
    if cmd.option_id not in poll.option_ids:
        return []  # already gone
    return [PollOptionRemoved(at=now, poll_id=poll.poll_id, option_id=cmd.option_id)]


# -- ballots ---------------------------------------------------------------------------------


def normalise(payload: object) -> object:
    """Lists become tuples, so a ballot is the same before and after a JSON round trip."""
    if isinstance(payload, list | tuple):
        return tuple(payload)
    if isinstance(payload, Mapping):
        return dict(payload)
    return payload


def _voter(cmd: CastBallot | RetractBallot, poll: PollState) -> str | None:
    """Why this voter may not act for this actor, or None."""
    if not id_ok(cmd.voter, VOTER_MAX):
        return "The vote has no valid voter."
    if poll.anonymous and cmd.voter == cmd.actor.id:
        return "An anonymous vote must not carry the participant's id."
    if not poll.anonymous and cmd.voter != cmd.actor.id:
        return "You can only vote for yourself."
    return None


@handles(CastBallot)
def _cast(state: SessionState, cmd: CastBallot, now: float) -> Outcome:
    if err := running(state) or joined_participant(state, cmd):
        return err
    poll = _poll(state, cmd.poll_id)
    if isinstance(poll, CommandRejected):
        return poll
    if not id_ok(cmd.ballot_id):
        return CommandRejected("The ballot has no valid id.", "invalid")
    if reason := _voter(cmd, poll):
        return CommandRejected(reason, "invalid_voter")
    seen = poll.ballot_ids.get(cmd.ballot_id)
    if seen == cmd.voter:
        return []  # the same ballot again: a resend after a dropped connection
    if seen is not None:
        return CommandRejected("That ballot id is already used.", "duplicate")
    if poll.status is PollStatus.DRAFT:
        return _refused(poll)
    if poll.status is not PollStatus.OPEN:
        return CommandRejected("The vote is closed.", "poll_closed")
    if cmd.voter in poll.ballots and not poll.allow_change:
        return CommandRejected("You have already voted.", "already_voted")
    payload = normalise(cmd.payload)
    if reason := validate_ballot(poll.rules, poll.option_ids, payload):
        return CommandRejected(reason, "invalid_ballot")
    return [
        BallotCast(
            at=now, poll_id=poll.poll_id, ballot_id=cmd.ballot_id, voter=cmd.voter, payload=payload
        )
    ]


@handles(RetractBallot)
def _retract(state: SessionState, cmd: RetractBallot, now: float) -> Outcome:
    if err := running(state) or joined_participant(state, cmd):
        return err
    poll = _poll(state, cmd.poll_id)
    if isinstance(poll, CommandRejected):
        return poll
    if reason := _voter(cmd, poll):
        return CommandRejected(reason, "invalid_voter")
    if cmd.voter not in poll.ballots:
        return []  # nothing to take back (or already taken back)
    if poll.status is not PollStatus.OPEN:
        return CommandRejected("The vote is closed.", "poll_closed")
    if not poll.allow_change:
        return CommandRejected("Your vote cannot be changed in this vote.", "no_change")
    return [BallotRetracted(at=now, poll_id=poll.poll_id, voter=cmd.voter)]


# -- after the count: runoffs and time horizons ------------------------------------------------


def runoff_rules(parent: PollRules) -> PollRules:
    """A runoff ranks the tied options if the original was ranked, else one choice."""
    if parent.type is PollType.RANK:
        return PollRules(PollType.RANK)
    return PollRules(PollType.CHOICE, max_choices=1)


@handles(StartRunoff)
def _start_runoff(state: SessionState, cmd: StartRunoff, now: float) -> Outcome:
    parent = _facilitator_poll(state, cmd, cmd.poll_id)
    if isinstance(parent, CommandRejected):
        return parent
    if parent.result is None:
        return _refused(parent)
    wanted = set(cmd.option_ids) if isinstance(cmd.option_ids, tuple | list) else set()
    tie = next((t for t in deciding_ties_of(parent) if set(t.option_ids) == wanted), None)
    if tie is None:
        return CommandRejected(
            "A runoff must include exactly the options tied for a place that decides the result.",
            "not_tied",
        )
    earlier = runoffs_of(state.polls, parent.poll_id)
    if any(set(r.option_ids) == wanted and r.result is None for r in earlier):
        return []  # this runoff is running already (a double click)
    if len(earlier) >= MAX_RUNOFFS:
        return CommandRejected("This vote has had too many runoffs.", "full")
    rules = runoff_rules(parent.rules)
    runoff_id = f"{parent.poll_id}-runoff-{len(earlier) + 1}"
    created = PollCreated(
        at=now,
        poll_id=runoff_id,
        step_id=parent.step_id,
        question=parent.question,
        options=tuple(o for o in parent.options if o[0] in wanted),
        poll_type=str(rules.type),
        max_choices=rules.max_choices,
        anonymous=parent.anonymous,
        allow_change=parent.allow_change,
        show_count_on_projector=parent.show_count_on_projector,
        runoff_of=parent.poll_id,
        among_top=tie.places,
    )
    return [created, PollOpened(at=now, poll_id=runoff_id)]


@handles(AssignHorizon)
def _assign_horizon(state: SessionState, cmd: AssignHorizon, now: float) -> Outcome:
    poll = _facilitator_poll(state, cmd, cmd.poll_id)
    if isinstance(poll, CommandRejected):
        return poll
    if not poll.assign_horizon:
        return CommandRejected("This vote does not set time horizons.", "no_horizon")
    if poll.result is None:
        return _refused(poll)
    if cmd.option_id not in poll.option_ids:
        return CommandRejected("That option is not in the vote.", "unknown_option")
    if cmd.horizon not in {str(h) for h in Horizon}:
        return CommandRejected("The time horizon must be short, medium or long.", "invalid")
    owner, masked = "", 0
    if isinstance(cmd.owner, str) and cmd.owner.strip():
        cleaned = clean(cmd.owner, LABEL_MAX)
        if isinstance(cleaned, CommandRejected):
            return cleaned
        owner, masked = cleaned
    current = poll.horizons.get(cmd.option_id)
    if current is not None and (current.horizon, current.owner) == (cmd.horizon, owner):
        return []
    return [
        HorizonAssigned(
            at=now,
            poll_id=poll.poll_id,
            option_id=cmd.option_id,
            horizon=cmd.horizon,
            owner=owner,
            masked=masked,
        )
    ]


# -- folding the events ------------------------------------------------------------------------


def _put(state: SessionState, poll: PollState) -> SessionState:
    return replace(state, polls={**state.polls, poll.poll_id: poll})


@applies(PollCreated)
def _created(state: SessionState, ev: PollCreated) -> SessionState:
    rules = PollRules(
        PollType(ev.poll_type),
        max_choices=ev.max_choices,
        dots=ev.dots,
        max_per_option=ev.max_per_option,
        top_k=ev.top_k,
        scale_min=ev.scale_min,
        scale_max=ev.scale_max,
    )
    poll = PollState(
        poll_id=ev.poll_id,
        step_id=ev.step_id,
        question=ev.question,
        rules=rules,
        options=tuple((oid, label) for oid, label in ev.options),
        anonymous=ev.anonymous,
        allow_change=ev.allow_change,
        show_count_on_projector=ev.show_count_on_projector,
        assign_horizon=ev.assign_horizon,
        runoff_of=ev.runoff_of,
        among_top=ev.among_top,
    )
    return _put(state, poll)


@applies(PollOptionAdded)
def _option_added(state: SessionState, ev: PollOptionAdded) -> SessionState:
    poll = state.polls[ev.poll_id]
    return _put(state, replace(poll, options=(*poll.options, (ev.option_id, ev.label))))


@applies(PollOptionRemoved)
def _option_removed(state: SessionState, ev: PollOptionRemoved) -> SessionState:
    poll = state.polls[ev.poll_id]
    options = tuple(o for o in poll.options if o[0] != ev.option_id)
    return _put(state, replace(poll, options=options))


@applies(PollOpened)
def _opened(state: SessionState, ev: PollOpened) -> SessionState:
    return _put(state, replace(state.polls[ev.poll_id], status=PollStatus.OPEN))


@applies(PollClosed)
def _closed(state: SessionState, ev: PollClosed) -> SessionState:
    poll = replace(
        state.polls[ev.poll_id], status=PollStatus.CLOSED, result=result_from_record(ev.result)
    )
    return _put(state, poll)


@applies(PollPublished)
def _published(state: SessionState, ev: PollPublished) -> SessionState:
    return _put(state, replace(state.polls[ev.poll_id], status=PollStatus.PUBLISHED))


@applies(PollReopened)
def _reopened(state: SessionState, ev: PollReopened) -> SessionState:
    poll = replace(state.polls[ev.poll_id], status=PollStatus.OPEN, result=None)
    return _put(state, poll)


@applies(BallotCast)
def _cast_applied(state: SessionState, ev: BallotCast) -> SessionState:
    poll = state.polls[ev.poll_id]
    try:
        parsed: ParsedBallot | None = parse_ballot(poll.rules, poll.option_ids, ev.payload)
    except InvalidBallotError:
        parsed = None  # decide let it through, so never; then `count` says it cannot count
    ballot = Ballot(ballot_id=ev.ballot_id, payload=ev.payload, at=ev.at, parsed=parsed)
    return _put(
        state,
        replace(
            poll,
            ballots={**poll.ballots, ev.voter: ballot},
            ballot_ids={**poll.ballot_ids, ev.ballot_id: ev.voter},
        ),
    )


@applies(BallotRetracted)
def _retracted(state: SessionState, ev: BallotRetracted) -> SessionState:
    poll = state.polls[ev.poll_id]
    ballots = {v: b for v, b in poll.ballots.items() if v != ev.voter}
    return _put(state, replace(poll, ballots=ballots))


@applies(HorizonAssigned)
def _horizon(state: SessionState, ev: HorizonAssigned) -> SessionState:
    poll = state.polls[ev.poll_id]
    assigned = HorizonAssignment(
        option_id=ev.option_id, horizon=Horizon(ev.horizon), owner=ev.owner
    )
    return _put(state, replace(poll, horizons={**poll.horizons, ev.option_id: assigned}))

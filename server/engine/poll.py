"""A poll's state and the views each audience may see of it. Pure data and functions.

The commands and events that change a poll live in `steps/poll.py`; this module
holds what they fold into and what the screens read:

- `participant_view(poll, voter)`: a phone sees the poll, its own ballot and
  nothing of anybody else's until the result is published;
- `projector_view(poll)`: the wall sees the ballot count (if the script says so)
  and the result once published;
- `facilitator_view(poll)`: the laptop sees the live count, and for named polls
  who has voted.

A poll moves draft -> open -> closed -> published (closed -> open again only
while nothing is published). The result is counted once, at close, and stored in
the PollClosed event, so the published result is exactly what was counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from server.engine.tally import (
    ParsedBallot,
    PollResult,
    PollRules,
    PollType,
    ResultRow,
    ScoreStats,
    Tie,
    count_parsed,
    deciding_ties,
    tally,
)


class PollStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    PUBLISHED = "published"


TRANSITIONS: Mapping[PollStatus, frozenset[PollStatus]] = {
    PollStatus.DRAFT: frozenset({PollStatus.OPEN}),
    PollStatus.OPEN: frozenset({PollStatus.CLOSED}),
    PollStatus.CLOSED: frozenset({PollStatus.PUBLISHED, PollStatus.OPEN}),
    PollStatus.PUBLISHED: frozenset(),
}
"""The only legal moves of a poll's status."""

STATUS_REASONS: Mapping[PollStatus, str] = {
    PollStatus.DRAFT: "The vote has not been opened yet.",
    PollStatus.OPEN: "The vote is still open.",
    PollStatus.CLOSED: "The vote is closed.",
    PollStatus.PUBLISHED: "The result has already been published.",
}
"""Why a move from this status was refused, as a person reads it."""


class Horizon(StrEnum):
    """Time horizon of a prioritised option (kort / mellem / lang sigt)."""

    SHORT = "short"
    MEDIUM = "medium"
    LONG = "long"


@dataclass(frozen=True, slots=True)
class Ballot:
    ballot_id: str
    payload: Any  # tuple of option ids (choice, approval, rank) or {option id: int}
    at: float
    # The payload as counted (tally.parse_ballot), made once when it is cast;
    # None if it could not be parsed (then `count` parses the payloads itself).
    parsed: ParsedBallot | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class HorizonAssignment:
    option_id: str
    horizon: Horizon
    owner: str


@dataclass(frozen=True, slots=True)
class PollState:
    """One poll. `ballots` maps a voter (participant id, or a pseudonym when
    anonymous) to their one current ballot; `ballot_ids` remembers every
    ballot id ever accepted, so a late resend is recognised as a repeat."""

    poll_id: str
    step_id: str
    question: str
    rules: PollRules
    options: tuple[tuple[str, str], ...]
    status: PollStatus = PollStatus.DRAFT
    anonymous: bool = True
    allow_change: bool = True
    show_count_on_projector: bool = True
    assign_horizon: bool = False
    runoff_of: str | None = None
    # A runoff of a tie at the cut-off of a top N: how many of its options get in.
    among_top: int | None = None
    ballots: Mapping[str, Ballot] = field(default_factory=dict)
    ballot_ids: Mapping[str, str] = field(default_factory=dict)  # ballot id -> voter
    result: PollResult | None = None
    horizons: Mapping[str, HorizonAssignment] = field(default_factory=dict)
    # `count`'s answer for these ballots, once asked: a one-slot box, since the
    # poll is frozen; a poll made by replace() starts with an empty one.
    counted: list[PollResult | None] = field(
        default_factory=list, init=False, repr=False, compare=False
    )

    @property
    def type(self) -> PollType:
        return self.rules.type

    @property
    def option_ids(self) -> tuple[str, ...]:
        return tuple(option_id for option_id, _ in self.options)

    @property
    def top_n(self) -> int | None:
        """The N of the top N this poll picks (None: only first place decides)."""
        if self.among_top is not None:
            return self.among_top
        return self.rules.top_n(len(self.options))

    def label(self, option_id: str) -> str | None:
        return next((label for oid, label in self.options if oid == option_id), None)


# -- small reads --------------------------------------------------------------------


def ballot_count(poll: PollState) -> int:
    return len(poll.ballots)


def own_ballot(poll: PollState, voter: str) -> Ballot | None:
    return poll.ballots.get(voter)


def count(poll: PollState) -> PollResult | None:
    """Count the ballots now in `poll` (None if they cannot be counted). Each
    ballot was parsed when it was cast, and a poll is counted once: the
    facilitator's live count and the projector both ask after every batch."""
    if poll.counted:
        return poll.counted[0]
    ballots = [poll.ballots[voter] for voter in sorted(poll.ballots)]
    parsed = [ballot.parsed for ballot in ballots if ballot.parsed is not None]
    result: PollResult | None
    try:
        if len(parsed) == len(ballots):
            result = count_parsed(poll.rules, poll.options, parsed)
        else:
            result = tally(poll.rules, poll.options, [ballot.payload for ballot in ballots])
    except ValueError:
        result = None
    poll.counted.append(result)
    return result


def live_result(poll: PollState) -> PollResult | None:
    """The stored result once closed; before that a live count (facilitator only)."""
    return poll.result if poll.result is not None else count(poll)


def dots_left(poll: PollState, voter: str) -> int | None:
    """For a dot poll: how many of the voter's dots are still unspent."""
    if poll.type is not PollType.DOT:
        return None
    ballot = poll.ballots.get(voter)
    used = sum(ballot.payload.values()) if ballot and isinstance(ballot.payload, dict) else 0
    return max(0, poll.rules.dots - used)


def runoffs_of(polls: Mapping[str, PollState], poll_id: str) -> list[PollState]:
    """The runoffs started from `poll_id`, oldest first."""
    found = [p for p in polls.values() if p.runoff_of == poll_id]
    return sorted(found, key=lambda p: (len(p.poll_id), p.poll_id))


# -- the prioritisation --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RankedOption:
    """One line of a prioritisation: `place` is 1-based and shared while `tied`
    (options with votes sharing a place). `deciding`: the shared place decides
    something, first place or the cut-off of the poll's top N."""

    option_id: str
    label: str
    place: int
    tied: bool
    horizon: Horizon | None = None
    owner: str | None = None
    deciding: bool = False


def deciding_ties_of(poll: PollState, result: PollResult | None = None) -> tuple[Tie, ...]:
    """The ties in the poll's result (or `result`, a live count) that change the outcome."""
    counted = poll.result if result is None else result
    return () if counted is None else deciding_ties(counted, poll.top_n)


def _groups(polls: Mapping[str, PollState], poll: PollState) -> list[tuple[tuple[str, ...], bool]]:
    """The poll's tiers, best first, with ties settled by its counted runoffs;
    each with whether it is a tie (options with votes sharing a place)."""
    if poll.result is None:
        return []
    groups: list[tuple[tuple[str, ...], bool]] = []
    runoffs = [r for r in runoffs_of(polls, poll.poll_id) if r.result is not None]
    for tier in poll.result.row_tiers():
        ids = tuple(row.option_id for row in tier)
        settled = next((r for r in reversed(runoffs) if set(r.option_ids) == set(ids)), None)
        if len(ids) > 1 and settled is not None:
            groups.extend(_groups(polls, settled))
        else:
            groups.append((ids, len(ids) > 1 and tier[0].voted))
    return groups


def ranked_options(polls: Mapping[str, PollState], poll_id: str) -> tuple[RankedOption, ...]:
    """The counted order of a poll's options, best first (empty before close).

    Ties that a counted runoff settled are ordered by the runoff; ties left
    share a place. Horizons and owners assigned after the vote ride along, so
    this is the row order of the development plan.
    """
    poll = polls.get(poll_id)
    if poll is None:
        return ()
    top = poll.top_n
    ranked: list[RankedOption] = []
    for group, tied in _groups(polls, poll):
        place = len(ranked) + 1
        at_cut = top is not None and place - 1 < top < place - 1 + len(group)
        for option_id in group:
            assigned = poll.horizons.get(option_id)
            ranked.append(
                RankedOption(
                    option_id=option_id,
                    label=poll.label(option_id) or "",
                    place=place,
                    tied=tied,
                    horizon=None if assigned is None else assigned.horizon,
                    owner=None if assigned is None else assigned.owner,
                    deciding=tied and (place == 1 or at_cut),
                )
            )
    return tuple(ranked)


# -- what each screen may see ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ParticipantPollView:
    """A phone's view: never anybody else's ballot, and no counts while open."""

    poll_id: str
    question: str
    type: PollType
    rules: PollRules
    status: PollStatus
    options: tuple[tuple[str, str], ...]
    own_ballot: Ballot | None
    can_vote: bool  # open, and (no ballot yet or it may be changed)
    dots_left: int | None
    result: PollResult | None  # only once published


@dataclass(frozen=True, slots=True)
class ProjectorPollView:
    """The wall's view: a count while open (if the script allows), a result once published."""

    poll_id: str
    question: str
    type: PollType
    status: PollStatus
    options: tuple[tuple[str, str], ...]
    count: int | None
    result: PollResult | None


@dataclass(frozen=True, slots=True)
class FacilitatorPollView:
    """The laptop's view: live count and result; names of voters only for named polls."""

    poll_id: str
    question: str
    type: PollType
    status: PollStatus
    options: tuple[tuple[str, str], ...]
    count: int
    voters: tuple[str, ...]  # empty for anonymous polls
    result: PollResult | None  # live while open, the stored count once closed
    anonymous: bool
    runoff_of: str | None


def participant_view(poll: PollState, voter: str) -> ParticipantPollView:
    mine = poll.ballots.get(voter)
    return ParticipantPollView(
        poll_id=poll.poll_id,
        question=poll.question,
        type=poll.type,
        rules=poll.rules,
        status=poll.status,
        options=poll.options,
        own_ballot=mine,
        can_vote=poll.status is PollStatus.OPEN and (mine is None or poll.allow_change),
        dots_left=dots_left(poll, voter),
        result=poll.result if poll.status is PollStatus.PUBLISHED else None,
    )


def projector_view(poll: PollState) -> ProjectorPollView:
    shown = poll.show_count_on_projector and poll.status is not PollStatus.DRAFT
    return ProjectorPollView(
        poll_id=poll.poll_id,
        question=poll.question,
        type=poll.type,
        status=poll.status,
        options=poll.options,
        count=ballot_count(poll) if shown else None,
        result=poll.result if poll.status is PollStatus.PUBLISHED else None,
    )


def facilitator_view(poll: PollState) -> FacilitatorPollView:
    return FacilitatorPollView(
        poll_id=poll.poll_id,
        question=poll.question,
        type=poll.type,
        status=poll.status,
        options=poll.options,
        count=ballot_count(poll),
        voters=() if poll.anonymous else tuple(sorted(poll.ballots)),
        result=live_result(poll),
        anonymous=poll.anonymous,
        runoff_of=poll.runoff_of,
    )


# -- the result as JSON-ready data (it travels in the PollClosed event) ----------------


def result_to_record(result: PollResult) -> dict[str, Any]:
    return {
        "poll_type": str(result.poll_type),
        "ballots": result.ballots,
        "rows": tuple(_row_record(row) for row in result.rows),
    }


def _row_record(row: ResultRow) -> dict[str, Any]:
    score = None
    if row.score is not None:
        score = {
            "count": row.score.count,
            "mean": row.score.mean,
            "median": row.score.median,
            "distribution": tuple(tuple(pair) for pair in row.score.distribution),
        }
    return {
        "option_id": row.option_id,
        "label": row.label,
        "value": row.value,
        "rank": row.rank,
        "tied": row.tied,
        "positions": tuple(row.positions),
        "score": score,
    }


def result_from_record(data: Mapping[str, Any]) -> PollResult:
    rows = []
    for r in data["rows"]:
        s = r.get("score")
        score = (
            None
            if s is None
            else ScoreStats(
                count=s["count"],
                mean=s["mean"],
                median=s["median"],
                distribution=tuple((int(v), int(n)) for v, n in s["distribution"]),
            )
        )
        row = ResultRow(
            option_id=r["option_id"],
            label=r["label"],
            value=r["value"],
            rank=r["rank"],
            tied=r["tied"],
            positions=tuple(r["positions"]),
            score=score,
        )
        # Counted before options without votes stopped being "tied": read alike.
        rows.append(replace(row, tied=False) if row.tied and not row.voted else row)
    return PollResult(
        poll_type=PollType(data["poll_type"]), ballots=data["ballots"], rows=tuple(rows)
    )

"""Counting votes for polls.

Everything here is pure and deterministic: no I/O, no clocks, no randomness.
The same ballots (in any order) always give the same result, and every number
in a result can be recomputed by hand from the ballots.

Two entry points:

* :func:`validate_ballot` checks one payload from a participant and returns a
  short, human-readable reason when it is not acceptable (``None`` when it is).
  It never raises, whatever the payload is.
* :func:`tally` counts a collection of already validated ballots. It raises
  :class:`InvalidBallotError` (a ``ValueError``) on an invalid payload, so that
  a bug upstream is loud rather than silently changing the count.
  A live count does it in two halves: :func:`parse_ballot` once per ballot as
  it is cast, :func:`count_parsed` as often as the count is shown.

Ties are never broken silently: rows with equal value share a rank
(competition ranking, "1, 1, 3") and are grouped by :meth:`PollResult.tiers`;
rows that share it and got votes are flagged ``tied`` (options nobody voted
for are not "tied", they just got nothing). A tie decides something only for
first place, or where it straddles the cut-off of a top N: :func:`deciding_ties`
names those, and only those are worth a runoff. :func:`cutoff` /
:func:`runoff_options` tell a facilitator which tied options need a runoff when
only some of them fit the top N.

Poll types and payload shapes (option ids are strings):

``choice``
    ``list[str]``: 1..``max_choices`` distinct option ids. Value = ballots
    choosing the option.
``approval``
    ``list[str]``: any subset (including none) of distinct option ids.
    Value = approvals.
``dot``
    ``dict[str, int]``: dots per option, each >= 0 (zero entries are ignored),
    each <= ``max_per_option`` when set, total <= ``dots``. Value = total dots.
``rank``
    ``list[str]``: 1..``k`` distinct option ids, best first, where ``k`` is
    ``min(top_k, n)`` or ``n``: a partial ranking is a ballot, an empty one is
    not. Borda count: the option at position ``i`` (0-based) earns ``k - i``
    points and an option the voter did not rank earns 0. Each row also carries
    its position distribution.
``score``
    ``dict[str, int]``: a score in [``scale_min``, ``scale_max``] for each
    option the voter scored (options may be left out). Rows are ranked by mean
    score; options nobody scored come last (value 0, mean/median ``None``).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction

from server.engine.reason import Reason

__all__ = [
    "Cutoff",
    "InvalidBallotError",
    "ParsedBallot",
    "PollResult",
    "PollRules",
    "PollType",
    "ResultRow",
    "ScoreStats",
    "Tie",
    "count_parsed",
    "cutoff",
    "deciding_ties",
    "parse_ballot",
    "runoff_options",
    "tally",
    "validate_ballot",
]


class PollType(StrEnum):
    CHOICE = "choice"
    APPROVAL = "approval"
    DOT = "dot"
    RANK = "rank"
    SCORE = "score"


def _is_int(value: object) -> bool:
    """True for real integers; ``bool`` is an ``int`` subclass and is refused."""
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class PollRules:
    """How a poll is voted and counted.

    ``max_choices`` applies to ``choice``; ``dots`` and ``max_per_option`` to
    ``dot``; ``top_k`` to ``rank``; ``scale_min``/``scale_max`` to ``score``.
    Raises ``ValueError`` when the rules themselves make no sense.
    """

    type: PollType
    max_choices: int = 1
    dots: int = 5
    max_per_option: int | None = None
    top_k: int | None = None
    scale_min: int = 1
    scale_max: int = 5

    def __post_init__(self) -> None:
        if not isinstance(self.type, PollType):
            try:
                object.__setattr__(self, "type", PollType(self.type))
            except ValueError:
                raise ValueError(f"Unknown poll type: {self.type!r}") from None
        for name in ("max_choices", "dots", "scale_min", "scale_max"):
            if not _is_int(getattr(self, name)):
                raise ValueError(f"{name} must be an integer")
        for name in ("max_per_option", "top_k"):
            value = getattr(self, name)
            if value is not None and not _is_int(value):
                raise ValueError(f"{name} must be an integer or None")
        if self.max_choices < 1:
            raise ValueError("max_choices must be at least 1")
        if self.dots < 1:
            raise ValueError("dots must be at least 1")
        if self.max_per_option is not None and self.max_per_option < 1:
            raise ValueError("max_per_option must be at least 1")
        if self.top_k is not None and self.top_k < 1:
            raise ValueError("top_k must be at least 1")
        if self.scale_min > self.scale_max:
            raise ValueError("scale_min must not be greater than scale_max")

    def rank_positions(self, option_count: int) -> int:
        """Number of ranked positions ``k`` that earn Borda points (and the
        most options one ballot may rank)."""
        if self.top_k is None:
            return option_count
        return min(self.top_k, option_count)

    def top_n(self, option_count: int) -> int | None:
        """The N of a "top N" this poll picks, or ``None`` when it picks none.

        A ranking of the top ``k`` (fewer than all options) picks its top ``k``;
        other polls have no cut-off of their own, only a first place.
        """
        if self.type is PollType.RANK and self.top_k is not None and self.top_k < option_count:
            return self.top_k
        return None


class InvalidBallotError(ValueError):
    """A ballot payload that does not fit the poll's rules.

    ``reason`` is the same short text :func:`validate_ballot` returns;
    ``index`` is the ballot's 0-based position in the input to :func:`tally`.
    """

    def __init__(self, reason: str, index: int | None = None) -> None:
        self.reason = reason
        self.index = index
        super().__init__(reason if index is None else f"Ballot {index}: {reason}")


# --------------------------------------------------------------------------
# Validation / parsing
# --------------------------------------------------------------------------

_SHOW_MAX = 40


def _show(value: str) -> str:
    """A short, quoted rendering of a voter-supplied string for messages."""
    text = repr(value)
    if len(text) > _SHOW_MAX:
        text = text[: _SHOW_MAX - 4] + "...'"
    return text


_NUM_MAX = 999_999_999


def _num(value: int) -> str:
    """A voter-supplied integer for messages, capped (huge ints cannot even be str()'d)."""
    if value > _NUM_MAX:
        return f"over {_NUM_MAX}"
    if value < -_NUM_MAX:
        return f"under {-_NUM_MAX}"
    return str(value)


_TWICE = {
    "chosen": "Option %(option)s is chosen more than once.",
    "approved": "Option %(option)s is approved more than once.",
    "ranked": "Option %(option)s is ranked more than once.",
}
_PER_OPTION = {
    "dots": "This ballot should give dots per option.",
    "scores": "This ballot should give scores per option.",
}
_WHOLE = {"dots": "Dots must be whole numbers.", "scores": "Scores must be whole numbers."}


def _parse_ids(payload: object, known: frozenset[str], verb: str) -> tuple[str, ...]:
    """A list of distinct, known option ids (shape only, no count limits)."""
    if not isinstance(payload, list | tuple):
        raise InvalidBallotError("This ballot should be a list of options.")
    seen: set[str] = set()
    ids: list[str] = []
    for item in payload:
        if not isinstance(item, str):
            raise InvalidBallotError("This ballot contains something that is not an option.")
        if item not in known:
            raise InvalidBallotError(Reason("Unknown option: %(option)s.", option=_show(item)))
        if item in seen:
            raise InvalidBallotError(Reason(_TWICE[verb], option=_show(item)))
        seen.add(item)
        ids.append(item)
    return tuple(ids)


def _parse_numbers(payload: object, known: frozenset[str], what: str) -> dict[str, int]:
    """A mapping from known option ids to integers (shape only, no limits)."""
    if not isinstance(payload, dict):
        raise InvalidBallotError(Reason(_PER_OPTION[what]))
    numbers: dict[str, int] = {}
    for key, value in payload.items():
        if not isinstance(key, str):
            raise InvalidBallotError("This ballot contains something that is not an option.")
        if key not in known:
            raise InvalidBallotError(Reason("Unknown option: %(option)s.", option=_show(key)))
        if not _is_int(value):
            raise InvalidBallotError(Reason(_WHOLE[what]))
        numbers[key] = value
    return numbers


def _parse_choice(rules: PollRules, known: frozenset[str], payload: object) -> tuple[str, ...]:
    chosen = _parse_ids(payload, known, "chosen")
    if not chosen:
        raise InvalidBallotError("Choose at least one option.")
    if len(chosen) > rules.max_choices:
        raise InvalidBallotError(
            Reason(
                "Too many options chosen: at most %(max)s, this ballot chooses %(n)s.",
                max=rules.max_choices,
                n=len(chosen),
            )
        )
    return chosen


def _parse_approval(known: frozenset[str], payload: object) -> tuple[str, ...]:
    return _parse_ids(payload, known, "approved")


def _parse_dot(rules: PollRules, known: frozenset[str], payload: object) -> dict[str, int]:
    dots = _parse_numbers(payload, known, "dots")
    for option_id, count in dots.items():
        if count < 0:
            raise InvalidBallotError("Dots cannot be negative.")
        if rules.max_per_option is not None and count > rules.max_per_option:
            raise InvalidBallotError(
                Reason(
                    "Too many dots on %(option)s: at most %(max)s per option, it has %(n)s.",
                    max=rules.max_per_option,
                    option=_show(option_id),
                    n=_num(count),
                )
            )
    used = sum(dots.values())
    if used > rules.dots:
        raise InvalidBallotError(
            Reason(
                "Too many dots: you have %(max)s, this ballot uses %(n)s.",
                max=rules.dots,
                n=_num(used),
            )
        )
    return {option_id: count for option_id, count in dots.items() if count}


def _parse_rank(
    rules: PollRules, known: frozenset[str], option_count: int, payload: object
) -> tuple[str, ...]:
    ranking = _parse_ids(payload, known, "ranked")
    if not ranking:  # an untouched ranking is no vote (it would be the script's order)
        raise InvalidBallotError("Rank at least one option.")
    limit = rules.rank_positions(option_count)
    if len(ranking) > limit:
        raise InvalidBallotError(
            Reason(
                "Too many options ranked: at most %(max)s, this ballot ranks %(n)s.",
                max=limit,
                n=len(ranking),
            )
        )
    return ranking


def _parse_score(rules: PollRules, known: frozenset[str], payload: object) -> dict[str, int]:
    scores = _parse_numbers(payload, known, "scores")
    for option_id, score in scores.items():
        if not rules.scale_min <= score <= rules.scale_max:
            raise InvalidBallotError(
                Reason(
                    "Scores go from %(low)s to %(high)s; %(option)s has %(n)s.",
                    low=rules.scale_min,
                    high=rules.scale_max,
                    option=_show(option_id),
                    n=_num(score),
                )
            )
    return scores


ParsedBallot = tuple[str, ...] | dict[str, int]  # a ballot as counted


def _parse(
    rules: PollRules, known: frozenset[str], option_count: int, payload: object
) -> ParsedBallot:
    """Validate and normalise one payload; raises :class:`InvalidBallotError`."""
    if rules.type is PollType.CHOICE:
        return _parse_choice(rules, known, payload)
    if rules.type is PollType.APPROVAL:
        return _parse_approval(known, payload)
    if rules.type is PollType.DOT:
        return _parse_dot(rules, known, payload)
    if rules.type is PollType.RANK:
        return _parse_rank(rules, known, option_count, payload)
    return _parse_score(rules, known, payload)


def validate_ballot(rules: PollRules, option_ids: Sequence[str], payload: object) -> str | None:
    """Return a short reason why ``payload`` is not a valid ballot, or ``None``.

    Never raises for any payload (any JSON value, or anything else).
    """
    known = frozenset(option_ids)
    try:
        _parse(rules, known, len(known), payload)
    except InvalidBallotError as error:
        return error.reason
    return None


def parse_ballot(rules: PollRules, option_ids: Sequence[str], payload: object) -> ParsedBallot:
    """One valid payload as :func:`count_parsed` counts it: parse a ballot once,
    when it is cast, and count it as often as needed. Raises
    :class:`InvalidBallotError` where :func:`validate_ballot` gives a reason."""
    known = frozenset(option_ids)
    return _parse(rules, known, len(known), payload)


# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreStats:
    """Per-option statistics for a score poll.

    ``distribution`` holds ``(scale value, number of voters)`` for every value
    from ``scale_min`` to ``scale_max``. ``mean``/``median`` are ``None`` when
    nobody scored the option.
    """

    count: int
    mean: float | None
    median: float | None
    distribution: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class ResultRow:
    """One option's line in a result.

    ``value`` is the number the ranking is based on (votes, approvals, dots,
    Borda points, or mean score). ``rank`` is 1-based competition ranking;
    ``tied`` is true when another option has the same rank and they got votes
    (options nobody voted for share the last place without being "tied").
    Whether a tie decides anything is :func:`deciding_ties`' question.

    ``positions`` (rank polls only): ``positions[i]`` is how many ballots put
    the option at position ``i + 1``; position ``i`` is worth ``k - i`` points
    where ``k == len(positions)``. ``score`` is set for score polls only.
    """

    option_id: str
    label: str
    value: int | float
    rank: int
    tied: bool
    positions: tuple[int, ...] = ()
    score: ScoreStats | None = None

    @property
    def voted(self) -> bool:
        """Did any ballot give this option something: a vote, an approval, a
        dot, a ranked place or a score?"""
        if self.score is not None:
            return self.score.count > 0
        return self.value != 0


@dataclass(frozen=True)
class PollResult:
    """The counted result: ``rows`` best first, equal values in poll order."""

    poll_type: PollType
    ballots: int
    rows: tuple[ResultRow, ...] = field(default=())

    def tiers(self) -> tuple[tuple[str, ...], ...]:
        """Option ids grouped by shared rank, best tier first."""
        return tuple(tuple(row.option_id for row in tier) for tier in self.row_tiers())

    def row_tiers(self) -> tuple[tuple[ResultRow, ...], ...]:
        """Rows grouped by shared rank, best tier first."""
        groups: list[list[ResultRow]] = []
        last_rank: int | None = None
        for row in self.rows:
            if row.rank != last_rank:
                groups.append([])
                last_rank = row.rank
            groups[-1].append(row)
        return tuple(tuple(group) for group in groups)

    def winners(self) -> tuple[str, ...]:
        """The option ids sharing first place (empty when there are no options)."""
        tiers = self.tiers()
        return tiers[0] if tiers else ()

    def row(self, option_id: str) -> ResultRow:
        """The row for ``option_id``; raises ``KeyError`` if there is none."""
        for row in self.rows:
            if row.option_id == option_id:
                return row
        raise KeyError(option_id)


@dataclass(frozen=True)
class Cutoff:
    """Where a "top N" selection falls in a result.

    ``selected``: options clearly within the top N. ``runoff``: a tied group
    of options with votes straddling the cut, from which ``runoff_places`` more
    must be picked (by a runoff or a facilitated decision). ``runoff`` is empty
    when the cut is clean. ``unfilled``: places of the top N that only options
    nobody voted for could take: the vote did not fill them, and a runoff among
    everything that got nothing is not offered (a facilitator decides those,
    or asks again).
    ``len(selected) + runoff_places + unfilled == min(N, number of options)``.
    """

    selected: tuple[str, ...]
    runoff: tuple[str, ...]
    runoff_places: int
    unfilled: int = 0


def _check_top(among_top: int) -> int:
    if not _is_int(among_top) or among_top < 1:
        raise ValueError("among_top must be a positive integer")
    return among_top


def cutoff(result: PollResult, among_top: int) -> Cutoff:
    """Split ``result`` for choosing ``among_top`` options, exposing ties at the cut."""
    _check_top(among_top)
    selected: list[str] = []
    for tier in result.row_tiers():
        places_left = among_top - len(selected)
        if places_left <= 0:
            break
        ids = tuple(row.option_id for row in tier)
        if len(tier) <= places_left:
            selected.extend(ids)
        elif not tier[0].voted:  # a tier shares one value: nobody voted for any of them
            return Cutoff(tuple(selected), (), 0, places_left)
        else:
            return Cutoff(tuple(selected), ids, places_left)
    return Cutoff(tuple(selected), (), 0)


def runoff_options(result: PollResult, among_top: int) -> tuple[str, ...]:
    """Tied options (with votes) competing for the last of ``among_top`` places
    (empty if none)."""
    return cutoff(result, among_top).runoff


@dataclass(frozen=True)
class Tie:
    """Options with votes that share a place where the place decides something.

    ``option_ids`` share ``rank``. ``first``: they share first place (who won).
    ``places``: when the group straddles the cut-off of the top N, how many of
    them get in; ``None`` when the cut does not fall inside it.
    """

    option_ids: tuple[str, ...]
    rank: int
    first: bool
    places: int | None = None


def deciding_ties(result: PollResult, among_top: int | None = None) -> tuple[Tie, ...]:
    """The ties that change the outcome, best first: a shared first place, and
    a group straddling the cut-off of the top ``among_top`` (if the poll picks a
    top N). Ties elsewhere (third place of five, say) and options nobody voted
    for are not in it: they share a place, but a runoff among them decides
    nothing."""
    cut = cutoff(result, _check_top(among_top)) if among_top is not None else None
    ties: list[Tie] = []
    for tier in result.row_tiers():
        if len(tier) < 2 or not tier[0].voted:
            continue
        ids = tuple(row.option_id for row in tier)
        first = tier[0].rank == 1
        at_cut = cut is not None and cut.runoff == ids
        if first or at_cut:
            places = cut.runoff_places if cut is not None and at_cut else None
            ties.append(Tie(ids, tier[0].rank, first, places))
    return tuple(ties)


# --------------------------------------------------------------------------
# Counting
# --------------------------------------------------------------------------


def _rank_rows(
    options: Sequence[tuple[str, str]],
    keys: dict[str, tuple[int, Fraction]],
    values: dict[str, int | float],
    positions: dict[str, tuple[int, ...]],
    scores: dict[str, ScoreStats],
    voted: frozenset[str],
) -> tuple[ResultRow, ...]:
    """Order options by key (desc, stable in poll order) with competition ranks."""
    order = sorted(range(len(options)), key=lambda i: keys[options[i][0]], reverse=True)
    # sorted() with reverse=True keeps equal keys in their original order.
    ranked: list[tuple[int, int]] = []  # (option index, rank)
    for place, index in enumerate(order):
        if place and keys[options[index][0]] == keys[options[order[place - 1]][0]]:
            rank = ranked[-1][1]
        else:
            rank = place + 1
        ranked.append((index, rank))
    rank_sizes: dict[int, int] = {}
    for _, rank in ranked:
        rank_sizes[rank] = rank_sizes.get(rank, 0) + 1
    rows: list[ResultRow] = []
    for index, rank in ranked:
        option_id, label = options[index]
        rows.append(
            ResultRow(
                option_id=option_id,
                label=label,
                value=values[option_id],
                rank=rank,
                tied=rank_sizes[rank] > 1 and option_id in voted,
                positions=positions.get(option_id, ()),
                score=scores.get(option_id),
            )
        )
    return tuple(rows)


def tally(
    rules: PollRules,
    options: Sequence[tuple[str, str]],
    ballots: Iterable[object],
) -> PollResult:
    """Count ``ballots`` for a poll with ``options`` as ``(id, label)`` pairs.

    Raises :class:`InvalidBallotError` (a ``ValueError``) for any payload that
    :func:`validate_ballot` would reject, and ``ValueError`` for duplicate
    option ids.
    """
    option_ids = [option_id for option_id, _ in options]
    known = frozenset(option_ids)
    if len(known) != len(option_ids):
        raise ValueError("Option ids must be unique.")
    parsed: list[ParsedBallot] = []
    for index, payload in enumerate(ballots):
        try:
            parsed.append(_parse(rules, known, len(option_ids), payload))
        except InvalidBallotError as error:
            raise InvalidBallotError(error.reason, index) from None
    return count_parsed(rules, options, parsed)


def count_parsed(
    rules: PollRules,
    options: Sequence[tuple[str, str]],
    ballots: Sequence[ParsedBallot],
) -> PollResult:
    """Count ballots that :func:`parse_ballot` made for these rules and options."""
    option_ids = [option_id for option_id, _ in options]
    n = len(option_ids)
    k = rules.rank_positions(n)

    totals: dict[str, int] = dict.fromkeys(option_ids, 0)
    position_counts: dict[str, list[int]] = {option_id: [0] * k for option_id in option_ids}
    score_lists: dict[str, list[int]] = {option_id: [] for option_id in option_ids}

    for parsed in ballots:
        if isinstance(parsed, tuple):
            for position, option_id in enumerate(parsed):
                if rules.type is PollType.RANK:
                    totals[option_id] += k - position
                    position_counts[option_id][position] += 1
                else:
                    totals[option_id] += 1
        elif rules.type is PollType.SCORE:
            for option_id, score in parsed.items():
                score_lists[option_id].append(score)
        else:
            for option_id, dots in parsed.items():
                totals[option_id] += dots

    keys: dict[str, tuple[int, Fraction]] = {}
    values: dict[str, int | float] = {}
    positions: dict[str, tuple[int, ...]] = {}
    scores: dict[str, ScoreStats] = {}
    for option_id in option_ids:
        if rules.type is PollType.SCORE:
            given = score_lists[option_id]
            histogram = Counter(given)
            distribution = tuple(
                (value, histogram[value]) for value in range(rules.scale_min, rules.scale_max + 1)
            )
            if given:
                mean = Fraction(sum(given), len(given))
                stats = ScoreStats(
                    count=len(given),
                    mean=float(mean),
                    median=float(statistics.median(given)),
                    distribution=distribution,
                )
                # Exact mean as the key, so equal means always tie; options
                # nobody scored sort after every scored option.
                keys[option_id] = (1, mean)
                values[option_id] = float(mean)
            else:
                stats = ScoreStats(count=0, mean=None, median=None, distribution=distribution)
                keys[option_id] = (0, Fraction(0))
                values[option_id] = 0.0
            scores[option_id] = stats
        else:
            keys[option_id] = (1, Fraction(totals[option_id]))
            values[option_id] = totals[option_id]
            if rules.type is PollType.RANK:
                positions[option_id] = tuple(position_counts[option_id])

    voted = frozenset(
        option_id
        for option_id in option_ids
        if (scores[option_id].count if rules.type is PollType.SCORE else totals[option_id])
    )
    return PollResult(
        poll_type=rules.type,
        ballots=len(ballots),
        rows=_rank_rows(options, keys, values, positions, scores, voted),
    )

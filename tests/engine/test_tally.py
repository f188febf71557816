"""Tests for server.engine.tally: hand-computed examples, validation and properties."""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.engine.tally import (
    Cutoff,
    InvalidBallotError,
    PollResult,
    PollRules,
    PollType,
    Tie,
    count_parsed,
    cutoff,
    deciding_ties,
    parse_ballot,
    runoff_options,
    tally,
    validate_ballot,
)

ABCD = [("a", "Alpha"), ("b", "Beta"), ("c", "Gamma"), ("d", "Delta")]
ABC = ABCD[:3]


def ids(options: list[tuple[str, str]]) -> list[str]:
    return [option_id for option_id, _ in options]


def summary(result: PollResult) -> list[tuple[str, int | float, int, bool]]:
    return [(row.option_id, row.value, row.rank, row.tied) for row in result.rows]


# --------------------------------------------------------------------------
# Hand-computed examples, one poll type at a time
# --------------------------------------------------------------------------


class TestChoice:
    def test_counts_and_shared_ranks(self) -> None:
        rules = PollRules(PollType.CHOICE, max_choices=2)
        result = tally(rules, ABCD, [["a", "b"], ["a"], ["b"], ["c"], ["a", "c"]])
        assert result.ballots == 5
        assert result.poll_type is PollType.CHOICE
        assert summary(result) == [
            ("a", 3, 1, False),
            ("b", 2, 2, True),
            ("c", 2, 2, True),
            ("d", 0, 4, False),
        ]
        assert result.tiers() == (("a",), ("b", "c"), ("d",))
        assert result.winners() == ("a",)
        assert result.row("b").label == "Beta"

    def test_tie_order_follows_poll_order(self) -> None:
        rules = PollRules(PollType.CHOICE)
        options = [("c", "Gamma"), ("b", "Beta"), ("a", "Alpha")]
        result = tally(rules, options, [["a"], ["b"], ["c"], ["a"], ["b"]])
        assert summary(result) == [
            ("b", 2, 1, True),
            ("a", 2, 1, True),
            ("c", 1, 3, False),
        ]
        assert result.winners() == ("b", "a")

    def test_row_lookup_unknown(self) -> None:
        result = tally(PollRules(PollType.CHOICE), ABC, [])
        with pytest.raises(KeyError):
            result.row("zzz")


class TestApproval:
    def test_counts_including_empty_ballot(self) -> None:
        rules = PollRules(PollType.APPROVAL)
        result = tally(rules, ABCD, [["a", "b", "c"], [], ["b"], ["c", "b"]])
        assert result.ballots == 4
        assert summary(result) == [
            ("b", 3, 1, False),
            ("c", 2, 2, False),
            ("a", 1, 3, False),
            ("d", 0, 4, False),
        ]


class TestDot:
    def test_totals(self) -> None:
        rules = PollRules(PollType.DOT, dots=5, max_per_option=3)
        ballots = [{"a": 3, "b": 2}, {"b": 3, "c": 0}, {"c": 1, "a": 1}, {}]
        result = tally(rules, ABCD, ballots)
        assert result.ballots == 4
        assert summary(result) == [
            ("b", 5, 1, False),
            ("a", 4, 2, False),
            ("c", 1, 3, False),
            ("d", 0, 4, False),
        ]

    def test_tie(self) -> None:
        rules = PollRules(PollType.DOT, dots=3)
        result = tally(rules, ABC, [{"a": 3}, {"b": 2, "c": 1}, {"b": 1, "c": 2}])
        assert result.tiers() == (("a", "b", "c"),)
        assert all(row.value == 3 and row.rank == 1 and row.tied for row in result.rows)


class TestRank:
    def test_full_ranking_borda_and_positions(self) -> None:
        rules = PollRules(PollType.RANK)
        ballots = [["a", "b", "c"], ["a", "c", "b"], ["b", "a", "c"]]
        result = tally(rules, ABC, ballots)
        # n = 3: positions earn 3, 2, 1.
        # a: 3 + 3 + 2 = 8, b: 2 + 1 + 3 = 6, c: 1 + 2 + 1 = 4
        assert summary(result) == [
            ("a", 8, 1, False),
            ("b", 6, 2, False),
            ("c", 4, 3, False),
        ]
        assert result.row("a").positions == (2, 1, 0)
        assert result.row("b").positions == (1, 1, 1)
        assert result.row("c").positions == (0, 1, 2)

    def test_cycle_is_a_three_way_tie(self) -> None:
        rules = PollRules(PollType.RANK)
        ballots = [["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"]]
        result = tally(rules, ABC, ballots)
        assert summary(result) == [("a", 6, 1, True), ("b", 6, 1, True), ("c", 6, 1, True)]
        assert all(row.positions == (1, 1, 1) for row in result.rows)
        assert result.winners() == ("a", "b", "c")

    def test_top_k(self) -> None:
        options = [*ABCD, ("e", "Epsilon")]
        rules = PollRules(PollType.RANK, top_k=2)
        ballots = [["a", "b"], ["b"], ["c", "a"], ["b", "a"]]
        result = tally(rules, options, ballots)
        # k = 2: first place 2 points, second place 1 point, unranked 0.
        # a: 2 + 0 + 1 + 1 = 4, b: 1 + 2 + 0 + 2 = 5, c: 2
        # d and e share the last place, but nobody voted for them: not "tied".
        assert summary(result) == [
            ("b", 5, 1, False),
            ("a", 4, 2, False),
            ("c", 2, 3, False),
            ("d", 0, 4, False),
            ("e", 0, 4, False),
        ]
        assert result.row("a").positions == (1, 2)
        assert result.row("b").positions == (2, 1)
        assert result.row("c").positions == (1, 0)
        assert result.row("e").positions == (0, 0)

    def test_a_partial_ranking_is_a_ballot_and_only_what_it_ranks_gets_points(self) -> None:
        rules = PollRules(PollType.RANK)  # no top_k: k = 4, yet a ballot may rank fewer
        ballots = [["c"], ["a", "c"], ["d", "b", "a"]]
        result = tally(rules, ABCD, ballots)
        # c: 4 + 3 = 7, a: 4 + 2 = 6, d: 4, b: 3
        assert summary(result) == [
            ("c", 7, 1, False),
            ("a", 6, 2, False),
            ("d", 4, 3, False),
            ("b", 3, 4, False),
        ]
        assert result.row("c").positions == (1, 1, 0, 0)
        assert result.row("b").positions == (0, 1, 0, 0)
        assert result.ballots == 3
        # One ballot ranking one option: the others get nothing from it.
        single = tally(rules, ABCD, [["b"]])
        assert {row.option_id: row.value for row in single.rows} == {"b": 4, "a": 0, "c": 0, "d": 0}

    def test_the_script_order_is_not_a_ballot(self) -> None:
        # The phone's ranking starts empty; sent untouched it is refused, not
        # counted as "the options in the script's order".
        for rules in (PollRules(PollType.RANK), PollRules(PollType.RANK, top_k=2)):
            assert validate_ballot(rules, ids(ABCD), []) == "Rank at least one option."
            with pytest.raises(InvalidBallotError):
                tally(rules, ABCD, [["a", "b"], []])

    def test_top_k_larger_than_option_count_uses_option_count(self) -> None:
        rules = PollRules(PollType.RANK, top_k=5)
        result = tally(rules, [("a", "A"), ("b", "B")], [["b", "a"], ["b"]])
        assert summary(result) == [("b", 4, 1, False), ("a", 1, 2, False)]
        assert result.row("a").positions == (0, 1)


class TestScore:
    def test_stats_with_even_count_median(self) -> None:
        rules = PollRules(PollType.SCORE, scale_min=1, scale_max=5)
        ballots = [{"a": 5, "b": 3}, {"a": 4, "b": 3}, {"a": 1}, {"a": 3, "b": 5}]
        result = tally(rules, ABC, ballots)
        assert result.ballots == 4
        # b: [3, 3, 5] mean 11/3; a: [5, 4, 1, 3] mean 13/4, median (3 + 4) / 2
        assert [row.option_id for row in result.rows] == ["b", "a", "c"]
        a, b, c = result.row("a"), result.row("b"), result.row("c")
        assert b.value == pytest.approx(11 / 3)
        assert b.rank == 1
        assert b.score is not None
        assert b.score.count == 3
        assert b.score.median == 3
        assert b.score.distribution == ((1, 0), (2, 0), (3, 2), (4, 0), (5, 1))
        assert a.value == 3.25
        assert a.rank == 2
        assert a.score is not None
        assert a.score.count == 4
        assert a.score.mean == 3.25
        assert a.score.median == 3.5
        assert a.score.distribution == ((1, 1), (2, 0), (3, 1), (4, 1), (5, 1))
        assert c.value == 0
        assert c.rank == 3
        assert c.score is not None
        assert c.score.count == 0
        assert c.score.mean is None
        assert c.score.median is None
        assert c.score.distribution == ((1, 0), (2, 0), (3, 0), (4, 0), (5, 0))

    def test_equal_means_tie_regardless_of_count(self) -> None:
        rules = PollRules(PollType.SCORE)
        result = tally(rules, ABC, [{"a": 4, "b": 3}, {"b": 5}, {"c": 1}])
        assert summary(result) == [
            ("a", 4.0, 1, True),
            ("b", 4.0, 1, True),
            ("c", 1.0, 3, False),
        ]

    def test_exact_mean_comparison(self) -> None:
        # 1/3 + ... float sums could drift; means are compared exactly.
        rules = PollRules(PollType.SCORE, scale_min=0, scale_max=10)
        ballots = [{"a": 1, "b": 2}, {"a": 1, "b": 2}, {"a": 2, "b": 0}]
        ballots += [{"b": 0}, {"b": 1}, {"b": 3}]
        # a: 4/3, b: 8/6 = 4/3
        result = tally(rules, [("a", "A"), ("b", "B")], ballots)
        assert result.tiers() == (("a", "b"),)

    def test_unscored_options_come_after_negative_means(self) -> None:
        rules = PollRules(PollType.SCORE, scale_min=-2, scale_max=2)
        result = tally(rules, [("a", "A"), ("b", "B")], [{"a": -1}])
        assert summary(result) == [("a", -1.0, 1, False), ("b", 0.0, 2, False)]


@pytest.mark.parametrize(
    "rules",
    [
        PollRules(PollType.CHOICE),
        PollRules(PollType.APPROVAL),
        PollRules(PollType.DOT),
        PollRules(PollType.RANK),
        PollRules(PollType.RANK, top_k=2),
        PollRules(PollType.SCORE),
    ],
    ids=lambda rules: f"{rules.type}-{rules.top_k}",
)
def test_zero_ballots_share_first_place_but_are_not_tied(rules: PollRules) -> None:
    result = tally(rules, ABCD, [])
    assert result.ballots == 0
    assert [row.option_id for row in result.rows] == ["a", "b", "c", "d"]
    assert all(row.value == 0 and row.rank == 1 for row in result.rows)
    assert not any(row.tied or row.voted for row in result.rows)  # nobody voted: no tie
    assert result.tiers() == (("a", "b", "c", "d"),)
    assert result.winners() == ("a", "b", "c", "d")
    assert deciding_ties(result) == deciding_ties(result, 2) == ()
    assert runoff_options(result, 2) == ()


def test_no_options() -> None:
    result = tally(PollRules(PollType.APPROVAL), [], [[], []])
    assert result.ballots == 2
    assert result.rows == ()
    assert result.tiers() == ()
    assert result.winners() == ()


def test_single_option_is_not_tied() -> None:
    result = tally(PollRules(PollType.CHOICE), [("a", "A")], [])
    assert summary(result) == [("a", 0, 1, False)]


def test_result_is_frozen_and_hashable() -> None:
    result = tally(PollRules(PollType.SCORE), ABC, [{"a": 3}])
    assert hash(result) == hash(tally(PollRules(PollType.SCORE), ABC, [{"a": 3}]))
    with pytest.raises(AttributeError):
        result.ballots = 3  # type: ignore[misc]


# --------------------------------------------------------------------------
# Cut-offs and runoffs
# --------------------------------------------------------------------------


class TestCutoff:
    # a: 3, b: 2, c: 2, d: 0  ->  tiers (a), (b, c), (d)
    result = tally(
        PollRules(PollType.CHOICE, max_choices=2),
        ABCD,
        [["a", "b"], ["a"], ["b"], ["c"], ["a", "c"]],
    )

    @pytest.mark.parametrize(
        ("among_top", "expected"),
        [
            (1, Cutoff(("a",), (), 0)),
            (2, Cutoff(("a",), ("b", "c"), 1)),
            (3, Cutoff(("a", "b", "c"), (), 0)),
            (4, Cutoff(("a", "b", "c", "d"), (), 0)),
            (10, Cutoff(("a", "b", "c", "d"), (), 0)),
        ],
    )
    def test_cutoff(self, among_top: int, expected: Cutoff) -> None:
        assert cutoff(self.result, among_top) == expected
        assert runoff_options(self.result, among_top) == expected.runoff

    def test_tie_at_the_top(self) -> None:
        result = tally(PollRules(PollType.CHOICE), ABC, [["b"], ["c"]])
        assert runoff_options(result, 1) == ("b", "c")
        assert cutoff(result, 1) == Cutoff((), ("b", "c"), 1)

    def test_no_votes_fill_no_places_and_offer_no_runoff(self) -> None:
        result = tally(PollRules(PollType.DOT), ABCD, [])
        assert cutoff(result, 2) == Cutoff((), (), 0, unfilled=2)
        assert runoff_options(result, 2) == ()

    def test_a_cut_among_options_nobody_voted_for_is_unfilled_not_a_tie(self) -> None:
        # Top 3, but only two options got votes: the third place is not
        # decided by this vote, and a runoff among everything with nothing is
        # not offered.
        options = [*ABCD, ("e", "Epsilon"), ("f", "Zeta")]
        result = tally(PollRules(PollType.CHOICE), options, [["b"], ["b"], ["e"]])
        assert cutoff(result, 3) == Cutoff(("b", "e"), (), 0, unfilled=1)
        assert runoff_options(result, 3) == ()
        assert deciding_ties(result, 3) == ()
        assert not any(row.tied for row in result.rows)

    @pytest.mark.parametrize("among_top", [0, -1, True])
    def test_bad_among_top(self, among_top: int) -> None:
        with pytest.raises(ValueError):
            cutoff(self.result, among_top)
        with pytest.raises(ValueError):
            deciding_ties(self.result, among_top)


class TestDecidingTies:
    """A tie is flagged, and a runoff offered, only where it changes the outcome."""

    EIGHT = [(f"o{i}", f"Option {i}") for i in range(1, 9)]

    def test_six_options_without_votes_are_not_a_tie(self) -> None:
        # The trial: two options got votes, six got none and were all "tied".
        result = tally(PollRules(PollType.CHOICE), self.EIGHT, [["o1"], ["o1"], ["o2"]])
        assert [row.rank for row in result.rows] == [1, 2, 3, 3, 3, 3, 3, 3]
        assert not any(row.tied for row in result.rows)
        assert deciding_ties(result) == ()
        assert [row.option_id for row in result.rows if not row.voted] == [
            f"o{i}" for i in range(3, 9)
        ]

    def test_a_first_place_tie_is_flagged(self) -> None:
        result = tally(
            PollRules(PollType.CHOICE), self.EIGHT, [["o3"], ["o5"], ["o1"], ["o5"], ["o3"]]
        )
        assert deciding_ties(result) == (Tie(("o3", "o5"), 1, first=True),)
        assert result.row("o3").tied and result.row("o5").tied

    def test_a_tie_below_first_place_decides_nothing_without_a_top_n(self) -> None:
        ballots = [{"a": 3}, {"b": 2}, {"c": 2}]
        result = tally(PollRules(PollType.DOT, dots=3), ABCD, ballots)
        assert result.tiers() == (("a",), ("b", "c"), ("d",))
        assert result.row("b").tied  # they do share second place ...
        assert deciding_ties(result) == ()  # ... but it changes no outcome
        assert deciding_ties(result, 3) == ()  # both are in the top 3 anyway

    def test_a_tie_at_the_cut_off_of_the_top_n_is_flagged(self) -> None:
        # a 3, b 2, c 2, d 0: the top 2 has a, and one of b and c.
        result = TestCutoff.result
        assert deciding_ties(result, 2) == (Tie(("b", "c"), 2, first=False, places=1),)
        assert deciding_ties(result, 1) == ()
        assert deciding_ties(result) == ()

    def test_a_cut_off_inside_a_tied_group_below_or_at_first_place(self) -> None:
        result = tally(PollRules(PollType.CHOICE), ABCD, [["a"], ["b"], ["c"], ["d"], ["d"]])
        # d 2, then a, b, c with 1 each sharing second place; the top 2 cuts among them.
        assert deciding_ties(result, 2) == (Tie(("a", "b", "c"), 2, first=False, places=1),)
        tied_first = tally(PollRules(PollType.CHOICE), ABC, [["a"], ["b"], ["c"]])
        assert deciding_ties(tied_first, 2) == (Tie(("a", "b", "c"), 1, first=True, places=2),)

    def test_a_ranking_of_the_top_k_picks_its_top_k(self) -> None:
        assert PollRules(PollType.RANK, top_k=2).top_n(5) == 2
        assert PollRules(PollType.RANK, top_k=5).top_n(5) is None  # everything is "top"
        assert PollRules(PollType.RANK).top_n(5) is None
        assert PollRules(PollType.CHOICE, max_choices=2).top_n(5) is None


# --------------------------------------------------------------------------
# Rules and tally errors
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"type": "nonsense"},
        {"type": PollType.CHOICE, "max_choices": 0},
        {"type": PollType.CHOICE, "max_choices": True},
        {"type": PollType.DOT, "dots": 0},
        {"type": PollType.DOT, "dots": 2.5},
        {"type": PollType.DOT, "max_per_option": 0},
        {"type": PollType.RANK, "top_k": 0},
        {"type": PollType.RANK, "top_k": "3"},
        {"type": PollType.SCORE, "scale_min": 5, "scale_max": 1},
    ],
)
def test_bad_rules_rejected(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        PollRules(**kwargs)


def test_rules_accept_type_as_string() -> None:
    assert PollRules("dot").type is PollType.DOT  # type: ignore[arg-type]


def test_tally_raises_on_invalid_ballot_with_index() -> None:
    rules = PollRules(PollType.DOT, dots=5)
    with pytest.raises(InvalidBallotError) as info:
        tally(rules, ABC, [{"a": 1}, {"a": 6}])
    assert isinstance(info.value, ValueError)
    assert info.value.index == 1
    assert info.value.reason == "Too many dots: you have 5, this ballot uses 6."
    assert "Ballot 1" in str(info.value)


def test_tally_rejects_duplicate_option_ids() -> None:
    with pytest.raises(ValueError, match="unique"):
        tally(PollRules(PollType.CHOICE), [("a", "A"), ("a", "Again")], [])


# --------------------------------------------------------------------------
# validate_ballot
# --------------------------------------------------------------------------

CHOICE2 = PollRules(PollType.CHOICE, max_choices=2)
APPROVAL = PollRules(PollType.APPROVAL)
DOT = PollRules(PollType.DOT, dots=5, max_per_option=3)
RANK = PollRules(PollType.RANK)
RANK_TOP2 = PollRules(PollType.RANK, top_k=2)
SCORE = PollRules(PollType.SCORE, scale_min=1, scale_max=5)
HUGE = 10**5000  # str() of this raises ValueError in CPython >= 3.11


@pytest.mark.parametrize(
    ("rules", "payload", "reason"),
    [
        # choice
        (CHOICE2, ["a"], None),
        (CHOICE2, ["a", "b"], None),
        (CHOICE2, [], "Choose at least one option."),
        (CHOICE2, ["a", "b", "c"], "Too many options chosen: at most 2, this ballot chooses 3."),
        (
            PollRules(PollType.CHOICE),
            ["a", "b"],
            "Too many options chosen: at most 1, this ballot chooses 2.",
        ),
        (CHOICE2, ["a", "a"], "Option 'a' is chosen more than once."),
        (CHOICE2, ["x"], "Unknown option: 'x'."),
        (CHOICE2, "a", "This ballot should be a list of options."),
        (CHOICE2, {"a": 1}, "This ballot should be a list of options."),
        (CHOICE2, None, "This ballot should be a list of options."),
        (CHOICE2, [1], "This ballot contains something that is not an option."),
        (CHOICE2, [True], "This ballot contains something that is not an option."),
        (CHOICE2, [["a"]], "This ballot contains something that is not an option."),
        (CHOICE2, [None], "This ballot contains something that is not an option."),
        # approval
        (APPROVAL, [], None),
        (APPROVAL, ["a", "b", "c", "d"], None),
        (APPROVAL, ["b", "b"], "Option 'b' is approved more than once."),
        (APPROVAL, ["a", "zz"], "Unknown option: 'zz'."),
        (APPROVAL, 3, "This ballot should be a list of options."),
        # dot
        (DOT, {}, None),
        (DOT, {"a": 3, "b": 2}, None),
        (DOT, {"a": 0, "b": 0}, None),
        (DOT, {"a": 3, "b": 3}, "Too many dots: you have 5, this ballot uses 6."),
        (DOT, {"a": 4}, "Too many dots on 'a': at most 3 per option, it has 4."),
        (DOT, {"a": -1, "b": 3}, "Dots cannot be negative."),
        (DOT, {"a": 1.0}, "Dots must be whole numbers."),
        (DOT, {"a": 1.5}, "Dots must be whole numbers."),
        (DOT, {"a": True}, "Dots must be whole numbers."),
        (DOT, {"a": "2"}, "Dots must be whole numbers."),
        (DOT, {"a": None}, "Dots must be whole numbers."),
        (DOT, {"a": float("nan")}, "Dots must be whole numbers."),
        (DOT, {"a": float("inf")}, "Dots must be whole numbers."),
        (DOT, {"q": 1}, "Unknown option: 'q'."),
        (DOT, {1: 1}, "This ballot contains something that is not an option."),
        (DOT, {None: 1}, "This ballot contains something that is not an option."),
        (DOT, ["a"], "This ballot should give dots per option."),
        (DOT, {"a": HUGE}, "Too many dots on 'a': at most 3 per option, it has over 999999999."),
        (
            PollRules(PollType.DOT, dots=5),
            {"a": HUGE},
            "Too many dots: you have 5, this ballot uses over 999999999.",
        ),
        (PollRules(PollType.DOT, dots=1), {"a": 1}, None),
        # rank
        (RANK, ["c", "a", "b", "d"], None),
        (RANK, ["a", "b", "c"], None),  # a partial ranking is a ballot
        (RANK, ["d"], None),
        (RANK, [], "Rank at least one option."),
        (RANK, ["a", "b", "c", "c"], "Option 'c' is ranked more than once."),
        (RANK, ["a", "b", "c", "d", "e"], "Unknown option: 'e'."),
        (RANK, {"a": 1}, "This ballot should be a list of options."),
        (RANK_TOP2, ["b"], None),
        (RANK_TOP2, ["b", "a"], None),
        (RANK_TOP2, [], "Rank at least one option."),
        (RANK_TOP2, ["a", "b", "c"], "Too many options ranked: at most 2, this ballot ranks 3."),
        # score
        (SCORE, {}, None),
        (SCORE, {"a": 1, "b": 5}, None),
        (SCORE, {"a": 0}, "Scores go from 1 to 5; 'a' has 0."),
        (SCORE, {"a": 6}, "Scores go from 1 to 5; 'a' has 6."),
        (SCORE, {"a": -HUGE}, "Scores go from 1 to 5; 'a' has under -999999999."),
        (SCORE, {"a": 4.0}, "Scores must be whole numbers."),
        (SCORE, {"a": False}, "Scores must be whole numbers."),
        (SCORE, [["a", 3]], "This ballot should give scores per option."),
        (SCORE, "{}", "This ballot should give scores per option."),
    ],
)
def test_validate_ballot(rules: PollRules, payload: object, reason: str | None) -> None:
    assert validate_ballot(rules, ["a", "b", "c", "d"], payload) == reason


def test_long_option_ids_are_shortened_in_reasons() -> None:
    reason = validate_ballot(APPROVAL, ["a"], ["x" * 10_000])
    assert reason is not None
    assert len(reason) < 80
    assert reason.startswith("Unknown option: 'xxx")


# --------------------------------------------------------------------------
# Property tests
# --------------------------------------------------------------------------

option_lists = st.lists(st.text(min_size=1, max_size=4), min_size=1, max_size=6, unique=True).map(
    lambda xs: [(x, f"Label {x}") for x in xs]
)


@st.composite
def choice_polls(draw: st.DrawFn) -> tuple[PollRules, list[tuple[str, str]], list[object]]:
    options = draw(option_lists)
    rules = PollRules(PollType.CHOICE, max_choices=draw(st.integers(1, len(options) + 1)))
    ballot = st.lists(
        st.sampled_from(ids(options)),
        min_size=1,
        max_size=min(rules.max_choices, len(options)),
        unique=True,
    )
    return rules, options, draw(st.lists(ballot, max_size=20))


@st.composite
def approval_polls(draw: st.DrawFn) -> tuple[PollRules, list[tuple[str, str]], list[object]]:
    options = draw(option_lists)
    ballot = st.lists(st.sampled_from(ids(options)), unique=True)
    return PollRules(PollType.APPROVAL), options, draw(st.lists(ballot, max_size=20))


@st.composite
def dot_ballots(draw: st.DrawFn, rules: PollRules, option_ids: list[str]) -> dict[str, int]:
    remaining = rules.dots
    ballot: dict[str, int] = {}
    for option_id in draw(st.permutations(option_ids)):
        cap = remaining if rules.max_per_option is None else min(remaining, rules.max_per_option)
        if draw(st.booleans()):
            dots = draw(st.integers(0, cap))
            ballot[option_id] = dots
            remaining -= dots
    return ballot


@st.composite
def dot_polls(draw: st.DrawFn) -> tuple[PollRules, list[tuple[str, str]], list[object]]:
    options = draw(option_lists)
    rules = PollRules(
        PollType.DOT,
        dots=draw(st.integers(1, 10)),
        max_per_option=draw(st.none() | st.integers(1, 10)),
    )
    ballots = draw(st.lists(dot_ballots(rules, ids(options)), max_size=20))
    return rules, options, list(ballots)


@st.composite
def rank_polls(draw: st.DrawFn) -> tuple[PollRules, list[tuple[str, str]], list[object]]:
    options = draw(option_lists)
    n = len(options)
    top_k = draw(st.none() | st.integers(1, n + 2))
    rules = PollRules(PollType.RANK, top_k=top_k)
    k = rules.rank_positions(n)
    # Full and partial rankings alike: 1..k of the options, best first.
    ballot = st.tuples(st.permutations(ids(options)), st.integers(1, k)).map(lambda t: t[0][: t[1]])
    return rules, options, [list(b) for b in draw(st.lists(ballot, max_size=20))]


@st.composite
def score_polls(draw: st.DrawFn) -> tuple[PollRules, list[tuple[str, str]], list[object]]:
    options = draw(option_lists)
    low = draw(st.integers(-3, 3))
    rules = PollRules(PollType.SCORE, scale_min=low, scale_max=low + draw(st.integers(0, 6)))
    ballot = st.dictionaries(
        st.sampled_from(ids(options)), st.integers(rules.scale_min, rules.scale_max)
    )
    return rules, options, list(draw(st.lists(ballot, max_size=25)))


any_polls = st.one_of(choice_polls(), approval_polls(), dot_polls(), rank_polls(), score_polls())


@given(rank_polls())
def test_borda_totals_equal_independent_sum(
    poll: tuple[PollRules, list[tuple[str, str]], list[Any]],
) -> None:
    rules, options, ballots = poll
    n = len(options)
    k = n if rules.top_k is None else min(rules.top_k, n)
    expected = dict.fromkeys(ids(options), 0)
    for ballot in ballots:
        for place, option_id in enumerate(ballot, start=1):
            expected[option_id] += k + 1 - place
    result = tally(rules, options, ballots)
    assert {row.option_id: row.value for row in result.rows} == expected
    for row in result.rows:
        assert len(row.positions) == k
        assert sum(count * (k - i) for i, count in enumerate(row.positions)) == row.value
        assert row.positions == tuple(
            sum(1 for ballot in ballots if len(ballot) > i and ballot[i] == row.option_id)
            for i in range(k)
        )
    assert sum(row.value for row in result.rows) == sum(
        sum(range(k, k - len(ballot), -1)) for ballot in ballots
    )


@given(rank_polls())
def test_a_partial_ranking_never_gives_points_to_an_unranked_option(
    poll: tuple[PollRules, list[tuple[str, str]], list[Any]],
) -> None:
    rules, options, ballots = poll
    k = rules.rank_positions(len(options))
    for ballot in ballots:
        assert validate_ballot(rules, ids(options), ballot) is None
        alone = tally(rules, options, [ballot])
        for row in alone.rows:
            if row.option_id in ballot:
                assert row.value == k - ballot.index(row.option_id)
                assert row.voted
            else:
                assert row.value == 0 and sum(row.positions) == 0 and not row.voted
                assert not row.tied
    # And together: an option nobody ranked has no points and is in no tie.
    result = tally(rules, options, ballots)
    ranked = {option_id for ballot in ballots for option_id in ballot}
    for row in result.rows:
        assert (row.value > 0) == (row.option_id in ranked)
        if row.option_id not in ranked:
            assert not row.tied
            assert all(row.option_id not in t.option_ids for t in deciding_ties(result, k))


@given(dot_polls())
def test_total_dots_equal_sum_of_ballot_dots(
    poll: tuple[PollRules, list[tuple[str, str]], list[Any]],
) -> None:
    rules, options, ballots = poll
    for ballot in ballots:
        assert validate_ballot(rules, ids(options), ballot) is None
    result = tally(rules, options, ballots)
    assert sum(row.value for row in result.rows) == sum(sum(b.values()) for b in ballots)
    for row in result.rows:
        assert row.value == sum(b.get(row.option_id, 0) for b in ballots)


@given(
    dots=st.integers(1, 8),
    max_per_option=st.none() | st.integers(1, 8),
    payload=st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), st.integers(0, 12)),
)
def test_dot_limits_enforced(
    dots: int, max_per_option: int | None, payload: dict[str, int]
) -> None:
    rules = PollRules(PollType.DOT, dots=dots, max_per_option=max_per_option)
    within = sum(payload.values()) <= dots and (
        max_per_option is None or all(v <= max_per_option for v in payload.values())
    )
    reason = validate_ballot(rules, ["a", "b", "c", "d"], payload)
    assert (reason is None) == within
    if not within:
        with pytest.raises(InvalidBallotError):
            tally(rules, ABCD, [payload])


@given(score_polls())
def test_score_stats_match_statistics(
    poll: tuple[PollRules, list[tuple[str, str]], list[Any]],
) -> None:
    rules, options, ballots = poll
    result = tally(rules, options, ballots)
    assert result.ballots == len(ballots)
    for row in result.rows:
        scores = [b[row.option_id] for b in ballots if row.option_id in b]
        stats = row.score
        assert stats is not None
        assert stats.count == len(scores)
        counts = Counter(scores)
        assert stats.distribution == tuple(
            (v, counts[v]) for v in range(rules.scale_min, rules.scale_max + 1)
        )
        if scores:
            assert stats.mean == statistics.mean(scores)
            assert stats.median == statistics.median(scores)
            assert row.value == stats.mean
        else:
            assert stats.mean is None
            assert stats.median is None
            assert row.value == 0
    # Ranked by mean; options nobody scored come last.
    keys = [(row.score is not None and row.score.count > 0, row.value) for row in result.rows]
    assert keys == sorted(keys, reverse=True)


@given(choice_polls())
def test_choice_counts_sum_to_chosen_entries(
    poll: tuple[PollRules, list[tuple[str, str]], list[Any]],
) -> None:
    rules, options, ballots = poll
    result = tally(rules, options, ballots)
    assert sum(row.value for row in result.rows) == sum(len(b) for b in ballots)
    for row in result.rows:
        assert row.value == sum(row.option_id in b for b in ballots)


@given(approval_polls())
def test_approval_counts(poll: tuple[PollRules, list[tuple[str, str]], list[Any]]) -> None:
    rules, options, ballots = poll
    result = tally(rules, options, ballots)
    for row in result.rows:
        assert row.value == sum(row.option_id in b for b in ballots)


@given(any_polls, st.data())
def test_tally_is_order_independent(
    poll: tuple[PollRules, list[tuple[str, str]], list[Any]], data: st.DataObject
) -> None:
    rules, options, ballots = poll
    shuffled = data.draw(st.permutations(ballots))
    assert tally(rules, options, shuffled) == tally(rules, options, ballots)


@given(any_polls)
def test_ranking_is_consistent(poll: tuple[PollRules, list[tuple[str, str]], list[Any]]) -> None:
    rules, options, ballots = poll
    result = tally(rules, options, ballots)
    rows = result.rows
    assert sorted(row.option_id for row in rows) == sorted(ids(options))
    assert result.ballots == len(ballots)
    assert [i for tier in result.tiers() for i in tier] == [row.option_id for row in rows]
    assert rows[0].rank == 1
    position = {option_id: i for i, option_id in enumerate(ids(options))}
    for place, row in enumerate(rows):
        same = [other for other in rows if other.rank == row.rank]
        assert row.tied == (len(same) > 1 and row.voted)
        # competition ranking: rank = 1 + number of options strictly ahead
        assert row.rank == 1 + sum(1 for other in rows if other.rank < row.rank)
        if place:
            previous = rows[place - 1]
            assert previous.rank <= row.rank
            if previous.rank == row.rank:
                assert previous.value == row.value
                assert position[previous.option_id] < position[row.option_id]
            elif rules.type is not PollType.SCORE:
                assert previous.value > row.value
    if rules.type is not PollType.SCORE:
        for row in rows:
            assert row.rank == 1 + sum(1 for other in rows if other.value > row.value)
    for seats in range(1, len(rows) + 2):
        cut = cutoff(result, seats)
        assert len(cut.selected) + cut.runoff_places + cut.unfilled == min(seats, len(rows))
        assert cut.selected == tuple(row.option_id for row in rows[: len(cut.selected)])
        if cut.runoff:
            assert len(cut.runoff) > cut.runoff_places > 0 and cut.unfilled == 0
            assert len({result.row(i).rank for i in cut.runoff}) == 1
            assert all(result.row(i).tied for i in cut.runoff)
        else:
            assert cut.runoff_places == 0
        if cut.unfilled:  # the cut falls among options nobody voted for
            rest = rows[len(cut.selected) :]
            assert len(rest) > cut.unfilled and not any(row.voted for row in rest)
        ties = deciding_ties(result, seats)
        assert all(len(t.option_ids) > 1 for t in ties)
        assert all(result.row(i).tied and result.row(i).voted for t in ties for i in t.option_ids)
        assert [t.option_ids for t in ties if not t.first] in ([], [cut.runoff])
        assert all(t.first == (t.rank == 1) for t in ties)


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**4400, max_value=10**4400 + 10)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
    | st.sampled_from(["a", "b", "c", "d"])
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=6)
        | st.dictionaries(st.text(max_size=4) | st.sampled_from(["a", "b", "c", "d"]), children)
    ),
    max_leaves=30,
)
rules_strategy = st.sampled_from(
    [
        PollRules(PollType.CHOICE),
        CHOICE2,
        APPROVAL,
        DOT,
        PollRules(PollType.DOT, dots=3),
        RANK,
        RANK_TOP2,
        SCORE,
        PollRules(PollType.SCORE, scale_min=-5, scale_max=5),
    ]
)


@settings(max_examples=500)
@given(rules=rules_strategy, payload=json_values)
def test_validate_ballot_never_raises(rules: PollRules, payload: object) -> None:
    reason = validate_ballot(rules, ["a", "b", "c", "d"], payload)
    assert reason is None or (isinstance(reason, str) and 0 < len(reason) <= 120)
    # tally agrees with validate_ballot: rejected ballots are loud, accepted ones count.
    if reason is None:
        assert tally(rules, ABCD, [payload]).ballots == 1
    else:
        with pytest.raises(InvalidBallotError) as info:
            tally(rules, ABCD, [payload])
        assert info.value.reason == reason


@given(st.lists(st.integers(-50, 50), min_size=1, max_size=40))
def test_score_mean_is_exact(scores: list[int]) -> None:
    rules = PollRules(PollType.SCORE, scale_min=-50, scale_max=50)
    result = tally(rules, [("a", "A")], [{"a": s} for s in scores])
    stats = result.row("a").score
    assert stats is not None
    assert stats.mean == statistics.mean(scores)
    assert stats.median == statistics.median(scores)


# --------------------------------------------------------------------------
# A live count counts ballots parsed once, when they were cast
# --------------------------------------------------------------------------


@given(any_polls, st.data())
def test_a_count_of_parsed_ballots_is_a_count_of_the_payloads(
    poll: tuple[PollRules, list[tuple[str, str]], list[Any]], data: st.DataObject
) -> None:
    rules, options, ballots = poll
    ids = [option_id for option_id, _ in options]
    parsed = [parse_ballot(rules, ids, payload) for payload in ballots]
    assert count_parsed(rules, options, parsed) == tally(rules, options, ballots)
    order = data.draw(st.permutations(range(len(ballots))))
    assert count_parsed(rules, options, [parsed[i] for i in order]) == tally(
        rules, options, ballots
    )


def test_a_ballot_is_parsed_for_its_poll_rules_and_options() -> None:
    ballot = {"a": 3, "b": 2}
    five, three = PollRules(PollType.DOT, dots=5), PollRules(PollType.DOT, dots=3)
    assert parse_ballot(five, ["a", "b", "c"], ballot) == ballot
    with pytest.raises(InvalidBallotError):
        parse_ballot(three, ["a", "b", "c"], ballot)
    with pytest.raises(InvalidBallotError):
        parse_ballot(five, ["a", "c"], ballot)

"""Tests for server.privacy.cpr: masking Danish CPR numbers in free text."""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.privacy.cpr import MASK, CprMatch, MaskResult, find_cpr, full_year, mask_cpr, scan

# --------------------------------------------------------------------------
# Test-side oracle for the century rule, written as a table on purpose so it
# is independent of the if/elif chain in the implementation.
# seventh digit -> ((yy_from, yy_to, century), ...)
_CENTURIES: dict[int, tuple[tuple[int, int, int], ...]] = {
    0: ((0, 99, 1900),),
    1: ((0, 99, 1900),),
    2: ((0, 99, 1900),),
    3: ((0, 99, 1900),),
    4: ((0, 36, 2000), (37, 99, 1900)),
    5: ((0, 57, 2000), (58, 99, 1800)),
    6: ((0, 57, 2000), (58, 99, 1800)),
    7: ((0, 57, 2000), (58, 99, 1800)),
    8: ((0, 57, 2000), (58, 99, 1800)),
    9: ((0, 36, 2000), (37, 99, 1900)),
}


def oracle_year(yy: int, seventh: int) -> int:
    for lo, hi, century in _CENTURIES[seventh]:
        if lo <= yy <= hi:
            return century + yy
    raise AssertionError("table does not cover yy")


def oracle_valid(dd: int, mm: int, yy: int, seventh: int) -> bool:
    try:
        dt.date(oracle_year(yy, seventh), mm, dd)
    except ValueError:
        return False
    return True


# Separators between the date part and the serial that must be accepted.
SEPARATORS = [
    "",
    "-",
    " -",
    "- ",
    " - ",
    "  -  ",
    "\t-\t",
    "\u00a0-\u00a0",  # no-break spaces
    "–",  # en dash
    " – ",
    "—",  # em dash
    "\u2010",  # hyphen
    "\u2011",  # non-breaking hyphen
    "\u2212",  # minus sign
]

# (prefix, suffix) pairs putting a CPR into realistic surroundings.
WRAPPERS = [
    ("", ""),
    ("CPR: ", "."),
    ("(", ")"),
    ("cpr.nr. ", ","),
    ("Barnets CPR-nr. er ", ", jf. underretningen."),
    ("«", "»"),
    ('"', '"'),
    ("[", "]"),
    ("\n", "\n"),
    ("CPR ", "/sagsbehandler"),
    ("Mor (", ") deltog ikke."),
    ("-", "-"),
    ("ærø ", " åse"),
]

DANISH_NO_DIGITS = "abcdefghijklmnopqrstuvwxyzæøåÆØÅABCDEFGHIJKLMNOPQRSTUVWXYZ .,:;!?()\"'«»\n-–/"
danish_filler = st.text(alphabet=DANISH_NO_DIGITS, max_size=30)
# Non-empty, digit-free: safe to put between two numbers without gluing them.
danish_gap = st.text(alphabet=DANISH_NO_DIGITS, min_size=1, max_size=30)
serial_tail = st.integers(0, 999).map(lambda n: f"{n:03d}")


@st.composite
def valid_cpr_parts(draw: st.DrawFn) -> tuple[str, str]:
    """(ddmmyy, serial) for a real birth date, with a matching 7th digit."""
    seventh = draw(st.integers(0, 9))
    yy = draw(st.integers(0, 99))
    year = oracle_year(yy, seventh)
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, calendar.monthrange(year, month)[1]))
    return f"{day:02d}{month:02d}{yy:02d}", f"{seventh}{draw(serial_tail)}"


@st.composite
def valid_cpr(draw: st.DrawFn) -> str:
    date_part, serial = draw(valid_cpr_parts())
    return f"{date_part}{draw(st.sampled_from(SEPARATORS))}{serial}"


@st.composite
def invalid_cpr_parts(draw: st.DrawFn) -> tuple[str, str]:
    """(ddmmyy, serial) whose first six digits are no real date."""
    seventh = draw(st.integers(0, 9))
    yy = draw(st.integers(0, 99))
    year = oracle_year(yy, seventh)
    kind = draw(st.sampled_from(["random", "day_past_month_end", "zero_or_bad_month", "feb29"]))
    if kind == "random":
        dd = draw(st.integers(0, 99))
        mm = draw(st.integers(0, 99))
    elif kind == "day_past_month_end":
        mm = draw(st.sampled_from([2, 4, 6, 9, 11]))
        dd = draw(st.integers(calendar.monthrange(year, mm)[1] + 1, 99))
    elif kind == "zero_or_bad_month":
        dd = draw(st.sampled_from([0, draw(st.integers(1, 28))]))
        mm = draw(st.sampled_from([0, draw(st.integers(1, 12)), draw(st.integers(13, 99))]))
        if dd != 0 and 1 <= mm <= 12:
            dd = 0
    else:  # 29 February in a year that is not a leap year for this 7th digit
        candidates = [
            (y, d) for y in range(100) for d in range(10) if not calendar.isleap(oracle_year(y, d))
        ]
        yy, seventh = draw(st.sampled_from(candidates))
        dd, mm = 29, 2
    if oracle_valid(dd, mm, yy, seventh):  # "random" can hit a real date
        dd = 0
    return f"{dd:02d}{mm:02d}{yy:02d}", f"{seventh}{draw(serial_tail)}"


@st.composite
def invalid_cpr(draw: st.DrawFn) -> str:
    date_part, serial = draw(invalid_cpr_parts())
    return f"{date_part}{draw(st.sampled_from(SEPARATORS))}{serial}"


# --------------------------------------------------------------------------
# Example tables


POSITIVE = [
    "010203-1234",
    "0102031234",
    "010203 - 1234",
    "010203- 1234",
    "010203 -1234",
    "010203–1234",  # en dash
    "010203 – 1234",
    "010203—1234",  # em dash
    "010203\u2011" + "1234",  # non-breaking hyphen
    "010203\u00a0-\u00a01234",  # no-break spaces
    "311299-1234",
    "300490-1234",
    "290296-1234",  # 1996 is a leap year
    "290200-4234",  # 7th digit 4, yy 00 -> 2000, a leap year
    "290200-5234",  # 7th digit 5, yy 00 -> 2000
    "290200-9234",  # 7th digit 9, yy 00 -> 2000
    "290204-0234",  # 1904
    "010100-0000",
    "311257-8999",  # 2057
    "010158-5000",  # 1858
    "０１０２０３－１２３４",  # fullwidth digits and dash
]

NEGATIVE = [
    # phone numbers
    "+45 20 30 40 50",
    "20304050",
    "+4520304050",
    "2030 4050",
    "tlf. 20 30 40 50 / 33 12 34 56",
    # case / journal numbers
    "27.12.04-G01-3-15",
    "J.nr. 2023-0145-12",
    "sag nr. 28.00.00-A00-12345-22",
    # amounts
    "1.250.000 kr",
    "310599,00",
    "kr. 1.250.000,00",
    "1250000,50 kr.",
    # dates
    "01-02-2023",
    "01.02.2023",
    "1/2-2023",
    "2023-02-01",
    "01022023",
    # longer / shorter digit runs
    "12345678901",
    "01020312345",
    "10102031234",
    "010203-12345",
    "1010203-1234",
    "010203-123",
    "01020-1234",
    "102031234",
    # 10 digits but the first six are not a date
    "321299-1234",
    "011399-1234",
    "300290-1234",
    "310490-1234",
    "000190-1234",
    "010090-1234",
    "290201-1234",  # 1901 / 2001 are not leap years
    "290200-0234",  # 7th digit 0, yy 00 -> 1900, not a leap year
    "290200-3234",  # 1900
    "9999999999",
    "0000000000",
    # a line break is not a dash
    "010203\n1234",
    "010203\n-\n1234",
]


@pytest.mark.parametrize("cpr", POSITIVE)
def test_positive_examples_are_masked(cpr: str) -> None:
    assert mask_cpr(cpr) == MASK
    assert mask_cpr(f"CPR: {cpr}.") == f"CPR: {MASK}."
    assert find_cpr(cpr) == [CprMatch(0, len(cpr))]


@pytest.mark.parametrize("text", NEGATIVE)
def test_negative_examples_are_left_alone(text: str) -> None:
    assert mask_cpr(text) == text
    assert find_cpr(text) == []
    assert scan(text) == MaskResult(text=text, count=0)


def test_mask_constant() -> None:
    assert MASK == "[CPR fjernet]"
    assert not re.search(r"\d", MASK)


@pytest.mark.parametrize(
    ("yy", "seventh", "year"),
    [
        (0, 0, 1900),
        (99, 3, 1999),
        (0, 4, 2000),
        (36, 4, 2036),
        (37, 4, 1937),
        (99, 9, 1999),
        (36, 9, 2036),
        (37, 9, 1937),
        (0, 5, 2000),
        (57, 5, 2057),
        (58, 5, 1858),
        (57, 8, 2057),
        (58, 8, 1858),
        (99, 6, 1899),
        (12, 7, 2012),
    ],
)
def test_full_year_century_rule(yy: int, seventh: int, year: int) -> None:
    assert full_year(yy, seventh) == year


def test_full_year_matches_table_everywhere() -> None:
    for yy in range(100):
        for seventh in range(10):
            assert full_year(yy, seventh) == oracle_year(yy, seventh), (yy, seventh)


@pytest.mark.parametrize(("yy", "seventh"), [(-1, 0), (100, 0), (0, -1), (0, 10)])
def test_full_year_rejects_out_of_range(yy: int, seventh: int) -> None:
    with pytest.raises(ValueError):
        full_year(yy, seventh)


def test_date_validation_matches_calendar_exhaustively() -> None:
    # All day/month values 00-32 / 00-13 for the years where the century rule
    # or leap years make a difference, for every 7th digit.
    for yy in (0, 1, 4, 36, 37, 57, 58, 96, 99):
        for seventh in range(10):
            for mm in range(14):
                for dd in range(33):
                    cpr = f"{dd:02d}{mm:02d}{yy:02d}-{seventh}123"
                    expected = oracle_valid(dd, mm, yy, seventh)
                    assert (mask_cpr(cpr) == MASK) is expected, cpr


def test_find_cpr_positions_and_multiple_matches() -> None:
    text = "A: 010203-1234, B: 3112991234 og C: 321299-1234."
    matches = find_cpr(text)
    assert [text[m.start : m.end] for m in matches] == ["010203-1234", "3112991234"]
    assert matches[0] == CprMatch(start=3, end=14)


def test_adjacent_numbers_are_both_masked() -> None:
    assert mask_cpr("010203-1234/0102031234") == f"{MASK}/{MASK}"
    assert mask_cpr("010203-1234 010203-1234") == f"{MASK} {MASK}"
    assert mask_cpr("0102031234,0102031234") == f"{MASK},{MASK}"


def test_invalid_lookalike_does_not_hide_a_real_number() -> None:
    text = "321299 - 0102031234"
    assert mask_cpr(text) == f"321299 - {MASK}"


def test_scan_result() -> None:
    result = scan("CPR 010203-1234 og 020304-5678")
    assert result == MaskResult(text=f"CPR {MASK} og {MASK}", count=2)
    assert result.changed
    assert not scan("ingen numre her").changed
    assert scan("").text == ""


def test_results_are_frozen() -> None:
    match = CprMatch(0, 10)
    result = MaskResult("x", 0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        match.start = 1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.count = 1  # type: ignore[misc]


def test_match_repr_does_not_leak_digits() -> None:
    (match,) = find_cpr("0102031234")
    assert "0102031234" not in repr(match)


def test_pathological_input_is_fast_enough() -> None:
    # Long digit runs and long space runs must not trigger heavy backtracking.
    text = "1" * 200_000 + "010203" + " " * 200_000 + "x" + "010203 " * 20_000
    assert mask_cpr(text) == text


# --------------------------------------------------------------------------
# Property tests


@given(cpr=valid_cpr(), wrapper=st.sampled_from(WRAPPERS))
def test_valid_cpr_in_every_format_is_masked(cpr: str, wrapper: tuple[str, str]) -> None:
    prefix, suffix = wrapper
    text = f"{prefix}{cpr}{suffix}"
    result = scan(text)
    assert result.text == f"{prefix}{MASK}{suffix}"
    assert result.count == 1
    assert result.changed
    assert not re.search(r"\d", result.text)


@given(
    parts=valid_cpr_parts(),
    sep=st.sampled_from(SEPARATORS),
    before=danish_filler,
    after=danish_filler,
)
def test_valid_cpr_in_random_danish_text_is_masked(
    parts: tuple[str, str], sep: str, before: str, after: str
) -> None:
    date_part, serial = parts
    text = f"{before}{date_part}{sep}{serial}{after}"
    masked = mask_cpr(text)
    assert masked == f"{before}{MASK}{after}"
    assert date_part not in masked
    assert serial not in masked


@given(
    cpr=invalid_cpr(), wrapper=st.sampled_from(WRAPPERS), before=danish_filler, after=danish_filler
)
def test_invalid_date_is_left_unchanged(
    cpr: str, wrapper: tuple[str, str], before: str, after: str
) -> None:
    prefix, suffix = wrapper
    text = f"{before}{prefix}{cpr}{suffix}{after}"
    assert mask_cpr(text) == text
    assert find_cpr(text) == []


@given(cprs=st.lists(valid_cpr(), min_size=1, max_size=8), data=st.data())
def test_every_cpr_in_a_text_is_found_at_its_position(cprs: list[str], data: st.DataObject) -> None:
    pieces: list[str] = [data.draw(danish_filler)]
    spans: list[tuple[int, int]] = []
    pos = len(pieces[0])
    for cpr in cprs:
        pieces.append(cpr)
        spans.append((pos, pos + len(cpr)))
        gap = data.draw(danish_gap)
        pieces.append(gap)
        pos += len(cpr) + len(gap)
    text = "".join(pieces)
    assert [(m.start, m.end) for m in find_cpr(text)] == spans
    result = scan(text)
    assert result.count == len(cprs)
    assert not re.search(r"\d", result.text)


mixed_token = st.one_of(
    valid_cpr(),
    invalid_cpr(),
    st.text(alphabet="0123456789", min_size=1, max_size=14),
    st.text(alphabet=DANISH_NO_DIGITS + "0123456789 -–", max_size=20),
    st.sampled_from(["+45 20 30 40 50", "27.12.04-G01-3-15", "1.250.000 kr", MASK]),
)
mixed_text = st.lists(mixed_token, max_size=12).map("".join)


@given(text=mixed_text)
def test_masking_is_idempotent(text: str) -> None:
    once = mask_cpr(text)
    assert mask_cpr(once) == once
    assert find_cpr(once) == []


@given(text=mixed_text)
def test_api_is_consistent(text: str) -> None:
    matches = find_cpr(text)
    result = scan(text)
    assert result.count == len(matches)
    assert result.changed == bool(matches)
    assert result.text == mask_cpr(text)
    if not matches:
        assert result.text == text
    for a, b in itertools.pairwise(matches):
        assert a.end <= b.start
    for m in matches:
        assert m.end - m.start >= 10
        assert not text[m.start].isspace()
        assert not text[m.end - 1].isspace()


# Digit runs of any length except the two a CPR consists of (6 + 4 with a
# dash, or 10 without), separated by non-digits that may include dashes.
non_cpr_run = (
    st.integers(1, 16)
    .filter(lambda n: n not in (6, 10))
    .flatmap(lambda n: st.text(alphabet="0123456789", min_size=n, max_size=n))
)
non_digit_gap = st.text(alphabet=DANISH_NO_DIGITS + " -–—.,+", min_size=1, max_size=6)


@given(
    chunks=st.lists(st.tuples(non_cpr_run, non_digit_gap), max_size=15),
    lead=st.text(alphabet=DANISH_NO_DIGITS, max_size=5),
)
def test_text_without_cpr_shaped_digit_runs_is_unchanged(
    chunks: list[tuple[str, str]], lead: str
) -> None:
    text = lead + "".join(run + gap for run, gap in chunks)
    assert mask_cpr(text) == text
    assert scan(text).count == 0


@given(
    digits=st.text(alphabet="0123456789", min_size=8, max_size=8),
    fmt=st.sampled_from(
        [
            "{0}",
            "+45 {0}",
            "+45{0}",
            "0045 {0}",
            "{1} {2} {3} {4}",
            "+45 {1} {2} {3} {4}",
            "{5} {6}",
            "tlf. {1}-{2}-{3}-{4}",
        ]
    ),
)
def test_phone_numbers_are_never_masked(digits: str, fmt: str) -> None:
    pairs = [digits[i : i + 2] for i in range(0, 8, 2)]
    text = fmt.format(digits, *pairs, digits[:4], digits[4:])
    assert mask_cpr(text) == text


@given(
    long_run=st.text(alphabet="0123456789", min_size=11, max_size=30),
    before=danish_filler,
    after=danish_filler,
)
def test_longer_digit_runs_never_fire(long_run: str, before: str, after: str) -> None:
    text = f"{before}{long_run}{after}"
    assert mask_cpr(text) == text


@settings(max_examples=50)
@given(date=st.dates(min_value=dt.date(1858, 1, 1), max_value=dt.date(2057, 12, 31)))
def test_every_possible_birth_date_is_accepted(date: dt.date) -> None:
    # Derive a 7th digit that puts this date's year in the right century and
    # check it is masked: i.e. no real birth date in the register's range is
    # rejected by the date check.
    yy = date.year % 100
    sevenths = [d for d in range(10) if oracle_year(yy, d) == date.year]
    assert sevenths, date
    for seventh in sevenths:
        cpr = f"{date:%d%m}{yy:02d}-{seventh}000"
        assert mask_cpr(cpr) == MASK, cpr


# --------------------------------------------------------------------------
# Realistic corpus

CASE_NOTE = """\
Sagsnotat, j.nr. 27.12.04-G01-3-15 (sag 2023-0412)

Mødet blev afholdt torsdag den 01-02-2023 kl. 13.30 på Rådhuset, lokale 2.14.
Til stede: sagsbehandler Søren Ærbø, mor Åse Jørgensen (CPR: 120385-1234),
far (tlf. +45 20 30 40 50 / 33123456) og Emil, cpr.nr. 0708141958, som
deltog de første 20 minutter.

Familien har modtaget 1.250.000 kr. i alt siden 2019; seneste udbetaling var
310599,00 kr. d. 15.03.2023. Underretningen af 12/1-2023 er vedlagt (bilag 3).
Næste møde: 01.03.2023. Kontonummer 1234 5678901234 er ændret.
Husk: nr. 321299-1234 på den gamle blanket er en tastefejl, ikke et CPR.
"""


def test_case_note_only_cprs_are_masked() -> None:
    result = scan(CASE_NOTE)
    expected = CASE_NOTE.replace("120385-1234", MASK).replace("0708141958", MASK)
    assert result.count == 2
    assert result.text == expected
    # Everything that is not a CPR survives untouched.
    for kept in [
        "27.12.04-G01-3-15",
        "2023-0412",
        "01-02-2023",
        "+45 20 30 40 50",
        "33123456",
        "1.250.000 kr.",
        "310599,00",
        "15.03.2023",
        "12/1-2023",
        "01.03.2023",
        "1234 5678901234",
        "321299-1234",
        "Søren Ærbø",
        "Åse Jørgensen",
    ]:
        assert kept in result.text, kept
    assert "120385" not in result.text
    assert "0708141958" not in result.text
    assert mask_cpr(result.text) == result.text

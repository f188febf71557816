"""CPR numbers written "ddmmyy xxxx" (one space, no dash) are masked too.

A deliberate decision, separate from the dashed forms: people type CPR numbers
that way in notes, and the date check keeps phone numbers, amounts and case
numbers out. Two or more spaces without a dash are a column layout and are
left alone.
"""

from __future__ import annotations

import calendar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.privacy.cpr import MASK, find_cpr, mask_cpr, scan
from tests.privacy.test_cpr import (
    DANISH_NO_DIGITS,
    invalid_cpr_parts,
    oracle_year,
    valid_cpr_parts,
)

ONE_SPACE = [" ", "\u00a0"]


@given(parts=valid_cpr_parts(), space=st.sampled_from(ONE_SPACE))
def test_every_valid_date_with_one_space_is_masked(parts: tuple[str, str], space: str) -> None:
    date_part, serial = parts
    text = f"Barnets cpr er {date_part}{space}{serial}, se akten."
    result = scan(text)
    assert result.text == f"Barnets cpr er {MASK}, se akten."
    assert result.count == 1


@given(parts=invalid_cpr_parts(), space=st.sampled_from(ONE_SPACE))
def test_invalid_dates_with_one_space_are_left_alone(parts: tuple[str, str], space: str) -> None:
    date_part, serial = parts
    text = f"nr. {date_part}{space}{serial}"
    assert mask_cpr(text) == text


@given(
    parts=valid_cpr_parts(),
    spaces=st.text(alphabet=" \u00a0\t", min_size=2, max_size=5),
)
def test_two_or_more_spaces_without_a_dash_are_not_a_cpr(
    parts: tuple[str, str], spaces: str
) -> None:
    date_part, serial = parts
    text = f"{date_part}{spaces}{serial}"
    assert mask_cpr(text) == text


@given(
    parts=valid_cpr_parts(),
    before=st.text(alphabet="0123456789", min_size=1, max_size=3),
    after=st.text(alphabet="0123456789", min_size=1, max_size=3),
)
def test_glued_to_other_digits_is_not_a_cpr(
    parts: tuple[str, str], before: str, after: str
) -> None:
    date_part, serial = parts
    for text in (f"{before}{date_part} {serial}", f"{date_part} {serial}{after}"):
        assert find_cpr(text) == [], text


@pytest.mark.parametrize(
    "text",
    [
        "2030 4050",  # a phone number in two halves
        "tlf. 20 30 40 50",
        "+45 2030 4050",
        "postnr. 6800 Varde",
        "kr. 125000 1250",  # 12-50-00 is no date
        "sag 321299 1234",  # day 32
        "j.nr. 011399 1234",  # month 13
        "290200 1234",  # 29 February 1900
        "Mødet 1. marts kl. 1400 1500",
    ],
)
def test_lookalikes_with_one_space_are_left_alone(text: str) -> None:
    assert mask_cpr(text) == text


def test_realistic_notes_with_one_space() -> None:
    text = (
        "Underretning modtaget 3. maj vedr. drengen (cpr 120317 4123). "
        "Mor: 050588\u00a01234. Tlf. 2030 4050."
    )
    assert mask_cpr(text) == (
        f"Underretning modtaget 3. maj vedr. drengen (cpr {MASK}). Mor: {MASK}. Tlf. 2030 4050."
    )


def test_single_space_rule_is_exhaustive_for_one_year() -> None:
    year_digits, seventh = 17, 4  # 2017 with 7th digit 4
    for mm in range(14):
        for dd in range(33):
            try:
                real = 1 <= mm <= 12 and 1 <= dd <= calendar.monthrange(2017, mm)[1]
            except calendar.IllegalMonthError:
                real = False
            assert oracle_year(year_digits, seventh) == 2017
            text = f"{dd:02d}{mm:02d}{year_digits:02d} {seventh}123"
            assert (mask_cpr(text) == MASK) is real, text


@given(text=st.text(alphabet=DANISH_NO_DIGITS + "0123456789 ", max_size=60))
def test_single_space_masking_is_idempotent(text: str) -> None:
    once = mask_cpr(text)
    assert mask_cpr(once) == once

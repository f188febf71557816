"""Find and mask Danish personal identification numbers (CPR numbers).

Case notes, minutes and chat messages about children and families must not
carry CPR numbers further than necessary, so anything that looks like one is
replaced by :data:`MASK` before text is stored, shown or exported.

A CPR number is ``ddmmyy-ssss``, ``ddmmyy ssss`` or ``ddmmyyssss``: six digits
forming a real calendar date followed by a four digit serial number. The dash
may be any of the common dash characters and may have spaces around it; without
a dash, exactly one space (or no-break space) may separate the two parts. The number must
stand alone: a digit directly before or after it means it is part of some
longer number (an account number, a serial, ...) and it is left alone.

The modulus 11 check is deliberately *not* applied: CPR numbers issued since
2007 need not satisfy it, and a missed CPR is far worse than a masked
look-alike.

The date check uses the century rule of the CPR register, where the 7th digit
(the first serial digit) decides the century of the birth year:

====================  ===========================================
7th digit             birth year
====================  ===========================================
0, 1, 2, 3            19yy
4, 9                  20yy if yy <= 36, else 19yy
5, 6, 7, 8            20yy if yy <= 57, else 18yy
====================  ===========================================

The century only matters for 29 February (``290200`` is a real date for
2000 but not for 1900).

Everything here is pure and thread safe. Match objects carry positions only,
never the digits themselves, so they are safe to log.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from typing import Final

__all__ = [
    "MASK",
    "CprMatch",
    "MaskResult",
    "find_cpr",
    "full_year",
    "mask_cpr",
    "scan",
]

MASK: Final = "[CPR fjernet]"
"""Replacement text for a whole CPR number (including any dash and spaces)."""

# Horizontal spaces tolerated around the dash: space, tab, no-break space,
# figure space, thin space and narrow no-break space. Line breaks are not
# accepted: a number split over two lines is too likely to be two numbers.
_SPACE: Final = "[ \t\u00a0\u2007\u2009\u202f]"

# Dashes seen between date and serial: hyphen-minus, hyphen, non-breaking
# hyphen, figure dash, en dash, em dash, minus sign, small and fullwidth
# hyphen-minus (word processors and phones "correct" the plain hyphen).
_DASH: Final = "[-\u2010\u2011\u2012\u2013\u2014\u2212\ufe63\uff0d]"

# A single space (or no-break space) alone between date and serial, as in
# "010203 1234", is accepted too: people type CPR numbers that way, and the
# date check keeps phone numbers ("20 30 40 50"), amounts and case numbers
# out. Two or more spaces without a dash are not: that is a column layout.
_ONE_SPACE: Final = "[ \u00a0]"

# Structure only; the date is validated in Python. ``\d`` (Unicode decimal
# digits) is used on purpose, also in the lookarounds, so a number written in
# e.g. fullwidth digits is caught too and a CPR can never be glued to a digit.
_CPR_RE: Final = re.compile(
    rf"""
    (?<!\d)                       # not preceded by a digit
    (?P<dd>\d\d)(?P<mm>\d\d)(?P<yy>\d\d)
    (?:{_SPACE}*{_DASH}{_SPACE}*|{_ONE_SPACE})?  # optional dash (spaced), or one space
    (?P<serial>\d{{4}})
    (?!\d)                        # not followed by a digit
    """,
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class CprMatch:
    """Position of one CPR number in a text: ``text[start:end]``."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class MaskResult:
    """Outcome of :func:`scan`: the masked text and how many CPRs were masked."""

    text: str
    count: int

    @property
    def changed(self) -> bool:
        """True if at least one CPR number was masked."""
        return self.count > 0


def full_year(yy: int, seventh_digit: int) -> int:
    """Return the four digit birth year for two digit year *yy*.

    *seventh_digit* is the first digit of the serial number, which encodes the
    century according to the CPR register's rule (see the module docstring).
    """
    if not 0 <= yy <= 99:
        raise ValueError(f"yy must be 0-99, got {yy}")
    if not 0 <= seventh_digit <= 9:
        raise ValueError(f"seventh_digit must be 0-9, got {seventh_digit}")
    if seventh_digit <= 3:
        century = 1900
    elif seventh_digit in (4, 9):
        century = 2000 if yy <= 36 else 1900
    else:  # 5, 6, 7, 8
        century = 2000 if yy <= 57 else 1800
    return century + yy


def _is_valid_date(match: re.Match[str]) -> bool:
    day = int(match["dd"])
    month = int(match["mm"])
    if not (1 <= month <= 12 and day >= 1):
        return False
    year = full_year(int(match["yy"]), int(match["serial"][0]))
    return day <= calendar.monthrange(year, month)[1]


def _iter_matches(text: str) -> list[re.Match[str]]:
    found: list[re.Match[str]] = []
    pos = 0
    while (m := _CPR_RE.search(text, pos)) is not None:
        if _is_valid_date(m):
            found.append(m)
            pos = m.end()
        else:
            # Re-scan just after the start rather than after the end, so a
            # rejected look-alike can never hide an overlapping real CPR.
            pos = m.start() + 1
    return found


def find_cpr(text: str) -> list[CprMatch]:
    """Return the positions of all CPR numbers in *text*, left to right."""
    return [CprMatch(m.start(), m.end()) for m in _iter_matches(text)]


def scan(text: str) -> MaskResult:
    """Mask every CPR number in *text* and report how many there were."""
    matches = _iter_matches(text)
    if not matches:
        return MaskResult(text=text, count=0)
    parts: list[str] = []
    pos = 0
    for m in matches:
        parts.append(text[pos : m.start()])
        parts.append(MASK)
        pos = m.end()
    parts.append(text[pos:])
    return MaskResult(text="".join(parts), count=len(matches))


def mask_cpr(text: str) -> str:
    """Return *text* with every CPR number replaced by :data:`MASK`."""
    return scan(text).text

"""Numbers typed into engagement forms: only ASCII digits count (str.isdigit also
says yes to '¹' and '²', which int() refuses, and that was a 500)."""

from __future__ import annotations

import pytest

from server.engagement.common import Refused
from server.engagement.store import _weeks, parse_date


@pytest.mark.parametrize("typed", ["¹", "²", "٣"])
def test_other_digits_are_refused_with_a_reason(typed: str) -> None:
    with pytest.raises(Refused):
        _weeks(typed, "Weeks")
    with pytest.raises(Refused):
        parse_date(f"{typed}-{typed}-2026")


def test_ascii_digits_still_work() -> None:
    assert _weeks("4", "Weeks") == 4
    assert parse_date("14.03.2026") is not None

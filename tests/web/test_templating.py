"""The pages format dates, times and numbers per language with one set of filters
(|date, |datetime, |time, |number), in Danish time, as the documents do."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from server.minutes import fmt
from server.web.templating import environment
from tests.support import World

DAY = dt.date(2026, 11, 26)
# 23:30 UTC on 26 November is 00:30 on the 27th in Copenhagen (CET, UTC+1);
# the database gives UTC back without a time zone.
LATE = dt.datetime(2026, 11, 26, 23, 30, 5)
SUMMER = dt.datetime(2026, 7, 1, 10, 0, tzinfo=dt.UTC)  # 12:00 CEST


def show(lang: str, source: str, **values: object) -> str:
    return environment(lang).from_string(source).render(**values)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("da", "26. november 2026|26.11.2026|26. nov. 2026|torsdag den 26. november 2026"),
        ("en", "26 November 2026|26/11/2026|26 Nov 2026|Thursday 26 November 2026"),
    ],
)
def test_dates_per_language(lang: str, expected: str) -> None:
    source = '{{ d|date }}|{{ d|date("short") }}|{{ d|date("medium") }}|{{ d|date("full") }}'
    assert show(lang, source, d=DAY) == expected


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("da", "27. november 2026|27.11.2026 00.30|00.30|12.00|27. nov. 2026 00.30.05"),
        ("en", "27 November 2026|27/11/2026, 00:30|00:30|12:00|27 Nov 2026, 00:30:05"),
    ],
)
def test_moments_are_shown_in_danish_time(lang: str, expected: str) -> None:
    source = (
        "{{ m|date }}|{{ m|datetime }}|{{ m|time }}|{{ summer|time }}|{{ m|datetime('medium') }}"
    )
    assert show(lang, source, m=LATE, summer=SUMMER) == expected


@pytest.mark.parametrize(("lang", "expected"), [("da", "3,5|12|0|2,3"), ("en", "3.5|12|0|2.3")])
def test_numbers_per_language(lang: str, expected: str) -> None:
    source = "{{ a|number }}|{{ b|number }}|{{ c|number }}|{{ d|number }}"
    assert show(lang, source, a=3.5, b=12, c=0, d=2.25) == expected


def test_missing_values_and_agreed_dates_written_as_text() -> None:
    assert show("da", "[{{ n|date }}{{ n|datetime }}{{ n|time }}{{ n|number }}]", n=None) == "[]"
    # An agreed next meeting is text: an ISO date is shown as a date, other text as is.
    assert show("en", "{{ s|date }}", s="2026-12-03") == "3 December 2026"
    assert show("da", "{{ s|date('full') }}", s="2026-12-03") == "torsdag den 3. december 2026"
    assert show("da", "{{ s|date }}", s="i uge 50") == "i uge 50"


def test_pages_and_documents_write_a_date_alike() -> None:
    for lang in ("da", "en"):
        assert show(lang, "{{ d|date('full') }}", d=DAY) == fmt.long_date(DAY, lang)
        assert show(lang, "{{ d|date('short') }}", d=DAY) == fmt.short_date(DAY, lang)
        assert show(lang, "{{ v|number }}", v=3.5) == fmt.number(3.5, lang)


def test_a_page_shows_its_dates_in_the_pages_language(world: World) -> None:
    """The coordinator's list: the day each session was created, per language."""
    world.create_session("kvifa")
    today = dt.datetime.now(fmt.LOCAL_TZ).date()
    danish = world.fac.get("/coordinator").text
    english = world.fac.get("/coordinator?lang=en").text
    assert f"<td>{today:%d.%m.%Y}</td>" in danish
    assert f"<td>{today:%d/%m/%Y}</td>" in english
    assert not re.search(r"\d{4}-\d{2}-\d{2}", danish + english)


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "00:00"),
        (9.6, "00:10"),
        (598, "09:58"),
        (3599, "59:59"),
        (3600, "1:00:00"),
        (7198, "1:59:58"),  # read '119:58' before
        (36000, "10:00:00"),
        (-0.4, "00:00"),  # no '−00:00' at the very end
        (-12, "\u221200:12"),  # overtime, with a real minus sign
        (-3725, "\u22121:02:05"),
        (float("nan"), "00:00"),
    ],
)
def test_timer_text_shows_hours_and_overtime(seconds: float, expected: str) -> None:
    assert show("da", "{{ t|mmss }}", t=seconds) == expected

"""iCalendar for the next meeting: RFC 5545 structure, CRLF, escaping, folding."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from server.minutes.ics import escape_text, fold, render_ics
from server.minutes.model import Minutes, NextMeeting

STAMP = dt.datetime(2025, 5, 20, 14, 0, tzinfo=dt.UTC)


def unfold(ics: str) -> list[str]:
    return ics.replace("\r\n ", "").split("\r\n")


def test_ics_structure(workshop: Minutes) -> None:
    ics = render_ics(workshop, dtstamp=STAMP)
    assert ics.endswith("\r\n")
    assert "\n" not in ics.replace("\r\n", "")  # no bare LF or CR anywhere
    lines = unfold(ics)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR" and lines[-1] == ""
    assert "VERSION:2.0" in lines
    assert any(line.startswith("PRODID:") for line in lines)
    event = lines[lines.index("BEGIN:VEVENT") + 1 : lines.index("END:VEVENT")]
    props = dict(line.split(":", 1) for line in event)
    assert props["DTSTAMP"] == "20250520T140000Z"
    assert props["DTSTART"] == "20250826T110000Z"  # 13.00 Danish summer time
    assert props["DTEND"] == "20250826T130000Z"
    assert props["SUMMARY"] == "Næste møde: Sagsgennemgang 2.0\\, Varde Kommune"
    assert props["LOCATION"] == "Varde Rådhus\\, mødesal 1"
    assert props["UID"].endswith("@tovholder")
    assert (
        "Skabelonen for børnefaglige undersøgelser er afprøvet i to teams." in props["DESCRIPTION"]
    )
    assert "\\n- Alle indsatsområder" in props["DESCRIPTION"]


def test_ics_uid_is_stable_across_downloads(workshop: Minutes) -> None:
    first = [x for x in unfold(render_ics(workshop)) if x.startswith("UID:")]
    second = [x for x in unfold(render_ics(workshop)) if x.startswith("UID:")]
    assert first == second


def test_ics_lines_fold_at_75_octets_without_splitting_characters(workshop: Minutes) -> None:
    long_goal = "Alle rådgivere i Børne- og Familieafdelingen har gennemført æ-ø-å-kurset; " * 6
    meeting = dataclasses.replace(workshop.next_meeting, goals=(long_goal,))
    ics = render_ics(dataclasses.replace(workshop, next_meeting=meeting), dtstamp=STAMP)
    physical = ics.split("\r\n")
    assert max(len(line.encode("utf-8")) for line in physical) <= 75
    assert any(line.startswith(" ") for line in physical)
    for line in physical:
        line.encode("utf-8").decode("utf-8")  # every physical line is whole UTF-8
    description = next(x for x in unfold(ics) if x.startswith("DESCRIPTION:"))
    assert escape_text(long_goal.strip()) in description


def test_fold_exact_boundaries() -> None:
    assert fold("A" * 75) == "A" * 75
    assert fold("A" * 76) == "A" * 75 + "\r\n A"
    folded = fold("ø" * 80)  # two octets each
    assert [len(p.encode()) for p in folded.split("\r\n")] == [74, 75, 13]


def test_escape_text() -> None:
    assert escape_text("a;b,c\\d\ne") == "a\\;b\\,c\\\\d\\ne"


def test_naive_times_are_danish_local_and_default_length(workshop: Minutes) -> None:
    meeting = NextMeeting(starts_at=dt.datetime(2025, 12, 1, 9, 30))
    ics = render_ics(dataclasses.replace(workshop, next_meeting=meeting), dtstamp=STAMP)
    assert "DTSTART:20251201T083000Z\r\n" in ics  # CET = UTC+1 in winter
    assert "DTEND:20251201T093000Z\r\n" in ics
    assert "LOCATION" not in ics


def test_no_next_meeting_is_an_error(kvifa: Minutes) -> None:
    with pytest.raises(ValueError):
        render_ics(kvifa)

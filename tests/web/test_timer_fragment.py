"""The timer as every screen renders it: never empty once set, overtime in its own
style, hours written out (issue 16)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from server.engine.commands import ExtendTimer, StartTimer
from server.web import render
from server.web.render import Room
from tests.engine.steps_helpers import FAC, Run

ROOM = Room("s1", "Titel", "ABCD2345", "http://testserver/j/ABCD2345", "da")
SCRIPT: dict[str, Any] = {
    "id": "tid",
    "title": "Tid",
    "duration": 60,
    "steps": [
        {"id": "intro", "kind": "presentation", "title": "Velkommen", "timebox": 5},
        {"id": "runde", "kind": "round", "title": "Runde", "timebox": 8, "speaker_timebox": 1},
    ],
}


def digits(html: str) -> str:
    found = re.search(r'<span class="timer-digits">([^<]*)</span>', html)
    assert found, html
    return found.group(1)


@pytest.mark.parametrize("audience", render.AUDIENCES)
def test_minus_one_minute_under_a_minute_left_leaves_the_timer_on_screen(audience: str) -> None:
    run = Run(script=SCRIPT).start("a", "b", step="runde")  # one minute a speaker
    run.now += 30
    run.ok(ExtendTimer(actor=FAC, minutes=-1))
    html = render.render_fragment(run.state, ROOM, audience, "timer", run.now)
    assert "is-off" not in html
    assert digits(html) == "00:00"
    assert "is-expired" in html
    run.now += 12
    html = render.render_fragment(run.state, ROOM, audience, "timer", run.now)
    assert digits(html) == "\u221200:12"  # overtime, counted on
    assert 'data-status="running"' in html


def test_a_long_timer_reads_in_hours() -> None:
    run = Run(script=SCRIPT).start("a")
    run.ok(StartTimer(actor=FAC, minutes=120))
    run.now += 2
    html = render.render_fragment(run.state, ROOM, "facilitator", "timer", run.now)
    assert digits(html) == "1:59:58"
    assert "is-expired" not in html

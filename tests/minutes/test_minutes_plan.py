"""The development plan as DOCX, PDF and CSV: one six-row table per focus area."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Callable

import docx
from minutes_samples import assert_in_order

from server.minutes.model import DevelopmentPlan, PlanRow
from server.minutes.plan import plan_csv, plan_docx, plan_html, plan_pdf

SIX = ["Formål", "Aktivitet", "Mål", "Aktører", "Tidsplan og opfølgning", "Status"]


def test_plan_docx_has_one_six_row_table_per_focus_area(plan: DevelopmentPlan) -> None:
    document = docx.Document(io.BytesIO(plan_docx(plan)))
    assert len(document.tables) == 3
    for table in document.tables:
        assert [row.cells[0].text for row in table.rows] == SIX
    first = [row.cells[1].text for row in document.tables[0].rows]
    assert first[0].startswith("Overholdelse af fire måneders fristen")
    assert first[5] == "Planlægges."
    assert [row.cells[1].text for row in document.tables[2].rows][5] == "–"
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == [
        "1. Kvalitet i børnefaglige undersøgelser",
        "2. Tidlig indsats og underretninger",
        "3. Overgang fra ung til voksen",
    ]
    facts = [p.text for p in document.paragraphs if p.text.startswith("Prioritet")]
    assert (
        facts[0] == "Prioritet: 1  ·  Tidsperspektiv: Kort sigt  ·  Ansvarlig: Teamleder, myndighed"
    )


def test_plan_pdf(plan: DevelopmentPlan, pdf_text: Callable[[bytes], str]) -> None:
    text = pdf_text(plan_pdf(plan))
    assert_in_order(
        text,
        [
            "Udviklingsplan for børne- og familieområdet",
            "1. Kvalitet i børnefaglige undersøgelser",
            "Prioritet: 1",
            "Kort sigt",
            *SIX,
            "2. Tidlig indsats og underretninger",
            "Mellemlang sigt",
            "3. Overgang fra ung til voksen",
            "Lang sigt",
        ],
    )
    assert "Side 1 af" in text


def test_plan_csv(plan: DevelopmentPlan) -> None:
    data = plan_csv(plan)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert rows[0] == ["Prioritet", "Indsatsområde", "Tidsperspektiv", "Ansvarlig", *SIX]
    assert rows[1][:4] == [
        "1",
        "Kvalitet i børnefaglige undersøgelser",
        "Kort sigt",
        "Teamleder, myndighed",
    ]
    assert rows[3][0] == "" and rows[3][2] == "Lang sigt"


def test_plan_csv_neutralises_formulas(plan: DevelopmentPlan) -> None:
    evil = dataclasses.replace(plan, rows=(PlanRow("=1+1", status="@cmd", owner="-x"),))
    text = plan_csv(evil).decode("utf-8-sig")
    assert "'=1+1" in text and "'@cmd" in text and "'-x" in text


def test_empty_and_hostile_plans(pdf_text: Callable[[bytes], str]) -> None:
    empty = DevelopmentPlan(title="")
    assert "ingen indsatsområder" in pdf_text(plan_pdf(empty))
    assert plan_docx(empty)
    hostile = DevelopmentPlan(title="Plan", rows=(PlanRow("<b>x</b>", purpose="<i>y</i>"),))
    html = plan_html(hostile)
    assert "<b>x" not in html and "&lt;i&gt;y&lt;/i&gt;" in html

"""The development plan (udviklingsplan) as DOCX, PDF and CSV.

As in the municipalities' own plans: per focus area a heading, its priority,
time horizon and owner, an optional intro, and a table with the six rows
Formål, Aktivitet, Mål, Aktører, Tidsplan og opfølgning, Status.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.minutes import fmt
from server.minutes.csv import write_csv
from server.minutes.docx_common import (
    MUTED,
    add_draft_notice,
    add_key_value_table,
    add_kicker,
    add_meta,
    start_document,
    to_bytes,
    write_text,
)
from server.minutes.labels import Labels, labels_for
from server.minutes.model import PLAN_FIELDS, DevelopmentPlan, PlanRow
from server.minutes.pdf import html_to_pdf, page_css, render_template
from server.minutes.text import clean, one_line

EMPTY = "–"


@dataclass(frozen=True, slots=True)
class FocusAreaView:
    no: int
    title: str
    facts: tuple[tuple[str, str], ...]  # (label, value) for priority, horizon, owner
    description: str
    fields: tuple[tuple[str, str], ...]  # the six (label, text) rows


@dataclass(frozen=True, slots=True)
class PlanView:
    labels: Labels
    language: str
    title: str
    kicker: str
    is_draft: bool
    meta: tuple[tuple[str, str], ...]
    areas: tuple[FocusAreaView, ...]


def _facts(row: PlanRow, lab: Labels) -> tuple[tuple[str, str], ...]:
    facts = [
        (lab.priority, str(row.priority) if row.priority is not None else ""),
        (lab.horizon, lab.horizons[row.horizon] if row.horizon else ""),
        (lab.owner, one_line(row.owner)),
    ]
    return tuple((label, value) for label, value in facts if value)


def build_plan_view(plan: DevelopmentPlan) -> PlanView:
    lab = labels_for(plan.language)
    meta = [
        (lab.engagement, one_line(plan.engagement_title)),
        (lab.updated, fmt.long_date(plan.updated, plan.language) if plan.updated else ""),
    ]
    areas = tuple(
        FocusAreaView(
            no=no,
            title=one_line(row.title),
            facts=_facts(row, lab),
            description=clean(row.description).strip(),
            fields=tuple(
                (label, clean(getattr(row, name)).strip() or EMPTY)
                for label, name in zip(lab.plan_fields, PLAN_FIELDS, strict=True)
            ),
        )
        for no, row in enumerate(plan.rows, start=1)
    )
    return PlanView(
        labels=lab,
        language=plan.language,
        title=one_line(plan.title) or lab.development_plan,
        kicker=lab.development_plan,
        is_draft=plan.is_draft,
        meta=tuple((label, value) for label, value in meta if value),
        areas=areas,
    )


def plan_docx(plan: DevelopmentPlan) -> bytes:
    view = build_plan_view(plan)
    lab = view.labels
    doc = start_document(view.title, view.language, lab, is_draft=view.is_draft)
    write_text(doc.add_heading(level=0), view.title)
    add_kicker(doc, view.kicker)
    if view.is_draft:
        add_draft_notice(doc, lab)
    add_meta(doc, view.meta)
    if not view.areas:
        doc.add_paragraph(lab.no_focus_areas)
    for area in view.areas:
        write_text(doc.add_heading(level=1), f"{area.no}. {area.title}")
        if area.facts:
            paragraph = doc.add_paragraph()
            paragraph.paragraph_format.keep_with_next = True
            for index, (label, value) in enumerate(area.facts):
                run = paragraph.add_run(("  ·  " if index else "") + f"{label}: ")
                run.font.color.rgb = MUTED
                paragraph.add_run(value).bold = True
        if area.description:
            intro = doc.add_paragraph()
            intro.paragraph_format.keep_with_next = True
            write_text(intro, area.description)
        add_key_value_table(doc, area.fields, (4.4, 12.0))
    return to_bytes(doc)


def plan_html(plan: DevelopmentPlan) -> str:
    view = build_plan_view(plan)
    return render_template(
        "minutes/plan.html", view=view, page_css=page_css(view.labels, is_draft=view.is_draft)
    )


def plan_pdf(plan: DevelopmentPlan) -> bytes:
    return html_to_pdf(plan_html(plan))


def plan_csv(plan: DevelopmentPlan) -> bytes:
    """One line per focus area; the six rows become columns."""
    lab = labels_for(plan.language)
    head = [lab.priority, lab.focus_area, lab.horizon, lab.owner, *lab.plan_fields]
    rows = [
        [
            str(row.priority) if row.priority is not None else "",
            row.title,
            lab.horizons[row.horizon] if row.horizon else "",
            row.owner or "",
            *(getattr(row, name) for name in PLAN_FIELDS),
        ]
        for row in plan.rows
    ]
    return write_csv(head, rows)

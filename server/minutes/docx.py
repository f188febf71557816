"""Minutes as an editable Word document (DOCX) via python-docx."""

from __future__ import annotations

from docx.document import Document
from docx.shared import Pt

from server.minutes.docx_common import (
    MUTED,
    add_bullets,
    add_draft_notice,
    add_kicker,
    add_meta,
    add_table,
    start_document,
    to_bytes,
    write_text,
)
from server.minutes.model import Minutes
from server.minutes.view import MinutesView, PollView, build_view


def _poll(doc: Document, view: MinutesView, poll: PollView) -> None:
    lab = view.labels
    write_text(doc.add_heading(level=2), f"{poll.no}. {poll.question}")
    info_paragraph = doc.add_paragraph()
    info_paragraph.paragraph_format.keep_with_next = True
    info = info_paragraph.add_run(poll.info)
    info.font.color.rgb = MUTED
    info.font.size = Pt(9.5)
    if poll.results:
        add_table(
            doc,
            [lab.rank, lab.option, poll.value_head],
            [[r.rank, r.label, r.value] for r in poll.results],
            [2.6, 10.6, 3.2],
            right_aligned=(2,),
        )
    else:
        doc.add_paragraph(lab.no_votes)
    if poll.voters:
        caption = doc.add_paragraph()
        caption.paragraph_format.keep_with_next = True
        caption.add_run(lab.votes_by_name).bold = True
        add_table(doc, [lab.voter, lab.choice], [list(v) for v in poll.voters], [6.0, 10.4])


def _body(doc: Document, view: MinutesView) -> None:
    lab = view.labels
    if view.learning_question:
        doc.add_heading(lab.learning_question, level=1)
        write_text(doc.add_paragraph(style=doc.styles["Quote"]), view.learning_question)
    if view.participants:
        doc.add_heading(lab.participants, level=1)
        add_bullets(doc, view.participants)

    doc.add_heading(lab.decisions, level=1)
    if view.decisions:
        rows = [
            [str(d.no), d.text + (f" ({lab.edited})" if d.edited else ""), d.decided_by, d.step]
            for d in view.decisions
        ]
        add_table(
            doc,
            [lab.no, lab.decision, lab.decided_by, lab.step],
            rows,
            [1.1, 8.3, 3.5, 3.5],
            right_aligned=(0,),
        )
    else:
        doc.add_paragraph(lab.no_decisions)

    doc.add_heading(lab.actions, level=1)
    if view.actions:
        rows = [[str(a.no), a.what, a.who, a.due] for a in view.actions]
        add_table(
            doc,
            [lab.no, lab.action, lab.who, lab.due],
            rows,
            [1.1, 8.7, 3.6, 3.0],
            right_aligned=(0,),
        )
    else:
        doc.add_paragraph(lab.no_actions)

    if view.next_meeting:
        nm = view.next_meeting
        doc.add_heading(lab.next_meeting, level=1)
        add_meta(doc, [(lab.date, nm.when), *([(lab.place, nm.place)] if nm.place else [])])
        if nm.goals:
            doc.add_paragraph().add_run(f"{lab.goals}:").bold = True
            add_bullets(doc, nm.goals, numbered=True)

    if view.polls:
        doc.add_heading(lab.polls, level=1)
        for poll in view.polls:
            _poll(doc, view, poll)

    if view.agenda:
        doc.add_heading(lab.agenda, level=1)
        rows = [[str(a.no), a.title, a.start, a.duration] for a in view.agenda]
        add_table(
            doc,
            [lab.no, lab.step, lab.start, lab.duration],
            rows,
            [1.1, 10.3, 2.2, 2.8],
            right_aligned=(0,),
        )

    if view.step_contents:
        doc.add_heading(lab.step_contents, level=1)
        for step in view.step_contents:
            write_text(doc.add_heading(level=2), f"{step.no}. {step.title}")
            for cluster in step.clusters:
                if cluster.title:
                    write_text(doc.add_heading(level=3), cluster.title)
                add_bullets(doc, cluster.cards)


def render_docx(minutes: Minutes) -> bytes:
    view = build_view(minutes)
    doc = start_document(view.title, view.language, view.labels, is_draft=view.is_draft)
    write_text(doc.add_heading(level=0), view.title)
    add_kicker(doc, view.kicker)
    if view.is_draft:
        add_draft_notice(doc, view.labels)
    add_meta(doc, view.meta)
    _body(doc, view)
    return to_bytes(doc)

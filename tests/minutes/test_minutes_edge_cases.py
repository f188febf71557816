"""Edge cases across every format: empty, draft, huge, hostile text."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

import pytest
from minutes_samples import docx_text

from server.minutes.csv import actions_csv, decisions_csv, to_json
from server.minutes.docx import render_docx
from server.minutes.journal_note import render_journal_note
from server.minutes.markdown import render_markdown
from server.minutes.model import Cluster, Decision, Minutes, Poll, Step, VoterLine
from server.minutes.pdf import render_html, render_pdf

PdfText = Callable[[bytes], str]

HOSTILE = '<script>alert("x")</script><b>fed</b> <img src=x onerror=alert(1)>'


def test_empty_minutes_render_in_every_format(pdf_text: PdfText) -> None:
    empty = Minutes(title="", session_type="")
    md = render_markdown(empty)
    assert md.startswith("# Referat\n")
    assert "Der er ikke registreret nogen beslutninger." in md
    assert "Der er ikke registreret nogen handlinger." in docx_text(render_docx(empty))
    text = pdf_text(render_pdf(empty))
    assert "Referat" in text and "Side 1 af 1" in text
    assert decisions_csv(empty).decode("utf-8-sig").count("\r\n") == 1  # header only
    assert actions_csv(empty).decode("utf-8-sig").count("\r\n") == 1
    assert '"decisions": []' in to_json(empty)
    assert render_journal_note(empty)


@pytest.fixture
def draft(kvifa: Minutes) -> Minutes:
    return dataclasses.replace(kvifa, is_draft=True, ended_at=None)


def test_draft_is_marked_in_every_document(draft: Minutes, pdf_text: PdfText) -> None:
    assert "UDKAST" in render_markdown(draft)
    data = render_docx(draft)
    assert "UDKAST" in docx_text(data)
    import io

    import docx

    document = docx.Document(io.BytesIO(data))
    assert "UDKAST" in document.sections[0].header.paragraphs[0].text
    text = pdf_text(render_pdf(draft))
    assert "mødet er ikke afsluttet" in text
    pages = text.split("\f")
    assert all("UDKAST" in page for page in pages if page.strip())
    assert '"is_draft": true' in to_json(draft)


def test_draft_marker_is_english_in_english(draft: Minutes, pdf_text: PdfText) -> None:
    text = pdf_text(render_pdf(dataclasses.replace(draft, language="en")))
    assert "DRAFT" in text and "UDKAST" not in text
    assert "Page 1 of" in text


def test_html_in_user_text_stays_literal(kvifa: Minutes, pdf_text: PdfText) -> None:
    hostile = dataclasses.replace(
        kvifa,
        title=HOSTILE,
        decisions=(Decision(HOSTILE, decided_by=HOSTILE),),
        steps=(Step("Runde", "round", clusters=(Cluster(HOSTILE, (HOSTILE,)),)),),
        polls=(
            Poll(
                HOSTILE,
                "choice",
                1,
                kvifa.polls[0].results,
                named=True,
                voters=(VoterLine(HOSTILE, HOSTILE),),
            ),
        ),
    )
    html = render_html(hostile)
    assert "<script>" not in html and "<img" not in html and "<b>fed" not in html
    assert "&lt;script&gt;" in html
    text = pdf_text(render_pdf(hostile))
    assert text.count('<script>alert("x")</script><b>fed</b>') >= 4

    assert '<script>alert("x")</script><b>fed</b>' in docx_text(render_docx(hostile))

    md = render_markdown(hostile)
    assert re.search(r"(?<!\\)<", md) is None  # every "<" is backslash-escaped
    assert "\\<script\\>" in md


def test_control_characters_do_not_break_docx_or_pdf(kvifa: Minutes, pdf_text: PdfText) -> None:
    weird = dataclasses.replace(kvifa, decisions=(Decision("før\x00\x08\x1b efter\r\nny linje"),))
    assert "før efter" in docx_text(render_docx(weird))
    assert "før efter" in pdf_text(render_pdf(weird))


def test_five_hundred_cards_render(pdf_text: PdfText) -> None:
    cards = tuple(f"Kort nummer {i} om trivsel på skolen" for i in range(500))
    minutes = Minutes(
        title="Brainstorm",
        session_type="kickoff",
        steps=(
            Step(
                "Idéer",
                "brainstorm",
                clusters=(Cluster("Tema æøå", cards[:250]),),
                unclustered=cards[250:],
            ),
        ),
    )
    assert render_markdown(minutes).count("- Kort nummer") == 500
    assert docx_text(render_docx(minutes)).count("Kort nummer") == 500
    text = pdf_text(render_pdf(minutes))
    assert text.count("Kort nummer") == 500
    assert "Kort nummer 499 om trivsel på skolen" in text


def test_anonymous_poll_cannot_carry_voter_lines() -> None:
    with pytest.raises(ValueError, match="anonymous"):
        Poll("Spørgsmål", "choice", 1, voters=(VoterLine("Mette", "Ja"),))


def test_draft_shows_the_open_step_as_running(kvifa: Minutes) -> None:
    open_step = dataclasses.replace(kvifa.steps[4], duration_seconds=None)
    draft = dataclasses.replace(
        kvifa, is_draft=True, ended_at=None, steps=(*kvifa.steps[:4], open_step)
    )
    assert "| 5 | Beslutning om handling | 09.41 | i gang |" in render_markdown(draft)


def test_poll_without_votes(pdf_text: PdfText) -> None:
    minutes = Minutes(title="M", session_type="other", polls=(Poll("Hvad nu?", "choice", 0),))
    assert "Der er ikke afgivet nogen stemmer." in render_markdown(minutes)
    assert "Der er ikke afgivet nogen stemmer." in docx_text(render_docx(minutes))
    assert "Der er ikke afgivet nogen stemmer." in pdf_text(render_pdf(minutes))

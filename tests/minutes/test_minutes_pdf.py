"""PDF minutes via WeasyPrint, checked through pdftotext."""

from __future__ import annotations

import time
from collections.abc import Callable

from minutes_samples import assert_in_order, make_full_day

from server.minutes.model import Minutes, Poll, PollResultRow
from server.minutes.pdf import render_html, render_pdf

PdfText = Callable[[bytes], str]


def test_kvifa_pdf_has_everything_in_order(kvifa: Minutes, pdf_text: PdfText) -> None:
    pdf = render_pdf(kvifa)
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert_in_order(
        text,
        [
            "Faglig sparring om Sag 17",
            "tirsdag den 4. marts 2025",
            "kl. 09.00–09.55",
            "Sag 17",
            "Læringsspørgsmål",
            "Mette Søgaard (Sagsejer)",
            "Beslutninger",
            "Sagsejer indkalder til netværksmøde",
            "Sagen tages op igen i sparringsgruppen",
            "(redigeret)",
            "Handlinger",
            "Indkalde til netværksmøde med skole og PPR",
            "18.03.2025",
            "Gennemføre børnesamtale på skolen (§ 48)",
            "25.03.2025",
            "Jørgen Ålund",
            "07.03.2025",
            "Afstemninger",
            "Hvilket forslag skal sagsejer arbejde videre med først?",
            "1. Netværksmøde med skole og PPR",
            "2 (delt)",
            "1. Børnesamtale på skolen",
            "2 (delt)",
            "3. Henvisning til familiebehandling",
            "Dagsorden og forløb",
            "Kort og temaer fra punkterne",
            "Skolefravær > 20 % i efteråret",
        ],
    )
    assert "Side 1 af " in text
    assert "UDKAST" not in text


def test_workshop_pdf(workshop: Minutes, pdf_text: PdfText) -> None:
    text = pdf_text(render_pdf(workshop))
    assert_in_order(
        text,
        [
            "Implementeringsworkshop",
            "Hanne Østergaard (Afdelingsleder)",
            "Kvalitet i børnefaglige undersøgelser prioriteres højest",
            "Renskrive udviklingsplanen og sende den i høring",
            "Næste møde",
            "tirsdag den 26. august 2025, kl. 13.00–15.00",
            "Alle indsatsområder har en udpeget tovholder.",
            "Hvilke indsatsområder skal prioriteres først?",
            "1. Kvalitet i børnefaglige undersøgelser",
            "21",
            "2. Tidlig indsats og underretninger",
            "17 (delt)",
            "Stemmer med navn",
            "Søs Frølund",
        ],
    )


def test_pdf_html_is_danish_and_svg_chart_is_inline(kvifa: Minutes) -> None:
    html = render_html(kvifa)
    assert '<html lang="da">' in html
    assert '<svg xmlns="http://www.w3.org/2000/svg" role="img"' in html
    assert 'counter(page) " af " counter(pages)' in html
    assert "hyphens: auto" in html


def test_long_poll_is_split_into_several_charts(kvifa: Minutes, pdf_text: PdfText) -> None:
    rows = tuple(PollResultRow(f"Forslag nr. {i}", 40 - i, i) for i in range(1, 41))
    poll = Poll("Mange forslag", "approval", 20, rows)
    minutes = Minutes(title="Mange svar", session_type="kickoff", polls=(poll,))
    html = render_html(minutes)
    assert html.count("<svg") == 3
    text = pdf_text(render_pdf(minutes))
    assert "40. Forslag nr. 40" in text


def test_full_day_pdf_timing(pdf_text: PdfText) -> None:
    minutes = make_full_day()
    started = time.perf_counter()
    pdf = render_pdf(minutes)
    elapsed = time.perf_counter() - started
    text = pdf_text(pdf)
    pages = text.count("\f")
    print(f"\nfull-day meeting PDF (20 cases, 200 cards): {elapsed:.2f} s, {pages} pages")
    assert "Sag 20" in text
    assert text.count("læring") >= 200

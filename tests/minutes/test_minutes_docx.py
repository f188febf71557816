"""DOCX minutes: real Word styles, tables, Danish text, in the right order."""

from __future__ import annotations

import dataclasses
import io

import docx
from docx.shared import Cm
from minutes_samples import assert_in_order, docx_text

from server.minutes.docx import render_docx
from server.minutes.model import Minutes


def open_docx(data: bytes) -> docx.document.Document:
    return docx.Document(io.BytesIO(data))


def test_kvifa_docx_has_everything_in_order(kvifa: Minutes) -> None:
    text = docx_text(render_docx(kvifa))
    assert_in_order(
        text,
        [
            "Faglig sparring om Sag 17",
            "Referat · Faglig sparring (Kvifa)",
            "Dato: tirsdag den 4. marts 2025",
            "Tid: kl. 09.00–09.55",
            "Sag: Sag 17",
            "Læringsspørgsmål",
            "drengens egne ønsker til samvær",
            "Deltagere",
            "Mette Søgaard (Sagsejer)",
            "Åse Kjærgaard (Rådgiver)",
            "Beslutninger",
            "1 | Sagsejer indkalder til netværksmøde med skole og PPR",
            "2 | Sagen tages op igen i sparringsgruppen om seks uger. (redigeret)",
            "Handlinger",
            "1 | Indkalde til netværksmøde med skole og PPR | Mette Søgaard | 18.03.2025",
            "2 | Gennemføre børnesamtale på skolen (§ 48) | Mette Søgaard | 25.03.2025",
            "3 | Sende materiale om loyalitetskonflikter til teamet | Jørgen Ålund | 07.03.2025",
            "Afstemninger",
            "1. Hvilket forslag skal sagsejer arbejde videre med først?",
            "Placering | Svarmulighed | Stemmer",
            "1. (delt) | Netværksmøde med skole og PPR | 2",
            "1. (delt) | Børnesamtale på skolen | 2",
            "3. | Henvisning til familiebehandling | 1",
            "Dagsorden og forløb",
            "3 | Refleksionsrunde | 09.18 | 13 min",
            "Kort og temaer fra punkterne",
            "3. Refleksionsrunde",
            "Teori",
            "Loyalitetskonflikt er velbeskrevet",
            "Skolefravær > 20 % i efteråret",
        ],
    )
    assert "UDKAST" not in text


def test_docx_uses_real_heading_styles_and_tables(kvifa: Minutes) -> None:
    document = open_docx(render_docx(kvifa))
    by_style: dict[str, list[str]] = {}
    for paragraph in document.paragraphs:
        by_style.setdefault(paragraph.style.name, []).append(paragraph.text)
    assert by_style["Title"] == ["Faglig sparring om Sag 17"]
    assert by_style["Heading 1"] == [
        "Læringsspørgsmål",
        "Deltagere",
        "Beslutninger",
        "Handlinger",
        "Afstemninger",
        "Dagsorden og forløb",
        "Kort og temaer fra punkterne",
    ]
    assert "3. Refleksionsrunde" in by_style["Heading 2"]
    assert {"Teori", "Erfaring", "Etik"} <= set(by_style["Heading 3"])
    assert len(by_style["List Bullet"]) >= 6

    heads = [[cell.text for cell in table.rows[0].cells] for table in document.tables]
    assert ["Nr.", "Beslutning", "Besluttet af", "Punkt"] in heads
    assert ["Nr.", "Handling", "Ansvarlig", "Frist"] in heads
    assert ["Placering", "Svarmulighed", "Stemmer"] in heads
    for table in document.tables:
        assert table.style is not None and table.style.name == "Table Grid"
        # the header row repeats when a table runs over a page
        assert table.rows[0]._tr.trPr is not None


def test_docx_is_a4_danish_with_page_numbers(kvifa: Minutes) -> None:
    document = open_docx(render_docx(kvifa))
    section = document.sections[0]
    assert abs(section.page_width - Cm(21.0)) < Cm(0.01)
    assert abs(section.page_height - Cm(29.7)) < Cm(0.01)
    assert document.core_properties.language == "da-DK"
    assert document.core_properties.title == "Faglig sparring om Sag 17"
    footer_xml = section.footer._element.xml
    assert "PAGE" in footer_xml and "NUMPAGES" in footer_xml
    assert "Side" in section.footer.paragraphs[0].text
    assert 'w:val="da-DK"' in document.styles["Normal"].element.xml


def test_workshop_docx_named_votes_and_next_meeting(workshop: Minutes) -> None:
    text = docx_text(render_docx(workshop))
    assert_in_order(
        text,
        [
            "Handlinger",
            "4 | Planlægge temadag om barnets perspektiv | Bjørn Kæmpe | –",
            "Næste møde",
            "Dato: tirsdag den 26. august 2025, kl. 13.00–15.00",
            "Sted: Varde Rådhus, mødesal 1",
            "Det skal være nået til næste møde:",
            "Skabelonen for børnefaglige undersøgelser er afprøvet i to teams.",
            "Afstemninger",
            "1. Hvilke indsatsområder skal prioriteres først?",
            "Prikstemmer · Afgivne stemmer: 14",
            "1. | Kvalitet i børnefaglige undersøgelser | 21",
            "2. (delt) | Tidlig indsats og underretninger | 17",
            "2. (delt) | Handleplaner med målbare mål | 17",
            "2. Skal planen forelægges styregruppen den 12. juni?",
            "Stemmer med navn",
            "Deltager | Stemte",
            "Søs Frølund | Nej",
        ],
    )


def test_english_docx_uses_english_labels(kvifa: Minutes) -> None:
    english = dataclasses.replace(kvifa, language="en")
    document = open_docx(render_docx(english))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings[:4] == ["Learning question", "Participants", "Decisions", "Actions"]
    text = docx_text(render_docx(english))
    assert "Date: Tuesday 4 March 2025" in text
    assert "Time: 09:00–09:55" in text
    assert document.core_properties.language == "en-GB"

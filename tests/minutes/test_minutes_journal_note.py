"""The Kvifa journal note: roles, never names; nothing identifying beyond the case label."""

from __future__ import annotations

import dataclasses
import re

from minutes_samples import KVIFA_PARTICIPANTS, assert_in_order

from server.minutes.journal_note import render_journal_note
from server.minutes.model import Action, Decision, Minutes


def name_parts(minutes: Minutes) -> set[str]:
    parts: set[str] = set()
    for p in minutes.participants:
        if p.name:
            parts.add(p.name)
            parts.update(w for w in re.split(r"[\s.]+", p.name) if len(w) > 1)
    return parts


def test_journal_note_content(kvifa: Minutes) -> None:
    note = render_journal_note(kvifa)
    assert_in_order(
        note,
        [
            "Journalnotat: Faglig sparring (Kvifa)",
            "Dato: tirsdag den 4. marts 2025",
            "Sag: Sag 17",
            "Deltagere (roller): Sagsejer, Faglig koordinator, Rådgiver (3), Familiebehandler",
            "Læringsspørgsmål:",
            "drengens egne ønsker til samvær",
            "Beslutninger:",
            "1. Sagsejer indkalder til netværksmøde med skole og PPR",
            "2. Sagen tages op igen",
            "Aftalte handlinger:",
            "- Indkalde til netværksmøde med skole og PPR (ansvarlig: Sagsejer, frist: 18.03.2025)",
            "(ansvarlig: Faglig koordinator, frist: 07.03.2025)",
        ],
    )


def test_journal_note_contains_no_participant_names(kvifa: Minutes) -> None:
    chatty = dataclasses.replace(
        kvifa,
        decisions=(
            Decision("Mette Søgaard og Søren kontakter skolen; Åse Kjærgaards forslag følges."),
        ),
        actions=(
            Action("Line Møller sender referat til Jørgen", who="Mette Søgaard"),
            Action("Opfølgning", who="Åse"),
        ),
    )
    note = render_journal_note(chatty)
    for part in name_parts(chatty):
        assert part not in note, part
    assert "Sagsejer og Rådgiver kontakter skolen; Rådgivers forslag følges." in note
    assert "Familiebehandler sender referat til Faglig koordinator (ansvarlig: Sagsejer)" in note
    assert "Opfølgning (ansvarlig: Rådgiver)" in note
    assert {p.name for p in KVIFA_PARTICIPANTS if p.name} <= name_parts(kvifa)


def test_journal_note_masks_cpr_numbers(kvifa: Minutes) -> None:
    leaky = dataclasses.replace(kvifa, decisions=(Decision("Barnet (CPR 010203-1234) høres."),))
    note = render_journal_note(leaky)
    assert "010203" not in note and "[CPR fjernet]" in note


def test_single_decision_is_not_numbered(kvifa: Minutes) -> None:
    note = render_journal_note(dataclasses.replace(kvifa, decisions=kvifa.decisions[:1]))
    assert "Beslutning:\nSagsejer indkalder" in note


def test_journal_note_in_english(kvifa: Minutes) -> None:
    note = render_journal_note(dataclasses.replace(kvifa, language="en"))
    assert note.startswith("Journal note: Case sparring (Kvifa)\nDate: Tuesday 4 March 2025\n")
    assert "Participants (roles):" in note and "Agreed actions:" in note

"""Decisions and actions as CSV for Danish Excel, and as JSON.

Excel in Danish locale expects ``;`` between fields and needs a UTF-8 BOM to
read æ, ø, å correctly. Every cell is formula-neutralised: a cell that starts
with ``=``, ``+``, ``-``, ``@``, TAB or CR (after any leading spaces) gets a
leading apostrophe, so ``=HYPERLINK(...)`` typed by a participant stays text.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence

from server.minutes.labels import labels_for
from server.minutes.model import Minutes
from server.minutes.text import clean

BOM = "\ufeff"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """Prefix an apostrophe if a spreadsheet could read the cell as a formula."""
    if cell.lstrip(" ").startswith(_FORMULA_STARTS):
        return "'" + cell
    return cell


def write_csv(head: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    """UTF-8 with BOM, ``;``-separated, CRLF rows, every cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([clean(neutralise(h)) for h in head])
    for row in rows:
        writer.writerow([clean(neutralise(cell)) for cell in row])
    return (BOM + buffer.getvalue()).encode("utf-8")


def _context(minutes: Minutes) -> tuple[str, str]:
    day = minutes.meeting_date
    return minutes.title, day.isoformat() if day else ""


def decisions_csv(minutes: Minutes) -> bytes:
    lab = labels_for(minutes.language)
    title, day = _context(minutes)
    head = [
        lab.no,
        lab.decision,
        lab.decided_by,
        lab.step,
        lab.edited.capitalize(),
        lab.minutes,
        lab.date,
    ]
    rows = [
        [
            str(no),
            d.text,
            d.decided_by or "",
            d.step_title or "",
            lab.yes_word if d.edited else lab.no_word,
            title,
            day,
        ]
        for no, d in enumerate(minutes.decisions, start=1)
    ]
    return write_csv(head, rows)


def actions_csv(minutes: Minutes) -> bytes:
    """Due dates as ISO 8601 (2025-03-18), which Excel reads as a date in any locale."""
    lab = labels_for(minutes.language)
    title, day = _context(minutes)
    head = [lab.no, lab.action, lab.who, lab.due, lab.minutes, lab.date]
    rows = [
        [str(no), a.what, a.who or "", a.due.isoformat() if a.due else "", title, day]
        for no, a in enumerate(minutes.actions, start=1)
    ]
    return write_csv(head, rows)


def to_json(minutes: Minutes) -> str:
    """The decisions and actions, with enough context to stand alone."""
    day = minutes.meeting_date
    data = {
        "title": clean(minutes.title),
        "session_type": minutes.session_type,
        "language": minutes.language,
        "date": day.isoformat() if day else None,
        "is_draft": minutes.is_draft,
        "case_label": minutes.case_label,
        "decisions": [
            {
                "text": clean(d.text),
                "decided_by": d.decided_by,
                "step": d.step_title,
                "edited": d.edited,
            }
            for d in minutes.decisions
        ],
        "actions": [
            {"what": clean(a.what), "who": a.who, "due": a.due.isoformat() if a.due else None}
            for a in minutes.actions
        ],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"

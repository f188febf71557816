"""Decisions and actions as CSV for Danish Excel, and as JSON.

Excel in Danish locale expects ``;`` between fields and needs a UTF-8 BOM to
read æ, ø, å correctly. Every cell of every CSV the service writes (decisions,
actions, the development plan, the audit log) goes through :func:`cell`: the
text is *first* cleaned of characters no document can hold and *then*
formula-neutralised. In the other order a control character (U+0001) in
front of ``=HYPERLINK(...)`` passes the check, and the cleaning then takes it
away and leaves a live formula.

A cell is neutralised (gets a leading apostrophe, so it stays text) when it
starts with TAB, CR or LF, or when its first visible character, after any
whitespace, control or invisible format characters, is ``=``, ``+``, ``-``,
``@``, or one of their full-width or small forms (``＝ ＋ － ＠ ﹦ ﹢ ﹣ ﹫``) or the
minus sign ``−``: spreadsheets and input methods may fold those to the ASCII
sign, and an apostrophe costs nothing on the rare cell that starts with one.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Iterable, Sequence

from server.minutes.labels import labels_for
from server.minutes.model import Minutes
from server.minutes.text import clean

BOM = "\ufeff"

# = + - @, their full-width and small forms, and the minus sign.
_FORMULA_STARTS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63\ufe6b\u2212")
# Control, format (zero-width, bidi, BOM, soft hyphen) and separator characters:
# invisible in a cell, so skipped when looking for the first visible character.
_INVISIBLE = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})


def _first_visible(text: str) -> str:
    for char in text:
        if not (char.isspace() or unicodedata.category(char) in _INVISIBLE):
            return char
    return ""


def neutralise(text: str) -> str:
    """Prefix an apostrophe if a spreadsheet could read the cell as a formula."""
    if text[:1] in ("\t", "\r", "\n") or _first_visible(text) in _FORMULA_STARTS:
        return "'" + text
    return text


def cell(value: str | None) -> str:
    """One CSV cell: cleaned first, then neutralised (the order is the guard)."""
    return neutralise(clean(value))


def write_csv(head: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    """UTF-8 with BOM, ``;``-separated, CRLF rows, every cell through :func:`cell`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([cell(h) for h in head])
    for row in rows:
        writer.writerow([cell(value) for value in row])
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

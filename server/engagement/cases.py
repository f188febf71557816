"""The case register: pseudonymised cases, imported from CSV or a spreadsheet export.

A register is what the consultants keep while they screen cases: one line per
case with its pseudonym ("Sag 17"), its cover (forklæde, 10-12 lines on why it
was chosen and what to look for), a summary, the learning question and the
kick-off's focus points it touches. Municipal spreadsheets export with
semicolons and Danish headers, often in Windows-1252; all of that is read.

An import is all or nothing: if any row has an error, nothing is stored and
every row's problem is listed, so the file can be fixed and imported again.
CPR numbers in any text field are masked, with a note for the row.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import select

from server.engagement.common import (
    N_,
    Msg,
    Refused,
    clean_text,
    field_name,
    msg,
    msg_n,
    refuse,
)
from server.privacy.cpr import find_cpr, mask_cpr
from server.store.repo import Repo, new_id
from server.store.tables import Case, utcnow

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 2000
LIMITS = {
    "cover": 4000,
    "summary": 6000,
    "learning_question": 1000,
    "tags": 1000,
    "selection_reason": 1000,
}
TEXT_FIELDS = ("cover", "summary", "learning_question", "tags", "selection_reason")

# Header names as people write them, after `_key` (lower case, æøå spelt out).
HEADERS: dict[str, tuple[str, ...]] = {
    "label": ("sag", "sagsnavn", "sagsnr", "sagsnummer", "pseudonym", "label", "case", "nr"),
    "cover": (
        "forklaede",
        "forklaedet",
        "motivation",
        "motivation for udvaelgelse",
        "begrundelse for udvaelgelse",
        "cover",
    ),
    "summary": ("resume", "resumee", "sagsresume", "kort resume", "tekstresume", "summary"),
    "learning_question": (
        "laeringsspoergsmaal",
        "laeringsspoergsmal",
        "laeringssporgsmal",
        "konkret laeringsspoergsmaal",
        "spoergsmaal",
        "learning question",
    ),
    "tags": ("fokuspunkter", "fokuspunkt", "tags", "emner", "temaer", "focus points"),
    "selected": ("udvalgt", "valgt", "udvalgt til heldagsmoedet", "selected"),
    "selection_reason": ("begrundelse", "aarsag", "hvorfor udvalgt", "reason"),
}
YES = {"ja", "j", "x", "1", "yes", "y", "true", "sand"}
NO = {"", "nej", "n", "0", "no", "false", "falsk"}
LABEL_RE = re.compile(r"^(Sag|Case) [0-9A-Za-zÆØÅæøå][0-9A-Za-zÆØÅæøå-]{0,9}$")


def _key(header: str) -> str:
    text = header.strip().casefold()
    for a, b in (("æ", "ae"), ("ø", "oe"), ("å", "aa"), ("é", "e"), ("ü", "u")):
        text = text.replace(a, b)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch if ch.isalnum() else " " for ch in text if not unicodedata.combining(ch))
    return " ".join(text.split())


_HEADER_KEYS = {
    alias.replace(" ", ""): name for name, aliases in HEADERS.items() for alias in aliases
}


def column_of(header: str) -> str | None:
    """The field a column's header names ("Sags-resumé" -> summary), or None."""
    return _HEADER_KEYS.get(_key(header).replace(" ", ""))


def canonical_label(raw: str) -> str:
    """'17' and 'sag  17' become 'Sag 17'; other text is only trimmed."""
    text = " ".join(raw.split())
    if re.fullmatch(r"\d{1,6}", text):
        return f"Sag {text}"
    found = re.fullmatch(r"(?i)(sag|case)\s*(\S.*)", text)
    if found:
        word = "Sag" if found.group(1).casefold() == "sag" else "Case"
        return f"{word} {found.group(2)}"
    return text


def label_problem(label: str) -> Msg | None:
    """Why `label` cannot be a case's pseudonym, or None."""
    if not label:
        return msg(N_("the case has no label (such as “Sag 17”)."))
    if find_cpr(label) or not LABEL_RE.match(label):
        return msg(
            N_("“%(label)s” is not a pseudonym such as “Sag 17”: never use names or CPR numbers."),
            label=_shown(label),
        )
    return None


def _shown(text: str) -> str:
    """A label as it may appear in a message: short, and never a CPR number."""
    text = mask_cpr(" ".join(text.split()))
    return text if len(text) <= 40 else text[:39] + "…"


@dataclass
class CaseInput:
    row: int  # the row number as a spreadsheet shows it (the header is row 1)
    label: str
    cover: str = ""
    summary: str = ""
    learning_question: str = ""
    tags: str = ""
    selected: bool = False
    selection_reason: str = ""
    masked: int = 0


@dataclass
class ImportResult:
    cases: list[CaseInput] = field(default_factory=list)
    errors: list[Msg] = field(default_factory=list)
    notes: list[Msg] = field(default_factory=list)
    imported: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def decode(data: bytes) -> tuple[str, Msg | None]:
    """The file's text, and a note if it was not UTF-8."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), None
        except UnicodeDecodeError:  # half a character (a lone surrogate), or cut short
            text = data.decode("utf-16", errors="replace")
            return text, msg(N_("Some characters in the file could not be read; they show as �."))
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        return text, msg(N_("The file was not UTF-8; it was read as Windows-1252 (Excel's ANSI)."))


def _delimiter(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in (";", "\t", ",")}
    best = max(counts, key=lambda d: (counts[d], d == ";"))
    return best if counts[best] else ";"


def parse(data: bytes | str, existing_labels: Collection[str] = ()) -> ImportResult:
    """Check a register file row by row (nothing is stored)."""
    result = ImportResult()
    if isinstance(data, bytes):
        if len(data) > MAX_BYTES:
            result.errors.append(msg(N_("The file is too large (at most 2 MB).")))
            return result
        text, note = decode(data)
        if note:
            result.notes.append(note)
    else:
        text = data
    text = text.replace("\x00", "")
    if not text.strip():
        result.errors.append(msg(N_("The file is empty.")))
        return result
    delimiter = _delimiter(text)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error:
        result.errors.append(
            msg(
                N_(
                    "The file could not be read as CSV. Save it from the spreadsheet as “CSV (semikolonsepareret)”."
                )
            )
        )
        return result
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    header, body = rows[0], rows[1:]
    columns: dict[int, str] = {}
    for index, name in enumerate(header):
        target = column_of(name)
        if target is None:
            if name.strip():
                result.notes.append(
                    msg(N_("The column “%(name)s” was not imported."), name=_shown(name))
                )
        elif target in columns.values():
            result.errors.append(
                msg(N_("Two columns mean %(field)s; keep one of them."), field=field_name(target))
            )
        else:
            columns[index] = target
    if "label" not in columns.values():
        result.errors.append(
            msg(
                N_(
                    "The file has no column for the case's label. The first row must name the columns, such as: Sag;Forklæde;Resumé;Læringsspørgsmål;Fokuspunkter"
                )
            )
        )
        return result
    if result.errors:
        return result
    if not body:
        result.errors.append(msg(N_("The file has no cases below its header row.")))
        return result
    if len(body) > MAX_ROWS:
        result.errors.append(msg(N_("The file has more than %(n)s cases."), n=MAX_ROWS))
        return result
    seen: dict[str, int] = {}
    existing = {label.casefold() for label in existing_labels}
    for number, cells in enumerate(body, start=2):
        _row(result, number, cells, columns, len(header), seen, existing)
    return result


def _row(
    result: ImportResult,
    number: int,
    cells: list[str],
    columns: dict[int, str],
    width: int,
    seen: dict[str, int],
    existing: set[str],
) -> None:
    def error(problem: Msg) -> None:
        result.errors.append(msg(N_("Row %(row)s: %(problem)s"), row=number, problem=problem))

    extra = [c for c in cells[width:] if c.strip()]
    if extra:
        error(
            msg(
                N_(
                    "it has more cells than the file has columns (is there a semicolon in a text without quotation marks?)."
                )
            )
        )
        return
    values = {name: cells[i] if i < len(cells) else "" for i, name in columns.items()}
    label = canonical_label(values.get("label", ""))
    problem = label_problem(label)
    if problem is not None:
        error(problem)
        return
    key = label.casefold()
    if key in seen:
        error(
            msg(
                N_("%(label)s is also in row %(first)s; every case needs its own label."),
                label=label,
                first=seen[key],
            )
        )
        return
    seen[key] = number
    if key in existing:
        error(msg(N_("%(label)s is already in the register."), label=label))
        return
    case = CaseInput(row=number, label=label)
    masked_in: list[Msg] = []
    for name in TEXT_FIELDS:
        if name not in values:
            continue
        try:
            cleaned = clean_text(values[name], LIMITS[name], name)
        except Refused as refused:
            error(refused.messages[0])
            return
        setattr(case, name, cleaned.text)
        if cleaned.masked:
            case.masked += cleaned.masked
            masked_in.append(field_name(name))
    if "tags" in values:
        case.tags = normalise_tags(case.tags)
    chosen = " ".join(values.get("selected", "").split()).casefold()
    if chosen in YES:
        case.selected = True
    elif chosen not in NO:
        error(msg(N_("“Udvalgt” must be “ja” or “nej”.")))
        return
    if case.selected and not case.selection_reason:
        error(
            msg(
                N_("%(label)s is selected, but the reason for selecting it is missing."),
                label=label,
            )
        )
        return
    if case.masked:
        result.notes.append(
            msg_n(
                "Row %(row)s (%(label)s): %(num)d CPR number masked in %(fields)s.",
                "Row %(row)s (%(label)s): %(num)d CPR numbers masked in %(fields)s.",
                case.masked,
                row=number,
                label=label,
                fields=_join(masked_in),
            )
        )
    result.cases.append(case)


class _Joined(Msg):
    """Translated field names joined with commas."""

    def render(self, lang: str) -> str:
        return ", ".join(
            v.render(lang) if isinstance(v, Msg) else str(v) for v in self.params["items"]
        )


def _join(items: list[Msg]) -> Msg:
    return _Joined("", {"items": tuple(items)})


def normalise_tags(text: str) -> str:
    """'a, b;c' -> 'a; b; c' (a tag itself may not hold ';')."""
    parts = re.split(r"[;,\n]", text)
    unique: dict[str, str] = {}
    for part in parts:
        tag = " ".join(part.split())
        if tag:
            unique.setdefault(tag.casefold(), tag)
    return "; ".join(unique.values())


def tags_of(case: Case) -> list[str]:
    return [t for t in (p.strip() for p in case.tags.split(";")) if t]


async def import_cases(repo: Repo, engagement_id: str, data: bytes | str) -> ImportResult:
    """Parse and, if every row is right, store the cases (after those already there)."""
    async with repo.sessions() as db:
        existing = list(
            (await db.exec(select(Case).where(Case.engagement_id == engagement_id))).all()
        )
    result = parse(data, {c.label for c in existing})
    if not result.ok:
        return result
    start = max((c.position for c in existing), default=0)
    now = utcnow()
    async with repo.sessions() as db:
        for offset, item in enumerate(result.cases, start=1):
            db.add(
                Case(
                    id=new_id(),
                    engagement_id=engagement_id,
                    label=item.label,
                    position=start + offset,
                    cover=item.cover,
                    summary=item.summary,
                    learning_question=item.learning_question,
                    tags=item.tags,
                    selected=item.selected,
                    selection_reason=item.selection_reason,
                    selected_at=now if item.selected else None,
                )
            )
        await db.commit()
    result.imported = len(result.cases)
    return result


async def edit_case(repo: Repo, engagement_id: str, case_id: str, form: dict[str, Any]) -> int:
    """Change a case's texts from a form; returns how many CPR numbers were masked."""
    masked = 0
    values: dict[str, str] = {}
    for name in ("cover", "summary", "learning_question", "tags"):
        cleaned = clean_text(form.get(name, ""), LIMITS[name], name)
        values[name] = cleaned.text
        masked += cleaned.masked
    values["tags"] = normalise_tags(values["tags"])
    async with repo.sessions() as db:
        row = await db.get(Case, case_id)
        if row is None or row.engagement_id != engagement_id:
            raise refuse(N_("That case does not exist."))
        for key, value in values.items():
            setattr(row, key, value)
        db.add(row)
        await db.commit()
    return masked


def template_csv() -> str:
    """An empty register with the Danish headers, to fill in a spreadsheet."""
    return "Sag;Forklæde;Resumé;Læringsspørgsmål;Fokuspunkter;Udvalgt;Begrundelse\r\n"

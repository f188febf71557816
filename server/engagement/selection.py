"""Selecting the cases for the full-day meeting (20 in Varde), each with its reason.

The register holds every screened case (50 in Varde); the meeting goes through
the selected ones one by one. A case is selected with a reason (why this case
teaches something the others do not) and may be deselected again; the target
is the engagement's `selection_target`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, func, select

from server.engagement.common import N_, Msg, clean_text, masked_note, msg_n, refuse
from server.store.repo import Repo
from server.store.tables import Case, utcnow

REASON_MAX = 1000


@dataclass(frozen=True)
class SelectionResult:
    case: Case
    selected_count: int
    notes: tuple[Msg, ...] = ()


async def selected_count(repo: Repo, engagement_id: str) -> int:
    async with repo.sessions() as db:
        query = select(func.count()).where(
            Case.engagement_id == engagement_id, col(Case.selected).is_(True)
        )
        return int((await db.exec(query)).one())


async def set_selected(
    repo: Repo, engagement_id: str, case_id: str, *, selected: bool, reason: object, target: int
) -> SelectionResult:
    """Select (a reason is required) or deselect one case."""
    cleaned = clean_text(reason, REASON_MAX, "selection_reason")
    async with repo.sessions() as db:
        row = await db.get(Case, case_id)
        if row is None or row.engagement_id != engagement_id:
            raise refuse(N_("That case does not exist."))
        if selected and not cleaned.text:
            raise refuse(
                N_("Give the reason for selecting %(label)s: what can the meeting learn from it?"),
                label=row.label,
            )
        row.selected = selected
        row.selection_reason = cleaned.text if selected else ""
        row.selected_at = utcnow() if selected else None
        db.add(row)
        await db.commit()
        await db.refresh(row)
    count = await selected_count(repo, engagement_id)
    notes: list[Msg] = []
    if cleaned.masked and selected:
        notes.append(masked_note(cleaned.masked))
    if selected and count > target:
        notes.append(
            msg_n(
                "%(num)d case is selected, more than the %(target)s planned for the meeting.",
                "%(num)d cases are selected, more than the %(target)s planned for the meeting.",
                count,
                target=target,
            )
        )
    return SelectionResult(row, count, tuple(notes))

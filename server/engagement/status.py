"""Each plan row's status, as follow-up and steering-group meetings set it.

A follow-up meeting (every 6-8 weeks) or a steering-group meeting goes through
the plan area by area and sets each row's status (on track, delayed, ...) with
a short note; every change is kept with the session it was made in, so the
status note can show how a row moved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlmodel import col, select

from server.engagement import store
from server.engagement.common import N_, Msg, clean_text, masked_note, refuse
from server.scripts.schema import SessionType
from server.store.repo import Repo
from server.store.tables import PlanRow, PlanStatusUpdate, Session, utcnow

STATUSES = ("not_started", "on_track", "delayed", "stopped", "done")
STATUS_NAMES: Mapping[str, str] = {
    "not_started": N_("not started"),
    "on_track": N_("on track"),
    "delayed": N_("delayed"),
    "stopped": N_("stopped"),
    "done": N_("done"),
}
NOTE_MAX = 2000
STATUS_SESSION_TYPES = {
    SessionType.FOLLOW_UP,
    SessionType.STEERING_GROUP,
    SessionType.IMPLEMENTATION,
}


@dataclass(frozen=True)
class Updated:
    row: PlanRow
    changed: bool
    notes: tuple[Msg, ...]


async def update_status(
    repo: Repo,
    engagement_id: str,
    row_id: str,
    *,
    status: object,
    note: object,
    session: Session | None,
    user_id: int | None,
) -> Updated:
    """Set a row's status (and note); a repeat of the same status and note changes nothing."""
    if status not in STATUSES:
        raise refuse(N_("Choose a status: not started, on track, delayed, stopped or done."))
    assert isinstance(status, str)
    cleaned = clean_text(note, NOTE_MAX, "status_note")
    if session is not None and session.engagement_id != engagement_id:
        raise refuse(N_("That session does not belong to this engagement."))
    async with repo.sessions() as db:
        row = await db.get(PlanRow, row_id)
        if row is None or row.engagement_id != engagement_id:
            raise refuse(N_("That plan row does not exist."))
        changed = (row.status, row.status_note) != (status, cleaned.text)
        if changed:
            row.status = status
            row.status_note = cleaned.text
            row.updated_at = utcnow()
            db.add(row)
            db.add(
                PlanStatusUpdate(
                    plan_row_id=row.id,
                    session_id=session.id if session else None,
                    status=status,
                    note=cleaned.text,
                    user_id=user_id,
                )
            )
            await db.commit()
            await db.refresh(row)
    return Updated(row, changed, (masked_note(cleaned.masked),) if cleaned.masked else ())


async def history(repo: Repo, engagement_id: str) -> dict[str, list[PlanStatusUpdate]]:
    """Every status change of the engagement's rows, oldest first, per row."""
    rows = {r.id for r in await store.plan_rows_of(repo, engagement_id)}
    if not rows:
        return {}
    async with repo.sessions() as db:
        query = (
            select(PlanStatusUpdate)
            .where(col(PlanStatusUpdate.plan_row_id).in_(rows))
            .order_by(col(PlanStatusUpdate.at), col(PlanStatusUpdate.id))
        )
        found: dict[str, list[PlanStatusUpdate]] = {}
        for update in (await db.exec(query)).all():
            found.setdefault(update.plan_row_id, []).append(update)
        return found

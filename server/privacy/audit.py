"""The audit log: who read case material, who exported and who deleted what, when.

Entries carry ids and short labels (a session id, an engagement's title),
never case text. They are kept when an engagement is deleted: the log is the
proof that it was deleted, and by whom. `ACTIONS` lists every action name
written anywhere, so the administrator's page can explain each one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select

from server.store.repo import Repo
from server.store.tables import AuditLog, User

ACTIONS: dict[str, str] = {
    "session.open": "Opened a session's facilitator screen (case material)",
    "session.watch": "Opened a session's projector view",
    "minutes.read": "Read a session's minutes",
    "export": "Downloaded a session's document (minutes, CSV, journal note, plan)",
    "cases.read": "Read case material: the case register, a case wall on a projector, a session page (or took cases into a session)",
    "cases.import": "Imported cases into the engagement's register",
    "case.edit": "Changed a case in the register",
    "cases.select": "Selected or deselected a case for the case meeting",
    "engagement.settings": "Changed the engagement's settings",
    "focus_area.edit": "Added or changed a focus area",
    "consultation.open": "Opened a written consultation",
    "consultation.read": "Read a consultation and its comments",
    "consultation.close": "Closed a written consultation",
    "plan.edit": "Changed the development plan (a row or its status)",
    "participant.admit": "Let a participant into a case meeting",
    "participant.deny": "Refused a participant at a case meeting",
    "participant.remove": "Removed a participant from a session",
    "projector.revoke": "Revoked a session's projector links",
    "engagement.export": "Exported the engagement as an archive",
    "engagement.delete": "Deleted the engagement and everything in it",
    "engagement.purge": "Deleted the engagement after the retention period",
    "audit.read": "Read the audit log",
    "audit.export": "Exported the audit log",
    "login": "Logged in",
    "login.locked": "Login locked: repeated failures (a username from one address, or the account)",
    "login.failed": "Login failed: a wrong password or an unknown username (who: the address)",
    "login.throttled": "Logins refused for a minute: too many from one address or on one user",
    "totp.enable": "Turned on the second factor (TOTP)",
    "totp.disable": "Turned off the second factor (TOTP)",
}
"""Every action written to the audit log, with what it means (English msgid)."""

PAGE_SIZE = 200


async def record(
    repo: Repo,
    action: str,
    target: str,
    *,
    user: User | None = None,
    actor: str = "",
    engagement_id: str | None = None,
) -> None:
    """Write one entry; `target` names ids and labels only, never case text."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}: add it to ACTIONS")
    await repo.audit(
        action, target[:200], user=user, actor=actor[:120], engagement_id=engagement_id
    )


async def entries(
    repo: Repo,
    *,
    engagement_id: str | None = None,
    action: str | None = None,
    before: int | None = None,
    limit: int | None = PAGE_SIZE,
) -> list[AuditLog]:
    """Newest first; `before` pages on by id."""
    async with repo.sessions() as db:
        query = select(AuditLog).order_by(col(AuditLog.id).desc())
        if engagement_id:
            query = query.where(AuditLog.engagement_id == engagement_id)
        if action:
            query = query.where(AuditLog.action == action)
        if before is not None:
            query = query.where(col(AuditLog.id) < before)
        if limit is not None:
            query = query.limit(limit)
        return list((await db.exec(query)).all())


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S") + ("Z" if at.tzinfo is None else at.strftime("%z"))


CSV_HEAD = ("id", "at (UTC)", "actor", "user_id", "action", "target", "engagement_id")


def to_csv(rows: Sequence[AuditLog]) -> bytes:
    """The entries as CSV for Danish Excel, every cell neutralised against formulas."""
    from server.minutes.csv import write_csv

    return write_csv(
        CSV_HEAD,
        (
            (
                str(r.id or ""),
                _when(r.at),
                r.actor,
                "" if r.user_id is None else str(r.user_id),
                r.action,
                r.target,
                r.engagement_id or "",
            )
            for r in rows
        ),
    )

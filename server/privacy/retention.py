"""An engagement's data as one archive, its hard deletion, and the retention purge.

What belongs to an engagement is read off the schema, not listed by hand:
every table that reaches `engagement` through a chain of NOT NULL foreign
keys (sessions, their events, members, cases, focus areas, plan rows, ...).
A table added later is exported and deleted with its engagement without a
change here; a table that is neither owned nor listed in `GLOBAL` fails
tests/security/test_export_delete.py until someone decides which it is.

Deletion is one transaction, children first. On SQLite `secure_delete` is on
(server/store/db.py), so freed pages are overwritten with zeros, and a WAL
checkpoint (TRUNCATE) afterwards moves the change into the main file and
empties the write-ahead log, so no copy of the deleted rows stays in it.
On PostgreSQL deleted rows stay in the table's pages until VACUUM; see
docs/security.md.

The audit log is kept: it records that the data was exported or deleted.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import SQLModel

from server.store import tables as _tables  # noqa: F401  (registers the tables)

log = logging.getLogger(__name__)

ROOT = "engagement"
GLOBAL = frozenset({"user", "login_session", "audit_log"})
"""Tables that do not belong to one engagement. The audit log outlives what it records."""

FORMAT = "tovholder-engagement-export"
VERSION = 1


def _tables_by_name() -> Mapping[str, Table]:
    return SQLModel.metadata.tables


def owned_tables() -> list[Table]:
    """The engagement and every table that belongs to it, parents before children."""
    owned: set[str] = {ROOT}
    changed = True
    while changed:
        changed = False
        for table in SQLModel.metadata.sorted_tables:
            if table.name in owned or table.name in GLOBAL:
                continue
            if any(
                fk.column.table.name in owned and not fk.parent.nullable
                for fk in table.foreign_keys
            ):
                owned.add(table.name)
                changed = True
    return [t for t in SQLModel.metadata.sorted_tables if t.name in owned]


def unclassified() -> list[str]:
    """Tables neither owned by an engagement nor global: someone has to decide."""
    owned = {t.name for t in owned_tables()}
    return sorted(n for n in _tables_by_name() if n not in owned and n not in GLOBAL)


def _condition(table: Table, engagement_id: str, owned: set[str]) -> ColumnElement[bool]:
    """Rows of `table` that belong to the engagement (through NOT NULL foreign keys)."""
    if table.name == ROOT:
        return table.c.id == engagement_id
    links = [
        fk.parent.in_(select(fk.column).where(_condition(fk.column.table, engagement_id, owned)))
        for fk in table.foreign_keys
        if fk.column.table.name in owned and not fk.parent.nullable
    ]
    return or_(*links)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        try:
            return json.loads(value)
        except ValueError:
            return value.hex()
    return value


async def _rows(
    conn: AsyncConnection, table: Table, engagement_id: str, owned: set[str]
) -> list[dict[str, Any]]:
    query = select(table).where(_condition(table, engagement_id, owned))
    if "seq" in table.c and "session_id" in table.c:
        query = query.order_by(table.c.session_id, table.c.seq)
    result = await conn.execute(query)
    return [{k: _jsonable(v) for k, v in row._mapping.items()} for row in result]


Documents = Callable[[Mapping[str, Any], Sequence[Any]], Mapping[str, bytes]]
"""(session row, its events) -> {file name: content}: the documents of one session."""


def minutes_documents(session: Mapping[str, Any], events: Sequence[Any]) -> Mapping[str, bytes]:
    """The session's minutes as Markdown, and its decisions and actions as CSV."""
    from server.minutes.build import build_minutes
    from server.minutes.csv import actions_csv, decisions_csv
    from server.minutes.markdown import render_markdown

    minutes = build_minutes(
        events, title=session.get("title"), language=session.get("language") or None
    )
    return {
        "minutes.md": render_markdown(minutes).encode(),
        "decisions.csv": decisions_csv(minutes),
        "actions.csv": actions_csv(minutes),
    }


@dataclass(frozen=True)
class Export:
    engagement_id: str
    title: str
    archive: bytes
    counts: Mapping[str, int]


async def export_engagement(
    engine: AsyncEngine,
    engagement_id: str,
    *,
    documents: Documents | None = minutes_documents,
    now: datetime | None = None,
) -> Export | None:
    """The engagement as one zip archive, or None if it does not exist.

    engagement.json holds every row of every table the engagement owns
    (sessions' events apart); sessions/<id>/events.json each session's log;
    sessions/<id>/ its documents where they can be made.
    """
    from server.store.eventlog import decode

    owned_list = owned_tables()
    owned = {t.name for t in owned_list}
    data: dict[str, list[dict[str, Any]]] = {}
    async with engine.connect() as conn:
        for table in owned_list:
            if table.name == "event":
                continue
            data[table.name] = await _rows(conn, table, engagement_id, owned)
        if not data.get(ROOT):
            return None
        event_table = _tables_by_name()["event"]
        events_by_session: dict[str, list[dict[str, Any]]] = {}
        for row in await _rows(conn, event_table, engagement_id, owned):
            events_by_session.setdefault(row["session_id"], []).append(
                {"seq": row["seq"], "type": row["type"], "at": row["at"], "data": row["data"]}
            )
    stamp = (now or datetime.now(UTC)).isoformat()
    buffer = io.BytesIO()
    notes: list[str] = []
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "engagement.json",
            _dump(
                {
                    "format": FORMAT,
                    "version": VERSION,
                    "exported_at": stamp,
                    "engagement_id": engagement_id,
                    "tables": data,
                }
            ),
        )
        for session in data.get("session", []):
            sid = str(session["id"])
            events = events_by_session.get(sid, [])
            archive.writestr(f"sessions/{sid}/events.json", _dump(events))
            if documents is None or not events:
                continue
            try:
                decoded = [decode(e["type"], json.dumps(e["data"]).encode()) for e in events]
                for name, content in documents(session, decoded).items():
                    archive.writestr(f"sessions/{sid}/{name}", content)
            except Exception as exc:  # a document is a convenience; the log is the record
                log.warning("export: documents of session %s failed: %s", sid, type(exc).__name__)
                notes.append(f"sessions/{sid}: documents could not be made ({type(exc).__name__})")
        archive.writestr(
            "README.txt",
            "\n".join(
                [
                    f"Tovholder export of engagement {engagement_id}, {stamp}.",
                    "engagement.json: every row the engagement owns, table by table.",
                    "sessions/<id>/events.json: the session's event log, in order.",
                    "sessions/<id>/minutes.md, decisions.csv, actions.csv: its documents.",
                    "This archive holds case material: keep it as the case files are kept.",
                    *notes,
                    "",
                ]
            ),
        )
    counts = {name: len(rows) for name, rows in data.items()}
    counts["event"] = sum(len(v) for v in events_by_session.values())
    title = str(data[ROOT][0].get("title", ""))
    return Export(engagement_id, title, buffer.getvalue(), counts)


def _dump(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=1, default=str).encode()


@dataclass(frozen=True)
class Deleted:
    engagement_id: str
    title: str
    counts: Mapping[str, int]
    session_ids: tuple[str, ...]
    # The write-ahead log was emptied (SQLite): no copy of the deleted rows is
    # left in it. False if readers kept it busy: the next checkpoint empties it.
    log_cleared: bool = True


async def delete_engagement(engine: AsyncEngine, engagement_id: str) -> Deleted | None:
    """Delete the engagement and everything it owns, for good; None if it does not exist."""
    owned_list = owned_tables()
    owned = {t.name for t in owned_list}
    tables = _tables_by_name()
    counts: dict[str, int] = {}
    async with engine.begin() as conn:
        root = tables[ROOT]
        title = (
            await conn.execute(select(root.c.title).where(root.c.id == engagement_id))
        ).scalar()
        if title is None:
            return None
        session = tables["session"]
        session_ids = tuple(
            (
                await conn.execute(
                    select(session.c.id).where(session.c.engagement_id == engagement_id)
                )
            ).scalars()
        )
        # The conditions of children refer to their parents: count everything
        # first, then delete children before parents.
        for table in owned_list:
            counts[table.name] = int(
                (
                    await conn.execute(
                        select(func.count())
                        .select_from(table)
                        .where(_condition(table, engagement_id, owned))
                    )
                ).scalar()
                or 0
            )
        for table in reversed(owned_list):
            await conn.execute(delete(table).where(_condition(table, engagement_id, owned)))
        await _forget_names_in_audit(conn, tables["audit_log"], engagement_id)
    cleared = await checkpoint(engine)
    if not cleared:
        log.warning("engagement %s deleted; the write-ahead log is still busy", engagement_id)
    return Deleted(engagement_id, str(title), counts, session_ids, cleared)


# Audit entries name a participant by what they typed as their name (admitted
# to, refused from or removed from a session): the entry stays, the name goes
# with the engagement.
_NAMED_IN_AUDIT = ("participant.admit", "participant.deny", "participant.remove")
_FORGOTTEN = "participant:…"


async def _forget_names_in_audit(conn: AsyncConnection, audit: Table, engagement_id: str) -> None:
    rows = await conn.execute(
        select(audit.c.id, audit.c.target).where(
            audit.c.engagement_id == engagement_id, audit.c.action.in_(_NAMED_IN_AUDIT)
        )
    )
    for row_id, target in rows.all():
        kept = str(target).split(" participant:", 1)[0]
        await conn.execute(
            audit.update().where(audit.c.id == row_id).values(target=f"{kept} {_FORGOTTEN}")
        )


CHECKPOINT_TRIES = 20
CHECKPOINT_PAUSE = 0.05  # seconds between tries, while a reader finishes


async def checkpoint(engine: AsyncEngine) -> bool:
    """SQLite: move the WAL into the database file and empty it; True once it
    is empty (always elsewhere). A reader in the middle of a transaction keeps
    the log busy: tried again for about a second before giving up."""
    if engine.dialect.name != "sqlite":
        return True
    for attempt in range(CHECKPOINT_TRIES):
        async with engine.connect() as conn:
            busy, _, _ = (await conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))).one()
            await conn.commit()
        if not busy:
            return True
        if attempt + 1 < CHECKPOINT_TRIES:
            await asyncio.sleep(CHECKPOINT_PAUSE)
    return False


@dataclass(frozen=True)
class Stale:
    engagement_id: str
    title: str
    last_activity: datetime


async def stale_engagements(
    engine: AsyncEngine, retention_days: int, *, now: datetime | None = None
) -> list[Stale]:
    """Engagements with nothing new for longer than the retention period.

    The last activity is the newest of: the engagement's creation, its
    sessions' creation and end, and the last event in any of its sessions.
    """
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=retention_days)
    tables = _tables_by_name()
    eng, session, event = tables[ROOT], tables["session"], tables["event"]
    found: list[Stale] = []
    async with engine.connect() as conn:
        rows = (await conn.execute(select(eng.c.id, eng.c.title, eng.c.created_at))).all()
        for engagement_id, title, created_at in rows:
            times: list[datetime] = [_aware(created_at)]
            for started, ended in (
                await conn.execute(
                    select(session.c.created_at, session.c.ended_at).where(
                        session.c.engagement_id == engagement_id
                    )
                )
            ).all():
                times.extend(_aware(t) for t in (started, ended) if t is not None)
            last_event = (
                await conn.execute(
                    select(func.max(event.c.at)).where(
                        event.c.session_id.in_(
                            select(session.c.id).where(session.c.engagement_id == engagement_id)
                        )
                    )
                )
            ).scalar()
            if last_event is not None:
                times.append(datetime.fromtimestamp(float(last_event), UTC))
            last = max(times)
            if last < cutoff:
                found.append(Stale(str(engagement_id), str(title), last))
    return sorted(found, key=lambda s: s.last_activity)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def describe(counts: Mapping[str, int]) -> str:
    """'session: 3, event: 412, ...' for the audit log and the command line."""
    return ", ".join(f"{name}: {n}" for name, n in counts.items() if n)

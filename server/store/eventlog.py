"""The append-only event log of each session.

`append` writes a batch of events in one transaction (SQLAlchemy Core: the hot
path of a vote burst), numbering them from the session's next `seq`. The caller
acknowledges commands only after it returns: acked means durable. Events that
cannot be stored (not encodable, or a value the database refuses) raise
`Unstorable`, so the caller can tell them from a database that is unavailable.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import DataError
from sqlalchemy.ext.asyncio import AsyncEngine

from server.engine.events import SessionEnded, SessionStarted, from_record, to_record
from server.engine.registry import Event
from server.store.tables import Event as EventRow
from server.store.tables import Session as SessionRow

EVENTS = EventRow.__table__  # type: ignore[attr-defined]
SESSIONS = SessionRow.__table__  # type: ignore[attr-defined]


class Unstorable(Exception):
    """Some of the events cannot be stored; nothing was written.

    `positions` are the indexes (in the sequence given to `append`) of the events
    that could not be encoded; empty when the database refused a value of the
    batch without saying whose. `kind` names the error (for logs: never the text).
    """

    def __init__(self, positions: Sequence[int], kind: str) -> None:
        super().__init__(kind)
        self.positions = tuple(positions)
        self.kind = kind


def encode(ev: Event) -> tuple[str, bytes]:
    name, data = to_record(ev)
    return name, json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def decode(name: str, data: bytes) -> Event:
    return from_record(name, json.loads(data))


def listed_status(events: Sequence[Event]) -> dict[str, object] | None:
    """What the session's row shows in listings after `events`, if they change it.

    The log is the truth; the row's status is a copy for the overview and the
    timeline, written in the same transaction so the two never disagree.
    """
    status: dict[str, object] | None = None
    for ev in events:
        if isinstance(ev, SessionStarted):
            status = {"status": "running", "ended_at": None}
        elif isinstance(ev, SessionEnded):
            status = {"status": "ended", "ended_at": datetime.fromtimestamp(ev.at, UTC)}
    return status


class EventLog:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def append(self, session_id: str, first_seq: int, events: Sequence[Event]) -> int:
        """Store `events` as seq first_seq.. in one transaction; returns the last seq."""
        if not events:
            return first_seq - 1
        rows = []
        bad: list[int] = []
        kind = ""
        for i, ev in enumerate(events):
            try:
                name, data = encode(ev)
            except (ValueError, TypeError) as exc:  # e.g. UnicodeEncodeError: a lone surrogate
                bad.append(i)
                kind = kind or type(exc).__name__
                continue
            rows.append(
                {
                    "session_id": session_id,
                    "seq": first_seq + i,
                    "type": name,
                    "data": data,
                    "at": ev.at,
                }
            )
        if bad:  # every one of them at once: the caller leaves them all out in one go
            raise Unstorable(bad, kind)
        try:
            async with self.engine.begin() as conn:
                await conn.execute(insert(EVENTS), rows)
                status = listed_status(events)
                if status is not None:
                    await conn.execute(
                        update(SESSIONS).where(SESSIONS.c.id == session_id).values(**status)
                    )
        except DataError as exc:  # a value out of range, too long, not valid for its type
            raise Unstorable((), type(exc.orig).__name__ if exc.orig else "DataError") from exc
        return first_seq + len(events) - 1

    async def load(self, session_id: str, after: int = 0) -> list[Event]:
        """The session's events in order; with `after`, only those after that seq."""
        query = (
            select(EVENTS.c.type, EVENTS.c.data)
            .where(EVENTS.c.session_id == session_id)
            .order_by(EVENTS.c.seq)
        )
        if after:
            query = query.where(EVENTS.c.seq > after)
        async with self.engine.connect() as conn:
            result = await conn.execute(query)
            return [decode(name, data) for name, data in result.all()]

    async def last_seq(self, session_id: str) -> int:
        query = select(func.max(EVENTS.c.seq)).where(EVENTS.c.session_id == session_id)
        async with self.engine.connect() as conn:
            value = (await conn.execute(query)).scalar()
        return int(value or 0)

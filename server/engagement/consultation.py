"""The consultation (høring): written comments on the focus areas over 1½-2 weeks.

The coordinator opens it for a window of days; people reach it through its
own link and type its access code (sent separately), then comment on each
focus area. A comment after the window, or after the coordinator closed it,
is refused with the date it closed. The coordinator sees every comment, and
the comments travel on with their focus area into the implementation workshop
and the status note.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, select

from server.engagement import store
from server.engagement.common import N_, Msg, clean_text, masked_note, msg_n, refuse
from server.scripts.schema import ConsultationStep, Script
from server.store.repo import Repo, new_id, new_join_code, normalise_code
from server.store.tables import Consultation, ConsultationComment, utcnow

COMMENT_MAX = 4000
AUTHOR_MAX = 120
DEFAULT_DAYS = 12  # 1½-2 weeks
DAYS_MIN, DAYS_MAX = 1, 60
RECOMMENDED = (10, 14)


def default_days(script: Script | None) -> int:
    """The window the høring script asks for, else 12 days."""
    if script is not None:
        for step in script.steps:
            if isinstance(step, ConsultationStep):
                return step.window_days
    return DEFAULT_DAYS


def is_open(consultation: Consultation, now: datetime) -> bool:
    return consultation.closed_at is None and consultation.opens_at <= now < consultation.closes_at


def closed_on(consultation: Consultation) -> datetime:
    """When it stopped (or will stop) taking comments."""
    if consultation.closed_at is not None:
        return min(consultation.closed_at, consultation.closes_at)
    return consultation.closes_at


async def consultations_of(repo: Repo, engagement_id: str) -> list[Consultation]:
    async with repo.sessions() as db:
        query = (
            select(Consultation)
            .where(Consultation.engagement_id == engagement_id)
            .order_by(col(Consultation.opens_at))
        )
        return list((await db.exec(query)).all())


async def by_token(repo: Repo, token: str) -> Consultation | None:
    if not token or len(token) > 64:
        return None
    async with repo.sessions() as db:
        found = await db.exec(select(Consultation).where(Consultation.link_token == token))
        return found.first()


async def get(repo: Repo, engagement_id: str, consultation_id: str) -> Consultation | None:
    async with repo.sessions() as db:
        row = await db.get(Consultation, consultation_id)
        return row if row is not None and row.engagement_id == engagement_id else None


def code_ok(consultation: Consultation, code: object) -> bool:
    given = normalise_code(code if isinstance(code, str) else "")
    return secrets.compare_digest(given.encode(), consultation.access_code.encode())


@dataclass(frozen=True)
class Opened:
    consultation: Consultation
    notes: tuple[Msg, ...]


async def open_consultation(
    repo: Repo,
    engagement_id: str,
    *,
    title: str,
    days: object,
    session_id: str | None,
    user_id: int | None,
    now: datetime | None = None,
) -> Opened:
    now = now or utcnow()
    text = str(days or "").strip()
    if not (text.isascii() and text.isdigit()) or not DAYS_MIN <= int(text) <= DAYS_MAX:
        raise refuse(
            N_("The consultation must be open for 1 to %(most)s days (1½-2 weeks is usual)."),
            most=DAYS_MAX,
        )
    window = int(text)
    areas = await store.focus_areas_of(repo, engagement_id, include_dropped=False)
    if not areas:
        raise refuse(N_("There are no focus areas to comment on yet."))
    for existing in await consultations_of(repo, engagement_id):
        if is_open(existing, now):
            raise refuse(
                N_(
                    "A consultation is already open until %(date)s; close it before opening another."
                ),
                date=existing.closes_at,
            )
    row = Consultation(
        id=new_id(),
        engagement_id=engagement_id,
        session_id=session_id,
        title=title[:200],
        link_token=secrets.token_urlsafe(18),
        access_code=new_join_code(),
        opens_at=now,
        closes_at=now + timedelta(days=window),
        created_by=user_id,
    )
    async with repo.sessions() as db:
        db.add(row)
        await db.commit()
        await db.refresh(row)
    notes: list[Msg] = []
    if not RECOMMENDED[0] <= window <= RECOMMENDED[1]:
        notes.append(
            msg_n(
                "The window is %(num)d day; a consultation usually runs 1½-2 weeks.",
                "The window is %(num)d days; a consultation usually runs 1½-2 weeks.",
                window,
            )
        )
    return Opened(row, tuple(notes))


async def close(repo: Repo, consultation_id: str, now: datetime | None = None) -> Consultation:
    """Stop taking comments now (a repeat changes nothing)."""
    now = now or utcnow()
    async with repo.sessions() as db:
        row = await db.get(Consultation, consultation_id)
        if row is None:
            raise refuse(N_("That consultation does not exist."))
        if row.closed_at is None and now < row.closes_at:
            row.closed_at = now
            db.add(row)
            await db.commit()
            await db.refresh(row)
        return row


async def add_comment(
    repo: Repo,
    consultation: Consultation,
    *,
    focus_area_id: str,
    text: object,
    author: object,
    now: datetime | None = None,
) -> tuple[ConsultationComment, tuple[Msg, ...]]:
    now = now or utcnow()
    if not is_open(consultation, now):
        if now < consultation.opens_at:
            raise refuse(N_("The consultation has not opened yet."))
        raise refuse(
            N_(
                "The consultation closed on %(date)s, so comments can no longer be added. Send your comment to the coordinator instead."
            ),
            date=closed_on(consultation),
        )
    area = await store.focus_area(repo, consultation.engagement_id, focus_area_id)
    if area is None or area.outcome == "dropped":
        raise refuse(N_("That focus area is not part of the consultation."))
    body = clean_text(text, COMMENT_MAX, "comment", required=True)
    name = clean_text(author, AUTHOR_MAX, "name", one_line=True)
    row = ConsultationComment(
        consultation_id=consultation.id,
        focus_area_id=area.id,
        author=name.text,
        text=body.text,
        masked=body.masked + name.masked,
        created_at=now,
    )
    async with repo.sessions() as db:
        db.add(row)
        await db.commit()
        await db.refresh(row)
    masked = body.masked + name.masked
    return row, ((masked_note(masked),) if masked else ())


async def comments_by_area(
    repo: Repo, engagement_id: str, consultation_id: str | None = None
) -> dict[str, list[ConsultationComment]]:
    """Every comment on the engagement's focus areas (of one consultation, if given)."""
    async with repo.sessions() as db:
        query = (
            select(ConsultationComment)
            .join(Consultation, col(Consultation.id) == col(ConsultationComment.consultation_id))
            .where(Consultation.engagement_id == engagement_id)
            .order_by(col(ConsultationComment.created_at), col(ConsultationComment.id))
        )
        if consultation_id is not None:
            query = query.where(ConsultationComment.consultation_id == consultation_id)
        rows = (await db.exec(query)).all()
    found: dict[str, list[ConsultationComment]] = {}
    for row in rows:
        found.setdefault(row.focus_area_id, []).append(row)
    return found

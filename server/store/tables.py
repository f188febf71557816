"""The database tables (SQLModel over SQLAlchemy).

A session's truth is its append-only event log (`event`); everything shown on
a screen or written in the minutes is a fold of it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(index=True, unique=True, max_length=120)
    display_name: str = Field(default="", max_length=120)
    password_hash: str
    is_admin: bool = False
    language: str = Field(default="da", max_length=5)
    failed_logins: int = 0
    locked_until: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    # Second factor (server/web/totp.py): the base32 key once enrolled, the last
    # step a code was used for (no replay), and wrong codes since the last right one.
    totp_secret: str | None = Field(default=None, max_length=64)
    totp_last_step: int = 0
    totp_failures: int = 0


class LoginSession(SQLModel, table=True):
    __tablename__ = "login_session"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user.id", index=True)
    csrf: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime


class Engagement(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=32)
    title: str = Field(max_length=200)
    municipality: str = Field(default="", max_length=120)
    created_at: datetime = Field(default_factory=utcnow)


class EngagementMember(SQLModel, table=True):
    __tablename__ = "engagement_member"

    engagement_id: str = Field(foreign_key="engagement.id", primary_key=True, max_length=32)
    user_id: int = Field(foreign_key="user.id", primary_key=True)
    role: str = Field(default="facilitator", max_length=20)


class Session(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=32)
    engagement_id: str = Field(foreign_key="engagement.id", index=True, max_length=32)
    script_id: str = Field(max_length=64)
    title: str = Field(max_length=200)
    language: str = Field(default="da", max_length=5)
    join_code: str = Field(index=True, unique=True, max_length=16)
    status: str = Field(default="planned", max_length=16)
    position: int = 0
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None


class Event(SQLModel, table=True):
    """One event of one session; `seq` counts from 1 per session, without gaps."""

    __table_args__ = (UniqueConstraint("session_id", "seq", name="uq_event_session_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: str = Field(foreign_key="session.id", max_length=32)
    seq: int
    type: str = Field(max_length=64)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    at: float


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_at", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    user_id: int | None = None
    actor: str = Field(default="", max_length=120)
    action: str = Field(max_length=40)
    target: str = Field(default="", max_length=200)
    engagement_id: str | None = Field(default=None, max_length=32, index=True)

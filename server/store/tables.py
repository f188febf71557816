"""The database tables (SQLModel over SQLAlchemy).

A session's truth is its append-only event log (`event`); everything shown on
a screen or written in the minutes is a fold of it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

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
    totp_secret: str | None = Field(default=None, max_length=255)  # sealed (privacy/sealed.py)
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
    # Part of every projector link; "Revoke projector links" counts it up, and
    # links made before stop working (server/web/services.py projector_ok).
    projector_generation: int = 0


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


# -- the engagement's chain: cases, focus areas, consultation, development plan --------
# (server/engagement/ reads and writes these; deleting an engagement cascades.)


class EngagementSettings(SQLModel, table=True):
    """How an engagement runs: its cadences, the case-selection target, the focus points."""

    __tablename__ = "engagement_settings"

    engagement_id: str = Field(
        foreign_key="engagement.id", primary_key=True, max_length=32, ondelete="CASCADE"
    )
    starts_on: date | None = None
    steering_every_weeks: int | None = None
    steering_meetings: int | None = None
    follow_up_every_weeks: int | None = None
    selection_target: int = 20
    focus_points: str = Field(default="", max_length=4000)  # one per line (from the kick-off)


class SessionPlan(SQLModel, table=True):
    """When and where a session of an engagement is planned to take place."""

    __tablename__ = "session_plan"

    session_id: str = Field(
        foreign_key="session.id", primary_key=True, max_length=32, ondelete="CASCADE"
    )
    planned_on: date | None = None
    place: str = Field(default="", max_length=200)


class Case(SQLModel, table=True):
    """A pseudonymised case of the engagement's register ("Sag 17")."""

    __tablename__ = "engagement_case"
    __table_args__ = (UniqueConstraint("engagement_id", "label", name="uq_case_label"),)

    id: str = Field(primary_key=True, max_length=32)
    engagement_id: str = Field(
        foreign_key="engagement.id", index=True, max_length=32, ondelete="CASCADE"
    )
    label: str = Field(max_length=40)
    position: int = 0
    cover: str = Field(default="", max_length=4000)  # forklæde, 10-12 lines
    summary: str = Field(default="", max_length=6000)  # resumé
    learning_question: str = Field(default="", max_length=1000)
    tags: str = Field(default="", max_length=1000)  # focus points, separated by ";"
    selected: bool = False
    selection_reason: str = Field(default="", max_length=1000)
    selected_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class FocusArea(SQLModel, table=True):
    """An indsatsområde: proposed from the full-day meeting's themes, prioritised later."""

    __tablename__ = "focus_area"

    id: str = Field(primary_key=True, max_length=32)
    engagement_id: str = Field(
        foreign_key="engagement.id", index=True, max_length=32, ondelete="CASCADE"
    )
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=4000)
    position: int = 0
    outcome: str = Field(
        default="", max_length=16
    )  # after the consultation: ""|unchanged|adjusted|dropped
    priority: int | None = None  # 1 = first, from the implementation workshop's ranking
    horizon: str | None = Field(default=None, max_length=8)  # short | medium | long
    source_session_id: str | None = Field(
        default=None, foreign_key="session.id", max_length=32, ondelete="SET NULL"
    )
    source_cluster_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    # Whether the description may be shown without READ_CASES (to observers and to
    # the consultation's respondents): the coordinator's tick on the area's form, or
    # None while undecided (see `description_shared`).
    description_public: bool | None = None

    @property
    def description_shared(self) -> bool:
        """May the description be shown without READ_CASES? The coordinator's choice;
        undecided: yes for an area written by hand, no for one proposed from a case
        meeting's theme, whose first description is the meeting's cards."""
        if self.description_public is not None:
            return self.description_public
        return self.source_cluster_id is None


class Consultation(SQLModel, table=True):
    """A høring: focus areas open for written comments through a link and an access code."""

    __tablename__ = "consultation"

    id: str = Field(primary_key=True, max_length=32)
    engagement_id: str = Field(
        foreign_key="engagement.id", index=True, max_length=32, ondelete="CASCADE"
    )
    session_id: str | None = Field(
        default=None, foreign_key="session.id", max_length=32, ondelete="SET NULL"
    )
    title: str = Field(max_length=200)
    link_token: str = Field(unique=True, index=True, max_length=64)
    access_code: str = Field(max_length=16)
    opens_at: datetime = Field(default_factory=utcnow)
    closes_at: datetime
    closed_at: datetime | None = None
    created_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")


class ConsultationComment(SQLModel, table=True):
    __tablename__ = "consultation_comment"

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: str = Field(
        foreign_key="consultation.id", index=True, max_length=32, ondelete="CASCADE"
    )
    focus_area_id: str = Field(foreign_key="focus_area.id", max_length=32, ondelete="CASCADE")
    author: str = Field(default="", max_length=120)
    text: str = Field(max_length=4000)
    masked: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class PlanRow(SQLModel, table=True):
    """One row of the development plan (Formål, Aktivitet, Mål, Aktører, Tidsplan, Status)."""

    __tablename__ = "plan_row"

    id: str = Field(primary_key=True, max_length=32)
    engagement_id: str = Field(
        foreign_key="engagement.id", index=True, max_length=32, ondelete="CASCADE"
    )
    focus_area_id: str = Field(foreign_key="focus_area.id", max_length=32, ondelete="CASCADE")
    position: int = 0
    owner: str = Field(max_length=120)  # a named person who answers for the row
    purpose: str = Field(default="", max_length=2000)
    activity: str = Field(default="", max_length=2000)
    goal: str = Field(default="", max_length=2000)
    actors: str = Field(default="", max_length=1000)
    schedule: str = Field(default="", max_length=2000)
    status: str = Field(default="not_started", max_length=16)
    status_note: str = Field(default="", max_length=2000)
    source_session_id: str | None = Field(
        default=None, foreign_key="session.id", max_length=32, ondelete="SET NULL"
    )
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class PlanStatusUpdate(SQLModel, table=True):
    """A plan row's status as a follow-up or steering-group meeting set it."""

    __tablename__ = "plan_status_update"

    id: int | None = Field(default=None, primary_key=True)
    plan_row_id: str = Field(
        foreign_key="plan_row.id", index=True, max_length=32, ondelete="CASCADE"
    )
    session_id: str | None = Field(
        default=None, foreign_key="session.id", max_length=32, ondelete="SET NULL"
    )
    status: str = Field(max_length=16)
    note: str = Field(default="", max_length=2000)
    user_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    at: datetime = Field(default_factory=utcnow)

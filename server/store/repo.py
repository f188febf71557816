"""Queries and writes of the tables besides the event log."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.store.tables import (
    AuditLog,
    Engagement,
    EngagementMember,
    LoginSession,
    Session,
    User,
    utcnow,
)

# argon2id with argon2-cffi's defaults (RFC 9106's second recommendation:
# t=3, 64 MiB, p=4): ~0.2 s per hash or check on this hardware, by design.
SERVICE_HASHER = PasswordHasher()
_hasher = SERVICE_HASHER  # the one in use (the test suite swaps in a cheap one)
LOCKOUT_AFTER = 5
LOCKOUT_MINUTES = 15
# Join codes: no look-alikes (0/O, 1/I/L, 5/S, 2/Z, 8/B).
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY3469"
CODE_LENGTH = 8
# Case meetings are joined by an invitation link instead: 16 characters (73 bits),
# not guessable, and the lobby still lets nobody in without the facilitator.
INVITE_CODE_LENGTH = 16


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_id() -> str:
    return secrets.token_hex(8)


def new_join_code(length: int = CODE_LENGTH) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())[:32]


class Repo:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)

    # -- users and logins ----------------------------------------------------------

    async def add_user(
        self,
        username: str,
        password: str,
        display_name: str = "",
        *,
        is_admin: bool = False,
        language: str = "da",
    ) -> User:
        async with self.sessions() as db:
            user = User(
                username=username.strip().lower(),
                display_name=display_name or username,
                password_hash=hash_password(password),
                is_admin=is_admin,
                language=language,
            )
            db.add(user)
            await db.commit()
            await db.refresh(user)
            return user

    async def user_by_name(self, username: str) -> User | None:
        async with self.sessions() as db:
            result = await db.exec(select(User).where(User.username == username.strip().lower()))
            return result.first()

    async def user(self, user_id: int) -> User | None:
        async with self.sessions() as db:
            return await db.get(User, user_id)

    async def login(self, username: str, password: str, ttl_hours: float) -> tuple[str, User] | str:
        """(token, user) or a reason: 'invalid' or 'locked:<minutes>'."""
        async with self.sessions() as db:
            result = await db.exec(select(User).where(User.username == username.strip().lower()))
            user = result.first()
            now = utcnow()
            if user is None:
                verify_password(hash_password("x"), password)  # same cost as a real check
                return "invalid"
            if user.locked_until and user.locked_until > now:
                minutes = int((user.locked_until - now).total_seconds() // 60) + 1
                return f"locked:{minutes}"
            if not verify_password(user.password_hash, password):
                user.failed_logins += 1
                if user.failed_logins >= LOCKOUT_AFTER:
                    user.locked_until = now + timedelta(minutes=LOCKOUT_MINUTES)
                    user.failed_logins = 0
                db.add(user)
                await db.commit()
                return (
                    f"locked:{LOCKOUT_MINUTES}"
                    if user.locked_until and user.locked_until > now
                    else "invalid"
                )
            user.failed_logins = 0
            user.locked_until = None
            token = secrets.token_urlsafe(32)
            db.add(user)
            db.add(
                LoginSession(
                    token_hash=token_hash(token),
                    user_id=user.id or 0,
                    csrf=secrets.token_urlsafe(24),
                    expires_at=now + timedelta(hours=ttl_hours),
                )
            )
            await db.commit()
            await db.refresh(user)
            return token, user

    async def login_session(self, token: str) -> tuple[LoginSession, User] | None:
        async with self.sessions() as db:
            row = await db.get(LoginSession, token_hash(token))
            if row is None:
                return None
            if row.expires_at <= datetime.now(UTC):
                await db.delete(row)
                await db.commit()
                return None
            user = await db.get(User, row.user_id)
            return None if user is None else (row, user)

    async def logout(self, token: str) -> None:
        async with self.sessions() as db:
            await db.exec(
                delete(LoginSession).where(col(LoginSession.token_hash) == token_hash(token))
            )
            await db.commit()

    # -- engagements and sessions ----------------------------------------------------

    async def add_engagement(
        self, title: str, municipality: str, members: dict[int, str]
    ) -> Engagement:
        async with self.sessions() as db:
            eng = Engagement(id=new_id(), title=title, municipality=municipality)
            db.add(eng)
            await db.flush()
            for user_id, role in members.items():
                db.add(EngagementMember(engagement_id=eng.id, user_id=user_id, role=role))
            await db.commit()
            return eng

    async def engagements_of(self, user: User) -> list[Engagement]:
        async with self.sessions() as db:
            query = select(Engagement).order_by(col(Engagement.created_at))
            if not user.is_admin:
                query = query.join(EngagementMember).where(EngagementMember.user_id == user.id)
            return list((await db.exec(query)).all())

    async def member_role(self, user: User, engagement_id: str) -> str | None:
        if user.is_admin:
            return "administrator"
        async with self.sessions() as db:
            row = await db.get(EngagementMember, (engagement_id, user.id))
            return None if row is None else row.role

    async def engagement(self, engagement_id: str) -> Engagement | None:
        async with self.sessions() as db:
            return await db.get(Engagement, engagement_id)

    async def add_session(
        self,
        engagement_id: str,
        script_id: str,
        title: str,
        language: str,
        created_by: int | None,
        *,
        code_length: int = CODE_LENGTH,
    ) -> Session:
        async with self.sessions() as db:
            count = len(
                (
                    await db.exec(select(Session.id).where(Session.engagement_id == engagement_id))
                ).all()
            )
            for _ in range(10):
                code = new_join_code(code_length)
                if (
                    await db.exec(select(Session.id).where(Session.join_code == code))
                ).first() is None:
                    break
            row = Session(
                id=new_id(),
                engagement_id=engagement_id,
                script_id=script_id,
                title=title,
                language=language,
                join_code=code,
                position=count + 1,
                created_by=created_by,
            )
            db.add(row)
            await db.commit()
            return row

    async def session(self, session_id: str) -> Session | None:
        async with self.sessions() as db:
            return await db.get(Session, session_id)

    async def session_by_code(self, code: str) -> Session | None:
        async with self.sessions() as db:
            result = await db.exec(select(Session).where(Session.join_code == normalise_code(code)))
            return result.first()

    async def sessions_of(self, engagement_id: str) -> list[Session]:
        async with self.sessions() as db:
            query = (
                select(Session)
                .where(Session.engagement_id == engagement_id)
                .order_by(col(Session.position))
            )
            return list((await db.exec(query)).all())

    # -- audit -------------------------------------------------------------------------

    async def audit(
        self,
        action: str,
        target: str,
        *,
        user: User | None = None,
        actor: str = "",
        engagement_id: str | None = None,
    ) -> None:
        async with self.sessions() as db:
            db.add(
                AuditLog(
                    action=action,
                    target=target,
                    user_id=user.id if user else None,
                    actor=actor or (user.username if user else ""),
                    engagement_id=engagement_id,
                )
            )
            await db.commit()

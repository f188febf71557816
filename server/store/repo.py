"""Queries and writes of the tables besides the event log."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col, delete, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from server.store.tables import (
    AuditLog,
    Engagement,
    EngagementMember,
    FocusArea,
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
# Hashing and checking passwords runs in the app's `Passwords`, off the event loop.
PASSWORD_WORKERS = 1  # one check already keeps ~1.4 cores busy (argon2's 4 lanes are threads)
PASSWORD_WAITING = 8  # checks that may wait for a worker (~1.5 s at most); more are refused
PASSWORD_NICE = 10  # the workers' niceness above the app's: a live meeting's event loop first
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


T = TypeVar("T")


class PasswordsBusy(Exception):
    """Every password worker is busy and enough checks are waiting: refused, not queued."""


def _yield_to_the_event_loop() -> None:
    """A worker thread's start: lower its priority (Linux keeps one per thread, and
    the threads argon2 starts for its lanes inherit it). Best effort elsewhere."""
    with contextlib.suppress(AttributeError, OSError):
        me = threading.get_native_id()
        os.setpriority(
            os.PRIO_PROCESS, me, min(19, os.getpriority(os.PRIO_PROCESS, me) + PASSWORD_NICE)
        )


class Passwords:
    """Argon2 hashing and checking, off the event loop and a bounded number at a time.

    One per app (`Services` opens and closes it): `workers` threads run the
    checks, at most `waiting` more wait for one, and anything beyond that is
    refused at once with `PasswordsBusy` (the login page answers 503) instead of
    piling up. A flood of logins then costs the live meetings little: the
    event loop only hands work over, and the workers run at a lower priority.

    `dummy()` is a hash made once, when the pool opens, of a random password:
    a username that does not exist is checked against it, so it costs exactly
    one check, as a real user's wrong password does.

    `workers=0` runs everything inline, on the caller's thread (for a `Repo`
    outside the app: the command line, tests of the store).
    """

    def __init__(self, workers: int = PASSWORD_WORKERS, waiting: int = PASSWORD_WAITING) -> None:
        self.limit = workers + waiting
        self._pool = (
            ThreadPoolExecutor(
                workers, thread_name_prefix="argon2", initializer=_yield_to_the_event_loop
            )
            if workers > 0
            else None
        )
        self._lock = threading.Lock()
        self._outstanding = 0  # running or waiting
        self._dummy: Future[str] | None = None
        if self._pool is not None:
            self._dummy = self._pool.submit(hash_password, secrets.token_urlsafe(24))

    @property
    def full(self) -> bool:
        """No place for another check now (`run` would refuse it)."""
        return self._pool is not None and self._outstanding >= self.limit

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in a worker; `PasswordsBusy` when the workers and the queue are full."""
        if self._pool is None:
            return fn(*args)
        with self._lock:
            if self._outstanding >= self.limit:
                raise PasswordsBusy
            self._outstanding += 1
        try:
            future = self._pool.submit(fn, *args)
        except RuntimeError:  # shut down: the app is closing
            self._release()
            raise PasswordsBusy from None
        # Released when the work is done (or cancelled before it began), not when
        # the caller stops waiting: a request that gives up does not free a place.
        future.add_done_callback(self._release)
        return await asyncio.wrap_future(future)

    def _release(self, _done: object = None) -> None:
        with self._lock:
            self._outstanding -= 1

    async def hash(self, password: str) -> str:
        return await self.run(hash_password, password)

    async def verify(self, stored: str, password: str) -> bool:
        return await self.run(verify_password, stored, password)

    async def dummy(self) -> str:
        """The hash an unknown username is checked against (made once)."""
        if self._dummy is None:
            made: Future[str] = Future()
            made.set_result(hash_password(secrets.token_urlsafe(24)))
            self._dummy = made
        if not self._dummy.done():
            await asyncio.wrap_future(self._dummy)
        return self._dummy.result()

    async def verify_nobody(self, password: str) -> None:
        """What checking a password costs, for a username that does not exist."""
        await self.verify(await self.dummy(), password)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_id() -> str:
    return secrets.token_hex(8)


def new_join_code(length: int = CODE_LENGTH) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())[:32]


def _locked_for(user: User, now: datetime) -> int:
    """Whole minutes (rounded up) the account stays locked; 0 when it is not."""
    until = user.locked_until
    if until is None:
        return 0
    if until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    if until <= now:
        return 0
    return int((until - now).total_seconds() // 60) + 1


class Repo:
    def __init__(self, engine: AsyncEngine, passwords: Passwords | None = None) -> None:
        self.engine = engine
        self.sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        # The app's pool (Services); without one, hashing runs inline (command line).
        self.passwords = passwords or Passwords(workers=0)

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
        password_hash = await self.passwords.hash(password)
        async with self.sessions() as db:
            user = User(
                username=username.strip().lower(),
                display_name=display_name or username,
                password_hash=password_hash,
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
        """(token, user) or a reason: 'invalid' or 'locked:<minutes>'.

        Exactly one password check either way, in the app's pool (an unknown
        username is checked against `Passwords.dummy`), and no database session
        is held while it runs. Raises `PasswordsBusy` when the pool is full.
        Wrong passwords are counted by the login page, per username and address
        (server/web/throttle.py); `locked_until` here is the account's own lock
        (wrong second-factor codes, server/web/auth.py).
        """
        if self.passwords.full:
            raise PasswordsBusy  # at once, without asking the database first
        user = await self.user_by_name(username)
        if user is None:
            await self.passwords.verify_nobody(password)
            return "invalid"
        left = _locked_for(user, utcnow())
        if left:
            return f"locked:{left}"
        if not await self.passwords.verify(user.password_hash, password):
            return "invalid"
        async with self.sessions() as db:
            row = await db.get(User, user.id)
            now = utcnow()
            if row is None:
                return "invalid"
            left = _locked_for(row, now)
            if left:  # locked while the password was being checked
                return f"locked:{left}"
            row.failed_logins = 0
            row.locked_until = None
            token = secrets.token_urlsafe(32)
            db.add(row)
            db.add(
                LoginSession(
                    token_hash=token_hash(token),
                    user_id=row.id or 0,
                    csrf=secrets.token_urlsafe(24),
                    expires_at=now + timedelta(hours=ttl_hours),
                )
            )
            await db.commit()
            await db.refresh(row)
            return token, row

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

    async def revoke_projector_links(self, session_id: str) -> int | None:
        """Count the session's projector generation up: every link made before stops
        working. Returns the new generation (None: no such session). One UPDATE, so
        two workers revoking at once both count."""
        async with self.sessions() as db:
            await db.exec(
                update(Session)
                .where(col(Session.id) == session_id)
                .values(projector_generation=col(Session.projector_generation) + 1)
            )
            await db.commit()
            row = await db.get(Session, session_id, populate_existing=True)
            return None if row is None else row.projector_generation

    async def set_description_public(self, engagement_id: str, area_id: str, public: bool) -> None:
        """Whether a focus area's description may be shown without READ_CASES."""
        async with self.sessions() as db:
            await db.exec(
                update(FocusArea)
                .where(col(FocusArea.id) == area_id, col(FocusArea.engagement_id) == engagement_id)
                .values(description_public=public)
            )
            await db.commit()

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

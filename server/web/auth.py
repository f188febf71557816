"""Who may do what: login sessions, roles per engagement, and CSRF checks.

A person logs in with a password (and, when enrolled, a TOTP code); the
cookie holds a random token whose hash is the server-side login session.

Access is decided per engagement: a member has one role in it
(administrator, facilitator, coordinator or observer); a user with
`is_admin` is administrator of every engagement and also sees the
administration pages. `GRANTS` below is the whole policy, and `requires`
is the one way a page handler states what it needs, so the policy can be
read, tested and audited in one place (tests/security/test_authz_matrix.py).
An unknown role string in the database grants nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import wraps
from typing import Any
from urllib.parse import quote

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from server.engine.state import SessionState
from server.store.repo import LOCKOUT_AFTER, LOCKOUT_MINUTES, token_hash
from server.store.tables import LoginSession, User, utcnow
from server.web import totp
from server.web.services import Services

LOGIN_COOKIE = "tv_login"
CSRF_COOKIE = "tv_csrf"
HOST_PREFIX = "__Host-"  # under https: the cookie is this host's alone (no domain, path /, Secure)


def login_cookie(conn: HTTPConnection) -> str:
    """The login cookie's name: `__Host-tv_login` under https, so no other host
    (a subdomain) can set or overwrite it."""
    return _named(conn, LOGIN_COOKIE)


def csrf_cookie(conn: HTTPConnection) -> str:
    return _named(conn, CSRF_COOKIE)


def _named(conn: HTTPConnection, name: str) -> str:
    return HOST_PREFIX + name if services(conn).settings.secure_cookies else name


CSRF_HEADER = "x-csrf-token"  # htmx posts from live fragments send it (hx-headers)


class Role(StrEnum):
    ADMINISTRATOR = "administrator"
    FACILITATOR = "facilitator"
    COORDINATOR = "coordinator"
    OBSERVER = "observer"


class Perm(StrEnum):
    """What a page or a websocket action needs."""

    SIGNED_IN = "signed_in"  # any logged-in user (what they then see is filtered)
    SEE = "see"  # the engagement and the list of its sessions
    WATCH = "watch"  # the projector view of sessions without case material (wall_permission)
    RUN = "run"  # create and drive sessions: the facilitator screen and its commands
    READ_CASES = "read_cases"  # minutes, documents, the case register
    EDIT_MINUTES = "edit_minutes"  # reword decisions and actions after the session
    EXPORT = "export"  # the whole engagement as one archive
    DELETE = "delete"  # the engagement, for good
    ADMIN = "admin"  # the administration pages (audit log, all engagements): is_admin only


GRANTS: dict[Role, frozenset[Perm]] = {
    Role.ADMINISTRATOR: frozenset(
        {
            Perm.SEE,
            Perm.WATCH,
            Perm.RUN,
            Perm.READ_CASES,
            Perm.EDIT_MINUTES,
            Perm.EXPORT,
            Perm.DELETE,
        }
    ),
    Role.FACILITATOR: frozenset(
        {Perm.SEE, Perm.WATCH, Perm.RUN, Perm.READ_CASES, Perm.EDIT_MINUTES}
    ),
    Role.COORDINATOR: frozenset(
        {Perm.SEE, Perm.WATCH, Perm.READ_CASES, Perm.EDIT_MINUTES, Perm.EXPORT}
    ),
    Role.OBSERVER: frozenset({Perm.SEE, Perm.WATCH}),
}
"""Per-engagement permissions of each role. ADMIN comes from `User.is_admin` only."""


def parse_role(value: object) -> Role | None:
    try:
        return Role(str(value))
    except ValueError:
        return None


def may(role: Role | None, perm: Perm) -> bool:
    return role is not None and perm in GRANTS[role]


CASE_SESSION_TYPES = frozenset({"case_meeting", "kvifa", "family_conference"})
"""Sessions about a child's case as a whole: the full-day case meeting, Kvifa sparring on
one case, a family group conference. Their wall is case material even with no case
from the register in them (a Kvifa case is presented aloud; the cards are about it)."""


def carries_cases(state: SessionState) -> bool:
    """Whether a session's wall (projector, facilitator screen) shows case material:
    cases taken in from the register, a case walkthrough step, or a case session."""
    script = state.script
    return (
        bool(state.cases)
        or str(script.session_type) in CASE_SESSION_TYPES
        or any(step.kind == "case_walkthrough" for step in script.steps)
    )


def wall_permission(state: SessionState) -> Perm:
    """What it takes to watch a session's wall as a member: READ_CASES for case
    material (an observer does not see it), WATCH otherwise."""
    return Perm.READ_CASES if carries_cases(state) else Perm.WATCH


def services(conn: HTTPConnection) -> Services:
    svc: Services = conn.app.state.services
    return svc


async def current_user(conn: HTTPConnection) -> User | None:
    cached: Any = conn.scope.get("tv_user", False)
    if cached is not False:
        return cached  # type: ignore[no-any-return]
    token = conn.cookies.get(login_cookie(conn))
    user: User | None = None
    if token:
        found = await services(conn).repo.login_session(token)
        user = found[1] if found else None
    conn.scope["tv_user"] = user
    return user


async def still_signed_in(conn: HTTPConnection, user_id: int) -> bool:
    """The login behind this connection still exists (not logged out, not expired).

    Unlike `current_user` this is never cached: a long-lived websocket asks it
    again before acting, so logging out ends what an open screen may do too.
    """
    token = conn.cookies.get(login_cookie(conn))
    if not token:
        return False
    found = await services(conn).repo.login_session(token)
    return found is not None and found[1].id == user_id


async def still_permitted(conn: HTTPConnection, actor_id: str, perm: Perm, session_id: str) -> bool:
    """An open facilitator screen (actor 'user:<id>') may still act in this session.

    Asked before every command, never cached: logging out, an expired login
    or a role taken away ends what an already open websocket may do.
    """
    user_id = actor_id.removeprefix("user:")
    if not user_id.isdigit() or not await still_signed_in(conn, int(user_id)):
        return False
    svc = services(conn)
    user = await svc.repo.user(int(user_id))
    row = await svc.repo.session(session_id)
    return (
        user is not None
        and row is not None
        and may(await role_in(conn, user, row.engagement_id), perm)
    )


async def role_in(conn: HTTPConnection, user: User, engagement_id: str) -> Role | None:
    if user.is_admin:
        return Role.ADMINISTRATOR
    return parse_role(await services(conn).repo.member_role(user, engagement_id))


async def permitted(
    conn: HTTPConnection, user: User | None, perm: Perm, engagement_id: str
) -> bool:
    if user is None:
        return False
    if perm is Perm.SIGNED_IN:
        return True
    if perm is Perm.ADMIN:
        return user.is_admin
    return may(await role_in(conn, user, engagement_id), perm)


async def engagement_in_path(conn: HTTPConnection) -> str | None:
    """The engagement a path is about: {engagement_id}, or the one of {session_id}."""
    params = conn.path_params
    if "engagement_id" in params:
        engagement_id = str(params["engagement_id"])
        return engagement_id if await services(conn).repo.engagement(engagement_id) else None
    if "session_id" in params:
        row = await services(conn).repo.session(str(params["session_id"]))
        return None if row is None else row.engagement_id
    return None


SAFE_METHODS = ("GET", "HEAD")
Handler = Callable[[Request, User], Awaitable[Response]]
Page = Callable[[Request], Awaitable[Response]]

NOT_FOUND = {
    "session_id": "That session does not exist.",
    "engagement_id": "That engagement does not exist.",
}


def requires(perm: Perm, *, audit: str | None = None) -> Callable[[Handler], Page]:
    """Let a handler run only for a user with `perm` in the engagement of its path.

    Nobody logged in: a GET goes to the login page (and back after), anything
    else is refused with 401. Logged in without the permission: 404 for a
    path naming a session or engagement (its existence is not revealed),
    otherwise 403. Anything but GET/HEAD must carry the form's CSRF token
    (400 otherwise). With `audit`, every allowed request is written to the
    audit log under that action (reading case material).
    """

    def decorate(handler: Handler) -> Page:
        @wraps(handler)
        async def wrapper(request: Request) -> Response:
            from server.privacy.audit import record
            from server.web.pages.common import error, redirect

            user = await current_user(request)
            if user is None:
                if request.method in SAFE_METHODS:
                    return redirect(f"/login?next={quote(request.url.path)}")
                return await error(request, 401, "Log in first.")
            engagement_id: str | None = None
            if perm not in (Perm.SIGNED_IN, Perm.ADMIN):
                engagement_id = await engagement_in_path(request)
                if engagement_id is None or not await permitted(request, user, perm, engagement_id):
                    key = next((k for k in NOT_FOUND if k in request.path_params), None)
                    if key is None:
                        return await error(request, 403, "You do not have access to that.")
                    return await error(request, 404, NOT_FOUND[key])
            elif not await permitted(request, user, perm, ""):
                return await error(request, 403, "You do not have access to that.")
            if request.method not in SAFE_METHODS:
                form = await request.form()
                token = form.get("csrf") or request.headers.get(CSRF_HEADER)
                if not await csrf_ok(request, token):
                    return await error(request, 400, "The form had expired. Please try again.")
            if audit:
                await record(
                    services(request).repo,
                    audit,
                    target_of(request),
                    user=user,
                    engagement_id=engagement_id,
                )
            return await handler(request, user)

        wrapper.permission = perm  # type: ignore[attr-defined]
        return wrapper

    return decorate


def target_of(conn: HTTPConnection) -> str:
    """What an audited request is about, for the audit log (ids, never content)."""
    params = conn.path_params
    ids = [f"{k.removesuffix('_id')}:{v}" for k, v in params.items() if k.endswith("_id")]
    return " ".join(ids)[:200] if ids else conn.url.path[:200]


# -- logging in: the second factor -----------------------------------------------------

TOTP_PENDING_SECONDS = 300  # between the right password and the code
TOTP_SALT = "totp-login"
TOTP_ENROL_SALT = "totp-enrol"


def _signer(conn: HTTPConnection, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(services(conn).settings.secret_keys, salt=salt)


def pending_login(conn: HTTPConnection, user: User, next_url: str) -> str:
    """A signed note that this user gave the right password just now (for the code form)."""
    return _signer(conn, TOTP_SALT).dumps([user.id, next_url])


def pending_from(conn: HTTPConnection, token: object) -> tuple[int, str] | None:
    if not isinstance(token, str) or len(token) > 500:
        return None
    try:
        user_id, next_url = _signer(conn, TOTP_SALT).loads(token, max_age=TOTP_PENDING_SECONDS)
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(user_id, int) or not isinstance(next_url, str):
        return None
    return user_id, next_url


def enrol_token(conn: HTTPConnection, user: User, secret: str) -> str:
    return _signer(conn, TOTP_ENROL_SALT).dumps([user.id, secret])


def enrol_from(conn: HTTPConnection, user: User, token: object) -> str | None:
    """The secret being enrolled, if the token is this user's and recent (15 minutes)."""
    if not isinstance(token, str) or len(token) > 500:
        return None
    try:
        user_id, secret = _signer(conn, TOTP_ENROL_SALT).loads(token, max_age=900)
    except (BadSignature, ValueError, TypeError):
        return None
    return secret if user_id == user.id and isinstance(secret, str) else None


async def start_login(conn: HTTPConnection, user: User) -> str:
    """A new server-side login session for the user; returns the cookie's token."""
    svc = services(conn)
    token = secrets.token_urlsafe(32)
    async with svc.repo.sessions() as db:
        db.add(
            LoginSession(
                token_hash=token_hash(token),
                user_id=user.id or 0,
                csrf=secrets.token_urlsafe(24),
                expires_at=utcnow() + timedelta(hours=svc.settings.login_ttl_hours),
            )
        )
        await db.commit()
    return token


async def check_second_factor(conn: HTTPConnection, user_id: int, code: object) -> User | str:
    """The user if `code` is right now; else 'invalid', 'locked:<minutes>' or 'gone'.

    Wrong codes count apart from wrong passwords (a right password does not
    reset them) and lock the account like five wrong passwords do.
    """
    now = utcnow()
    async with services(conn).repo.sessions() as db:
        user = await db.get(User, user_id)
        sealer = services(conn).sealer
        secret = sealer.open(user.totp_secret) if user and user.totp_secret else None
        if user is None or secret is None:
            return "gone"
        if user.locked_until and _aware(user.locked_until) > now:
            return f"locked:{int((_aware(user.locked_until) - now).total_seconds() // 60) + 1}"
        step = totp.verify(secret, code, now.timestamp(), user.totp_last_step)
        if step is None:
            user.totp_failures += 1
            locked = user.totp_failures >= LOCKOUT_AFTER
            if locked:
                user.locked_until = now + timedelta(minutes=LOCKOUT_MINUTES)
                user.totp_failures = 0
            db.add(user)
            await db.commit()
            return f"locked:{LOCKOUT_MINUTES}" if locked else "invalid"
        user.totp_last_step = step
        user.totp_failures = 0
        user.failed_logins = 0
        if not sealer.current(user.totp_secret or ""):
            user.totp_secret = sealer.seal(secret)  # from before sealing, or an older secret
        db.add(user)
        await db.commit()
        await db.refresh(user)
        return user


async def set_second_factor(
    conn: HTTPConnection, user: User, secret: str | None, step: int = 0
) -> None:
    async with services(conn).repo.sessions() as db:
        row = await db.get(User, user.id)
        if row is None:
            return
        row.totp_secret = None if secret is None else services(conn).sealer.seal(secret)
        row.totp_last_step = step
        row.totp_failures = 0
        db.add(row)
        await db.commit()
    conn.scope.pop("tv_user", None)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# -- CSRF: double-submit token, bound to the login -------------------------------------
#
# The browser holds a random cookie (HttpOnly, SameSite=Strict); each form carries
# an HMAC under the server's secret of that cookie and of the login behind the
# request. A token is therefore good only for this browser and this login: it
# changes at login and logout (and the cookie itself is made anew at login),
# so a token planted or seen before someone logs in is worth nothing after.


def _bound(secret: str, cookie: str, login: str) -> str:
    login_part = token_hash(login) if login else ""
    mac = hmac.new(secret.encode(), f"csrf|{cookie}|{login_part}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def csrf_token(request: Request) -> str:
    """The token for this browser's forms (its cookie is set when missing)."""
    cookie = request.scope.get("tv_new_csrf") or request.cookies.get(csrf_cookie(request))
    if not cookie:
        cookie = secrets.token_urlsafe(24)
        request.scope["tv_new_csrf"] = cookie
    login = request.scope.get("tv_new_login") or request.cookies.get(login_cookie(request)) or ""
    return _bound(services(request).settings.secret_key, str(cookie), str(login))


def set_csrf_cookie(request: Request, response: Response) -> None:
    new = request.scope.get("tv_new_csrf")
    if new:
        response.set_cookie(
            csrf_cookie(request),
            new,
            httponly=True,
            samesite="strict",
            secure=services(request).settings.secure_cookies,
        )


async def csrf_ok(request: Request, form_token: object) -> bool:
    cookie = request.cookies.get(csrf_cookie(request))
    if not cookie or not isinstance(form_token, str):
        return False
    login = request.cookies.get(login_cookie(request)) or ""
    given = form_token.encode()
    return any(
        secrets.compare_digest(_bound(secret, cookie, login).encode(), given)
        for secret in services(request).settings.secret_keys
    )


def set_login_cookie(request: Request, response: Response, token: str) -> None:
    svc = services(request)
    # A new login gets a new CSRF cookie too (so no token from before it works).
    request.scope["tv_new_csrf"] = secrets.token_urlsafe(24)
    request.scope["tv_new_login"] = token
    set_csrf_cookie(request, response)
    response.set_cookie(
        login_cookie(request),
        token,
        max_age=int(svc.settings.login_ttl_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=svc.settings.secure_cookies,
    )

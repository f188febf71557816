"""Everything a request handler needs, opened by the app's lifespan."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from itsdangerous import BadSignature, TimestampSigner, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy.ext.asyncio import AsyncEngine

from server.catalog import Catalog
from server.engagement.sessions import inputs as engagement_inputs
from server.engine import lobby
from server.engine.events import SessionCreated
from server.live import LiveSessions
from server.privacy.sealed import Sealer
from server.realtime.backends import Backend, make_backend
from server.realtime.hub import Hub
from server.settings import Settings
from server.store.db import make_engine
from server.store.eventlog import EventLog
from server.store.repo import CODE_LENGTH, INVITE_CODE_LENGTH, Passwords, Repo
from server.store.tables import Session, User
from server.web.broadcast import Broadcaster
from server.web.render import Room
from server.web.screens import Screens
from server.web.throttle import Throttles
from server.web.voters import voter_key

PROJECTOR_KEY_SECONDS = 12 * 3600  # a projector link works for a (long) working day
PROJECTOR_SALT = "projector-link"


class ClockSigner(TimestampSigner):
    """itsdangerous' timestamp signer on the app's clock (`Services.clock`; tests move it)."""

    def __init__(self, *args: Any, clock: Callable[[], float] = time.time, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clock = clock

    def get_timestamp(self) -> int:
        return int(self.clock())


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    repo: Repo
    eventlog: EventLog
    hub: Hub
    live: LiveSessions
    broadcaster: Broadcaster
    catalog: Catalog
    passwords: Passwords  # argon2 off the event loop, bounded (the repo's logins use it)
    sealer: Sealer  # secrets at rest (TOTP keys), under the server's secret
    rooms: dict[str, Room] = field(default_factory=dict)
    throttles: Throttles = field(default_factory=Throttles)
    # Open facilitator, projector and participant screens, asked again while open.
    screens: Screens = field(default_factory=Screens)
    clock: Callable[[], float] = time.time  # judges a projector link's age (tests move it)
    projector_generations: dict[str, int] = field(default_factory=dict)  # last seen, per session

    @classmethod
    def open(cls, settings: Settings, backend: Backend | None = None) -> Services:
        engine = make_engine(settings.db_url)
        hub = Hub()
        eventlog = EventLog(engine)
        rooms: dict[str, Room] = {}
        holder: dict[str, LiveSessions] = {}

        def state_of(session_id: str):  # type: ignore[no-untyped-def]
            live = holder["live"].sessions.get(session_id)
            return None if live is None else live.state

        broadcaster = Broadcaster(hub, rooms.get, state_of, time.time)
        if backend is None:
            backend = make_backend(
                settings.realtime_backend,
                redis_url=settings.redis_url,
                database_url=settings.db_url,
            )
        live = LiveSessions(eventlog, broadcaster.publish, backend=backend)
        holder["live"] = live
        hub.on_presence = broadcaster.presence_changed
        passwords = Passwords()
        return cls(
            settings=settings,
            engine=engine,
            repo=Repo(engine, passwords),
            eventlog=eventlog,
            hub=hub,
            live=live,
            broadcaster=broadcaster,
            catalog=Catalog.load(settings.scripts_dir),
            passwords=passwords,
            sealer=Sealer(settings.secret_keys),
            rooms=rooms,
        )

    async def close(self) -> None:
        self.screens.stop()
        self.hub.close_all()
        await self.broadcaster.close()
        await self.live.close()
        await self.engine.dispose()
        self.passwords.close()

    # -- signed tokens ---------------------------------------------------------------

    def _signer(self, salt: str) -> URLSafeSerializer:
        return URLSafeSerializer(self.settings.secret_keys, salt=salt)

    def participant_token(self, session_id: str, participant_id: str) -> str:
        return self._signer("participant").dumps([session_id, participant_id])

    def participant_from(self, session_id: str, token: str | None) -> str | None:
        if not token:
            return None
        try:
            sid, pid = self._signer("participant").loads(token)
        except (BadSignature, ValueError, TypeError):
            return None
        return str(pid) if sid == session_id else None

    def _projector_signer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(
            self.settings.secret_keys,
            salt=PROJECTOR_SALT,
            signer=ClockSigner,
            signer_kwargs={"clock": self.clock},
        )

    def projector_key(self, session_id: str, generation: int | None = None) -> str:
        """The key of a link to the session's wall: signed with the time it was made
        and the session's projector generation (default: the last one seen here).
        It works for PROJECTOR_KEY_SECONDS, until the session ends, or until the
        facilitator revokes the links (`revoke_projector_links`)."""
        if generation is None:
            generation = self.projector_generations.get(session_id, 0)
        else:
            self.projector_generations[session_id] = generation
        return self._projector_signer().dumps([session_id, generation])

    async def projector_ok(self, session_id: str, key: str | None) -> bool:
        """The key is this session's, younger than PROJECTOR_KEY_SECONDS (by `clock`)
        and of the generation in the database (a revocation on any worker counts)."""
        if not key or len(key) > 400:
            return False
        try:
            sid, generation = self._projector_signer().loads(key, max_age=PROJECTOR_KEY_SECONDS)
        except (BadSignature, ValueError, TypeError):  # also SignatureExpired
            return False
        if sid != session_id:
            return False
        row = await self.repo.session(session_id)
        if row is None:
            return False
        self.projector_generations[session_id] = row.projector_generation
        return bool(generation == row.projector_generation)

    async def revoke_projector_links(self, session_id: str) -> int | None:
        """Every projector link of the session stops working, and its projector screens
        on this worker close now (on others at their next sweep). The new generation."""
        generation = await self.repo.revoke_projector_links(session_id)
        if generation is not None:
            self.projector_generations[session_id] = generation
        self.screens.close_projectors(session_id)
        return generation

    # -- sessions --------------------------------------------------------------------

    def join_url(self, code: str) -> str:
        return f"{self.settings.base_url}/j/{code}"

    def remember(self, row: Session) -> Room:
        room = Room(
            row.id,
            row.title,
            row.join_code,
            self.join_url(row.join_code),
            row.language,
            voter_key=voter_key(self.settings.secret_key),
        )
        self.rooms[row.id] = room
        return room

    async def room(self, session_id: str) -> Room | None:
        room = self.rooms.get(session_id)
        if room is None:
            row = await self.repo.session(session_id)
            if row is None:
                return None
            room = self.remember(row)
        return room

    async def create_session(
        self, engagement_id: str, script_id: str, user: User, language: str | None = None
    ) -> Session:
        """A new session from a script, in `language` (default: the script's own).

        The session's language is what its live screens and documents speak. If
        the script is shipped in that language too ('kvifa-en'), the session
        runs from that translation, so its steps and prompts match the screens;
        otherwise the script's own text stays as written.
        """
        script = self.catalog.get(script_id)
        if script is None:
            raise KeyError(script_id)
        language = language or script.language
        script = self.catalog.variant(script, language) or script
        row = await self.repo.add_session(
            engagement_id,
            script.id,
            script.title,
            language,
            user.id,
            code_length=INVITE_CODE_LENGTH if lobby.required(script) else CODE_LENGTH,
        )
        # The session starts from the engagement: its selected cases, its focus areas.
        given = await engagement_inputs(self.repo, engagement_id, script)
        if given.cases:
            await self.repo.audit(
                "cases.read", f"session:{row.id}", user=user, engagement_id=engagement_id
            )
        created = SessionCreated(
            at=time.time(),
            session_id=row.id,
            script=script.model_dump(mode="json"),
            cases=given.cases,
            focus_areas=given.focus_areas,
        )
        await self.live.create(row.id, created)
        self.remember(row)
        return row

"""Open screens, asked again while they stay open whether they may still be.

A websocket is let in once, at its handshake (server/web/ws.py `who`). Three
kinds of screen can lose that right while they stay open:

- a facilitator's screen, when its login ends (logout, expiry) or its role in
  the engagement is taken away: it keeps receiving case fragments, so it must
  not outlive the login;
- a projector, when its link is revoked ("Revoke projector links") or expires;
- a phone, when the facilitator removes its participant from the session.

Each such screen is registered here with a `check` that asks again (never
from a cache). The app's `Screens` (one per `Services`, so per app, and per
worker) then

- closes at once what an action on this worker ended: `logged_out(token)`
  (the logout handler calls it), `close_projectors(session_id)` (the
  revocation) and `close_participant(...)` (the removal);
- `sweep()`s every `SWEEP_SECONDS` while any screen is open: every check runs
  again. That covers what no handler here saw: a login that expired, a role
  changed in the database, a revocation or a removal on another worker.

A screen that fails its check is sent its `goodbye` (if any) and closed with
1008 (policy violation): htmx does not reconnect on 1008, and a reconnect
would be refused at the handshake anyway. A check that fails with an error (the
database away for a moment) closes nothing: it is asked again next time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from server.realtime.hub import Client
from server.store.repo import token_hash

log = logging.getLogger(__name__)

POLICY = 1008
SWEEP_SECONDS = 60.0

Check = Callable[[], Awaitable[bool]]


@dataclass(eq=False)
class Screen:
    client: Client
    check: Check  # may this screen still be open? asked again at every sweep
    login: str | None = None  # the hash of the login token it was opened with (facilitator)
    user_id: int | None = None
    goodbye: str | None = None  # a message for the screen before it is closed


class Screens:
    def __init__(self, every: float = SWEEP_SECONDS) -> None:
        self.every = every
        self.open: set[Screen] = set()
        self._task: asyncio.Task[None] | None = None

    # -- registering -------------------------------------------------------------------

    def add(self, screen: Screen) -> None:
        """Register an open screen; the sweeps run while any screen is registered."""
        self.open.add(screen)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="screen-sweep")

    def remove(self, screen: Screen) -> None:
        self.open.discard(screen)
        if not self.open:
            self.stop()

    def stop(self) -> None:
        """No more sweeps (the last screen closed, or the app is stopping)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None

    # -- closing at once ---------------------------------------------------------------

    def logged_out(self, token: str | None) -> int:
        """Close the screens opened with this login (its cookie's token); how many."""
        if not token:
            return 0
        digest = token_hash(token)
        return self._close_where(lambda s: s.login == digest)

    def close_projectors(self, session_id: str) -> int:
        return self._close_where(
            lambda s: s.client.session_id == session_id and s.client.audience == "projector"
        )

    def close_participant(self, session_id: str, participant_id: str) -> int:
        return self._close_where(
            lambda s: (
                s.client.session_id == session_id
                and s.client.audience == "participant"
                and s.client.participant_id == participant_id
            )
        )

    def _close_where(self, which: Callable[[Screen], bool]) -> int:
        closing = [s for s in self.open if not s.client.closing and which(s)]
        for screen in closing:
            self._close(screen)
        return len(closing)

    def _close(self, screen: Screen) -> None:
        if screen.goodbye:
            screen.client.offer(screen.goodbye)
        screen.client.close(POLICY)

    # -- asking again ------------------------------------------------------------------

    async def sweep(self, user_id: int | None = None) -> int:
        """Ask every open screen's check again (only this user's, if given); close
        those that fail. Returns how many were closed."""
        closed = 0
        for screen in tuple(self.open):
            if screen.client.closing or (user_id is not None and screen.user_id != user_id):
                continue
            try:
                # shielded: a sweep stopped mid-query must not cancel a database call
                ok = await asyncio.shield(asyncio.ensure_future(screen.check()))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("a screen's check failed (%s); asked again later", type(exc).__name__)
                continue
            if not ok and screen in self.open and not screen.client.closing:
                self._close(screen)
                closed += 1
        return closed

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            with contextlib.suppress(Exception):
                await self.sweep()

"""How the workers that hold the same live session hear of each other's commits.

Only `(session_id, seq)` crosses the broker: "session X has events up to seq
N". A worker holding X catches up from the event log (`LiveSession.notify`)
and renders for its own screens, so no case text, name or card ever passes
through Redis or a NOTIFY payload, and a lost message costs a moment of
staleness, never data: a worker's next append would conflict and reload, a
broker reconnect re-checks every live session against the log (`on_resync`),
and `LiveSessions` re-checks them every few seconds anyway.

- `MemoryBackend` (TOVHOLDER_REALTIME=memory, the default): one process,
  nothing to tell anyone. Given a shared `MemoryBus` it connects several
  `Services` in one process, which is how the tests exercise the scale-out
  logic without a broker.
- `RedisBackend` (redis): pub/sub on one channel.
- `PostgresBackend` (postgres): LISTEN/NOTIFY on the database itself.

`publish` never waits for the broker: the newest seq per session is kept in
a small outbox (a later seq replaces an earlier one, which is all a reader
needs) and a sender task delivers it. A slow or missing broker therefore never
delays a commit or an ack.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import random
import re
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

OnSeq = Callable[[str, int], None]
OnResync = Callable[[], None]

REDIS_CHANNEL = "tovholder:seq"
PG_CHANNEL = "tovholder_seq"
CONNECT_WAIT = 5.0  # seconds start() waits for the first subscription
CLOSE_WAIT = 2.0  # seconds close() gives the broker's connection to go
HEALTH_INTERVAL = 10.0  # seconds between checks that the listening connection lives
_PAYLOAD = re.compile(r"^([A-Za-z0-9_-]{1,64}) ([0-9]{1,18})$")


def encode(session_id: str, seq: int) -> str:
    return f"{session_id} {seq}"


def decode(payload: str | bytes) -> tuple[str, int] | None:
    if isinstance(payload, bytes):
        payload = payload.decode("ascii", "replace")
    found = _PAYLOAD.match(payload)
    return None if found is None else (found.group(1), int(found.group(2)))


def _ignore(*_: object) -> None:
    return None


class Backend:
    """The interface `LiveSessions` uses; this base is the single-process no-op."""

    name = "memory"
    shared = False  # True when other workers may hold the same sessions

    def __init__(self) -> None:
        self.on_seq: OnSeq = _ignore
        self.on_resync: OnResync = _ignore

    async def start(self, on_seq: OnSeq, on_resync: OnResync) -> None:
        self.on_seq, self.on_resync = on_seq, on_resync

    def publish(self, session_id: str, seq: int) -> None:
        """Tell the other workers that `session_id` has events up to `seq`."""

    async def close(self) -> None:
        return None


class MemoryBus:
    """Connects the MemoryBackends of several Services in one process (tests)."""

    def __init__(self) -> None:
        self.members: list[MemoryBackend] = []


class MemoryBackend(Backend):
    def __init__(self, bus: MemoryBus | None = None) -> None:
        super().__init__()
        self.bus = bus
        self.shared = bus is not None

    async def start(self, on_seq: OnSeq, on_resync: OnResync) -> None:
        await super().start(on_seq, on_resync)
        if self.bus is not None and self not in self.bus.members:
            self.bus.members.append(self)

    def publish(self, session_id: str, seq: int) -> None:
        if self.bus is None:
            return
        loop = asyncio.get_running_loop()
        for member in self.bus.members:
            if member is not self:
                loop.call_soon(member.on_seq, session_id, seq)

    async def close(self) -> None:
        if self.bus is not None and self in self.bus.members:
            self.bus.members.remove(self)


class BrokerBackend(Backend, abc.ABC):
    """An outbox and a sender task, and a listener that reconnects with backoff."""

    shared = True

    def __init__(self) -> None:
        super().__init__()
        self._outbox: dict[str, int] = {}
        self._wake = asyncio.Event()
        self._subscribed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.connected = False
        self.published = 0
        self.received = 0

    async def start(self, on_seq: OnSeq, on_resync: OnResync) -> None:
        await super().start(on_seq, on_resync)
        self._tasks = [
            asyncio.create_task(self._listen_forever(), name=f"{self.name}-listen"),
            asyncio.create_task(self._send_forever(), name=f"{self.name}-send"),
        ]
        try:
            await asyncio.wait_for(self._subscribed.wait(), CONNECT_WAIT)
        except TimeoutError:
            log.error(
                "realtime: %s is not reachable; serving anyway, other workers' changes "
                "arrive once it is back",
                self.name,
            )

    def publish(self, session_id: str, seq: int) -> None:
        if self._outbox.get(session_id, 0) < seq:
            self._outbox[session_id] = seq
            self._wake.set()

    def deliver(self, payload: str | bytes) -> None:
        found = decode(payload)
        if found is None:
            log.warning("realtime: ignoring a malformed %s message", self.name)
            return
        self.received += 1
        self.on_seq(*found)

    async def close(self) -> None:
        """Stop listening and sending; bounded, whatever state the broker's
        connection is in (a shutdown must not wait on a dead socket)."""
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=CLOSE_WAIT)
        self._tasks = []
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._disconnect(), CLOSE_WAIT)

    # -- the loops -------------------------------------------------------------------

    async def _listen_forever(self) -> None:
        delay = 0.1
        while True:
            try:
                await self._subscribe()
                self.connected = True
                self._subscribed.set()
                delay = 0.1
                # Whatever was published while we were not listening is lost:
                # every live session checks the log once.
                self.on_resync()
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("realtime: %s listener lost (%s); reconnecting", self.name, exc)
            finally:
                self.connected = False
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._unsubscribe(), CLOSE_WAIT)
            await asyncio.sleep(random.uniform(0, delay))
            delay = min(delay * 2, 5.0)

    async def _send_forever(self) -> None:
        delay = 0.1
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._outbox = self._outbox, {}
            if not batch:
                continue
            try:
                await self._send([encode(sid, seq) for sid, seq in batch.items()])
                self.published += len(batch)
                delay = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("realtime: %s publish failed (%s); retrying", self.name, exc)
                for sid, seq in batch.items():
                    if self._outbox.get(sid, 0) < seq:
                        self._outbox[sid] = seq
                await asyncio.sleep(random.uniform(0, delay))
                delay = min(delay * 2, 5.0)
                self._wake.set()

    # -- what a broker implements ----------------------------------------------------

    @abc.abstractmethod
    async def _subscribe(self) -> None:
        """Subscribe to the channel."""

    @abc.abstractmethod
    async def _listen(self) -> None:
        """Deliver messages until the connection fails (raise) or is cancelled."""

    @abc.abstractmethod
    async def _unsubscribe(self) -> None:
        """Leave the channel."""

    @abc.abstractmethod
    async def _send(self, payloads: list[str]) -> None:
        """Publish the payloads (raise if the broker cannot be reached)."""

    @abc.abstractmethod
    async def _disconnect(self) -> None:
        """Close the connections."""


class RedisBackend(BrokerBackend):
    name = "redis"

    def __init__(self, url: str, channel: str = REDIS_CHANNEL) -> None:
        super().__init__()
        self.url = url
        self.channel = channel
        self._client: Any = None
        self._pubsub: Any = None

    def _redis(self) -> Any:
        if self._client is None:
            try:
                import redis.asyncio as redis
            except ImportError as exc:  # pragma: no cover - depends on the install
                raise RuntimeError(
                    "TOVHOLDER_REALTIME=redis needs the redis package: pip install 'tovholder[redis]'"
                ) from exc
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff

            self._client = redis.from_url(
                self.url,
                socket_connect_timeout=2,
                socket_keepalive=True,
                health_check_interval=HEALTH_INTERVAL,
                # No silent reconnects inside redis-py: a lost subscription must
                # reach `_listen_forever`, which subscribes again and has every
                # live session check the log for what was published meanwhile.
                retry=Retry(NoBackoff(), 0),
            )
        return self._client

    async def _subscribe(self) -> None:
        self._pubsub = self._redis().pubsub(ignore_subscribe_messages=True)
        await self._pubsub.subscribe(self.channel)

    async def _listen(self) -> None:
        pubsub = self._pubsub
        while True:
            message = await pubsub.get_message(timeout=HEALTH_INTERVAL)
            if message is None:
                await pubsub.ping()  # a dead connection shows up as an error here
                continue
            if message.get("type") == "message":
                self.deliver(message["data"])

    async def _unsubscribe(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            await pubsub.aclose()

    async def _send(self, payloads: list[str]) -> None:
        client = self._redis()
        if len(payloads) == 1:
            await client.publish(self.channel, payloads[0])
            return
        async with client.pipeline(transaction=False) as pipe:
            for payload in payloads:
                pipe.publish(self.channel, payload)
            await pipe.execute()

    async def _disconnect(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


def asyncpg_dsn(url: str) -> str:
    """postgresql+asyncpg://u@h/db (SQLAlchemy's form) -> postgresql://u@h/db."""
    return re.sub(r"^postgres(?:ql)?(?:\+\w+)?://", "postgresql://", url)


class PostgresBackend(BrokerBackend):
    name = "postgres"

    def __init__(self, url: str, channel: str = PG_CHANNEL) -> None:
        super().__init__()
        self.dsn = asyncpg_dsn(url)
        self.channel = channel
        self._listener: Any = None
        self._sender: Any = None
        self._lost: asyncio.Event | None = None

    async def _connect(self) -> Any:
        try:
            import asyncpg
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError(
                "TOVHOLDER_REALTIME=postgres needs asyncpg: pip install 'tovholder[postgres]'"
            ) from exc
        return await asyncpg.connect(self.dsn, timeout=5)

    async def _subscribe(self) -> None:
        conn = await self._connect()
        lost = asyncio.Event()

        def on_notify(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
            self.deliver(payload)

        conn.add_termination_listener(lambda _conn: lost.set())
        await conn.add_listener(self.channel, on_notify)
        self._listener, self._lost = conn, lost

    async def _listen(self) -> None:
        conn, lost = self._listener, self._lost
        assert conn is not None and lost is not None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), HEALTH_INTERVAL)
            if lost.is_set() or conn.is_closed():
                raise ConnectionError("the LISTEN connection closed")
            await conn.execute("SELECT 1", timeout=5)  # a dead connection shows up as an error

    async def _unsubscribe(self) -> None:
        conn, self._listener = self._listener, None
        if conn is not None and not conn.is_closed():
            conn.terminate()

    async def _send(self, payloads: list[str]) -> None:
        if self._sender is None or self._sender.is_closed():
            self._sender = await self._connect()
        try:
            await self._sender.executemany(
                "SELECT pg_notify($1, $2)", [(self.channel, p) for p in payloads], timeout=5
            )
        except Exception:
            conn, self._sender = self._sender, None
            with contextlib.suppress(Exception):
                conn.terminate()
            raise

    async def _disconnect(self) -> None:
        for conn in (self._sender, self._listener):
            if conn is not None and not conn.is_closed():
                conn.terminate()
        self._sender = self._listener = None


def make_backend(kind: str, *, redis_url: str = "", database_url: str = "") -> Backend:
    if kind == "redis":
        return RedisBackend(redis_url)
    if kind == "postgres":
        return PostgresBackend(database_url)
    return MemoryBackend()

"""The realtime backends against real servers: Redis pub/sub and PostgreSQL
LISTEN/NOTIFY carry (session id, seq) between workers, survive a dropped
connection, and never carry anything else."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from server.realtime.backends import (
    Backend,
    BrokerBackend,
    MemoryBackend,
    MemoryBus,
    PostgresBackend,
    RedisBackend,
    asyncpg_dsn,
    decode,
    encode,
    make_backend,
)
from tests.realtime.workers import card, new_session, open_card_step, workers
from tests.store.databases import fresh_postgres, postgres_url, redis_url


class Ears:
    def __init__(self) -> None:
        self.heard: list[tuple[str, int]] = []
        self.resyncs = 0

    def on_seq(self, session_id: str, seq: int) -> None:
        self.heard.append((session_id, seq))

    def on_resync(self) -> None:
        self.resyncs += 1


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def test_payload_is_only_a_session_id_and_a_seq() -> None:
    assert encode("ab12", 7) == "ab12 7"
    assert decode("ab12 7") == decode(b"ab12 7") == ("ab12", 7)
    for bad in ["", "ab12", "ab12 x", "a b 1", "ab12 -1", "<script> 1", "x" * 65 + " 1"]:
        assert decode(bad) is None, bad


def test_asyncpg_dsn_drops_the_driver() -> None:
    assert asyncpg_dsn("postgresql+asyncpg://u@h:5/db") == "postgresql://u@h:5/db"
    assert asyncpg_dsn("postgres://u@h/db") == "postgresql://u@h/db"


def test_make_backend_by_name() -> None:
    assert type(make_backend("memory")) is MemoryBackend
    assert type(make_backend("redis", redis_url="redis://x")) is RedisBackend
    assert (
        type(make_backend("postgres", database_url="postgresql+asyncpg://x/y")) is PostgresBackend
    )


async def test_memory_bus_delivers_to_the_others_only() -> None:
    bus = MemoryBus()
    a, b, c = MemoryBackend(bus), MemoryBackend(bus), MemoryBackend()
    ears = [Ears(), Ears(), Ears()]
    for backend, ear in zip((a, b, c), ears, strict=True):
        await backend.start(ear.on_seq, ear.on_resync)
    assert a.shared and b.shared and not c.shared
    a.publish("s1", 3)
    c.publish("s1", 4)
    await asyncio.sleep(0.01)
    assert [e.heard for e in ears] == [[], [("s1", 3)], []]
    await b.close()
    a.publish("s1", 5)
    await asyncio.sleep(0.01)
    assert ears[1].heard == [("s1", 3)]


# -- Redis and PostgreSQL ------------------------------------------------------------


Factory = Callable[[], BrokerBackend]


@pytest.fixture(
    params=[
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
async def broker(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, Factory]]:
    channel = f"tv_test_{secrets.token_hex(4)}"
    if request.param == "redis":
        url = redis_url()
        yield "redis", lambda: RedisBackend(url, channel=channel)
    else:
        url = postgres_url()
        yield "postgres", lambda: PostgresBackend(url, channel=channel)


async def test_a_publish_reaches_every_other_subscriber(broker: tuple[str, Factory]) -> None:
    _, make = broker
    a, b, c = make(), make(), make()
    ears = [Ears(), Ears(), Ears()]
    try:
        for backend, ear in zip((a, b, c), ears, strict=True):
            await backend.start(ear.on_seq, ear.on_resync)
            assert backend.connected
        a.publish("s1", 2)
        a.publish("s1", 3)  # a later seq of the same session may replace the earlier
        a.publish("s2", 1)
        await until(lambda: all(("s1", 3) in e.heard and ("s2", 1) in e.heard for e in ears[1:]))
        for ear in ears:
            assert all(decode(encode(s, n)) == (s, n) for s, n in ear.heard)
    finally:
        for backend in (a, b, c):
            await backend.close()


async def test_a_dropped_listener_reconnects_and_asks_for_a_resync(
    broker: tuple[str, Factory],
) -> None:
    kind, make = broker
    a, b = make(), make()
    ear = Ears()
    try:
        await a.start(Ears().on_seq, lambda: None)
        await b.start(ear.on_seq, ear.on_resync)
        assert ear.resyncs == 1
        await kill_listener(kind, b)
        await until(lambda: ear.resyncs >= 2 and b.connected, timeout=10)
        a.publish("s9", 1)
        await until(lambda: ("s9", 1) in ear.heard)
    finally:
        await a.close()
        await b.close()


async def test_an_unreachable_broker_delays_nothing() -> None:
    # Nothing listens on port 1: start gives up after a while, publish returns at once.
    backend = RedisBackend("redis://127.0.0.1:1/0")
    import server.realtime.backends as backends

    old, backends.CONNECT_WAIT = backends.CONNECT_WAIT, 0.3
    try:
        await backend.start(Ears().on_seq, lambda: None)
        assert not backend.connected
        loop = asyncio.get_running_loop()
        started = loop.time()
        for i in range(100):
            backend.publish("s1", i)
        assert loop.time() - started < 0.05
        assert backend._outbox == {"s1": 99}  # only the newest seq waits
    finally:
        backends.CONNECT_WAIT = old
        await backend.close()


async def kill_listener(kind: str, backend: Backend) -> None:
    if kind == "redis":
        import redis.asyncio as redis

        client = redis.from_url(redis_url())
        try:
            await client.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        finally:
            await client.aclose()
        return
    import asyncpg

    assert isinstance(backend, PostgresBackend) and backend._listener is not None
    pid = backend._listener.get_server_pid()
    admin = await asyncpg.connect(asyncpg_dsn(postgres_url()))
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()


# -- workers over a real broker ------------------------------------------------------


@pytest.mark.redis
async def test_workers_over_redis_see_each_other_within_a_moment(tmp_path: Path) -> None:
    url = redis_url()
    channel = f"tv_test_{secrets.token_hex(4)}"
    db = f"sqlite+aiosqlite:///{tmp_path / 'tv.db'}"
    from server.store.db import create_all, make_engine

    engine = make_engine(db)
    await create_all(engine)
    await engine.dispose()
    await _workers_see_each_other(db, [RedisBackend(url, channel), RedisBackend(url, channel)])


@pytest.mark.postgres
async def test_workers_over_postgres_see_each_other_within_a_moment() -> None:
    channel = f"tv_test_{secrets.token_hex(4)}"
    async with fresh_postgres() as db:
        await _workers_see_each_other(
            db, [PostgresBackend(db, channel), PostgresBackend(db, channel)]
        )


async def _workers_see_each_other(db: str, backends: list[Backend]) -> None:
    async with workers(db, backends) as (a, b):
        sid = await new_session(a.log)
        la, lb = await a.session(sid), await b.session(sid)
        await open_card_step(la, phones=4)
        await until(lambda: lb.seq == la.seq)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await lb.submit(card(1, 0))
        await until(lambda: la.seq == lb.seq)
        assert loop.time() - started < 1.0
        assert "c1-0" in la.state.cards and la.state == lb.state
        # both write at once: each ends with every card, none twice
        await asyncio.gather(*(w.submit(card(i, 1)) for i, w in enumerate((la, lb, la, lb))))
        await until(lambda: la.seq == lb.seq == la.seq and len(la.state.cards) == 5)
        events = await a.log.load(sid)
        assert la.state == lb.state and len(events) == la.seq


def test_the_redis_client_never_reconnects_behind_the_listeners_back() -> None:
    # redis-py would resubscribe on its own after a lost connection, and what
    # was published meanwhile would be lost without any session checking the log.
    client = RedisBackend("redis://127.0.0.1:1/0")._redis()
    retry = client.connection_pool.connection_kwargs["retry"]
    assert retry.get_retries() == 0


class Stuck(BrokerBackend):
    """A broker whose connection never answers again."""

    name = "stuck"

    async def _subscribe(self) -> None:
        return None

    async def _listen(self) -> None:
        await asyncio.Event().wait()

    async def _unsubscribe(self) -> None:
        await asyncio.Event().wait()

    async def _send(self, payloads: list[str]) -> None:
        return None

    async def _disconnect(self) -> None:
        await asyncio.Event().wait()


async def test_closing_does_not_wait_on_a_dead_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    import server.realtime.backends as backends

    monkeypatch.setattr(backends, "CLOSE_WAIT", 0.2)
    backend = Stuck()
    await backend.start(Ears().on_seq, lambda: None)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await backend.close()
    assert loop.time() - started < 2.0

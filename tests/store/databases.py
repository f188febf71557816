"""Fresh databases for tests: SQLite in a temporary directory, or a new
PostgreSQL database on the server in TOVHOLDER_TEST_POSTGRES_URL (CI starts one,
see .ci/run); tests that need a server it does not name are skipped, saying so."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from server.realtime.backends import asyncpg_dsn
from server.store.db import create_all, make_engine

POSTGRES_ENV = "TOVHOLDER_TEST_POSTGRES_URL"
REDIS_ENV = "TOVHOLDER_TEST_REDIS_URL"


def postgres_url() -> str:
    url = os.environ.get(POSTGRES_ENV, "")
    if not url:
        pytest.skip(
            f"{POSTGRES_ENV} is not set: start PostgreSQL as .ci/run does "
            "(e.g. postgresql+asyncpg://postgres@127.0.0.1:5499/postgres)"
        )
    return url


def redis_url() -> str:
    url = os.environ.get(REDIS_ENV, "")
    if not url:
        pytest.skip(
            f"{REDIS_ENV} is not set: start Redis as .ci/run does (e.g. redis://127.0.0.1:6399/0)"
        )
    return url


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@contextlib.asynccontextmanager
async def fresh_postgres() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database (with the schema) for one test; dropped after."""
    import asyncpg

    server = postgres_url()
    name = f"tv_test_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(asyncpg_dsn(server))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = _with_database(server, name)
    engine = make_engine(url)
    await create_all(engine)
    await engine.dispose()
    try:
        yield url
    finally:
        admin = await asyncpg.connect(asyncpg_dsn(server))
        try:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()",
                name,
            )
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        finally:
            await admin.close()


@contextlib.asynccontextmanager
async def fresh_database(kind: str, tmp_path: Path) -> AsyncIterator[str]:
    """`kind` is sqlite or postgres; yields a URL whose schema exists."""
    if kind == "postgres":
        async with fresh_postgres() as url:
            yield url
        return
    url = f"sqlite+aiosqlite:///{tmp_path / f'tv-{secrets.token_hex(4)}.db'}"
    engine = make_engine(url)
    await create_all(engine)
    await engine.dispose()
    yield url

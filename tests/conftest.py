"""Shared fixtures: a fresh database and app per test."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from hypothesis import settings as hypothesis_settings
from starlette.testclient import TestClient

from server.app import create_app
from server.settings import Settings, from_env
from server.store import repo
from server.store.db import create_all, make_engine
from server.store.tables import User
from server.web.services import Services
from tests.support import PASSWORD, World, csrf_of

# Hypothesis checks rules, not speed: on a shared two-core machine one example
# can take 300 ms under load, and its deadline would fail a correct test.
hypothesis_settings.register_profile("tovholder", deadline=None)
hypothesis_settings.load_profile("tovholder")


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing() -> Iterator[None]:
    """Still argon2id, with the cheapest parameters: the service's own take
    ~0.2 s per hash and per check by design, and a test that seeds six people
    and logs them in would spend 2.5 s on it (a server started in a
    subprocess, as the browser and load tests do, keeps the real ones)."""
    real = repo._hasher
    repo._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    yield
    repo._hasher = real


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return from_env({}, mode="test", data_dir=tmp_path, base_url="http://testserver")


def _create_schema(settings: Settings) -> None:
    async def go() -> None:
        engine = make_engine(settings.db_url)
        await create_all(engine)
        await engine.dispose()

    asyncio.run(go())


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    _create_schema(settings)
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture
def new_browser(client: TestClient) -> Callable[[], TestClient]:
    """Another person's browser on the same running app (own cookies, same event loop)."""

    def make() -> TestClient:
        other = TestClient(client.app, base_url="http://testserver")
        other.portal = client.portal
        return other

    return make


@pytest.fixture
def world(client: TestClient) -> World:
    services: Services = client.app.state.services

    async def seed() -> tuple[User, str]:
        user = await services.repo.add_user("anne", PASSWORD, "Anne Facilitator")
        eng = await services.repo.add_engagement(
            "Varde", "Varde Kommune", {user.id or 0: "facilitator"}
        )
        return user, eng.id

    user, engagement_id = client.portal.call(seed)
    r = client.post(
        "/login",
        data={"username": "anne", "password": PASSWORD, "csrf": csrf_of(client), "next": ""},
        follow_redirects=False,
    )
    assert r.status_code == 303
    return World(client, user, engagement_id, services)

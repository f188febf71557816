"""TOTP keys are sealed at rest under the server's secret (issue 14)."""

from __future__ import annotations

from sqlmodel import select
from starlette.testclient import TestClient

from server.privacy.sealed import PREFIX, Sealer
from server.store.tables import User
from tests.security.sec_support import form_token
from tests.security.test_security_login import enrol, next_code, password_step
from tests.support import World


def stored_key(world: World) -> str | None:
    async def go() -> str | None:
        async with world.services.repo.sessions() as db:
            user = (await db.exec(select(User).where(User.username == "anne"))).one()
            return user.totp_secret

    return world.fac.portal.call(go)  # type: ignore[no-any-return]


def set_stored_key(world: World, value: str) -> None:
    async def go() -> None:
        async with world.services.repo.sessions() as db:
            user = (await db.exec(select(User).where(User.username == "anne"))).one()
            user.totp_secret = value
            db.add(user)
            await db.commit()

    world.fac.portal.call(go)


def log_in_with_code(world: World, key: str) -> TestClient:
    c = TestClient(world.fac.app, base_url="http://testserver")
    c.portal = world.fac.portal
    pending = password_step(c)
    r = c.post(
        "/login/totp",
        data={"csrf": form_token(c), "pending": pending, "code": next_code(key)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:300]
    return c


def test_an_enrolled_key_is_stored_sealed_and_still_works(world: World) -> None:
    key = enrol(world.fac)
    stored = stored_key(world)
    assert stored is not None and stored.startswith(PREFIX) and key not in stored
    log_in_with_code(world, key)


def test_a_key_from_before_sealing_works_and_is_sealed_at_its_next_use(world: World) -> None:
    key = enrol(world.fac)
    set_stored_key(world, key)  # as an older version stored it
    log_in_with_code(world, key)
    stored = stored_key(world)
    assert stored is not None and stored.startswith(PREFIX) and key not in stored


def test_the_previous_secrets_open_what_they_sealed() -> None:
    old, new = "o" * 48, "n" * 48
    sealed = Sealer([old]).seal("JBSWY3DPEHPK3PXP")
    rotated = Sealer([old, new])
    assert rotated.open(sealed) == "JBSWY3DPEHPK3PXP" and not rotated.current(sealed)
    assert rotated.current(rotated.seal("JBSWY3DPEHPK3PXP"))
    assert Sealer([new]).open(sealed) is None

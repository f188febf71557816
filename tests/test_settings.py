"""Settings: the secret, production's demands, demo data apart from real data."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest

from server.cli import main
from server.demo import DEMO_PASSWORD, DEMO_USER
from server.settings import OLD_DEFAULT_SECRET, SECRET_FILE, SettingsError, from_env
from server.store.db import make_engine
from server.store.migrate import upgrade
from server.store.repo import Repo
from server.web.services import Services

GOOD = "k" * 48


def test_without_a_configured_secret_one_is_made_once_for_the_data_folder(tmp_path: Path) -> None:
    first = from_env({}, data_dir=tmp_path)
    again = from_env({}, data_dir=tmp_path)
    assert len(first.secret_key) >= 32 and first.secret_key == again.secret_key
    assert stat.S_IMODE((tmp_path / SECRET_FILE).stat().st_mode) == 0o600
    other = from_env({}, data_dir=tmp_path / "other")
    assert other.secret_key != first.secret_key


def test_the_old_built_in_secret_is_refused_everywhere(tmp_path: Path) -> None:
    for mode in ("dev", "demo", "test", "production"):
        with pytest.raises(SettingsError, match="old built-in"):
            from_env({"TOVHOLDER_SECRET_KEY": OLD_DEFAULT_SECRET}, mode=mode, data_dir=tmp_path)
    with pytest.raises(SettingsError, match="old built-in"):
        from_env(
            {"TOVHOLDER_SECRET_KEY": GOOD, "TOVHOLDER_PREVIOUS_SECRET_KEYS": OLD_DEFAULT_SECRET},
            data_dir=tmp_path,
        )


def test_production_needs_a_long_secret_and_an_https_address(tmp_path: Path) -> None:
    https = {"TOVHOLDER_BASE_URL": "https://tovholder.example.dk"}
    with pytest.raises(SettingsError, match="TOVHOLDER_SECRET_KEY"):
        from_env(https, mode="production", data_dir=tmp_path)
    assert not (tmp_path / SECRET_FILE).exists()  # no secret is made up in production
    with pytest.raises(SettingsError, match="at least 32"):
        from_env({**https, "TOVHOLDER_SECRET_KEY": "short"}, mode="production", data_dir=tmp_path)
    with pytest.raises(SettingsError, match="https"):
        from_env(
            {"TOVHOLDER_SECRET_KEY": GOOD, "TOVHOLDER_BASE_URL": "http://tovholder.example.dk"},
            mode="production",
            data_dir=tmp_path,
        )
    ok = from_env({**https, "TOVHOLDER_SECRET_KEY": GOOD}, mode="production", data_dir=tmp_path)
    assert ok.secure_cookies


def test_serving_beyond_loopback_needs_a_real_secret(tmp_path: Path) -> None:
    short = from_env({"TOVHOLDER_SECRET_KEY": "typed-in-a-hurry"}, data_dir=tmp_path)
    for host in ("127.0.0.1", "::1", "localhost"):
        short.check_listening(host)
    for host in ("0.0.0.0", "192.168.1.20", "::"):
        with pytest.raises(SettingsError, match="at least 32"):
            short.check_listening(host)
    from_env({}, data_dir=tmp_path).check_listening("0.0.0.0")


def test_an_old_secret_still_opens_what_it_signed(tmp_path: Path) -> None:
    """Rotation: the new secret signs, the previous ones are still accepted."""
    old = "o" * 48

    async def tokens() -> tuple[str | None, str | None, str | None]:
        before = Services.open(from_env({"TOVHOLDER_SECRET_KEY": old}, data_dir=tmp_path))
        rotated = Services.open(
            from_env(
                {"TOVHOLDER_SECRET_KEY": GOOD, "TOVHOLDER_PREVIOUS_SECRET_KEYS": old},
                data_dir=tmp_path,
            )
        )
        forgotten = Services.open(from_env({"TOVHOLDER_SECRET_KEY": GOOD}, data_dir=tmp_path))
        try:
            token = before.participant_token("s1", "p1")
            assert rotated.participant_token("s1", "p1") != token  # signed with the new one
            return (
                rotated.participant_from("s1", token),
                forgotten.participant_from("s1", token),
                before.participant_from("s1", rotated.participant_token("s1", "p1")),
            )
        finally:
            for services in (before, rotated, forgotten):
                await services.close()

    assert asyncio.run(tokens()) == ("p1", None, None)


def test_demo_data_lives_apart_from_real_data(tmp_path: Path) -> None:
    real = from_env({"TOVHOLDER_DATABASE_URL": "postgresql+asyncpg://db/real"}, data_dir=tmp_path)
    demo = from_env(
        {"TOVHOLDER_DATABASE_URL": "postgresql+asyncpg://db/real"}, mode="demo", data_dir=tmp_path
    )
    assert real.db_url == "postgresql+asyncpg://db/real"
    assert demo.db_url == f"sqlite+aiosqlite:///{tmp_path / 'demo' / 'tovholder.db'}"
    assert from_env({}, data_dir=tmp_path).db_url != demo.db_url


def test_serve_refuses_an_account_with_the_demo_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TOVHOLDER_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("TOVHOLDER_DATABASE_URL", raising=False)
    monkeypatch.delenv("TOVHOLDER_SECRET_KEY", raising=False)
    settings = from_env()
    upgrade(settings.db_url)

    async def add(username: str, password: str) -> None:
        engine = make_engine(settings.db_url)
        try:
            await Repo(engine).add_user(username, password, username, is_admin=True)
        finally:
            await engine.dispose()

    asyncio.run(add("anne", "a-password-of-her-own"))
    asyncio.run(add(DEMO_USER, DEMO_PASSWORD))  # as if copied from a demo database
    assert main(["serve", "--port", "1"]) == 2  # refused before it listens
    err = capsys.readouterr().err
    assert DEMO_USER in err and "demo password" in err and "anne" not in err

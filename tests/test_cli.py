"""`tovholder user add`: a new user's pages speak the installation's language
(TOVHOLDER_LANGUAGE) unless --language says otherwise; they change it on /account."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from server.cli import parser
from server.settings import from_env
from server.store.db import make_engine
from server.store.repo import Repo


def language_of(username: str) -> str:
    async def read() -> str:
        engine = make_engine(from_env().db_url)
        try:
            user = await Repo(engine).user_by_name(username)
            assert user is not None
            return user.language
        finally:
            await engine.dispose()

    return asyncio.run(read())


def add(*argv: str) -> int:
    args = parser().parse_args(["user", "add", *argv, "--password", "correct-horse-battery"])
    result: int = args.fn(args)
    return result


def test_a_new_user_speaks_the_installations_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOVHOLDER_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("TOVHOLDER_DATABASE_URL", raising=False)
    monkeypatch.setenv("TOVHOLDER_LANGUAGE", "en")
    assert add("anne") == 0
    assert language_of("anne") == "en"
    assert add("bo", "--language", "da") == 0
    assert language_of("bo") == "da"
    monkeypatch.delenv("TOVHOLDER_LANGUAGE")
    assert add("carl") == 0
    assert language_of("carl") == "da"  # Danish by default

"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlmodel import SQLModel

from server.store import tables as _tables  # noqa: F401
from server.store.migrate import MIGRATIONS, at_head, config, heads, upgrade


def test_one_head() -> None:
    heads = ScriptDirectory.from_config(config("sqlite://")).get_heads()
    assert len(heads) == 1, (
        f"migrations have several heads {heads}: chain your revision after the other"
    )


def test_upgrade_matches_models(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    upgrade(f"sqlite+aiosqlite:///{db}")
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ; add a revision: {diff}"
    assert MIGRATIONS.is_dir()


def test_heads_read_from_the_files_are_alembics() -> None:
    """`serve` skips importing Alembic when the database is at these heads."""
    assert heads() == set(ScriptDirectory.from_config(config("sqlite://")).get_heads())


def test_upgrade_of_a_current_database_does_not_import_alembic(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    assert not at_head(url)  # a new database: Alembic builds it
    upgrade(url)
    assert at_head(url)
    # A restart: the schema is current, so Alembic (a second to import) is not loaded.
    probe = (
        "import sys; from server.store.migrate import upgrade; "
        f"upgrade({url!r}); print('alembic' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "False"


def test_a_database_behind_is_upgraded(tmp_path: Path) -> None:
    from alembic import command

    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    first = ScriptDirectory.from_config(config(url)).get_base()
    assert first is not None
    command.upgrade(config(url), first)
    assert not at_head(url)
    upgrade(url)
    assert at_head(url)

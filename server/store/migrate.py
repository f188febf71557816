"""Alembic, driven from code: `tovholder serve` upgrades the database on start.

Alembic (with Mako and Pygments) takes about a second to import, which a
restart would add to the time phones find nobody listening. So `upgrade`
first compares the database's revision with the newest one the migration
files name, and imports Alembic only when there is something to do.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_REVISION = re.compile(r'^revision(?:\s*:[^=\n]*)?\s*=\s*"(\w+)"', re.M)
_DOWN = re.compile(r"^down_revision(?:\s*:[^=\n]*)?\s*=\s*(.*)$", re.M)


def config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def heads() -> set[str] | None:
    """The newest revisions, read from the migration files without Alembic;
    None if a file does not read as expected (then Alembic decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        found, down = _REVISION.search(text), _DOWN.search(text)
        if found is None or down is None:
            return None
        revisions.add(found.group(1))
        parents.update(re.findall(r'"(\w+)"', down.group(1)))
    return (revisions - parents) or None


async def _current(url: str) -> set[str] | None:
    from sqlalchemy import text

    from server.store.db import make_engine

    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
            return {str(row[0]) for row in rows}
    except Exception:  # no such table yet, or anything odd: Alembic decides
        return None
    finally:
        await engine.dispose()


def at_head(url: str) -> bool:
    """Is the database at the newest schema already? (outside a running event loop)"""
    newest = heads()
    return newest is not None and asyncio.run(_current(url)) == newest


def upgrade(url: str) -> None:
    """Bring the database to the newest schema (call outside a running event loop)."""
    if at_head(url):
        return
    from alembic import command

    command.upgrade(config(url), "head")


def revision(url: str, message: str) -> None:
    from alembic import command

    command.revision(config(url), message=message, autogenerate=True)

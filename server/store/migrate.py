"""Alembic, driven from code: `tovholder serve` upgrades the database on start."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str) -> None:
    """Bring the database to the newest schema (call outside a running event loop)."""
    command.upgrade(config(url), "head")


def revision(url: str, message: str) -> None:
    command.revision(config(url), message=message, autogenerate=True)

"""Settings: the only module that reads the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_SECRET = "dev-secret-change-me"  # noqa: S105  (refused outside demo/dev mode)
ROOT = Path(__file__).resolve().parent.parent


class SettingsError(Exception):
    """The configuration cannot be used; the message says what to change."""


@dataclass(frozen=True)
class Settings:
    mode: str = "dev"  # dev | demo | test | production
    data_dir: Path = ROOT / "data"
    database_url: str = ""
    secret_key: str = DEFAULT_SECRET
    allowed_origins: tuple[str, ...] = ()
    language: str = "da"
    base_url: str = "http://127.0.0.1:8000"
    realtime_backend: str = "memory"  # memory | redis | postgres
    redis_url: str = "redis://127.0.0.1:6379/0"
    login_ttl_hours: float = 12.0
    retention_days: int = 730
    ws_max_message: int = 64 * 1024
    ws_queue_size: int = 64
    ws_ping_interval: float = 20.0  # seconds; a phone that misses a pong for
    ws_ping_timeout: float = 20.0  # this long is dropped (and reconnects)
    templates_dir: Path = ROOT / "templates"
    static_dir: Path = ROOT / "static"
    scripts_dir: Path = ROOT / "facilitation_scripts"
    locales_dir: Path = ROOT / "locales"
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'tovholder.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.db_url.startswith("sqlite")

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    def check(self) -> Settings:
        if self.mode not in {"dev", "demo", "test", "production"}:
            raise SettingsError(
                f"TOVHOLDER_MODE must be dev, demo, test or production, not {self.mode!r}"
            )
        if self.mode == "production" and (
            self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 32
        ):
            raise SettingsError(
                "Set TOVHOLDER_SECRET_KEY to a random value of at least 32 characters "
                "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')."
            )
        if self.language not in {"da", "en"}:
            raise SettingsError("TOVHOLDER_LANGUAGE must be da or en")
        if self.realtime_backend not in {"memory", "redis", "postgres"}:
            raise SettingsError("TOVHOLDER_REALTIME must be memory, redis or postgres")
        if self.realtime_backend == "postgres" and self.is_sqlite:
            raise SettingsError(
                "TOVHOLDER_REALTIME=postgres uses LISTEN/NOTIFY on the database: "
                "set TOVHOLDER_DATABASE_URL to a PostgreSQL URL (or use redis)"
            )
        if self.ws_ping_interval <= 0 or self.ws_ping_timeout <= 0:
            raise SettingsError("TOVHOLDER_WS_PING_INTERVAL and _TIMEOUT must be positive")
        return self


def from_env(env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    e = os.environ if env is None else env
    data_dir = Path(e.get("TOVHOLDER_DATA_DIR", str(ROOT / "data")))
    origins = tuple(
        o.strip() for o in e.get("TOVHOLDER_ALLOWED_ORIGINS", "").split(",") if o.strip()
    )
    values: dict[str, object] = {
        "mode": e.get("TOVHOLDER_MODE", "dev"),
        "data_dir": data_dir,
        "database_url": e.get("TOVHOLDER_DATABASE_URL", ""),
        "secret_key": e.get("TOVHOLDER_SECRET_KEY", DEFAULT_SECRET),
        "allowed_origins": origins,
        "language": e.get("TOVHOLDER_LANGUAGE", "da"),
        "base_url": e.get("TOVHOLDER_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        "realtime_backend": e.get("TOVHOLDER_REALTIME", "memory"),
        "redis_url": e.get("TOVHOLDER_REDIS_URL", "redis://127.0.0.1:6379/0"),
        "retention_days": int(e.get("TOVHOLDER_RETENTION_DAYS", "730")),
        "ws_ping_interval": float(e.get("TOVHOLDER_WS_PING_INTERVAL", "20")),
        "ws_ping_timeout": float(e.get("TOVHOLDER_WS_PING_TIMEOUT", "20")),
    }
    values.update(overrides)
    return Settings(**values).check()  # type: ignore[arg-type]

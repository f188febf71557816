"""Settings: the only module that reads the environment."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

# The built-in secret of earlier versions: known to anyone who read the code,
# so it is refused wherever it is given. Without TOVHOLDER_SECRET_KEY a random
# secret is made once and kept in the data folder (never in production).
OLD_DEFAULT_SECRET = "dev-secret-change-me"  # noqa: S105
SECRET_FILE = "secret_key"  # noqa: S105  (the file it is kept in)
MAKE_ONE = "for example: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
SECRET_MIN = 32
ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = ("127.", "::1", "localhost")


class SettingsError(Exception):
    """The configuration cannot be used; the message says what to change."""


@dataclass(frozen=True)
class Settings:
    mode: str = "dev"  # dev | demo | test | production
    data_dir: Path = ROOT / "data"
    database_url: str = ""
    secret_key: str = ""
    # Earlier secrets, still accepted on links and cookies they signed (rotation).
    previous_secret_keys: tuple[str, ...] = ()
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

    @property
    def secret_keys(self) -> list[str]:
        """For itsdangerous: the previous secrets first, the one that signs last."""
        return [*self.previous_secret_keys, self.secret_key]

    def check_listening(self, host: str) -> Settings:
        """What serving on `host` needs beyond `check`: outside loopback, a secret
        that was not typed by hand in a hurry."""
        beyond = not host.startswith(LOOPBACK)
        if beyond and len(self.secret_key) < SECRET_MIN:
            raise SettingsError(
                f"Serving on {host} reaches other machines: TOVHOLDER_SECRET_KEY must have "
                f"at least {SECRET_MIN} characters ({MAKE_ONE})."
            )
        return self

    def check(self) -> Settings:
        if self.mode not in {"dev", "demo", "test", "production"}:
            raise SettingsError(
                f"TOVHOLDER_MODE must be dev, demo, test or production, not {self.mode!r}"
            )
        if OLD_DEFAULT_SECRET in self.secret_keys:
            raise SettingsError(
                "TOVHOLDER_SECRET_KEY is the old built-in example, which anyone can read: "
                f"set a random value ({MAKE_ONE})."
            )
        if not self.secret_key:
            raise SettingsError(f"Set TOVHOLDER_SECRET_KEY ({MAKE_ONE}).")
        if self.mode == "production":
            if len(self.secret_key) < SECRET_MIN:
                raise SettingsError(
                    f"Set TOVHOLDER_SECRET_KEY to a random value of at least {SECRET_MIN} "
                    f"characters ({MAKE_ONE})."
                )
            if not self.base_url.startswith("https://"):
                raise SettingsError(
                    "In production TOVHOLDER_BASE_URL must be the https:// address people "
                    "open (cookies are sent only over https there)."
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


def kept_secret(data_dir: Path) -> str:
    """The secret made for this data folder the first time it was needed (mode
    0600), so links and cookies survive a restart without a configured secret."""
    path = data_dir / SECRET_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="ascii").strip()


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
        "secret_key": e.get("TOVHOLDER_SECRET_KEY", ""),
        "previous_secret_keys": tuple(
            k.strip() for k in e.get("TOVHOLDER_PREVIOUS_SECRET_KEYS", "").split(",") if k.strip()
        ),
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
    if values["mode"] == "demo":
        # Demo data lives apart from real data: a SQLite file in a folder of its
        # own, never the configured database, so `serve` never finds the demo's
        # administrator (and `demo` never seeds a real database).
        values["data_dir"] = Path(str(values["data_dir"])) / "demo"
        values["database_url"] = ""
    if not values["secret_key"] and values["mode"] != "production":
        values["secret_key"] = kept_secret(Path(str(values["data_dir"])))
    return Settings(**values).check()  # type: ignore[arg-type]

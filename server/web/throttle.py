"""Fixed-window counters against guessing and flooding, one set per app.

They live in the app's `Services` (never in a module), so one app's attempts
never count against another's: two apps in one process (tests, a reload)
each start from nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

KEYS_MAX = 10_000  # counters kept before the expired ones are dropped

JOIN_LIMIT = 20  # wrong join codes a minute from one address
CODE_LIMIT = 10  # consultation access-code attempts a minute from one address
LOGIN_ADDRESS_LIMIT = 30  # login attempts a minute from one address
LOGIN_USER_LIMIT = 10  # login attempts a minute for one username


class Throttle:
    """A fixed-window counter per key (a client address, a username)."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self.hits: dict[str, tuple[float, int]] = {}

    def blocked(self, key: str, now: float) -> bool:
        """Over the limit in this window (without counting an attempt)."""
        start, count = self.hits.get(key, (now, 0))
        return now - start <= self.window and count >= self.limit

    def allow(self, key: str, now: float) -> bool:
        """Counts an attempt; False when it is over the limit."""
        start, count = self.hits.get(key, (now, 0))
        if now - start > self.window:
            start, count = now, 0
        self.hits[key] = (start, count + 1)
        if len(self.hits) > KEYS_MAX:
            self.hits = {k: v for k, v in self.hits.items() if now - v[0] <= self.window}
        return count < self.limit


@dataclass
class Throttles:
    """This app's counters."""

    join: Throttle = field(default_factory=lambda: Throttle(JOIN_LIMIT))  # wrong codes
    missing_code: Throttle = field(default_factory=lambda: Throttle(JOIN_LIMIT))  # in links
    consultation_code: Throttle = field(default_factory=lambda: Throttle(CODE_LIMIT))
    login_address: Throttle = field(default_factory=lambda: Throttle(LOGIN_ADDRESS_LIMIT))
    login_user: Throttle = field(default_factory=lambda: Throttle(LOGIN_USER_LIMIT))

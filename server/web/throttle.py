"""Fixed-window counters against guessing and flooding, one set per app.

They live in the app's `Services` (never in a module), so one app's attempts
never count against another's: two apps in one process (tests, a reload)
each start from nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from server.store.repo import LOCKOUT_AFTER, LOCKOUT_MINUTES

KEYS_MAX = 10_000  # counters kept before the expired ones are dropped

JOIN_LIMIT = 20  # wrong join codes a minute from one address
CODE_LIMIT = 10  # consultation access-code attempts a minute from one address
# Logins (server/web/pages/auth.py), in this order: attempts from one address;
# then five wrong passwords in a row for one username from one address lock
# that pair (not the account: a stranger elsewhere cannot lock anyone out);
# then attempts on one username from everywhere, counting only those that got
# past the first two (so guessing from many addresses stays slow).
LOGIN_ADDRESS_LIMIT = 30  # login attempts a minute from one address (an office's NAT too)
# Password checks on one username from all addresses it has not logged in from
# (`KnownAddresses`): guessing from many addresses gets 10 tries a quarter of an
# hour (~1,000 a day, not 14,000), and a stranger keeping a username at its
# limit does not keep its owner out at an address where they logged in before.
LOGIN_USER_LIMIT = 10
LOGIN_USER_WINDOW = 15 * 60.0
KNOWN_PER_USER = 20  # addresses remembered per username


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
        return self.attempt(key, now) <= self.limit

    def attempt(self, key: str, now: float) -> int:
        """Counts an attempt; its number in this window (over `limit`: refuse it,
        and `limit + 1` is the first refusal)."""
        start, count = self.hits.get(key, (now, 0))
        if now - start > self.window:
            start, count = now, 0
        self.hits[key] = (start, count + 1)
        if len(self.hits) > KEYS_MAX:
            self.hits = {k: v for k, v in self.hits.items() if now - v[0] <= self.window}
        return count + 1


class Lockout:
    """Locks a key (a username from one address) after `after` failures in a row.

    A failure more than `seconds` after the one before starts the count again;
    `clear` (a right password) forgets the key.
    """

    def __init__(self, after: int = LOCKOUT_AFTER, seconds: float = LOCKOUT_MINUTES * 60.0):
        self.after = after
        self.seconds = seconds
        self.failures: dict[tuple[str, str], tuple[float, int]] = {}  # last one, in a row
        self.locked: dict[tuple[str, str], float] = {}  # until

    def left(self, key: tuple[str, str], now: float) -> float:
        """Seconds the key stays locked; 0 when it is not."""
        until = self.locked.get(key)
        if until is None:
            return 0.0
        if until <= now:
            del self.locked[key]
            return 0.0
        return until - now

    def fail(self, key: tuple[str, str], now: float) -> bool:
        """Counts a failure; True when it locks the key (from now, for `seconds`)."""
        last, count = self.failures.get(key, (now, 0))
        if now - last > self.seconds:
            count = 0
        if count + 1 >= self.after:
            self.failures.pop(key, None)
            self.locked[key] = now + self.seconds
        else:
            self.failures[key] = (now, count + 1)
        if len(self.failures) + len(self.locked) > KEYS_MAX:
            self.failures = {k: v for k, v in self.failures.items() if now - v[0] <= self.seconds}
            self.locked = {k: v for k, v in self.locked.items() if v > now}
        return key in self.locked

    def clear(self, key: tuple[str, str]) -> None:
        self.failures.pop(key, None)
        self.locked.pop(key, None)


class KnownAddresses:
    """Where each username has logged in with the right password (this process
    remembers the last KNOWN_PER_USER addresses of each, KEYS_MAX usernames)."""

    def __init__(self) -> None:
        self.seen: dict[str, list[str]] = {}

    def remember(self, username: str, address: str) -> None:
        places = [a for a in self.seen.pop(username, []) if a != address]
        self.seen[username] = [*places, address][-KNOWN_PER_USER:]
        if len(self.seen) > KEYS_MAX:
            del self.seen[next(iter(self.seen))]  # the one not used the longest

    def known(self, username: str, address: str) -> bool:
        return address in self.seen.get(username, ())


# Right codes too (server/web/pages/participant.py): newcomers joining (or knocking at
# a case meeting's door) a minute from one address, and into one session from all
# addresses. A venue's wifi puts a whole room (40-200 phones) behind one address within
# a minute; a script with the code needs 17 minutes per address for 5,000 places. The
# session's bound stays above the largest hall (2,000 phones joined in 10 s in
# docs/benchmarks.md) and is per process, like the others.
JOINS_PER_ADDRESS = 300
JOINS_PER_SESSION = 3000


@dataclass
class Throttles:
    """This app's counters."""

    join: Throttle = field(default_factory=lambda: Throttle(JOIN_LIMIT))  # wrong codes
    missing_code: Throttle = field(default_factory=lambda: Throttle(JOIN_LIMIT))  # in links
    consultation_code: Throttle = field(default_factory=lambda: Throttle(CODE_LIMIT))
    login_address: Throttle = field(default_factory=lambda: Throttle(LOGIN_ADDRESS_LIMIT))
    login_user: Throttle = field(
        default_factory=lambda: Throttle(LOGIN_USER_LIMIT, LOGIN_USER_WINDOW)
    )
    login_known: KnownAddresses = field(default_factory=KnownAddresses)
    login_lock: Lockout = field(default_factory=Lockout)  # (username, address)
    joins: Throttle = field(default_factory=lambda: Throttle(JOINS_PER_ADDRESS))
    session_joins: Throttle = field(default_factory=lambda: Throttle(JOINS_PER_SESSION))

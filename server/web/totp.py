"""Time-based one-time passwords (RFC 6238, the authenticator-app kind).

HMAC-SHA1, 6 digits, 30-second steps: what every authenticator app reads
from an otpauth:// QR code. A code is accepted one step either side (clock
drift) and only once: the step it matched is stored, and a code for that step
or an earlier one is refused, so a code seen over a shoulder cannot be
replayed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from urllib.parse import quote, urlencode

import segno

DIGITS = 6
PERIOD = 30
WINDOW = 1  # steps accepted before and after now
ISSUER = "Tovholder"


def new_secret() -> str:
    """A random 160-bit key in base32, as apps expect (no padding)."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def _key(secret: str) -> bytes:
    clean = secret.strip().replace(" ", "").upper()
    return base64.b32decode(clean + "=" * (-len(clean) % 8))


def hotp(key: bytes, counter: int, digits: int = DIGITS) -> str:
    """RFC 4226: the code for one counter value."""
    mac = hmac.new(key, counter.to_bytes(8, "big"), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF
    return f"{value % 10**digits:0{digits}d}"


def step_at(now: float) -> int:
    return int(now // PERIOD)


def code_at(secret: str, now: float) -> str:
    return hotp(_key(secret), step_at(now))


def normalise(code: object) -> str:
    """What a person typed, without spaces and dashes ('123 456' -> '123456')."""
    if not isinstance(code, str):
        return ""
    return "".join(ch for ch in code if ch not in " -\u00a0")[:16]


def verify(secret: str, code: object, now: float, last_step: int = 0) -> int | None:
    """The step `code` is valid for (newer than `last_step`), or None."""
    typed = normalise(code)
    if len(typed) != DIGITS or not (typed.isascii() and typed.isdigit()):
        return None
    try:
        key = _key(secret)
    except ValueError:
        return None
    current = step_at(now)
    found: int | None = None
    for step in range(current - WINDOW, current + WINDOW + 1):
        # Compare every candidate (no early exit) in constant time.
        if hmac.compare_digest(hotp(key, step), typed) and step > last_step:
            found = step
    return found


def provisioning_uri(secret: str, account: str) -> str:
    label = quote(f"{ISSUER}:{account}")
    query = urlencode(
        {
            "secret": secret,
            "issuer": ISSUER,
            "algorithm": "SHA1",
            "digits": DIGITS,
            "period": PERIOD,
        }
    )
    return f"otpauth://totp/{label}?{query}"


def qr_data_uri(uri: str) -> str:
    """The provisioning URI as a QR code, an SVG data: URI for an <img> (CSP allows data:)."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=2))


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing it into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))

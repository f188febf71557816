"""Secrets kept at rest, sealed under a key derived from the server's secret.

A TOTP key in the database is as good as the second factor itself: whoever
reads a copy of the database (a backup, a stolen disk) could make the codes.
It is stored sealed with Fernet (AES-128-CBC and an HMAC, from the
`cryptography` package) under a key derived (HKDF) from TOVHOLDER_SECRET_KEY.
The previous secrets still open what they sealed, so rotating the secret does
not lock anyone out; a value opened with an old key is sealed again with the
new one the next time it is used. A value from before sealing (no prefix) is
read as it is and sealed at its next use.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "s1:"
_INFO = b"tovholder/sealed-at-rest/v1"


def _fernet(secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


class Sealer:
    """Seals with the newest secret; opens with any of them."""

    def __init__(self, secrets: Sequence[str]) -> None:
        # settings.secret_keys lists the previous ones first and the one in use last.
        fernets = [_fernet(s) for s in reversed(secrets)]
        self._newest = fernets[0]
        self._any = MultiFernet(fernets)

    def seal(self, value: str) -> str:
        return PREFIX + self._newest.encrypt(value.encode()).decode("ascii")

    def open(self, stored: str) -> str | None:
        """The value; None if no secret this server knows sealed it."""
        if not stored.startswith(PREFIX):
            return stored  # from before sealing
        try:
            return self._any.decrypt(stored[len(PREFIX) :].encode("ascii")).decode()
        except (InvalidToken, ValueError):
            return None

    def current(self, stored: str) -> bool:
        """Sealed with the secret in use (else: seal it again at its next use)."""
        if not stored.startswith(PREFIX):
            return False
        try:
            self._newest.decrypt(stored[len(PREFIX) :].encode("ascii"))
        except (InvalidToken, ValueError):
            return False
        return True

"""Who a ballot is from, as the engine sees it.

In a named poll the voter is the participant id. In an anonymous poll it is a
pseudonym: an HMAC under the server's secret key of (session id, poll id,
participant id), cut to 16 hex digits. The same participant always maps to the
same voter in a poll (so a changed ballot, or one from a second tab, replaces
the first), while the event log holds no participant id next to the ballot and
cannot be linked back without the secret key.

The HMAC key is derived from the secret key for this one purpose, so a screen
that is handed the key (`Room.voter_key`) never holds the secret that signs
cookies.
"""

from __future__ import annotations

import hashlib
import hmac

from server.engine.state import SessionState

PSEUDONYM_HEX = 16
_PURPOSE = b"tovholder/anonymous-voter/v1"


def voter_key(secret_key: str) -> bytes:
    """The key for pseudonyms, derived from the server's secret key."""
    return hmac.new(secret_key.encode(), _PURPOSE, hashlib.sha256).digest()


def pseudonym(key: bytes, session_id: str, poll_id: str, participant_id: str) -> str:
    message = "\x1f".join((session_id, poll_id, participant_id)).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:PSEUDONYM_HEX]


def voter_for(state: SessionState, key: bytes, poll_id: str, participant_id: str) -> str:
    """The voter the engine expects from this participant in this poll.

    An unknown poll gets a pseudonym too: the engine refuses it anyway, and an
    id never travels where a pseudonym belongs.
    """
    poll = state.polls.get(poll_id)
    if poll is not None and not poll.anonymous:
        return participant_id
    return pseudonym(key, state.session_id, poll_id, participant_id)

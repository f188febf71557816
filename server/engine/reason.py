"""Reasons people read: English text that keeps its msgid and fields for translation.

A `Reason` is a `str` (its English text, so it reads well in logs and tests)
that also carries the fixed msgid and the values of its %(name)s fields; the
edge translates the msgid and fills in the fields, so no reason is built with
an f-string that no catalog could hold.
"""

from __future__ import annotations

from collections.abc import Mapping


class Reason(str):
    msgid: str
    params: Mapping[str, str]

    def __new__(cls, msgid: str, **params: object) -> Reason:
        fields = {name: str(value) for name, value in params.items()}
        self = super().__new__(cls, msgid % fields if fields else msgid)
        self.msgid = msgid
        self.params = fields
        return self


def parts(text: str) -> tuple[str, Mapping[str, str]]:
    """(msgid, fields) of a reason; a plain string is its own msgid."""
    if isinstance(text, Reason):
        return text.msgid, text.params
    return text, {}

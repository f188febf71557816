"""What the engagement modules share: messages, refusals, and text cleaning."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from server.i18n import gettext_for
from server.privacy.cpr import scan


def N_(text: str) -> str:
    """Marks an English msgid for extraction; translated where it is shown."""
    return text


@dataclass(frozen=True)
class Msg:
    """A message for a person: an English msgid with %(name)s places, and their values.

    A value that is itself a Msg is translated too (a field's name, a status); a
    date or a moment is written as the language writes it ('14. marts 2026' /
    '14 March 2026', in Danish time), as the pages' |date filter does.
    """

    text: str
    params: Mapping[str, Any] = field(default_factory=dict)
    plural: str | None = None  # with msg_n: the plural msgid; params["num"] is the count

    def render(self, lang: str) -> str:
        translations = gettext_for(lang)
        values = {k: _shown(v, lang) for k, v in self.params.items()}
        if self.plural is not None:
            translated = translations.ngettext(self.text, self.plural, int(values["num"]))
        else:
            translated = translations.gettext(self.text)
        return translated % values if values else translated


def _shown(value: Any, lang: str) -> Any:
    if isinstance(value, Msg):
        return value.render(lang)
    if isinstance(value, dt.date):  # a datetime is a date too
        from server.minutes import fmt

        return fmt.date(value, lang)
    return value


def msg(text: str, **params: Any) -> Msg:
    return Msg(text, params)


def msg_n(singular: str, plural: str, num: int, **params: Any) -> Msg:
    """A message whose noun follows a count ('1 case was' / '2 cases were'): the
    language's plural rule picks the form; `%(num)d` in it is the count.
    Extracted as a plural msgid (server/i18n_tools.py: KEYWORDS)."""
    return Msg(singular, {"num": num, **params}, plural)


class Refused(Exception):
    """An action that cannot be done; `messages` say why (one per problem)."""

    def __init__(self, *messages: Msg) -> None:
        super().__init__(messages[0].text if messages else "refused")
        self.messages: tuple[Msg, ...] = messages


def refuse(text: str, **params: Any) -> Refused:
    return Refused(Msg(text, params))


FIELD_NAMES: Mapping[str, str] = {
    "label": N_("Case"),
    "cover": N_("Cover"),
    "summary": N_("Summary"),
    "learning_question": N_("Learning question"),
    "tags": N_("Focus points"),
    "selected": N_("Selected"),
    "selection_reason": N_("Reason for selection"),
    "title": N_("Title"),
    "description": N_("Description"),
    "owner": N_("Owner"),
    "purpose": N_("Purpose"),
    "activity": N_("Activity"),
    "goal": N_("Goal"),
    "actors": N_("Actors"),
    "schedule": N_("Schedule and follow-up"),
    "status_note": N_("Status"),
    "note": N_("Note"),
    "comment": N_("Comment"),
    "name": N_("Name"),
    "reason": N_("Reason"),
    "focus_points": N_("Focus points"),
    "place": N_("Place"),
}


def field_name(name: str) -> Msg:
    return Msg(FIELD_NAMES.get(name, name))


@dataclass(frozen=True)
class Cleaned:
    text: str
    masked: int


def clean_text(
    value: object, limit: int, name: str, *, required: bool = False, one_line: bool = False
) -> Cleaned:
    """Trimmed (lines kept unless `one_line`), bounded and CPR-masked text, or Refused."""
    text = value if isinstance(value, str) else ""
    text = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
    if one_line:
        text = " ".join(text.split())
    else:
        lines = [" ".join(line.split()) for line in text.split("\n")]
        text = "\n".join(lines).strip("\n")
        while "\n\n\n" in text:
            text = text.replace("\n\n\n", "\n\n")
    if required and not text:
        raise refuse(N_("%(field)s is missing."), field=field_name(name))
    if len(text) > limit:
        raise refuse(
            N_("%(field)s is too long (at most %(limit)s characters)."),
            field=field_name(name),
            limit=limit,
        )
    result = scan(text)
    return Cleaned(result.text, result.count)


def masked_note(count: int) -> Msg:
    return msg_n(
        "%(num)d number that looked like a CPR number was masked: never write CPR numbers here.",
        "%(num)d numbers that looked like a CPR number were masked: never write CPR numbers here.",
        count,
    )

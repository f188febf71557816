"""Formatting of dates, times, durations and numbers for the documents.

Danish conventions: "tirsdag den 4. marts 2025", "kl. 09.00", "3,5".
All functions are deterministic (no "now"), so golden files stay stable.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date as _babel_date
from babel.numbers import format_decimal

from server.minutes.labels import Labels
from server.minutes.model import Language

LOCAL_TZ = ZoneInfo("Europe/Copenhagen")
_LOCALES = {"da": "da_DK", "en": "en_GB"}


def locale_of(language: Language | str) -> str:
    return _LOCALES.get(language, "da_DK")


def to_local(moment: dt.datetime) -> dt.datetime:
    """Aware datetimes are shown in Danish time; naive ones are already local."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(LOCAL_TZ)


def long_date(day: dt.date, language: Language | str) -> str:
    """'tirsdag den 4. marts 2025' / 'Tuesday 4 March 2025'."""
    if language == "en":
        return _babel_date(day, "EEEE d MMMM y", locale="en_GB")
    return _babel_date(day, "EEEE 'den' d. MMMM y", locale="da_DK")


def short_date(day: dt.date, language: Language | str) -> str:
    """'4. mar. 2025' style is ambiguous across Word versions; use '04.03.2025'."""
    if language == "en":
        return day.strftime("%d/%m/%Y")
    return day.strftime("%d.%m.%Y")


def clock(moment: dt.datetime, language: Language | str) -> str:
    """'09.00' in Danish, '09:00' in English."""
    local = to_local(moment)
    sep = ":" if language == "en" else "."
    return f"{local.hour:02d}{sep}{local.minute:02d}"


def time_span(start: dt.datetime | None, end: dt.datetime | None, language: Language | str) -> str:
    """'kl. 09.00–09.55', 'kl. 09.00' or ''."""
    if start is None:
        return ""
    prefix = "" if language == "en" else "kl. "
    text = prefix + clock(start, language)
    if end is not None:
        text += "–" + clock(end, language)
    return text


def duration(seconds: int | None, labels: Labels) -> str:
    """'12 min', '1 t 5 min', 'under 1 min', '' when unknown."""
    if seconds is None:
        return ""
    if seconds < 60:
        return labels.less_than_a_minute
    minutes = round(seconds / 60)
    hours, rest = divmod(minutes, 60)
    if hours == 0:
        return f"{rest} {labels.minute_abbr}"
    if rest == 0:
        return f"{hours} {labels.hour_abbr}"
    return f"{hours} {labels.hour_abbr} {rest} {labels.minute_abbr}"


def number(value: float, language: Language | str) -> str:
    """Whole numbers without decimals, others with one: '12', '3,5'."""
    if float(value).is_integer():
        return format_decimal(int(value), locale=locale_of(language), group_separator=False)
    rounded = Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return format_decimal(rounded, format="0.0", locale=locale_of(language))


def rank(position: int, tied: bool, labels: Labels) -> str:
    """'1.' or '1. (delt)'."""
    return f"{position}. ({labels.tied})" if tied else f"{position}."

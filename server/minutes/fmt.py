"""Formatting of dates, times, durations and numbers, per locale (Babel).

The documents use the named helpers (Danish conventions: "tirsdag den 4. marts
2025", "kl. 09.00", "3,5"); the pages use the same functions through the Jinja
filters `|date`, `|datetime`, `|time` and `|number` (server/web/templating.py),
so a page and a document show a date the same way. Moments are shown in
Europe/Copenhagen time. All functions are deterministic (no "now"), so golden
files stay stable.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.dates import format_time as _babel_time
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


def stored_local(moment: dt.datetime) -> dt.datetime:
    """A moment from the database in Danish time.

    The tables store UTC; SQLite gives it back without a time zone, so a naive
    value here is UTC (unlike `to_local`, whose naive inputs are local already).
    """
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone(LOCAL_TZ)


DateFormat = str  # "short" 26.11.2026, "medium" 26. nov. 2026, "long" 26. november 2026, "full"


def date(
    value: dt.date | dt.datetime | str | None, language: Language | str, form: DateFormat = "long"
) -> str:
    """A day as the language writes it; a datetime is first moved to Danish time.

    "long": '26. november 2026' / '26 November 2026' (the default);
    "short": '26.11.2026' / '26/11/2026'; "medium": '26. nov. 2026' / '26 Nov 2026';
    "full": 'torsdag den 26. november 2026' / 'Thursday 26 November 2026'.
    """
    if value is None:
        return ""
    if isinstance(value, str):  # an agreed date is text; shown as a date when it is one
        try:
            day = dt.date.fromisoformat(value.strip())
        except ValueError:
            return value
    elif isinstance(value, dt.datetime):
        day = stored_local(value).date()
    else:
        day = value
    if form == "full":
        return long_date(day, language)
    if form == "short":
        return short_date(day, language)
    return _babel_date(day, form, locale=locale_of(language))


def datetime(
    value: dt.datetime | None, language: Language | str, form: DateFormat = "short"
) -> str:
    """A moment in Danish time: '26.11.2026 14.05' / '26/11/2026, 14:05' ("short");
    "medium" adds seconds: '26. nov. 2026 14.05.33' / '26 Nov 2026, 14:05:33'."""
    if value is None:
        return ""
    return _babel_datetime(stored_local(value), form, tzinfo=LOCAL_TZ, locale=locale_of(language))


def time(value: dt.datetime | None, language: Language | str, form: DateFormat = "short") -> str:
    """The time of day in Danish time: '14.05' / '14:05'."""
    if value is None:
        return ""
    return _babel_time(stored_local(value), form, tzinfo=LOCAL_TZ, locale=locale_of(language))


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

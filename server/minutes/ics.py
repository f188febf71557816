"""The next meeting agreed in a follow-up, as an iCalendar (RFC 5545) event.

Written by hand: one VEVENT needs escaping, CRLF line ends and folding at
75 octets, which is less code than a dependency. Times are written in UTC
("Z" form), so no VTIMEZONE block is needed; naive datetimes are taken as
Danish local time. The result is a str with CRLF line ends: encode as UTF-8.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from server.minutes import fmt
from server.minutes.labels import labels_for
from server.minutes.model import Minutes
from server.minutes.text import clean, one_line

DEFAULT_LENGTH = dt.timedelta(hours=1)
PRODID = "-//Tovholder//Tovholder minutes//DA"
_MAX_OCTETS = 75


def escape_text(value: str) -> str:
    """RFC 5545 §3.3.11 TEXT escaping."""
    return (
        clean(value)
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Fold a content line into CRLF-separated pieces of at most 75 octets.

    Continuation lines start with one space, which counts towards their 75
    octets. A multi-byte UTF-8 character is never split.
    """
    pieces: list[str] = []
    current = ""
    size = 0
    limit = _MAX_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            pieces.append(current)
            current, size, limit = "", 0, _MAX_OCTETS - 1
        current += char
        size += width
    pieces.append(current)
    return "\r\n ".join(pieces)


def _utc(moment: dt.datetime) -> str:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=fmt.LOCAL_TZ)
    return aware.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def render_ics(
    minutes: Minutes,
    *,
    uid: str | None = None,
    dtstamp: dt.datetime | None = None,
) -> str:
    """A VCALENDAR with one VEVENT for ``minutes.next_meeting``.

    ``uid`` should be stable for the same agreed meeting so a re-download
    updates the calendar entry instead of duplicating it; by default it is
    derived from the meeting's title and start. ``dtstamp`` defaults to now.
    """
    meeting = minutes.next_meeting
    if meeting is None:
        raise ValueError("these minutes have no next meeting")
    lab = labels_for(minutes.language)
    subject = one_line(minutes.engagement_title) or one_line(minutes.title) or lab.minutes
    start = meeting.starts_at
    end = meeting.ends_at or start + DEFAULT_LENGTH
    if uid is None:
        seed = f"{minutes.title}\x1f{minutes.engagement_title}\x1f{_utc(start)}"
        digest = hashlib.sha256(seed.encode("utf-8")).hexdigest()[:24]
        uid = f"{digest}@tovholder"
    stamp = dtstamp or dt.datetime.now(dt.UTC)

    description: list[str] = []
    goals = [one_line(g) for g in meeting.goals if one_line(g)]
    if goals:
        description.append(f"{lab.goals}:")
        description += [f"- {goal}" for goal in goals]
    origin_day = minutes.meeting_date
    origin = one_line(minutes.title)
    if origin:
        when = f" ({fmt.short_date(origin_day, minutes.language)})" if origin_day else ""
        description += ["", f"{lab.minutes}: {origin}{when}"]

    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{escape_text(uid)}",
        f"DTSTAMP:{_utc(stamp)}",
        f"DTSTART:{_utc(start)}",
        f"DTEND:{_utc(end)}",
        f"SUMMARY:{escape_text(f'{lab.next_meeting}: {subject}')}",
    ]
    if meeting.place:
        lines.append(f"LOCATION:{escape_text(one_line(meeting.place))}")
    if description:
        lines.append(f"DESCRIPTION:{escape_text(chr(10).join(description).strip())}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "".join(fold(line) + "\r\n" for line in lines)

"""Jinja2 environments, one per language, autoescaping everything.

Each environment has the language's formatting filters, so a template never
formats a date or number itself: `{{ day|date }}` ('26. november 2026' /
'26 November 2026'), `{{ day|date("short") }}`, `{{ moment|datetime }}`,
`{{ moment|time }}`, `{{ value|number }}`; moments shown in Danish time
(server/minutes/fmt.py, the same functions the documents use).
"""

from __future__ import annotations

import math
from functools import cache, partial
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from server.i18n import LANGUAGE_NAMES, pick, translations
from server.minutes import fmt
from server.settings import ROOT
from server.web.assets import content_version

TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"


@cache
def asset_version(path: str) -> str:
    """A short content hash so browsers refetch changed assets (and may keep
    one for good: server/web/assets.py marks it immutable)."""
    file = STATIC / path
    try:
        return content_version(file.read_bytes())
    except OSError:
        return "0"


def static_url(path: str) -> str:
    return f"/static/{path}?v={asset_version(path)}"


MINUS = "\u2212"  # a real minus sign: a hyphen reads as a dash on the wall


def mmss(seconds: float) -> str:
    """A timer's time: '09:58', '1:59:58' from an hour up, and '−00:12' in overtime.

    Rounded half up, as static/js/app.js does it between updates, so the server's
    text and the ticking one agree.
    """
    if not math.isfinite(seconds):
        return "00:00"
    whole = math.floor(seconds + 0.5)
    sign = MINUS if whole < 0 else ""
    hours, rest = divmod(abs(whole), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}:{minutes:02d}:{secs:02d}"
    return f"{sign}{minutes:02d}:{secs:02d}"


def _date(value: Any, form: str = "long", *, language: str) -> str:
    return fmt.date(value, language, form) if value else ""


def _datetime(value: Any, form: str = "short", *, language: str) -> str:
    return fmt.datetime(value, language, form) if value else ""


def _time(value: Any, form: str = "short", *, language: str) -> str:
    return fmt.time(value, language, form) if value else ""


def _number(value: Any, *, language: str) -> str:
    return "" if value is None else fmt.number(value, language)


@cache
def environment(lang: str, templates: Path = TEMPLATES) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(templates)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates change with a deploy, which restarts the process: no stat()
        # of every template (and of each one it includes) on every render.
        auto_reload=False,
    )
    env.install_gettext_translations(translations(pick(lang)), newstyle=True)  # type: ignore[attr-defined]
    language = pick(lang)
    env.globals["static_url"] = static_url
    env.globals["lang"] = language
    env.globals["language_names"] = LANGUAGE_NAMES
    env.filters["mmss"] = mmss
    env.filters["date"] = partial(_date, language=language)
    env.filters["datetime"] = partial(_datetime, language=language)
    env.filters["time"] = partial(_time, language=language)
    env.filters["number"] = partial(_number, language=language)
    return env


def render(lang: str, name: str, **context: Any) -> str:
    return environment(lang).get_template(name).render(**context)

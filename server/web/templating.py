"""Jinja2 environments, one per language, autoescaping everything."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from server.i18n import pick, translations
from server.settings import ROOT

TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"


@cache
def asset_version(path: str) -> str:
    """A short content hash so browsers refetch changed assets."""
    file = STATIC / path
    try:
        return hashlib.sha256(file.read_bytes()).hexdigest()[:10]
    except OSError:
        return "0"


def static_url(path: str) -> str:
    return f"/static/{path}?v={asset_version(path)}"


def mmss(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


@cache
def environment(lang: str, templates: Path = TEMPLATES) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(templates)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(pick(lang)), newstyle=True)  # type: ignore[attr-defined]
    env.globals["static_url"] = static_url
    env.globals["lang"] = pick(lang)
    env.filters["mmss"] = mmss
    return env


def render(lang: str, name: str, **context: Any) -> str:
    return environment(lang).get_template(name).render(**context)

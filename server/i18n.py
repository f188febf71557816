"""Translations from the Babel catalogs in locales/ (Danish default, English second).

Catalogs are read from their .po files at start (no compiled .mo files in the
repository); msgids are English.
"""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from server.settings import ROOT

LANGUAGES = ("da", "en")
DEFAULT = "da"
# Each language by its own name, as a person looking for it reads it (never translated).
LANGUAGE_NAMES = {"da": "Dansk", "en": "English"}
LOCALES = ROOT / "locales"


@cache
def translations(lang: str, locales: Path = LOCALES) -> gettext.NullTranslations:
    po = locales / lang / "LC_MESSAGES" / "messages.po"
    if lang == "en" or not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def pick(*candidates: str | None) -> str:
    """The first supported language among the candidates, else Danish."""
    for lang in candidates:
        if lang:
            short = lang.split("-")[0].split("_")[0].lower()
            if short in LANGUAGES:
                return short
    return DEFAULT


def gettext_for(lang: str) -> gettext.NullTranslations:
    return translations(pick(lang))

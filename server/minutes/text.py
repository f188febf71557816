"""Cleaning of untrusted text before it goes into any document.

XML (DOCX, SVG) cannot hold most C0 control characters at all, and python-docx
raises on them, so one stray byte pasted from a case system must not break a
download. Escaping for each format is the renderer's job; this module only
makes text storable.
"""

from __future__ import annotations

import re

# C0 controls except TAB and LF, DEL, C1 controls, lone surrogates, and the two
# non-characters XML forbids.
_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_SPACES = re.compile(r"\s+")


def clean(text: str | None) -> str:
    """Normalise line ends and drop characters no document format can hold."""
    if not text:
        return ""
    return _INVALID.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def one_line(text: str | None) -> str:
    """Collapse all whitespace (including line breaks) to single spaces."""
    return _SPACES.sub(" ", clean(text)).strip()


def paragraphs(text: str | None) -> list[str]:
    """Split on line breaks, dropping blank lines; each part stripped."""
    return [line.strip() for line in clean(text).split("\n") if line.strip()]

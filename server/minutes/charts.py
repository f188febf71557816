"""Server-rendered horizontal bar charts as self-contained SVG.

Used in the PDF minutes and on the projector page. The SVG has a viewBox, so
it scales crisply to any width; the defaults are sized for an A4 page, and
:data:`PROJECTOR` gives large type for the back of a room.

Every label is untrusted and is XML-escaped. Ties are marked in text (not by
colour alone): the value reads "5 (delt)" and the bar uses the tie colour.
"""

from __future__ import annotations

import hashlib
import math
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Protocol

from server.minutes.text import one_line


class BarRow(Protocol):
    """What a chart row needs; :class:`~server.minutes.model.PollResultRow` fits."""

    @property
    def label(self) -> str: ...
    @property
    def value(self) -> float: ...
    @property
    def rank(self) -> int: ...
    @property
    def tied(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class ChartStyle:
    width: int = 640  # viewBox width in px; the SVG scales with CSS
    font_size: float = 13.5
    bar_height: float = 14
    row_gap: float = 11  # space between one bar and the next row's label
    max_label_lines: int = 2
    bar_color: str = "#1f5f8b"
    tie_color: str = "#a34a00"  # dark orange: 4.9:1 against white
    track_color: str = "#e6ebf0"
    text_color: str = "#1a1a1a"
    muted_color: str = "#4b5563"
    background: str | None = None  # None = transparent
    font_family: str = "Liberation Sans, DejaVu Sans, Arial, Helvetica, sans-serif"


DOCUMENT = ChartStyle()
PROJECTOR = ChartStyle(width=1200, font_size=34, bar_height=40, row_gap=26)

_CHAR_WIDTH = 0.56  # average sans-serif glyph width as a fraction of the font size
_PAD = 4


def _escape(text: str) -> str:
    return escape(text, quote=True)


def _text_width(text: str, font_size: float) -> float:
    return len(text) * font_size * _CHAR_WIDTH


def _wrap(text: str, max_chars: int, max_lines: int) -> list[str]:
    """Word wrap to at most ``max_lines``; an ellipsis marks cut text."""
    lines = textwrap.wrap(text, width=max_chars, break_long_words=True) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max(1, max_chars - 1)].rstrip() + "…"
    return lines


def _default_format(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def bar_chart_svg(
    rows: Sequence[BarRow],
    *,
    title: str,
    value_format: Callable[[float], str] = _default_format,
    tie_label: str = "delt",
    empty_text: str = "Ingen stemmer",
    max_value: float | None = None,
    style: ChartStyle = DOCUMENT,
    id_prefix: str | None = None,
) -> str:
    """A horizontal bar chart, one bar per row, in the order given.

    ``title`` becomes the SVG's accessible name; a ``<desc>`` lists every row's
    rank, label and value. ``max_value`` fixes the scale (e.g. the top of a
    score scale); by default the largest value fills the width.
    ``id_prefix`` keeps ids unique when several charts share one HTML page;
    by default it is derived from the content, so output is deterministic.
    """
    fs = style.font_size
    line_height = round(fs * 1.3)
    labels = [f"{row.rank}. {one_line(row.label)}" for row in rows]
    values = [value_format(row.value) + (f" ({tie_label})" if row.tied else "") for row in rows]
    clean_title = one_line(title)
    if id_prefix is None:
        digest = hashlib.sha1(
            "\x1f".join([clean_title, *labels, *values]).encode(), usedforsecurity=False
        )
        id_prefix = "chart-" + digest.hexdigest()[:10]

    value_col = max((_text_width(v, fs) for v in values), default=0) + 2 * _PAD + fs * 0.4
    bar_max = max(style.width - value_col - _PAD, style.width * 0.3)
    top = max([max_value or 0.0, *(row.value for row in rows)])
    max_chars = max(8, int((style.width - _PAD) / (fs * _CHAR_WIDTH)))

    body: list[str] = []
    y: float = _PAD
    for row, label, value_text in zip(rows, labels, values, strict=True):
        lines = _wrap(label, max_chars, style.max_label_lines)
        colour = style.tie_color if row.tied else style.bar_color
        body.append(f"<g><title>{_escape(label)}: {_escape(value_text)}</title>")
        for line in lines:
            y += line_height
            body.append(
                f'<text x="0" y="{y - fs * 0.28:.1f}" font-size="{fs}" '
                f'fill="{style.text_color}">{_escape(line)}</text>'
            )
        y += _PAD
        width = 0.0 if top <= 0 else max(0.0, row.value) / top * bar_max
        body.append(
            f'<rect x="0" y="{y:.1f}" width="{bar_max:.1f}" height="{style.bar_height}" '
            f'fill="{style.track_color}"/>'
        )
        if width > 0:
            body.append(
                f'<rect x="0" y="{y:.1f}" width="{width:.1f}" height="{style.bar_height}" '
                f'fill="{colour}"/>'
            )
        weight = ' font-weight="bold"'
        value_fill = style.tie_color if row.tied else style.text_color
        body.append(
            f'<text x="{bar_max + _PAD * 2:.1f}" y="{y + style.bar_height / 2 + fs * 0.33:.1f}" '
            f'font-size="{fs}" fill="{value_fill}"{weight}>{_escape(value_text)}</text>'
        )
        body.append("</g>")
        y += style.bar_height + style.row_gap

    if not rows:
        y += line_height
        body.append(
            f'<text x="0" y="{y:.1f}" font-size="{fs}" fill="{style.muted_color}">'
            f"{_escape(empty_text)}</text>"
        )
        y += _PAD * 2
    height = math.ceil(y - (style.row_gap if rows else 0) + _PAD)

    desc = "; ".join(f"{label}: {value}" for label, value in zip(labels, values, strict=True))
    background = (
        f'<rect width="100%" height="100%" fill="{style.background}"/>' if style.background else ""
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-labelledby="{id_prefix}-title {id_prefix}-desc" '
        f'viewBox="0 0 {style.width} {height:.0f}" width="{style.width}" height="{height:.0f}" '
        f'font-family="{_escape(style.font_family)}" class="bar-chart">'
        f'<title id="{id_prefix}-title">{_escape(clean_title)}</title>'
        f'<desc id="{id_prefix}-desc">{_escape(desc or empty_text)}</desc>'
        f"{background}{''.join(body)}</svg>"
    )

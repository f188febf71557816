"""Minutes as PDF: a Jinja2 HTML template rendered by WeasyPrint.

Autoescaping is always on, so HTML in a card or decision prints as literal
text. The only markup passed in unescaped is our own: the stylesheet and the
SVG charts (which escape their labels themselves).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from server.minutes import fmt
from server.minutes.charts import bar_chart_svg
from server.minutes.labels import Labels
from server.minutes.model import Minutes, Poll
from server.minutes.view import build_view

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
CHART_ROWS_PER_BLOCK = 14  # an SVG cannot break across pages; long polls get several


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@lru_cache(maxsize=1)
def _base_css() -> str:
    return (TEMPLATES / "minutes" / "document.css").read_text(encoding="utf-8")


def _css_string(text: str) -> str:
    """A CSS string literal; JSON's escaping is a safe subset of CSS's."""
    return json.dumps(text).replace("<", "\\3c ")


def page_css(labels: Labels, *, is_draft: bool) -> Markup:
    """Margin boxes that depend on language and draft state."""
    rules = (
        "@page { @bottom-right { content: "
        f"{_css_string(labels.page + ' ')} counter(page) {_css_string(' ' + labels.of + ' ')}"
        " counter(pages); font-size: 7.5pt; color: #4b5563; vertical-align: top;"
        " padding-top: 4mm; } }"
    )
    if is_draft:
        rules += (
            f"@page {{ @top-right {{ content: {_css_string(labels.draft)}; color: #b01e1e;"
            " font-weight: bold; font-size: 9pt; vertical-align: bottom; padding-bottom: 4mm;"
            " } }"
        )
    return Markup(rules)  # noqa: S704 - built from our own labels, CSS-escaped


def render_template(name: str, **context: Any) -> str:
    return environment().get_template(name).render(css=Markup(_base_css()), **context)  # noqa: S704


def html_to_pdf(html: str) -> bytes:
    # Everything the document needs is inline: no file, no network, ever (even if
    # markup slipped past the escaping, it could not read a file or call a server).
    fetcher = URLFetcher(allowed_protocols={"data"})
    pdf: bytes = HTML(string=html, base_url=str(TEMPLATES), url_fetcher=fetcher).write_pdf()
    return pdf


def poll_charts(poll: Poll, labels: Labels, language: str) -> Sequence[Markup]:
    """One or more SVG charts for a poll (long polls are split into blocks)."""
    rows = poll.results
    top = max((r.value for r in rows), default=0.0)
    blocks = [rows[i : i + CHART_ROWS_PER_BLOCK] for i in range(0, len(rows), CHART_ROWS_PER_BLOCK)]
    return [
        Markup(  # noqa: S704 - bar_chart_svg escapes every label
            bar_chart_svg(
                block,
                title=poll.question,
                value_format=lambda v: fmt.number(v, language),
                tie_label=labels.tied,
                max_value=top,
            )
        )
        for block in blocks
    ]


def render_html(minutes: Minutes) -> str:
    view = build_view(minutes)
    charts = {p.no: poll_charts(p.poll, view.labels, view.language) for p in view.polls}
    return render_template(
        "minutes/minutes.html",
        view=view,
        charts=charts,
        page_css=page_css(view.labels, is_draft=view.is_draft),
    )


def render_pdf(minutes: Minutes) -> bytes:
    return html_to_pdf(render_html(minutes))

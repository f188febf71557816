"""The SVG bar chart: escaped, accessible, ties visible, scalable."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from server.minutes.charts import PROJECTOR, bar_chart_svg
from server.minutes.model import PollResultRow

SVG = "{http://www.w3.org/2000/svg}"
ROWS = (
    PollResultRow('<script>alert("x")</script> & co', 5, 1, tied=True),
    PollResultRow("Børnefaglige undersøgelser", 5, 1, tied=True),
    PollResultRow("Ældre sager", 2, 3),
    PollResultRow("Ingen", 0, 4),
)


def test_chart_is_valid_accessible_svg() -> None:
    svg = bar_chart_svg(ROWS, title="Hvad skal vi prioritere?")
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("viewBox", "").startswith("0 0 640 ")
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == "Hvad skal vi prioritere?"
    desc = root.find(f"{SVG}desc")
    assert desc is not None and "3. Ældre sager: 2" in (desc.text or "")
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"


def test_chart_escapes_labels() -> None:
    svg = bar_chart_svg(ROWS, title="<b>titel</b>")
    assert "<script>" not in svg and "<b>" not in svg
    assert "&lt;script&gt;" in svg and "&amp; co" in svg
    texts = [t.text for t in ET.fromstring(svg).iter(f"{SVG}text")]
    assert '1. <script>alert("x")</script> & co' in texts


def test_ties_are_marked_in_text_and_colour() -> None:
    svg = bar_chart_svg(ROWS, title="t", tie_label="delt")
    texts = [t.text for t in ET.fromstring(svg).iter(f"{SVG}text")]
    assert texts.count("5 (delt)") == 2
    assert "2" in texts and "0" in texts
    fills = [r.get("fill") for r in ET.fromstring(svg).iter(f"{SVG}rect")]
    assert fills.count("#a34a00") == 2


def test_bars_are_proportional_and_zero_has_no_bar() -> None:
    root = ET.fromstring(bar_chart_svg(ROWS, title="t"))
    rects = list(root.iter(f"{SVG}rect"))
    track = float(rects[0].get("width", "0"))
    bars = [float(r.get("width", "0")) for r in rects if r.get("fill") != "#e6ebf0"]
    assert bars[0] == track and abs(bars[2] - track * 2 / 5) < 0.2
    assert len(bars) == 3  # the 0-vote option has only its track


def test_empty_chart_and_deterministic_ids() -> None:
    empty = bar_chart_svg([], title="Ingen endnu", empty_text="Ingen stemmer endnu")
    ET.fromstring(empty)
    assert "Ingen stemmer endnu" in empty
    assert bar_chart_svg(ROWS, title="a") == bar_chart_svg(ROWS, title="a")
    assert bar_chart_svg(ROWS, title="a", id_prefix="p1").count('id="p1-') == 2


def test_projector_style_is_large_and_long_labels_wrap() -> None:
    long = PollResultRow("Et meget langt forslag " * 12, 3, 1)
    svg = bar_chart_svg([long], title="t", style=PROJECTOR)
    root = ET.fromstring(svg)
    assert root.get("width") == "1200"
    texts = [t for t in root.iter(f"{SVG}text")]
    assert texts[0].get("font-size") == "34"
    label_lines = [t.text or "" for t in texts[:-1]]
    assert len(label_lines) == 2 and label_lines[-1].endswith("…")

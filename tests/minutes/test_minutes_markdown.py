"""Markdown minutes: a golden file, and escaping of user text."""

from __future__ import annotations

import os
from pathlib import Path

from server.minutes.markdown import escape_md, render_markdown
from server.minutes.model import Minutes

GOLDEN = Path(__file__).parent / "golden" / "kvifa.md"


def test_kvifa_markdown_matches_golden(kvifa: Minutes) -> None:
    rendered = render_markdown(kvifa)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(rendered, encoding="utf-8")
    assert rendered == GOLDEN.read_text(encoding="utf-8"), (
        "Markdown changed; if intended, run with UPDATE_GOLDEN=1 and review the diff"
    )


def test_markdown_is_deterministic(kvifa: Minutes) -> None:
    assert render_markdown(kvifa) == render_markdown(kvifa)


def test_escape_md_neutralises_markup() -> None:
    assert escape_md("<script>alert(1)</script>") == "\\<script\\>alert(1)\\</script\\>"
    assert escape_md("[klik](javascript:x)") == "\\[klik\\](javascript:x)"
    assert escape_md("a | b") == "a \\| b"
    assert escape_md("**fed** _kursiv_ `kode`") == "\\*\\*fed\\*\\* \\_kursiv\\_ \\`kode\\`"
    assert escape_md("# ikke en overskrift") == "\\# ikke en overskrift"
    assert escape_md("- ikke en liste") == "\\- ikke en liste"
    assert escape_md("1. ikke nummereret") == "1\\. ikke nummereret"
    assert escape_md("&lt;b&gt;") == "\\&lt;b\\&gt;"
    assert escape_md("Børn & Unge") == "Børn & Unge"
    assert escape_md("linje 1\nlinje 2") == "linje 1 linje 2"

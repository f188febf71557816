"""Reasons shown to people come from Python as fixed English msgids.

CommandRejected("..."), BadMessage("..."), flash(lang, "..."), error(request,
status, "..."), page(..., error="...") and the others babel.cfg lists are
extracted; an f-string (or +, %, .format) in their place cannot be, and would
stay English on a Danish screen. Give such a reason a fixed msgid with named
fields (%(n)s) instead, and mark text kept in tables or variables with N_().
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from server import i18n_tools
from server.i18n_tools import extract_reasons, find_reasons, parse_keywords

SOURCE = b"""
from x import CommandRejected, error, flash, page
log.error("%s", a, "not a reason")
r1 = CommandRejected("Plain reason.", "code")
r2 = CommandRejected(f"Between {low} and {high}.", "invalid")
r3 = CommandRejected(reason, "wrong_step")
r4 = CommandRejected(reason="By keyword.", code="x")
r5 = CommandRejected("Long " "joined.", "x")
flash(lang, "Saved.", "ok")
flash(lang, "Busy " + detail)
error(request, 404, "No such page.")
page(request, "t.html", 400, error="Form expired.", next=nxt)
page(request, "t.html", 429, error="locked")
page(request, "t.html", error="Yes." if ok else "No.")
make(x, error="m")
N_("Marked elsewhere.")
_("Through gettext.")
N_(f"Not {this}.")
"""

ROOT = Path(__file__).resolve().parents[2]
SPEC = "CommandRejected:1,reason flash:2 error:3 page:error"


def test_reasons_in_sources_are_fixed_msgids() -> None:
    problems = i18n_tools.reason_problems()
    assert not problems, (
        "reasons that cannot be translated; use a fixed msgid with %(name)s fields:\n"
        + "\n".join(problems)
    )


def test_parse_keywords() -> None:
    assert parse_keywords("CommandRejected:1,reason page:error N_") == {
        "CommandRejected": (1, "reason"),
        "page": ("error",),
        "N_": (1,),
    }


def test_extractor_finds_reasons_and_skips_codes() -> None:
    options = {"reasons": SPEC, "skip": "locked"}
    found = extract_reasons(io.BytesIO(SOURCE), ["_", "N_"], [], options)
    texts = [m[2] for m in found if m[2]]  # Babel drops the f-string (None) itself
    assert sorted(texts) == sorted(
        [
            "Marked elsewhere.",
            "Through gettext.",
            "Plain reason.",
            "By keyword.",
            "Long joined.",
            "Saved.",
            "No such page.",
            "Form expired.",
            "Yes.",
            "No.",
        ]
    )


def line_of(text: str) -> int:
    return next(n for n, line in enumerate(SOURCE.decode().splitlines(), 1) if text in line)


def test_problems_name_the_line() -> None:
    found = [f for f in find_reasons(SOURCE.decode(), parse_keywords(SPEC)) if f.problem]
    assert [(f.line, f.callee, f.problem) for f in found] == [
        (line_of("Between {low}"), "CommandRejected", "f-string"),
        (line_of('"Busy " + detail'), "flash", "text built with +"),
    ]


def test_problems_in_a_tree_include_gettext_calls(tmp_path: Path) -> None:
    shutil.copy(ROOT / "babel.cfg", tmp_path / "babel.cfg")
    (tmp_path / "server/minutes").mkdir(parents=True)
    (tmp_path / "server/x.py").write_bytes(SOURCE)
    (tmp_path / "server/minutes/y.py").write_text('CommandRejected(f"{x}")\n')
    assert i18n_tools.reason_problems(tmp_path) == [
        f"server/x.py:{line_of('Between {low}')}: CommandRejected(...) gets f-string",
        f"server/x.py:{line_of('Busy')}: flash(...) gets text built with +",
        f"server/x.py:{line_of('Not {this}')}: N_(...) gets f-string",
    ]

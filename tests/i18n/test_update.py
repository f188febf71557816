"""`python -m server.i18n_tools update` on a small tree of its own."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from server import i18n_tools as tools

ROOT = Path(__file__).resolve().parents[2]


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "babel.cfg", tmp_path / "babel.cfg")
    write(tmp_path / "pyproject.toml", '[project]\nname = "t"\nversion = "1.2"\n')
    write(
        tmp_path / "server/engine/x.py",
        'def f():\n    return CommandRejected("Only the facilitator can do that.", "forbidden")\n',
    )
    write(tmp_path / "server/minutes/labels.py", 'CommandRejected("Minutes have their own.")\n')
    write(tmp_path / "templates/a.html", '<h1>{{ _("Next step") }}</h1>\n')
    write(tmp_path / "templates/_partials/b.html", '{{ _("Participant %(n)s", n=1) }}\n')
    write(tmp_path / "templates/minutes/m.html", '{{ _("Not extracted") }}\n')
    return tmp_path


EVERY_KIND = """
from x import BadMessage, CommandRejected, N_, error, flash, msg, page, refuse

CommandRejected("Only the facilitator can do that.", "forbidden")
BadMessage("The message is malformed.")
client.offer(flash(lang, "Saved.", "ok"))
error(request, 404, "That session does not exist.")
page(request, "auth/login.html", 401, error="Wrong username or password.", next=nxt)
page(request, "auth/login.html", 429, error="locked", minutes=3)
raise InvalidBallotError("Choose at least one option.")
current_step(state, CaseWalkthroughStep, "This step does not go through cases.")
REASONS = {"draft": N_("The vote has not been opened yet.")}
raise refuse("That case does not exist.")
msg("The file is empty.")
log.error("%s %s", a, "not a message")
"""


def test_extraction_reaches_every_kind_of_source(tree: Path) -> None:
    write(tree / "server/web/every_kind.py", EVERY_KIND)
    found = {m.id: {loc for loc, _ in m.locations} for m in tools.extract(tree) if m.id}
    from_python = {k for k, where in found.items() if "server/web/every_kind.py" in where}
    assert from_python == {
        "Only the facilitator can do that.",
        "The message is malformed.",
        "Saved.",
        "That session does not exist.",
        "Wrong username or password.",
        "Choose at least one option.",
        "This step does not go through cases.",
        "The vote has not been opened yet.",
        "That case does not exist.",
        "The file is empty.",
    }
    # pybabel skips directories starting with "_" unless told otherwise
    assert found["Participant %(n)s"] == {"templates/_partials/b.html"}
    assert "Not extracted" not in found  # templates/minutes/
    assert "Minutes have their own." not in found  # server/minutes/


def ids(path: Path, lang: str | None = None) -> dict[str, object]:
    catalog = tools.read_catalog(path, lang)
    return {m.id: m.string for m in catalog if m.id}


def test_update_creates_extracts_and_merges(tree: Path) -> None:
    written = tools.update(tree)
    assert {p.relative_to(tree).as_posix() for p in written} == {
        "locales/messages.pot",
        "locales/da/LC_MESSAGES/messages.po",
        "locales/en/LC_MESSAGES/messages.po",
    }
    wanted = {"Only the facilitator can do that.", "Next step", "Participant %(n)s"}
    assert set(ids(tools.template_path(tree))) == wanted
    assert ids(tools.catalog_path("da", tree), "da") == dict.fromkeys(wanted, "")
    assert ids(tools.catalog_path("en", tree), "en") == {w: w for w in wanted}
    assert any("untranslated" in p for p in tools.check(tree))
    assert tools.update(tree) == []  # nothing changed: nothing written
    lines = tools.template_path(tree).read_text().splitlines()
    locations = " ".join(line[2:] for line in lines if line.startswith("#:"))
    assert "templates/a.html" in locations
    assert ":" not in locations, "locations carry no line numbers"


def test_translations_survive_rewording_and_coming_back(tree: Path) -> None:
    tools.update(tree)
    da = tools.catalog_path("da", tree)
    catalog = tools.read_catalog(da, "da")
    for message, text in zip(
        (
            catalog["Next step"],
            catalog["Participant %(n)s"],
            catalog["Only the facilitator can do that."],
        ),
        ("Næste punkt", "Deltager %(n)s", "Det kan kun facilitator gøre."),
        strict=True,
    ):
        message.string = text
    tools._write(da, catalog)
    assert tools.untranslated(tools.read_catalog(da, "da")) == []

    write(tree / "templates/a.html", '<h1>{{ _("Next steps") }}</h1>\n')
    tools.update(tree)
    catalog = tools.read_catalog(da, "da")
    assert catalog["Next steps"].fuzzy and catalog["Next steps"].string == "Næste punkt"
    assert tools.untranslated(catalog) == ["Next steps"]

    write(tree / "templates/a.html", "<h1>{{ x }}</h1>\n")
    tools.update(tree)
    assert "Participant %(n)s" in ids(da, "da")
    write(tree / "templates/_partials/b.html", "")
    tools.update(tree)
    catalog = tools.read_catalog(da, "da")
    assert catalog.get("Participant %(n)s") is None
    assert "Participant %(n)s" in catalog.obsolete

    write(tree / "templates/_partials/b.html", '{{ _("Participant %(n)s", n=1) }}\n')
    tools.update(tree)
    catalog = tools.read_catalog(da, "da")
    assert catalog["Participant %(n)s"].string == "Deltager %(n)s"
    assert not catalog["Participant %(n)s"].fuzzy


def test_main(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert tools.main(["nonsense"], tree) == 2
    assert capsys.readouterr().err.startswith("usage")
    assert tools.main(["check"], tree) == 1  # no catalogs yet
    assert tools.main(["update"], tree) == 0
    out = capsys.readouterr().out
    assert "updated locales/messages.pot" in out
    assert "untranslated or fuzzy: 'Next step'" in out
    assert tools.main(["check"], tree) == 1

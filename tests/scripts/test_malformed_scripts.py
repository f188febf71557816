"""Every malformed script is reported at the line to fix, in words a consultant understands."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest
import yaml

from server.scripts import loader
from server.scripts.loader import MAX_BYTES, Problem, ScriptError, load_script, parse_script

MALFORMED = Path(__file__).parent / "malformed"

HEAD = """\
id: kvifa
title: Faglig sparring
duration: 60
"""  # lines 1-3; steps start on line 4 in the cases below


def problems_of(text: str | bytes, filename: str = "bad.yaml") -> list[Problem]:
    with pytest.raises(ScriptError) as caught:
        parse_script(text, filename)
    return caught.value.problems


def assert_reported(problems: list[Problem], prefix: str, fragment: str) -> None:
    shown = "\n".join(str(p) for p in problems)
    assert any(str(p).startswith(prefix) and fragment in p.message for p in problems), (
        f"expected {prefix!r} with {fragment!r}, got:\n{shown}"
    )


def d(text: str) -> str:
    return textwrap.dedent(text)


CASES: list[tuple[str, str | bytes, int, str]] = [
    (
        "unknown key with hint",
        HEAD
        + d("""\
            steps:
              - id: spoergsmaal
                kind: round
                title: Spørgerunde
                timebx: 8
            """),
        8,
        "unknown key 'timebx' in step 'spoergsmaal' (kind round); did you mean 'timebox'?",
    ),
    (
        "unknown key belonging to another kind",
        HEAD
        + d("""\
            steps:
              - id: runde
                kind: round
                title: Runde
                journal_note: true
            """),
        8,
        "'journal_note' belongs to kind decision",
    ),
    (
        "unknown top-level key",
        d("""\
            id: kvifa
            titel: Faglig sparring
            duration: 60
            steps:
              - id: a
                kind: break
                title: Pause
            """),
        2,
        "unknown key 'titel' at the top level; did you mean 'title'?",
    ),
    (
        "unknown kind lists valid kinds",
        HEAD
        + d("""\
            steps:
              - id: a
                kind: runde
                title: Runde
            """),
        6,
        "unknown step kind 'runde' in step 'a'; did you mean 'round'? Valid kinds: presentation,",
    ),
    (
        "missing kind",
        HEAD
        + d("""\
            steps:
              - id: a
                title: Runde
            """),
        5,
        "step 'a' has no 'kind'; add one of: presentation",
    ),
    (
        "missing step title",
        HEAD
        + d("""\
            steps:
              - id: velkomst
                kind: presentation
                prompt: Hej
            """),
        5,
        "step 'velkomst' (kind presentation) is missing 'title'",
    ),
    (
        "missing script title",
        d("""\
            # Drejebog uden titel
            id: kvifa
            duration: 60
            steps:
              - id: a
                kind: break
                title: Pause
            """),
        2,
        "the script is missing 'title'",
    ),
    (
        "wrong type: text for a number",
        d("""\
            id: kvifa
            title: Sparring
            duration: en time
            steps:
              - id: a
                kind: break
                title: Pause
            """),
        3,
        "'duration' must be a number, got the text 'en time'",
    ),
    (
        "wrong type: yes/no where text is expected",
        d("""\
            id: kvifa
            title: No
            duration: 60
            steps:
              - id: a
                kind: break
                title: Pause
            """),
        2,
        "'title' must be text, got 'No', which YAML reads as false; put it in quotes",
    ),
    (
        "wrong type: text for a list",
        HEAD
        + d("""\
            roles:
              - id: case_owner
                title: Sagsejer
            steps:
              - id: forslag
                kind: round
                title: Forslag
                listeners: case_owner
            """),
        11,
        "'listeners' in step 'forslag' (kind round) must be a list",
    ),
    (
        "negative timebox",
        HEAD
        + d("""\
            steps:
              - id: a
                kind: round
                title: Runde
                timebox: -5
            """),
        8,
        "'timebox' in step 'a' (kind round) must be more than 0, got -5",
    ),
    (
        "timebox too large",
        HEAD
        + d("""\
            steps:
              - id: a
                kind: round
                title: Runde
                timebox: 6000
            """),
        8,
        "must be at most 600, got 6000",
    ),
    (
        "duplicate step id",
        HEAD
        + d("""\
            steps:
              - id: runde
                kind: round
                title: Første runde
              - id: runde
                kind: round
                title: Anden runde
            """),
        8,
        "duplicate step id 'runde' (first used on line 5)",
    ),
    (
        "duplicate YAML key",
        d("""\
            id: kvifa
            title: Faglig sparring
            duration: 60
            duration: 45
            steps:
              - id: a
                kind: break
                title: Pause
            """),
        4,
        "duplicate key 'duration' (already set on line 3)",
    ),
    (
        "duplicate key inside a step",
        HEAD
        + d("""\
            steps:
              - id: a
                kind: break
                title: Pause
                title: Kaffe
            """),
        8,
        "duplicate key 'title' (already set on line 7)",
    ),
    (
        "alias bomb",
        d("""\
            id: bombe
            a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]
            b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
            c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
            """),
        2,
        "YAML anchors (&a) are not allowed",
    ),
    (
        "alias without anchor",
        HEAD
        + d("""\
            steps:
              - id: a
                kind: break
                title: *titel
            """),
        7,
        "YAML aliases (*titel) are not allowed",
    ),
    ("empty file", "", 1, "the file is empty"),
    ("only comments", "# TODO: skriv drejebogen\n\n", 1, "the file is empty"),
    ("binary junk", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 3, "looks like a binary file"),
    ("control character", "id: kvifa\ntitle: Spar\x07ring\n", 2, "control character U+0007"),
    (
        "invalid UTF-8",
        b"id: kvifa\ntitle: Faglig sparring\nduration: 60\nnotes: K\xf8benhavn\n",
        4,
        "not valid UTF-8 (byte 0xf8)",
    ),
    ("UTF-16", "id: kvifa\n".encode("utf-16"), 1, "saved as UTF-16; save it as UTF-8"),
    ("huge text", "# " + "x" * (MAX_BYTES + 10), 1, "a script may be at most 1 MB"),
    (
        "list at top level",
        "- id: kvifa\n- title: Sparring\n",
        1,
        "the top level of a script must be a mapping",
    ),
    ("scalar at top level", "kvifa\n", 1, "but this file holds the text 'kvifa'"),
    (
        "listeners naming an unknown role",
        HEAD
        + d("""\
            roles:
              - id: case_owner
                title: Sagsejer
            steps:
              - id: forslag
                kind: round
                title: Forslag
                listeners:
                  - case_ownr
            """),
        12,
        "step 'forslag' (kind round) names the role 'case_ownr', which is not declared"
        " under roles:; did you mean 'case_owner'?",
    ),
    (
        "presenter role with no roles declared",
        HEAD
        + d("""\
            steps:
              - id: oplaeg
                kind: presentation
                title: Oplæg
                presenter: consultant
            """),
        8,
        "the script declares no roles",
    ),
    (
        "poll with one option",
        HEAD
        + d("""\
            steps:
              - id: valg
                kind: poll
                title: Valg
                question: Hvilket område først?
                type: choice
                options:
                  - Dokumentation
            """),
        10,
        "needs at least two options",
    ),
    (
        "poll with the same option twice",
        HEAD
        + d("""\
            steps:
              - id: valg
                kind: poll
                title: Valg
                question: Hvilket område først?
                type: choice
                options:
                  - Opfølgning
                  - Dokumentation
                  - Opfølgning
            """),
        13,
        "poll options must be different",
    ),
    (
        "bad slug id",
        HEAD
        + d("""\
            steps:
              - id: Spørgsmål 1
                kind: round
                title: Spørgerunde
            """),
        5,
        "got 'Spørgsmål 1', e.g. 'spoergsmaal-1'",
    ),
    (
        "unknown enum value",
        HEAD
        + d("""\
            steps:
              - id: a
                kind: round
                title: Runde
                mode: skriv
            """),
        8,
        "'mode' in step 'a' (kind round) must be one of speak, write; got 'skriv'",
    ),
    (
        "misspelt session type",
        "id: kvifa\ntitle: Sparring\nsession_type: kvfia\nduration: 60\n"
        "steps:\n  - id: a\n    kind: break\n    title: Pause\n",
        3,
        "did you mean 'kvifa'?",
    ),
    (
        "plan field that does not exist",
        HEAD
        + d("""\
            steps:
              - id: plan
                kind: plan_edit
                title: Plan
                fields: [purpose, goals]
            """),
        8,
        "item 2 of 'fields' in step 'plan' (kind plan_edit) must be one of purpose,",
    ),
    (
        "tab indentation",
        HEAD + "steps:\n  - id: a\n\tkind: break\n",
        6,
        "tab character in the indentation",
    ),
    (
        "unclosed quote",
        HEAD + 'steps:\n  - id: a\n    kind: break\n    title: "Pause\n    prompt: Kaffe\n',
        7,
        "a quote opened here is never closed",
    ),
    (
        "colon in unquoted text",
        HEAD + "steps:\n  - id: a\n    kind: break\n    title: Mål: færre sager\n",
        7,
        "text containing ': ' must be in quotes",
    ),
    (
        "two YAML documents",
        HEAD + "---\nid: igen\n",
        4,
        "more than one YAML document",
    ),
    ("python tag", "id: !!python/object/apply:os.system [ls]\n", 1, "YAML tags such as"),
    ("deep nesting", "id: " + "[" * 5000, 1, "nested more than"),
    ("steps not a list", HEAD + "steps:\n  id: a\n", 4, "'steps' must be a list"),
    ("no steps", HEAD + "steps: []\n", 4, "the script needs at least one step"),
    (
        "step that is just text",
        HEAD + "steps:\n  - velkomst\n",
        5,
        "step 1 must be a mapping of 'key: value' lines, got the text 'velkomst'",
    ),
    (
        "empty title",
        HEAD + "steps:\n  - id: a\n    kind: break\n    title: ''\n",
        7,
        "'title' in step 'a' (kind break) must not be empty",
    ),
    (
        "title with no value",
        HEAD + "steps:\n  - id: a\n    kind: break\n    title:\n",
        7,
        "'title' in step 'a' (kind break) has no value",
    ),
    (
        "duplicate role id",
        HEAD
        + d("""\
            roles:
              - id: family
                title: Familie
              - id: family
                title: Netværk
            steps:
              - id: a
                kind: break
                title: Pause
            """),
        7,
        "duplicate role id 'family' (first used on line 5)",
    ),
    (
        "private time for an unknown group",
        HEAD
        + d("""\
            roles:
              - id: family
                title: Familie
            steps:
              - id: alene
                kind: private_time
                title: Familiens tid
                group: familie
            """),
        11,
        "names the role 'familie'",
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_malformed_script_is_reported_at_its_line(
    text: str | bytes, line: int, fragment: str
) -> None:
    problems = problems_of(text)
    assert_reported(problems, f"bad.yaml:{line}: ", fragment)
    for problem in problems:
        assert problem.file == "bad.yaml"
        assert problem.line >= 1
        assert "Traceback" not in problem.message


def test_there_are_at_least_25_malformed_cases() -> None:
    assert len(CASES) >= 25


FILES = [
    ("binary-junk.yaml", 3, "looks like a binary file"),
    ("latin1.yaml", 7, "not valid UTF-8"),
    ("tab-indent.yaml", 6, "tab character"),
    ("billion-laughs.yaml", 4, "YAML anchors (&a) are not allowed"),
    ("unknown-key.yaml", 8, "did you mean 'timebox'?"),
    ("empty.yaml", 1, "the file is empty"),
    ("utf16.yaml", 1, "UTF-16"),
]


@pytest.mark.parametrize(("name", "line", "fragment"), FILES)
def test_malformed_file_is_reported_at_its_line(name: str, line: int, fragment: str) -> None:
    path = MALFORMED / name
    with pytest.raises(ScriptError) as caught:
        load_script(path)
    assert_reported(caught.value.problems, f"{path}:{line}: ", fragment)


def test_every_malformed_file_has_a_case() -> None:
    assert {p.name for p in MALFORMED.iterdir()} == {name for name, _, _ in FILES}


def test_a_50_mb_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "enorm.yaml"
    with path.open("wb") as handle:
        handle.truncate(50_000_000)  # sparse: no 50 MB on disk
    with pytest.raises(ScriptError) as caught:
        load_script(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:1: the file is 50.0 MB; a script may be at most 1 MB. Is this the right file?"
    ]


def test_a_missing_file_and_a_directory_are_problems(tmp_path: Path) -> None:
    for path, fragment in (
        (tmp_path / "findes-ikke.yaml", "no such file"),
        (tmp_path, "directory"),
    ):
        with pytest.raises(ScriptError) as caught:
            load_script(path)
        assert_reported(caught.value.problems, f"{path}:1: ", fragment)


def test_problems_come_sorted_by_line_and_all_are_reported() -> None:
    text = HEAD + d("""\
        steps:
          - id: a
            kind: round
            title: Runde
            timebx: 5
          - id: b
            kind: poll
            title: Valg
            question: Hvad?
            type: prik
          - id: a
            kind: break
            title: Pause
        """)
    problems = problems_of(text)
    assert [p.line for p in problems] == sorted(p.line for p in problems)
    assert [p.line for p in problems] == [8, 13, 14]
    assert "did you mean 'timebox'" in problems[0].message
    assert "must be one of choice, approval, dot, rank, score; got 'prik'" in problems[1].message
    assert "duplicate step id 'a'" in problems[2].message


def test_a_misspelt_key_is_not_also_reported_as_missing() -> None:
    text = "id: kvifa\ntitle: Sparring\nduraton: 60\nsteps:\n  - id: a\n    kind: break\n    title: P\n"
    assert [str(p) for p in problems_of(text)] == [
        "bad.yaml:3: unknown key 'duraton' at the top level; did you mean 'duration'?"
    ]


def test_str_of_problem_and_error() -> None:
    problem = Problem("drejebog.yaml", 7, "noget er galt")
    assert str(problem) == "drejebog.yaml:7: noget er galt"
    error = ScriptError([problem, Problem("drejebog.yaml", 9, "og mere")])
    assert str(error) == "drejebog.yaml:7: noget er galt\ndrejebog.yaml:9: og mere"


def test_many_problems_are_capped() -> None:
    steps = "".join(f"  - id: s{i}\n    kind: break\n    title: ''\n" for i in range(120))
    problems = problems_of(HEAD + "steps:\n" + steps)
    assert len(problems) == 51
    assert problems[-1].message == "... and 70 more"


@pytest.mark.skipif(not hasattr(yaml, "CSafeLoader"), reason="PyYAML built without libyaml")
@pytest.mark.parametrize(
    ("text", "line", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_large_files_get_the_same_reports_from_libyaml(
    text: str | bytes, line: int, fragment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above SLOW_PARSE_MAX syntax errors come from libyaml; they must read the same."""
    monkeypatch.setattr(loader, "SLOW_PARSE_MAX", 0)
    assert_reported(problems_of(text), f"bad.yaml:{line}: ", fragment)


def test_a_late_syntax_error_in_a_large_file_is_found_quickly() -> None:
    text = "id: kvifa\nnotes: |\n" + "  linje\n" * 120_000 + "\tsteps: []\n"
    started = time.monotonic()
    problems = problems_of(text)
    assert time.monotonic() - started < 10
    assert_reported(problems, "bad.yaml:120003: ", "tab character")

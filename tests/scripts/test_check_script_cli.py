"""`tovholder check-script`: exit codes, one problem per stderr line, never a traceback."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import server.engine
from server.scripts.check import check_file, dry_run, engine_available, engine_run, lint, main
from server.scripts.loader import parse_script

ROOT = Path(__file__).resolve().parents[2]
KVIFA = ROOT / "facilitation_scripts" / "kvifa.yaml"
MALFORMED = Path(__file__).parent / "malformed"
PROBLEM_LINE = re.compile(r"^.+:\d+: \S")

GOOD = """\
id: lille
title: Lille møde
duration: 30
roles:
  - id: case_owner
    title: Sagsejer
steps:
  - id: oplaeg
    kind: presentation
    title: Oplæg
    presenter: case_owner
    prompt: Sagen kort
    timebox: 10
  - id: runde
    kind: round
    title: Forslag
    listeners: [case_owner]
    prompt: Dit forslag
    timebox: 10
  - id: beslut
    kind: decision
    title: Beslutning
    prompt: Hvad gør vi?
    timebox: 10
    next_meeting: true
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run_module(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.scripts.check", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# --------------------------------------------------------------------------- main([...])


def test_valid_file_exits_0_with_one_ok_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "lille.yaml", GOOD)
    assert main([str(path)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.splitlines() == [
        f"{path}: OK: 3 steps, timeboxes 30 of 30 min, "
        + ("dry run passed" if engine_available() else "engine not available, no dry run")
    ]


def test_invalid_file_exits_1_with_problem_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path,
        "forkert.yaml",
        GOOD.replace("timebox: 10\n  - id: runde", "timebx: 10\n  - id: runde"),
    )
    assert main([str(path)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        f"{path}:13: unknown key 'timebx' in step 'oplaeg' (kind presentation); "
        "did you mean 'timebox'?"
    ]


def test_missing_file_and_directory_are_problem_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "findes-ikke.yaml"
    assert main([str(missing), str(tmp_path), str(KVIFA)]) == 1
    out, err = capsys.readouterr()
    assert err.splitlines() == [
        f"{missing}:1: no such file",
        f"{tmp_path}:1: this is a directory, not a script file",
    ]
    assert out.startswith(f"{KVIFA}: OK: 7 steps")


def test_warnings_are_shown_but_only_fail_with_strict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "lang.yaml", GOOD.replace("duration: 30", "duration: 20"))
    assert main([str(path)]) == 0
    _, err = capsys.readouterr()
    assert err.splitlines() == [
        f"{path}:1: warning: the timeboxes add up to 30 min, more than the duration of 20 min"
    ]
    assert main(["--strict", str(path)]) == 1


def test_warning_about_a_step_points_at_the_step(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "uden.yaml", GOOD.replace("    prompt: Dit forslag\n", ""))
    assert main([str(path)]) == 0
    _, err = capsys.readouterr()
    assert err.splitlines() == [f"{path}:14: warning: step 'runde' has no prompt for the projector"]


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["--bogus", str(KVIFA)]) == 2
    _, err = capsys.readouterr()
    assert "usage: tovholder check-script" in err
    assert main(["--help"]) == 0


def test_every_malformed_file_fails_with_problem_lines(capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted(str(p) for p in MALFORMED.iterdir())
    assert main(files) == 1
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert {line.split(":", 1)[0] for line in lines} == set(files)
    assert all(PROBLEM_LINE.match(line) for line in lines), lines


# --------------------------------------------------------------------------- python -m


def test_module_exit_0_for_the_shipped_scripts() -> None:
    paths = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "facilitation_scripts").glob("*.yaml"))
    result = run_module(*paths)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert [line.split(": OK: ")[0] for line in result.stdout.splitlines()] == paths


def test_module_exit_1_with_problem_lines_and_no_traceback(tmp_path: Path) -> None:
    huge = tmp_path / "enorm.yaml"
    with huge.open("wb") as handle:
        handle.truncate(50_000_000)
    files = [*sorted(str(p) for p in MALFORMED.iterdir()), str(huge), str(tmp_path / "nej.yaml")]
    result = run_module(*files)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    assert all(PROBLEM_LINE.match(line) for line in lines), lines
    assert (
        f"{huge}:1: the file is 50.0 MB; a script may be at most 1 MB. Is this the right file?"
        in lines
    )
    assert f"{tmp_path / 'nej.yaml'}:1: no such file" in lines


def test_module_without_arguments_prints_usage() -> None:
    result = run_module()
    assert result.returncode == 2
    assert result.stderr.startswith("usage:")


# --------------------------------------------------------------------------- dry run


def test_lint_finds_what_the_schema_cannot() -> None:
    text = """\
id: rodet
title: Rodet møde
duration: 120
roles:
  - id: chair
    title: Formand
steps:
  - id: snak
    kind: discussion
    title: Snak
    timebox: 20
  - id: lang
    kind: presentation
    title: Oplæg
    prompt: "%s"
  - id: stemme
    kind: poll
    title: Stemme
    question: Hvilken klynge?
    type: choice
    options_from: clusters
    timebox: 5
""" % ("x" * 200)
    messages = [f.message for f in lint(parse_script(text))]
    assert messages == [
        "step 'lang' has no timebox",
        "the timeboxes add up to only 25 of 120 min; plan the rest or shorten the duration",
        "step 'snak' has no prompt for the projector",
        "the prompt of step 'lang' is 200 characters; keep it under 160 so it reads on a projector",
        "the role 'chair' is declared but no step uses it",
        "poll 'stemme' takes its options from clusters, but no earlier step collects cards",
    ]


@pytest.mark.skipif(
    not engine_available(), reason="server.engine has no initial_state/decide/apply"
)
def test_engine_dry_run_passes_for_a_good_script() -> None:
    assert engine_run(parse_script(GOOD)) == []
    assert dry_run(parse_script(GOOD)) == []


@pytest.mark.skipif(
    not engine_available(), reason="server.engine has no initial_state/decide/apply"
)
def test_engine_refusal_is_a_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rejected = server.engine.CommandRejected("Nope.", "nope")
    monkeypatch.setattr(server.engine, "decide", lambda state, command, now: rejected)
    assert dry_run(parse_script(GOOD)) == ["dry run: starting the session was refused: Nope."]
    path = write(tmp_path, "lille.yaml", GOOD)
    assert not check_file(str(path))
    _, err = capsys.readouterr()
    assert err == f"{path}:1: dry run: starting the session was refused: Nope.\n"


@pytest.mark.skipif(
    not engine_available(), reason="server.engine has no initial_state/decide/apply"
)
def test_engine_crash_is_a_problem_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(state: object, command: object, now: float) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(server.engine, "decide", boom)
    assert dry_run(parse_script(GOOD)) == ["dry run: the engine crashed (RuntimeError: kaboom)"]

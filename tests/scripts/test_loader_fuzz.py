"""Whatever text or bytes arrive, parse_script returns a Script or raises ScriptError."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.scripts import loader
from server.scripts.loader import ScriptError, parse_script
from server.scripts.schema import STEP_KINDS, Script

SHIPPED = sorted((Path(__file__).resolve().parents[2] / "facilitation_scripts").glob("*.yaml"))

# Pieces of YAML and of scripts, so the fuzzer reaches past the YAML parser.
TOKENS = [
    "id:",
    "title:",
    "duration:",
    "steps:",
    "roles:",
    "kind:",
    "timebox:",
    "listeners:",
    "options:",
    "question:",
    "type:",
    "group:",
    "presenter:",
    *STEP_KINDS,
    "- ",
    "  ",
    "\n",
    "\t",
    ":",
    " ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "&a",
    "*a",
    "!!str",
    "!!int",
    "'",
    '"',
    "|",
    ">",
    "#",
    "---",
    "...",
    "?",
    "<<:",
    "~",
    "null",
    "yes",
    "no",
    "1e9",
    "-5",
    "0",
    "60",
    "0x1F",
    "1:30",
    "2024-13-45",
    ".nan",
    "kvifa",
    "case_owner",
    "æøå",
    "\x00",
    "\ufeff",
    "\u2028",
    "\r\n",
]


def check(data: str | bytes) -> None:
    try:
        result = parse_script(data, "fuzz.yaml")
    except ScriptError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.file == "fuzz.yaml"
            assert problem.line >= 1
            assert problem.message
    else:
        assert isinstance(result, Script)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_random_text_only_raises_script_error(text: str) -> None:
    check(text)


@settings(max_examples=300, deadline=None)
@given(st.binary())
def test_random_bytes_only_raise_script_error(data: bytes) -> None:
    check(data)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=80).map("".join))
def test_yaml_like_token_soup_only_raises_script_error(text: str) -> None:
    check(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(SHIPPED).map(lambda p: p.read_bytes()),
    st.integers(min_value=0, max_value=10_000),
    st.binary(max_size=8),
    st.integers(min_value=0, max_value=8),
)
def test_mutated_shipped_scripts_only_raise_script_error(
    original: bytes, at: int, insert: bytes, cut: int
) -> None:
    at %= len(original) + 1
    check(original[:at] + insert + original[at + cut :])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=80).map("".join))
def test_token_soup_through_libyaml_errors_only_raises_script_error(text: str) -> None:
    """Large files report libyaml's syntax errors; force that path on small inputs."""
    saved = loader.SLOW_PARSE_MAX
    loader.SLOW_PARSE_MAX = 0
    try:
        check(text)
    finally:
        loader.SLOW_PARSE_MAX = saved

"""YAML -> Script. Minimal version; errors carry file:line (extended separately)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from server.scripts.schema import Script


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class ScriptError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def parse_script(text: str, filename: str = "<script>") -> Script:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", 0) + 1
        raise ScriptError([Problem(filename, line, "not valid YAML")]) from None
    try:
        return Script.model_validate(data)
    except ValidationError as exc:
        raise ScriptError(
            [Problem(filename, 1, f"{'.'.join(map(str, e['loc']))}: {e['msg']}") for e in exc.errors()]
        ) from None


def load_script(path: str | Path) -> Script:
    p = Path(path)
    return parse_script(p.read_text(encoding="utf-8"), str(p))

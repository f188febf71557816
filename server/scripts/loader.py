"""YAML -> Script, with every problem pointing at the line a consultant must fix.

The text is composed with PyYAML's node API so every value keeps its line; the
plain data is then validated by the pydantic models in ``schema.py`` and each
validation error is mapped back through its ``loc`` path to the node it came
from. Nothing a user can put in a file produces a traceback: anything that is
not a valid script raises :class:`ScriptError` with one :class:`Problem` per
mistake.

Deliberately refused: files over 1 MB, YAML anchors and aliases (no "billion
laughs"), nesting deeper than ``MAX_DEPTH``, YAML tags, duplicate keys.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, get_args

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    Event,
    NodeEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import ReaderError

from server.scripts.schema import STEP_KINDS, Role, Script, Step

MAX_BYTES = 1_000_000
MAX_DEPTH = 32
MAX_PROBLEMS = 50
SLOW_PARSE_MAX = 100_000  # characters PyYAML's pure-Python parser reads in about a second

YamlPath = tuple[str | int, ...]


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


class _Issue(NamedTuple):
    line: int
    message: str


class _Refusal(Exception):
    """Reading stops here: one problem, no point in looking further."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.issue = _Issue(line, message)


# --------------------------------------------------------------------------- entry points


def parse_script(text: str | bytes, filename: str = "<script>") -> Script:
    """Parse and validate a script; raise ScriptError listing every problem found."""
    try:
        script, issues = _parse(text)
    except _Refusal as refusal:
        issues = [refusal.issue]
    except RecursionError:
        issues = [_Issue(1, f"the script is nested too deeply (more than {MAX_DEPTH} levels)")]
    except Exception as exc:  # last resort: a consultant must never see a traceback
        issues = [_Issue(1, f"could not read the script ({type(exc).__name__}: {exc})")]
    else:
        if script is not None and not issues:
            return script
    raise ScriptError(_problems(filename, issues)) from None


def load_script(path: str | Path) -> Script:
    """Read a script file (at most MAX_BYTES) and parse it."""
    name = str(path)
    try:
        raw = _read_file(Path(path))
    except _Refusal as refusal:
        raise ScriptError(_problems(name, [refusal.issue])) from None
    return parse_script(raw, name)


def _read_file(path: Path) -> bytes:
    try:
        if path.is_dir():
            raise _Refusal(1, "this is a directory, not a script file")
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise _Refusal(1, _too_big(size))
        with path.open("rb") as handle:
            return handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise _Refusal(1, "no such file") from None
    except PermissionError:
        raise _Refusal(1, "permission denied: cannot read this file") from None
    except OSError as exc:
        raise _Refusal(1, f"cannot read this file ({exc.strerror or exc})") from None


def _problems(filename: str, issues: Iterable[_Issue]) -> list[Problem]:
    ordered = sorted(dict.fromkeys(issues), key=lambda issue: issue.line)
    problems = [Problem(filename, i.line, i.message) for i in ordered[:MAX_PROBLEMS]]
    if len(ordered) > MAX_PROBLEMS:
        last = ordered[MAX_PROBLEMS].line
        problems.append(Problem(filename, last, f"... and {len(ordered) - MAX_PROBLEMS} more"))
    return problems


def _parse(raw: str | bytes) -> tuple[Script | None, list[_Issue]]:
    text = _decode(raw)
    root = _compose(text)
    if root is None:
        raise _Refusal(1, _EMPTY)
    doc = _Document(root)
    if doc.data is None:
        raise _Refusal(doc.line(()), _EMPTY)
    if not isinstance(doc.data, dict):
        raise _Refusal(doc.line(()), _top_level_message(doc.data))
    issues = list(doc.issues)
    cross = _cross_checks(doc)
    issues += cross
    try:
        return Script.model_validate(doc.data), issues
    except ValidationError as exc:
        return None, issues + _translate(exc.errors(include_url=False), doc, bool(cross))


_EMPTY = "the file is empty; a script needs at least id:, title:, duration: and steps:"


def _top_level_message(data: object) -> str:
    return (
        "the top level of a script must be a mapping of keys (id:, title:, duration:, steps:), "
        f"but this file holds {_describe(data, None)}"
    )


# --------------------------------------------------------------------------- text and YAML


def _too_big(size: int) -> str:
    return (
        f"the file is {size / 1_000_000:.1f} MB; a script may be at most "
        f"{MAX_BYTES // 1_000_000} MB. Is this the right file?"
    )


def _decode(raw: str | bytes) -> str:
    if isinstance(raw, str):
        size = len(raw) if len(raw) * 4 <= MAX_BYTES else len(raw.encode("utf-8", "replace"))
        if size > MAX_BYTES:
            raise _Refusal(1, _too_big(size))
        return raw.removeprefix("\ufeff")
    if len(raw) > MAX_BYTES:
        raise _Refusal(1, _too_big(len(raw)))
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _Refusal(1, "the file is saved as UTF-16; save it as UTF-8")
    nul = raw.find(b"\x00")
    if nul >= 0:
        line = raw.count(b"\n", 0, nul) + 1
        raise _Refusal(line, "the file contains NUL bytes; it looks like a binary file, not YAML")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise _Refusal(
            line, f"the file is not valid UTF-8 (byte 0x{raw[exc.start]:02x}); save it as UTF-8"
        ) from None


_TOO_DEEP = f"the script is nested more than {MAX_DEPTH} levels deep"


def _event_line(event: Event) -> int:
    return event.start_mark.line + 1 if event.start_mark else 1


def _refuse_anchor(event: Event) -> None:
    if isinstance(event, AliasEvent):
        raise _Refusal(
            _event_line(event),
            f"YAML aliases (*{event.anchor}) are not allowed in scripts; "
            "write the value out in full",
        )
    if isinstance(event, NodeEvent) and event.anchor is not None:
        raise _Refusal(
            _event_line(event),
            f"YAML anchors (&{event.anchor}) are not allowed in scripts; "
            "write the value out in full",
        )


class _Composer(yaml.SafeLoader):
    """SafeLoader's composer without anchors and aliases, and with a depth limit."""

    depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event: Event = self.peek_event()  # type: ignore[no-untyped-call]
        _refuse_anchor(event)
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _Refusal(_event_line(event), _TOO_DEEP)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


_FAST: Any = getattr(yaml, "CSafeLoader", None)  # libyaml, when PyYAML was built with it


def _compose(text: str) -> Node | None:
    """The node tree of text: libyaml when it can, PyYAML's own parser for its error messages."""
    if _FAST is not None:
        try:
            _screen_events(text)
            return _compose_fast(text)
        except ReaderError as exc:
            if len(text) > SLOW_PARSE_MAX:
                line = text.encode("utf-8", "replace").count(b"\n", 0, _position(exc)) + 1
                raise _Refusal(line, _reader_message(exc)) from None
        except yaml.MarkedYAMLError as exc:
            if len(text) > SLOW_PARSE_MAX:
                raise _Refusal(*_yaml_problem(exc, text)) from None
        # a small file with a syntax error: PyYAML's own parser explains it best
    return _compose_slow(text)


def _screen_events(text: str) -> None:
    """Refuse anchors, aliases and deep nesting before libyaml composes anything."""
    loader = _FAST(text)
    depth = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            _refuse_anchor(event)
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _Refusal(_event_line(event), _TOO_DEEP)
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
    finally:
        loader.dispose()


def _compose_fast(text: str) -> Node | None:
    loader = _FAST(text)
    try:
        node: Node | None = loader.get_single_node()
        return node
    finally:
        loader.dispose()


def _compose_slow(text: str) -> Node | None:
    try:
        loader = _Composer(text)
    except ReaderError as exc:
        raise _Refusal(_reader_line(text, exc), _reader_message(exc)) from None
    try:
        return loader.get_single_node()
    except ReaderError as exc:
        raise _Refusal(_reader_line(text, exc), _reader_message(exc)) from None
    except yaml.MarkedYAMLError as exc:
        raise _Refusal(*_yaml_problem(exc, text)) from None
    finally:
        loader.dispose()


def _position(exc: ReaderError) -> int:
    return exc.position if isinstance(exc.position, int) else 0


def _reader_line(text: str, exc: ReaderError) -> int:
    return text.count("\n", 0, _position(exc)) + 1


def _reader_message(exc: ReaderError) -> str:
    char = exc.character
    number = ord(char) if isinstance(char, str) else char
    code = f"U+{number:04X}" if isinstance(number, int) else repr(char)
    return (
        f"the file contains the control character {code}, which YAML does not allow; "
        "is this a binary file?"
    )


def _yaml_problem(exc: yaml.MarkedYAMLError, text: str) -> tuple[int, str]:
    """Line and message for a YAML syntax error from PyYAML or from libyaml."""
    problem = exc.problem or "syntax error"
    context = exc.context or ""
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else 1
    at_tab = mark is not None and text[mark.index : mark.index + 1] == "\t"
    if "'\\t'" in problem or "tab character" in problem or at_tab:
        return line, "tab character in the indentation; YAML indents with spaces only"
    if "quoted scalar" in context and exc.context_mark is not None:
        return (
            exc.context_mark.line + 1,
            "a quote opened here is never closed; add the closing quote",
        )
    if "nesting depth" in problem:
        return line, _TOO_DEEP
    if "expected a single document" in context:
        return line, "the file holds more than one YAML document ('---'); a script is one"
    problem = problem.replace("in this context", "here")  # libyaml's wording -> PyYAML's
    hint = _YAML_HINTS.get(problem, "")
    where = f" ({context})" if context else ""
    return line, f"this is not valid YAML: {problem}{where}{hint}"


_COLON_HINT = "; text containing ': ' must be in quotes, or the indentation is off"
_YAML_HINTS = {
    "mapping values are not allowed here": _COLON_HINT,
    "could not find expected ':'": "; every key needs a ':' after it",
}


# --------------------------------------------------------------------------- nodes -> data


@dataclass(frozen=True)
class _Spot:
    line: int
    key_line: int | None
    text: str | None  # the scalar as written, for messages


_ALLOWED_TAGS = {
    "tag:yaml.org,2002:" + name
    for name in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq")
}


class _Document:
    """Plain data from a node tree, with the line of every value and key."""

    def __init__(self, root: Node) -> None:
        self.spots: dict[YamlPath, _Spot] = {}
        self.issues: list[_Issue] = []
        self._numbers = SafeConstructor()
        self.data = self._value(root, (), None)

    def line(self, path: YamlPath, *, key: bool = False) -> int:
        """Line of the value at path (or of its key), falling back to the nearest parent."""
        while path and path not in self.spots:
            path = path[:-1]
        spot = self.spots.get(path)
        if spot is None:
            return 1
        return spot.key_line if key and spot.key_line is not None else spot.line

    def text(self, path: YamlPath) -> str | None:
        spot = self.spots.get(path)
        return spot.text if spot else None

    def _value(self, node: Node, path: YamlPath, key_line: int | None) -> Any:
        line = node.start_mark.line + 1
        text = node.value if isinstance(node, ScalarNode) else None
        self.spots[path] = _Spot(line, key_line, text)
        if node.tag not in _ALLOWED_TAGS:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            raise _Refusal(line, f"YAML tags such as '{tag}' are not allowed in scripts")
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            return [self._value(item, (*path, i), None) for i, item in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        return self._scalar(node)

    def _mapping(self, node: MappingNode, path: YamlPath) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, ScalarNode):
                self.issues.append(_Issue(line, "a key must be plain text, not a list or mapping"))
                continue
            key = str(key_node.value)
            if key in first_line:
                self.issues.append(_Issue(line, _duplicate_key(key, first_line[key])))
                continue
            first_line[key] = line
            out[key] = self._value(value_node, (*path, key), line)
        return out

    def _scalar(self, node: ScalarNode) -> Any:
        tag = node.tag.rsplit(":", 1)[-1]
        try:
            if tag == "null":
                return None
            if tag == "bool":
                return self._numbers.construct_yaml_bool(node)
            if tag == "int":
                return self._numbers.construct_yaml_int(node)
            if tag == "float":
                return self._numbers.construct_yaml_float(node)
        except (ValueError, TypeError, IndexError, KeyError):
            pass  # e.g. a 5000-digit number: validation reports it as written
        return str(node.value)


def _duplicate_key(key: str, first: int) -> str:
    return (
        f"duplicate key '{key}' (already set on line {first}); "
        "YAML would silently keep only the last one"
    )


# --------------------------------------------------------------------------- cross checks


def _cross_checks(doc: _Document) -> list[_Issue]:
    """Checks the schema does at model level, redone here so they can name a line."""
    assert isinstance(doc.data, dict)
    roles = doc.data.get("roles")
    steps = doc.data.get("steps")
    issues = _duplicate_ids(doc, "roles", roles, "role")
    issues += _duplicate_ids(doc, "steps", steps, "step")
    if isinstance(steps, list) and (roles is None or isinstance(roles, list)):
        declared = [r["id"].strip() for r in roles or [] if _has_str(r, "id")]
        issues += _role_references(doc, steps, declared)
    return issues


def _has_str(item: object, key: str) -> bool:
    return isinstance(item, dict) and isinstance(item.get(key), str)


def _duplicate_ids(doc: _Document, field: str, items: object, noun: str) -> list[_Issue]:
    if not isinstance(items, list):
        return []
    issues: list[_Issue] = []
    first: dict[str, int] = {}
    for i, item in enumerate(items):
        if not _has_str(item, "id"):
            continue
        ident = item["id"].strip()
        line = doc.line((field, i, "id"))
        if ident in first:
            issues.append(
                _Issue(
                    line,
                    f"duplicate {noun} id '{ident}' (first used on line {first[ident]}); "
                    f"{noun} ids must be unique",
                )
            )
        else:
            first[ident] = line
    return issues


_ROLE_FIELDS: dict[str, tuple[str, ...]] = {
    "round": ("listeners", "answerers"),
    "private_time": ("group",),
    "presentation": ("presenter",),
}
_ROLE_LISTS = {"listeners", "answerers"}  # the others name one role


def _role_references(doc: _Document, steps: list[Any], declared: list[str]) -> list[_Issue]:
    issues: list[_Issue] = []
    for i, step in enumerate(steps):
        if not isinstance(step, dict):
            continue
        for field in _ROLE_FIELDS.get(str(step.get("kind")), ()):
            value = step.get(field)
            named: list[tuple[YamlPath, str]] = []
            if field not in _ROLE_LISTS and isinstance(value, str):
                named = [((field,), value)]
            if field in _ROLE_LISTS and isinstance(value, list):
                named = [((field, j), v) for j, v in enumerate(value) if isinstance(v, str)]
            for sub, role in named:
                role = role.strip()
                if role and role not in declared:
                    line = doc.line(("steps", i, *sub))
                    issues.append(_Issue(line, _unknown_role(_step_label(doc, i), role, declared)))
    return issues


def _unknown_role(step: str, role: str, declared: list[str]) -> str:
    message = f"{step} names the role '{role}', which is not declared under roles:"
    close = difflib.get_close_matches(role, declared, n=1)
    if close:
        return f"{message}; did you mean '{close[0]}'?"
    if declared:
        return f"{message} (declared: {', '.join(declared)})"
    return f"{message} (the script declares no roles; add a roles: list)"


# --------------------------------------------------------------------------- validation errors


def _step_models() -> dict[str, type[BaseModel]]:
    union = get_args(Step)[0]
    models: dict[str, type[BaseModel]] = {}
    for model in get_args(union):
        (kind,) = get_args(model.model_fields["kind"].annotation)
        models[kind] = model
    return models


STEP_MODELS = _step_models()


@dataclass(frozen=True)
class _Where:
    """Where a validation error sits: owner (script, role, step) and field inside it."""

    path: YamlPath  # data path, discriminator tag removed
    kind: str | None  # step kind named by the loc, if any
    owner: YamlPath  # () for the script, ("steps", i) or ("roles", i)
    model: type[BaseModel]

    @property
    def field(self) -> YamlPath:
        return self.path[len(self.owner) :]


def _where(loc: tuple[int | str, ...]) -> _Where:
    path = list(loc)
    kind = None
    is_step = len(path) >= 2 and path[0] == "steps" and isinstance(path[1], int)
    if is_step and len(path) >= 3 and path[2] in STEP_KINDS:
        kind = str(path.pop(2))
    if is_step:  # without a kind the error is about the step itself (not a mapping, no kind)
        model: type[BaseModel] = STEP_MODELS[kind] if kind else Script
        return _Where(tuple(path), kind, tuple(path[:2]), model)
    if len(path) >= 3 and path[0] == "roles" and isinstance(path[1], int):
        return _Where(tuple(path), None, tuple(path[:2]), Role)
    return _Where(tuple(path), None, (), Script)


def _translate(errors: list[ErrorDetails], doc: _Document, cross_found: bool) -> list[_Issue]:
    locs = [tuple(e["loc"]) for e in errors]
    misspelt = _misspelt_fields(errors)
    kept: list[ErrorDetails] = []
    for err in errors:
        loc = tuple(err["loc"])
        if err["type"] == "too_short" and any(o[: len(loc)] == loc and o != loc for o in locs):
            continue  # "no valid steps left" only repeats the errors inside the steps
        if not loc and cross_found:
            continue  # the script-level check already reported with a line
        if err["type"] == "missing" and loc in misspelt:
            continue  # "unknown key 'titel'; did you mean 'title'?" says it already
        kept.append(err)
    return _explain_first(kept, doc)


def _explain_first(errors: list[ErrorDetails], doc: _Document) -> list[_Issue]:
    """Explain the errors that will be shown; the rest only count towards "... and N more".

    A 1 MB file of unknown keys gives 100 000 errors; wording each one (with
    difflib hints) would take longer than a consultant waits.
    """
    rough = sorted(errors, key=lambda err: doc.line(_where(tuple(err["loc"])).path, key=True))
    shown = 2 * MAX_PROBLEMS
    issues = [_explain(err, doc) for err in rough[:shown]]
    for number, err in enumerate(rough[shown:]):
        line = doc.line(_where(tuple(err["loc"])).path, key=True)
        issues.append(_Issue(line, f"(further problem {number})"))
    return issues


def _misspelt_fields(errors: list[ErrorDetails]) -> set[tuple[int | str, ...]]:
    """Locs of missing fields that an unknown key in the same mapping is a typo of."""
    found: set[tuple[int | str, ...]] = set()
    unknown = [err for err in errors if err["type"] == "extra_forbidden" and err["loc"]]
    for err in unknown[: 4 * MAX_PROBLEMS]:
        loc = tuple(err["loc"])
        where = _where(loc)
        close = difflib.get_close_matches(str(loc[-1]), list(where.model.model_fields), n=1)
        if close:
            found.add((*loc[:-1], close[0]))
    return found


def _explain(err: ErrorDetails, doc: _Document) -> _Issue:
    where = _where(tuple(err["loc"]))
    kind = err["type"]
    if kind == "extra_forbidden":
        return _Issue(doc.line(where.path, key=True), _unknown_key(where, doc))
    if kind == "missing":
        return _Issue(doc.line(where.path), _missing(where, doc))
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        line = doc.line((*where.path, "kind"))
        return _Issue(line, _bad_kind(where, doc, err))
    if kind == "value_error" and not where.field:
        return _model_error(where, doc, err)
    return _Issue(doc.line(where.path, key=True), _bad_value(where, doc, err))


def _step_label(doc: _Document, index: int) -> str:
    assert isinstance(doc.data, dict)
    steps = doc.data.get("steps")
    step = steps[index] if isinstance(steps, list) and index < len(steps) else None
    ident = step.get("id") if isinstance(step, dict) else None
    kind = step.get("kind") if isinstance(step, dict) else None
    label = f"step '{ident}'" if isinstance(ident, str) and ident else f"step {index + 1}"
    return f"{label} (kind {kind})" if isinstance(kind, str) and kind in STEP_KINDS else label


def _owner_label(where: _Where, doc: _Document) -> str:
    if where.owner[:1] == ("steps",) and len(where.owner) == 2:
        return _step_label(doc, int(where.owner[1]))
    if where.owner[:1] == ("roles",):
        index = int(where.owner[1])
        ident = doc.text(("roles", index, "id"))
        return f"role '{ident}'" if ident else f"role {index + 1}"
    return "the script"


def _field_label(where: _Where, doc: _Document) -> str:
    field = where.field
    if not field:
        return _owner_label(where, doc)
    name = f"'{field[0]}'"
    if len(field) > 1 and isinstance(field[1], int):
        name = f"item {field[1] + 1} of {name}"
    if where.owner:
        name = f"{name} in {_owner_label(where, doc)}"
    return name


def _unknown_key(where: _Where, doc: _Document) -> str:
    key = str(where.field[-1]) if where.field else str(where.path[-1])
    owner = _owner_label(where, doc) if where.owner else "at the top level"
    place = f"in {owner}" if where.owner else owner
    valid = [f for f in where.model.model_fields if f != "kind"]
    message = f"unknown key '{key}' {place}"
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    if close:
        return f"{message}; did you mean '{close[0]}'?"
    other = [k for k, m in STEP_MODELS.items() if key in m.model_fields and where.kind]
    if other:
        return f"{message}; '{key}' belongs to kind {' / '.join(other)}"
    return f"{message}; valid keys: {', '.join(valid)}"


_EXAMPLES = {
    "id": "a short id like 'velkomst'",
    "title": "the name shown on screen",
    "duration": "the expected length in minutes, e.g. duration: 120",
    "steps": "the list of steps",
    "question": "the question put to the vote",
    "type": "the poll type: choice, approval, dot, rank or score",
    "group": "the role id of the group that stays, e.g. family",
}


def _missing(where: _Where, doc: _Document) -> str:
    field = str(where.field[-1]) if where.field else "?"
    owner = _owner_label(where, doc)
    example = _EXAMPLES.get(field)
    return f"{owner} is missing '{field}'" + (f" ({example})" if example else "")


def _bad_kind(where: _Where, doc: _Document, err: ErrorDetails) -> str:
    label = _step_label(doc, int(where.path[1]))
    valid = ", ".join(STEP_KINDS)
    if err["type"] == "union_tag_not_found":
        return f"{label} has no 'kind'; add one of: {valid}"
    tag = str((err.get("ctx") or {}).get("tag", ""))
    written = doc.text((*where.path, "kind")) or tag
    close = difflib.get_close_matches(written, STEP_KINDS, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown step kind '{written}' in {label}{hint} Valid kinds: {valid}"


_MODEL_ERROR_KEYS = (
    ("two options", "options"),
    ("must be different", "options"),
    ("scale_min", "scale_min"),
    ("max_choices", "max_choices"),
)


def _model_error(where: _Where, doc: _Document, err: ErrorDetails) -> _Issue:
    message = _strip_value_error(err["msg"])
    key = next((k for fragment, k in _MODEL_ERROR_KEYS if fragment in message), None)
    line = doc.line(where.path)
    if key is not None and (*where.path, key) in doc.spots:
        line = doc.line((*where.path, key), key=True)
        repeat = _first_repeat(doc, (*where.path, key)) if "different" in message else None
        line = doc.line((*where.path, key, repeat)) if repeat is not None else line
    return _Issue(line, f"{_owner_label(where, doc)}: {message}")


def _first_repeat(doc: _Document, path: YamlPath) -> int | None:
    """Index of the first list item under path that repeats an earlier one."""
    seen: set[str] = set()
    index = 0
    while (*path, index) in doc.spots:
        text = doc.text((*path, index))
        if text is not None and text.strip() in seen:
            return index
        seen.add((text or "").strip())
        index += 1
    return None


def _strip_value_error(message: str) -> str:
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


_TYPE_WORDS = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "tuple_type": "a list (one '- item' per line)",
    "list_type": "a list (one '- item' per line)",
    "model_type": "a mapping of 'key: value' lines",
    "model_attributes_type": "a mapping of 'key: value' lines",
    "dict_type": "a mapping of 'key: value' lines",
}


def _bad_value(where: _Where, doc: _Document, err: ErrorDetails) -> str:
    kind = err["type"]
    field = _field_label(where, doc)
    value = err.get("input")
    ctx: dict[str, Any] = dict(err.get("ctx") or {})
    if kind in _TYPE_WORDS:
        return _wrong_type(field, _TYPE_WORDS[kind], value, doc.text(where.path))
    if kind in _BOUNDS:
        word, key = _BOUNDS[kind]
        return f"{field} must be {word} {_number(ctx.get(key))}, got {_short(str(value))}"
    if kind == "string_too_short":
        return f"{field} must not be empty"
    if kind == "string_too_long":
        return f"{field} is too long: {len(str(value))} characters, at most {ctx.get('max_length')}"
    if kind == "too_short":
        if where.path == ("steps",):
            return "the script needs at least one step under steps:"
        return f"{field} needs at least {ctx.get('min_length')} items"
    if kind == "too_long":
        return f"{field} has {ctx.get('actual_length')} items; at most {ctx.get('max_length')}"
    if kind == "string_pattern_mismatch":
        return _bad_slug(field, str(value))
    if kind in ("enum", "literal_error"):
        return _not_one_of(field, value, str(ctx.get("expected", "")))
    return f"{field}: {_strip_value_error(err['msg'])}"


_BOUNDS = {
    "greater_than": ("more than", "gt"),
    "greater_than_equal": ("at least", "ge"),
    "less_than": ("less than", "lt"),
    "less_than_equal": ("at most", "le"),
}


def _number(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _wrong_type(field: str, expected: str, value: object, written: str | None) -> str:
    if value is None:
        return f"{field} has no value; expected {expected}"
    message = f"{field} must be {expected}, got {_describe(value, written)}"
    if expected == "text" and not isinstance(value, list | dict):
        message += "; put it in quotes"
    return message


def _describe(value: object, written: str | None) -> str:
    if isinstance(value, bool):
        shown = written or str(value).lower()
        return f"'{shown}', which YAML reads as {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {written or value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "nothing"
    return f"the text '{_short(str(value))}'"


def _short(text: str, limit: int = 40) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _bad_slug(field: str, value: str) -> str:
    message = (
        f"{field} must be a short id of lowercase a-z, digits, '-' and '_' "
        f"(no spaces or æ/ø/å, at most 64 characters); got '{_short(value)}'"
    )
    suggestion = _slugify(value)
    return f"{message}, e.g. '{suggestion}'" if suggestion else message


_DANISH = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa"})


def _slugify(value: str) -> str:
    text = value.lower().translate(_DANISH)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9_-]+", "-", text).strip("-_")
    return text[:64].rstrip("-_")


def _not_one_of(field: str, value: object, expected: str) -> str:
    options = re.findall(r"'([^']*)'", expected)
    shown = _short(str(value)) if not isinstance(value, list | dict) else _describe(value, None)
    message = f"{field} must be one of {', '.join(options)}; got '{shown}'"
    close = difflib.get_close_matches(str(value), options, n=1)
    return f"{message}; did you mean '{close[0]}'?" if close else message


def step_lines(raw: str | bytes) -> dict[str, int]:
    """The line each step starts on, by step id; empty when the text does not compose."""
    try:
        root = _compose(_decode(raw))
        doc = _Document(root) if root is not None else None
    except Exception:  # only a helper for messages: a bad file has no lines to offer
        return {}
    steps = doc.data.get("steps") if doc is not None and isinstance(doc.data, dict) else None
    if not isinstance(steps, list):
        return {}
    return {
        step["id"].strip(): doc.line(("steps", i))
        for i, step in enumerate(steps)
        if doc is not None and _has_str(step, "id")
    }

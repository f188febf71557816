"""Keeps the translation catalogs in locales/ in step with the sources.

    python -m server.i18n_tools update   # re-extract, then update every catalog
    python -m server.i18n_tools check    # what is missing; exit status 1 if anything

`update` extracts the English msgids (babel.cfg says from where) into
locales/messages.pot and merges them into locales/<lang>/LC_MESSAGES/messages.po:
new msgids arrive untranslated in Danish (English gets msgstr = msgid), reworded
ones arrive as fuzzy with the old translation to review, and a msgid that comes
back finds its translation among the obsolete (#~) entries. Files are only
rewritten when more than their dates changed, and locations carry no line
numbers, so parallel edits do not conflict in the catalogs.

Besides Babel's extractors this module holds:

* ``extract_reasons``, the extractor for the reasons the server shows to people
  (``CommandRejected("...")``, ``page(..., error="...")``, ...), which Babel's
  keyword syntax cannot express (keyword arguments, bare names only);
* ``reason_problems``: reasons that cannot be extracted (f-strings, ``+``, ``%``,
  ``.format``) and so would never be translated;
* ``unmarked_template_text``: text in templates that is not wrapped in ``_()``.
"""

from __future__ import annotations

import ast
import io
import os
import re
import sys
import tomllib
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import IO, Any

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir, extract_python
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po
from babel.util import pathmatch
from jinja2 import Environment

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "babel.cfg"
LANGUAGES = ("da", "en")
SOURCE_DIRS = ("server", "templates")
TEMPLATES = "templates"
SKIP_TEMPLATES = ("templates/minutes/",)  # the minutes carry their own label tables
COMMENT_TAGS = ("Translators:",)
HEADER = """\
# Translations of Tovholder's interface. The msgids are English.
# After changing texts in the sources, run `python -m server.i18n_tools update`
# (it rewrites messages.pot and merges it here), then translate in da's .po.
#"""

# -- the reasons extractor ---------------------------------------------------------

# The defaults; babel.cfg gives the list in use.
DEFAULT_REASON_KEYWORDS = "CommandRejected:1 BadMessage:1 flash:2 error:3 page:error"


def parse_keywords(spec: str) -> dict[str, tuple[int | str, ...]]:
    """'name:1,reason other:error' -> {'name': (1, 'reason'), 'other': ('error',)}."""
    keywords: dict[str, tuple[int | str, ...]] = {}
    for item in spec.split():
        name, _, where = item.partition(":")
        places = tuple(int(w) if w.isdigit() else w for w in where.split(",") if w)
        keywords[name] = places or (1,)
    return keywords


@dataclass(frozen=True, slots=True)
class Found:
    """One argument in a reason position: its text, or why it cannot be extracted."""

    line: int
    callee: str
    text: str | None = None
    problem: str | None = None


def _arguments(call: ast.Call, places: Iterable[int | str]) -> Iterator[ast.expr]:
    for place in places:
        if isinstance(place, int):
            args = call.args[:place]
            if len(args) == place and not any(isinstance(a, ast.Starred) for a in args):
                yield args[-1]
        else:
            for keyword in call.keywords:
                if keyword.arg == place:
                    yield keyword.value


def _is_text(node: ast.expr) -> bool:
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def _classify(node: ast.expr, callee: str) -> Iterator[Found]:
    line = node.lineno
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield Found(line, callee, text=node.value)
    elif isinstance(node, ast.IfExp):
        yield from _classify(node.body, callee)
        yield from _classify(node.orelse, callee)
    elif isinstance(node, ast.JoinedStr):
        yield Found(line, callee, problem="f-string")
    elif isinstance(node, ast.BinOp) and (_is_text(node.left) or _is_text(node.right)):
        op = "%" if isinstance(node.op, ast.Mod) else "+"
        yield Found(line, callee, problem=f"text built with {op}")
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and _is_text(node.func.value)
    ):
        yield Found(line, callee, problem="text built with .format()")
    # Anything else (a name, a lookup, a call) is text from elsewhere: it must be
    # marked where it is written, with N_("...").


def find_reasons(source: str, keywords: Mapping[str, Sequence[int | str]]) -> list[Found]:
    """Every argument in a reason position of a call by a bare name in `keywords`."""
    found: list[Found] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            places = keywords.get(node.func.id)
            if places:
                for argument in _arguments(node, places):
                    found.extend(_classify(argument, node.func.id))
    return sorted(found, key=lambda f: (f.line, f.callee, f.text or "", f.problem or ""))


def _reason_options(
    options: Mapping[str, str],
) -> tuple[dict[str, tuple[int | str, ...]], set[str]]:
    keywords = parse_keywords(options.get("reasons", DEFAULT_REASON_KEYWORDS))
    skip = set(options.get("skip", "").split())
    return keywords, skip


def extract_reasons(
    fileobj: IO[bytes],
    keywords: Collection[str],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[tuple[Any, ...]]:
    """Babel extractor: gettext calls (Babel's own) plus the reasons in `options`.

    `options["reasons"]` is a space-separated list of ``name:WHERE[,WHERE]``,
    WHERE a 1-based position or a keyword argument's name; `options["skip"]`
    lists values that are codes, not text.
    """
    data = fileobj.read()
    python_options: Any = dict(options)
    yield from extract_python(
        io.BytesIO(data), dict.fromkeys(keywords), comment_tags, python_options
    )
    reason_keywords, skip = _reason_options(options)
    source = data.decode(options.get("encoding", "utf-8"))
    for found in find_reasons(source, reason_keywords):
        if found.text and found.text not in skip:
            # No function name: Babel then takes the one message as it is.
            yield found.line, None, found.text, []


# -- extracting -------------------------------------------------------------------

# Babel's gettext keywords, and the engagement's `msg_n(singular, plural, num)`
# (server/engagement/common.py): a message whose noun follows a count, extracted
# as a plural msgid (msgid_plural; msgstr[0], msgstr[1] by the language's rule).
KEYWORDS: dict[str, Any] = {**DEFAULT_KEYWORDS, "msg_n": (1, 2)}


@dataclass(frozen=True)
class Config:
    method_map: list[tuple[str, str]]
    options_map: dict[str, dict[str, Any]]

    def method(self, relpath: str) -> tuple[str, dict[str, Any]] | None:
        """The extraction method and options of the first pattern matching."""
        for pattern, method in self.method_map:
            if pathmatch(pattern, relpath):
                return method, self.options_map.get(pattern, {})
        return None


def config(path: Path = CONFIG) -> Config:
    with path.open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f, str(path))  # type: ignore[no-untyped-call]
    return Config(method_map, options_map)


def _project_version(root: Path) -> str:
    try:
        with (root / "pyproject.toml").open("rb") as f:
            return str(tomllib.load(f)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return ""


def _directory_filter(root: Path) -> Any:
    def wanted(dirpath: str) -> bool:
        parts = Path(os.path.relpath(dirpath, root)).parts
        return (
            bool(parts)
            and parts[0] in SOURCE_DIRS
            and not any(p.startswith(".") or p == "__pycache__" for p in parts)
        )

    return wanted


def extract(root: Path = ROOT) -> Catalog:
    """The template catalog: every msgid in the sources, as babel.cfg describes."""
    cfg = config(root / "babel.cfg")
    catalog = Catalog(
        project="Tovholder",
        version=_project_version(root),
        header_comment=HEADER,
        charset="utf-8",
        fuzzy=False,
    )
    messages = extract_from_dir(
        str(root),
        cfg.method_map,
        cfg.options_map,
        keywords=KEYWORDS,
        comment_tags=COMMENT_TAGS,
        strip_comment_tags=True,
        directory_filter=_directory_filter(root),
    )
    for filename, lineno, message, comments, context in messages:
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


# -- updating ---------------------------------------------------------------------


def catalog_path(lang: str, root: Path = ROOT) -> Path:
    return root / "locales" / lang / "LC_MESSAGES" / "messages.po"


def template_path(root: Path = ROOT) -> Path:
    return root / "locales" / "messages.pot"


def read_catalog(path: Path, lang: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=lang)


def _revive(catalog: Catalog) -> dict[Any, Message]:
    """Obsolete translations rejoin the catalog before it is updated.

    A msgid that comes back (or was translated ahead of the code) then gets its
    translation again, and a reworded one can be matched fuzzily; what still
    matches nothing becomes obsolete again (see `_keep`). Returns the obsolete
    entries as they were.
    """
    obsolete = dict(catalog.obsolete)
    for message in obsolete.values():
        if message.string and catalog.get(message.id, message.context) is None:
            catalog[message.id] = message
    catalog.obsolete.clear()
    return obsolete


def _keep(catalog: Catalog, obsolete: Mapping[Any, Message]) -> None:
    """Obsolete entries only borrowed for a fuzzy match stay obsolete."""
    for key, message in obsolete.items():
        if catalog.get(message.id, message.context) is None and key not in catalog.obsolete:
            catalog.obsolete[key] = message


def _identity(catalog: Catalog) -> None:
    """English: the msgids are English, so every msgstr is its msgid."""
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, str):
            message.string = message.id
        else:
            ids = list(message.id)
            message.string = tuple(ids + [ids[-1]] * (catalog.num_plurals - len(ids)))
        message.flags.discard("fuzzy")
        message.previous_id = []
    catalog.obsolete.clear()


_DATE_LINE = re.compile(rb'^"(POT-Creation-Date|PO-Revision-Date): .*\\n"$', re.MULTILINE)


def _write(path: Path, catalog: Catalog) -> bool:
    """Write the catalog if more than its dates changed; True if written."""
    buf = io.BytesIO()
    write_po(buf, catalog, include_lineno=False, include_previous=True, width=100)
    new = buf.getvalue()
    if path.exists() and _DATE_LINE.sub(b"", path.read_bytes()) == _DATE_LINE.sub(b"", new):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(new)
    return True


def _new_catalog(lang: str, template: Catalog) -> Catalog:
    return Catalog(
        locale=lang,
        project=template.project,
        version=template.version,
        header_comment=HEADER,
        charset="utf-8",
        fuzzy=False,
        last_translator="Tovholder",
        language_team="Tovholder",
    )


def update(root: Path = ROOT, languages: Sequence[str] = LANGUAGES) -> list[Path]:
    """Re-extract and update the template and every catalog; the files written."""
    template = extract(root)
    written = [p for p in [template_path(root)] if _write(p, template)]
    for lang in languages:
        path = catalog_path(lang, root)
        catalog = read_catalog(path, lang) if path.exists() else _new_catalog(lang, template)
        obsolete = _revive(catalog)
        catalog.update(template, update_header_comment=True)
        _keep(catalog, obsolete)
        if lang == "en":
            _identity(catalog)
        if _write(path, catalog):
            written.append(path)
    return written


# -- checking ---------------------------------------------------------------------


def msgid(message: Message) -> str:
    """The msgid, or the singular one of a plural message."""
    return message.id if isinstance(message.id, str) else message.id[0]


def missing(template: Catalog, catalog: Catalog) -> list[str]:
    """msgids of the template that the catalog does not have at all."""
    return [msgid(m) for m in template if m.id and catalog.get(m.id, m.context) is None]


def untranslated(catalog: Catalog) -> list[str]:
    """msgids with an empty or fuzzy msgstr."""
    out = []
    for message in catalog:
        if not message.id:
            continue
        strings = [message.string] if isinstance(message.string, str) else message.string
        if message.fuzzy or not strings or not all(s and s.strip() for s in strings):
            out.append(msgid(message))
    return out


def python_sources(root: Path = ROOT) -> Iterator[tuple[str, dict[str, Any]]]:
    """(relative path, options) of each Python file the reasons extractor reads."""
    cfg = config(root / "babel.cfg")
    wanted = _directory_filter(root)
    for dirpath, dirnames, filenames in os.walk(root / "server"):
        dirnames[:] = sorted(d for d in dirnames if wanted(os.path.join(dirpath, d)))
        for name in sorted(filenames):
            rel = os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/")
            chosen = cfg.method(rel)
            if chosen and chosen[0].endswith(":extract_reasons"):
                yield rel, chosen[1]


# Babel's own extractor passes over an f-string in these without a word.
GETTEXT_PROBLEMS = parse_keywords("_ gettext N_ ngettext:1,2 msg_n:1,2 pgettext:2 npgettext:2,3")


def reason_problems(root: Path = ROOT) -> list[str]:
    """'file:line: callee(...) gets an f-string' for each reason that cannot be extracted."""
    out = []
    for rel, options in python_sources(root):
        keywords = GETTEXT_PROBLEMS | _reason_options(options)[0]
        source = (root / rel).read_text(encoding="utf-8")
        for found in find_reasons(source, keywords):
            if found.problem:
                out.append(f"{rel}:{found.line}: {found.callee}(...) gets {found.problem}")
    return out


# -- templates: text that is not marked for translation ---------------------------

ALLOWED_WORDS = frozenset({"Tovholder"})  # the brand
VISIBLE_ATTRIBUTES = frozenset(
    {
        "placeholder",
        "alt",
        "title",
        "label",
        "aria-label",
        "aria-description",
        "aria-placeholder",
        "aria-roledescription",
        "aria-valuetext",
        "data-confirm",
    }
)
VISIBLE_ATTRIBUTE_PREFIXES = ("data-text-",)  # texts app.js shows (data-text-online ...)
BUTTON_INPUTS = frozenset({"submit", "button", "reset"})
# Output of a variable that holds an English msgid or an internal name, shown as
# is: `{{ error }}`, `{{ result.reason }}`, `{{ step.kind }}` (but `{{ _(error) }}`
# is right).
RAW_NAMES = frozenset({"error", "message", "reason", "kind"})

_EXPR = "\ue000"  # stands for {{ ... }}; not a letter
_RAW = "\ue001"  # _RAW + index + _RAW stands for {{ error }} and the like
_BLOCK = "\ue002"  # _BLOCK + name + _BLOCK: here {% block name %} starts
_SENTINEL = re.compile("\ue001(\\d+)\ue001|\ue002(\\w+)\ue002")


@dataclass(frozen=True, slots=True)
class Unmarked:
    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


@dataclass(frozen=True, slots=True)
class _Flat:
    html: str  # the template as plain HTML, line for line
    raw: list[str]  # the expressions shown as is, by the index in their marker
    parent: str | None  # {% extends "..." %}


def template_environment() -> Environment:
    """Only for lexing: the scanner never renders."""
    return Environment(
        extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True, autoescape=True
    )


def _has_words(text: str) -> bool:
    for word in ALLOWED_WORDS:
        text = text.replace(word, "")
    return any(c.isalpha() for c in text)


def _first_word(text: str) -> int:
    """Where the first letter outside the allowed words is."""
    for word in ALLOWED_WORDS:
        text = text.replace(word, " " * len(word))
    return next((i for i, c in enumerate(text) if c.isalpha()), 0)


def _is_raw(parts: Sequence[str]) -> bool:
    return (
        bool(parts) and parts[-1] in RAW_NAMES and all(p == "." or p.isidentifier() for p in parts)
    )


def _flatten(source: str, hidden_blocks: Collection[str] = ()) -> _Flat:
    """The template as plain HTML: {{ }} become markers, {% %} and {# #} vanish.

    Newlines are kept, so lines stay where they were. Text inside
    {% trans %}...{% endtrans %} counts as marked. In a template that extends
    another, only the blocks count, and not those in `hidden_blocks` (blocks the
    parent puts where nobody reads them, such as a class attribute).
    """
    tokens = list(template_environment().lex(source))
    out: list[str] = []
    raw: list[str] = []
    parent: str | None = None
    blocks: list[str] = []
    in_trans = False
    i = 0
    while i < len(tokens):
        kind, value = tokens[i][1], tokens[i][2]
        hidden = any(b in hidden_blocks for b in blocks) or (parent is not None and not blocks)
        if kind == "data":
            if hidden:
                out.append("\n" * value.count("\n"))
            elif in_trans and value.strip():
                out.append(_EXPR + "\n" * value.count("\n"))
            else:
                out.append(value)
            i += 1
            continue
        if kind not in ("variable_begin", "block_begin"):
            out.append("\n" * value.count("\n"))
            i += 1
            continue
        end = "variable_end" if kind == "variable_begin" else "block_end"
        j = i + 1
        while tokens[j][1] != end:
            j += 1
        parts = [t[2] for t in tokens[i + 1 : j] if t[1] != "whitespace"]
        newlines = "\n" * sum(t[2].count("\n") for t in tokens[i : j + 1])
        if kind == "variable_begin":
            if hidden:
                pass
            elif _is_raw(parts):
                out.append(f"{_RAW}{len(raw)}{_RAW}")
                raw.append("".join(parts))
            else:
                out.append(_EXPR)
        elif parts:
            tag = parts[0]
            if tag == "extends" and len(parts) == 2 and parts[1][:1] in "\"'":
                parent = parts[1][1:-1]
            elif tag == "block" and len(parts) > 1:
                if not hidden:
                    out.append(f"{_BLOCK}{parts[1]}{_BLOCK}")
                blocks.append(parts[1])
            elif tag == "endblock" and blocks:
                blocks.pop()
            elif tag == "trans":
                in_trans = True
            elif tag == "endtrans":
                in_trans = False
        out.append(newlines)
        i = j + 1
    return _Flat("".join(out), raw, parent)


class _Scanner(HTMLParser):
    def __init__(self, path: str, raw: list[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.path = path
        self.raw = raw
        self.found: list[Unmarked] = []
        self.block_context: dict[str, bool] = {}  # block name -> does anyone read it
        self._skip = 0

    def _clean(self, text: str, readable: bool) -> tuple[str, list[tuple[str, int]]]:
        """The text without sentinels, and the expressions it shows as is (where)."""
        shown: list[tuple[str, int]] = []

        def replace(match: re.Match[str]) -> str:
            if match.group(1) is not None:
                shown.append((self.raw[int(match.group(1))], match.start()))
                return _EXPR
            self.block_context.setdefault(match.group(2), readable)
            return ""

        return _SENTINEL.sub(replace, text), shown

    def _check(self, line: int, text: str, where: str) -> None:
        cleaned, shown = self._clean(text, True)
        if _has_words(cleaned):
            words = " ".join(cleaned.replace(_EXPR, "{{ … }}").split())
            at = _first_word(cleaned)
            self.found.append(
                Unmarked(
                    self.path,
                    line + cleaned[:at].count("\n"),
                    f"{where}{words!r} is not wrapped in _()",
                )
            )
        for expression, at in shown:
            self.found.append(
                Unmarked(
                    self.path,
                    line + text[:at].count("\n"),
                    f"{where}{{{{ {expression} }}}} is shown as it is: write {{{{ _({expression}) }}}}"
                    " or map it to translated labels",
                )
            )

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        attributes = dict(attrs)
        line = self.getpos()[0]
        for name, value in attrs:
            self._clean(name, False)
            visible = not self._skip and (
                name in VISIBLE_ATTRIBUTES
                or name.startswith(VISIBLE_ATTRIBUTE_PREFIXES)
                or (
                    name == "value"
                    and tag == "input"
                    and (attributes.get("type") or "").lower() in BUTTON_INPUTS
                )
            )
            if value and visible:
                self._check(line, value, f"<{tag} {name}=…>: ")
            elif value:
                self._clean(value, False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if self._skip:
            self._clean(data, False)
            return
        self._check(self.getpos()[0], data, "text ")

    def handle_comment(self, data: str) -> None:
        self._clean(data, False)


def _scan(source: str, path: str, load: Callable[[str], str] | None, depth: int = 0) -> _Scanner:
    flat = _flatten(source)
    if flat.parent is not None and load is not None and depth < 10:
        parent = _scan(load(flat.parent), flat.parent, load, depth + 1)
        hidden = {name for name, readable in parent.block_context.items() if not readable}
        flat = _flatten(source, hidden)
    scanner = _Scanner(path, flat.raw)
    scanner.feed(flat.html)
    scanner.close()
    return scanner


def scan_template(
    source: str, path: str = "<template>", load: Callable[[str], str] | None = None
) -> list[Unmarked]:
    """Text and readable attributes of a template that are not wrapped in _().

    `load(name)` gives the source of a template this one extends, so that blocks
    the parent puts in a class attribute (say) are not read as text.
    """
    return _scan(source, path, load).found


def template_files(root: Path = ROOT) -> list[str]:
    """The templates (relative paths) whose text must be marked for translation."""
    files = []
    for path in sorted((root / TEMPLATES).rglob("*.html")):
        rel = path.relative_to(root).as_posix()
        if not rel.startswith(SKIP_TEMPLATES):
            files.append(rel)
    return files


def unmarked_template_text(root: Path = ROOT) -> list[Unmarked]:
    def load(name: str) -> str:
        return (root / TEMPLATES / name).read_text(encoding="utf-8")

    found: list[Unmarked] = []
    for rel in template_files(root):
        found.extend(scan_template((root / rel).read_text(encoding="utf-8"), rel, load))
    return found


# -- command line -----------------------------------------------------------------


def check(root: Path = ROOT) -> list[str]:
    """Everything that keeps the interface from being fully translated."""
    problems: list[str] = []
    template = extract(root)
    catalogs = {"pot": template_path(root)} | {lang: catalog_path(lang, root) for lang in LANGUAGES}
    for name, path in catalogs.items():
        if not path.exists():
            problems.append(f"{path.relative_to(root)} is missing")
            continue
        catalog = read_catalog(path, None if name == "pot" else name)
        problems += [
            f"{path.relative_to(root)}: not extracted yet: {m!r}"
            for m in missing(template, catalog)
        ]
        if name != "pot":
            problems += [
                f"{path.relative_to(root)}: untranslated or fuzzy: {m!r}"
                for m in untranslated(catalog)
            ]
    problems += [f"{p} (cannot be extracted)" for p in reason_problems(root)]
    problems += [str(u) for u in unmarked_template_text(root)]
    return problems


USAGE = "usage: python -m server.i18n_tools {update|check}"


def main(argv: Sequence[str] | None = None, root: Path = ROOT) -> int:
    """`update`: re-extract and update the catalogs, then list what is left to do
    (exit status 0). `check`: only list it (exit status 1 if anything is)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args not in (["update"], ["check"]):
        print(USAGE, file=sys.stderr)
        return 2
    if args == ["update"]:
        for path in update(root):
            print(f"updated {path.relative_to(root)}")
    problems = check(root)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} thing(s) left to translate or to mark", file=sys.stderr)
    return 1 if problems and args == ["check"] else 0


if __name__ == "__main__":
    sys.exit(main())

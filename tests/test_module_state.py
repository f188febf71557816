"""No module-level mutable state in server/: throttles, caches and counters
belong to an app's services, so one app's use never leaks into another's
(a throttle in a module made CI pass or fail with the machine's speed).

A module may hold tables it fills while it is imported (the engine's
registries: decorators add to them) and caches of what ships with the code
(templates, catalogs, fonts), named below with the reason. Anything else that
a function changes at run time, or a cache decorator on a function, fails here.
"""

from __future__ import annotations

import ast

from server.settings import ROOT

SERVER = ROOT / "server"

MUTATING = {
    "add",
    "append",
    "clear",
    "discard",
    "extend",
    "insert",
    "pop",
    "popitem",
    "remove",
    "setdefault",
    "update",
}
CONTAINERS = {"dict", "list", "set", "defaultdict", "OrderedDict", "Counter", "deque", "count"}
CACHES = {"cache", "lru_cache", "cached"}

# (module, name): why it may stay.
ALLOWED = {
    # Filled by decorators while the step modules are imported; read-only after.
    ("server/engine/registry.py", "COMMAND_TYPES"): "import-time registry",
    ("server/engine/registry.py", "EVENT_TYPES"): "import-time registry",
    ("server/engine/registry.py", "HANDLERS"): "import-time registry",
    ("server/engine/registry.py", "APPLIERS"): "import-time registry",
    ("server/engine/registry.py", "ENTER_HOOKS"): "import-time registry",
    ("server/engine/registry.py", "CARD_RULES"): "import-time registry",
    # The logging filters are the process's, as logging itself is.
    ("server/privacy/logs.py", "_installed"): "logging is per process",
    ("server/privacy/logs.py", "_previous_factory"): "logging is per process",
}
ALLOWED_CACHES = {
    # Each is a function of files shipped with the code and a language: no
    # request, session or person ever reaches what they keep.
    ("server/i18n.py", "translations"): "a catalog per language",
    ("server/web/templating.py", "asset_version"): "a static file's hash",
    ("server/web/templating.py", "environment"): "templates per language",
    ("server/web/ws.py", "_plain_flash"): "a fixed message per language",
    ("server/minutes/pdf.py", "environment"): "the document templates",
    ("server/minutes/pdf.py", "_base_css"): "the document stylesheet",
}


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Call):
        return _name(node.func)
    return None


def _mutable_globals(tree: ast.Module) -> dict[str, bool]:
    """Module-level names bound to something mutable: True for an instance of a
    class of the project's (any method call may change it), False for a container."""
    found: dict[str, bool] = {}
    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        called = _name(value) if isinstance(value, ast.Call) else None
        literal = isinstance(value, ast.Dict | ast.List | ast.Set | ast.DictComp | ast.SetComp)
        if literal or called in CONTAINERS:
            instance = False
        elif called is not None and called.lstrip("_")[:1].isupper():
            instance = True
        else:
            continue
        found |= {t.id: instance for t in targets if isinstance(t, ast.Name)}
    return found


def _changed_in_functions(tree: ast.Module, names: dict[str, bool]) -> set[str]:
    changed: set[str] = set()
    functions = (f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef))
    for fn in functions:
        for node in ast.walk(fn):
            if isinstance(node, ast.Global):
                changed |= set(node.names)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                base = node.func.value
                if (
                    isinstance(base, ast.Name)
                    and base.id in names
                    and (names[base.id] or node.func.attr in MUTATING)
                ):
                    changed.add(base.id)
            elif isinstance(node, ast.Name) and names.get(node.id) and not _constant(node.id):
                changed.add(node.id)  # an object of the module's, used (or aliased) at run time
            elif isinstance(node, ast.Call) and _name(node) == "next" and node.args:
                if isinstance(node.args[0], ast.Name):
                    changed.add(node.args[0].id)
            elif isinstance(node, ast.Assign | ast.AugAssign | ast.Delete):
                targets = node.target if isinstance(node, ast.AugAssign) else node.targets
                for target in [targets] if isinstance(targets, ast.expr) else targets:
                    if isinstance(target, ast.Subscript | ast.Attribute):
                        while isinstance(target, ast.Subscript | ast.Attribute):
                            target = target.value
                        if isinstance(target, ast.Name):
                            changed.add(target.id)
    return changed & (set(names) | _globals_declared(tree))


def _constant(name: str) -> bool:
    """A public UPPER_CASE name is a constant by convention (a frozen style, a
    time zone, a type variable); a private or lower-case object is not."""
    return name.isupper() and not name.startswith("_")


def _globals_declared(tree: ast.Module) -> set[str]:
    return {name for node in ast.walk(tree) if isinstance(node, ast.Global) for name in node.names}


def _cached_functions(tree: ast.Module) -> set[str]:
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and any(_name(d) in CACHES for d in node.decorator_list)
    }


def _modules() -> list[tuple[str, ast.Module]]:
    return [
        (str(path.relative_to(ROOT)), ast.parse(path.read_text(encoding="utf-8")))
        for path in sorted(SERVER.rglob("*.py"))
        if "migrations" not in path.parts
    ]


def test_no_module_changes_state_of_its_own_at_run_time() -> None:
    offending = []
    assert (SERVER / "app.py").exists()
    for module, tree in _modules():
        names = _mutable_globals(tree)
        for name in sorted(_changed_in_functions(tree, names)):
            if (module, name) not in ALLOWED:
                offending.append(f"{module}: {name}")
    assert offending == [], "module-level mutable state; move it to the app's services"


def test_no_cache_decorator_keeps_what_a_request_brought() -> None:
    offending = [
        f"{module}: {name}"
        for module, tree in _modules()
        for name in sorted(_cached_functions(tree))
        if (module, name) not in ALLOWED_CACHES
    ]
    assert offending == [], "a module-level cache; keep it in the app's services"


def test_the_guard_finds_what_it_is_for() -> None:
    """The checks above see a throttle, a cache dict, a counter and a decorator."""
    tree = ast.parse(
        "import itertools, functools\n"
        "throttle = Throttle(10)\n"
        "_SEEN: dict[int, int] = {}\n"
        "_ids = itertools.count(1)\n"
        "TABLE = {'a': 1}\n"
        "_LAST = _Box()\n"
        "def f(k):\n"
        "    throttle.allow(k, 0)\n"
        "    _SEEN[k] = 1\n"
        "    last = _LAST\n"
        "    return next(_ids), TABLE['a'], last\n"
        "@functools.lru_cache(maxsize=8)\n"
        "def g(x): return x\n"
    )
    names = _mutable_globals(tree)
    assert _changed_in_functions(tree, names) == {"throttle", "_SEEN", "_ids", "_LAST"}
    assert _cached_functions(tree) == {"g"}

"""The layout ARCHITECTURE.md describes, held by reading every module's imports.

Data flows one way: a module imports only from its own layer or the layers
below it, so following a lock from the API to the findings never climbs
back up. The pure layer starts no process. Every finding ID is registered.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from envlock.catalog import KINDS

PACKAGE = Path(__file__).resolve().parent.parent / "envlock"

# Top to bottom; a module belongs to the layer of its longest matching prefix.
LAYERS: list[tuple[str, ...]] = [
    ("envlock.cli", "envlock.__main__", "envlock.precommit"),  # entry points
    ("envlock.commands",),
    # api_install (export, restore) and api_plan (doctor/matrix --plan): re-exported by api
    ("envlock.api", "envlock.api_install", "envlock.api_plan"),
    ("envlock.usecases",),  # one module per use case, behind the API
    (
        "envlock.collect",
        "envlock.childio",  # a child's output read as it comes (install/, determinism/runner)
        "envlock.container",
        "envlock.determinism.runner",
        "envlock.determinism.suite",  # a child process, like the probe it shares code with
        "envlock.livecache",
        "envlock.fleet",
        "envlock.probe",
        "envlock.install",
        "envlock.payload",
    ),
    (
        "envlock.verify",
        "envlock.checks",
        "envlock.explain",
        "envlock.report",
        "envlock.pasted",
        "envlock.plan",  # plan files (Dockerfile, compose, locks) -> Plans -> partial Facts
        "envlock.determinism.compare",
        "envlock.imageref",
        "envlock.fleet.compare",
    ),
    # determinism/__init__ and probe/libnames: constants shared with child processes
    (
        "envlock.lock",
        "envlock.matrix",
        "envlock.determinism",
        "envlock.probe.libnames",
        "envlock.probe.envvars",
        "envlock.versions",
    ),
    (
        "envlock.facts",
        "envlock.digestfacts",  # the digests' dataclasses, the Facts' and the Lock's
        "envlock.probe.shapes",  # the facts document as TypedDicts: types only
        "envlock.typed",
        "envlock.findings",
        "envlock.details",
        "envlock.catalog",
        "envlock.severity",
        "envlock.errors",
        "envlock",
    ),
]

# Modules that start processes or touch the machine: never imported by the pure layers.
PROCESS_MODULES = (
    "subprocess",
    "multiprocessing",
    "envlock.childio",
    "envlock.collect",
    "envlock.container",
    "envlock.determinism.runner",
    "envlock.livecache",
    "envlock.probe",
    "envlock.fleet",
    "envlock.api",
    "envlock.usecases",
    "envlock.install",
)
# Pure modules inside process packages: the list of CUDA library names, the env allow-list,
# the facts document's TypedDicts, the fleet's comparison.
PURE_EXCEPTIONS = (
    "envlock.probe.libnames",
    "envlock.probe.envvars",
    "envlock.probe.shapes",
    "envlock.fleet.compare",
)
PURE = (
    "envlock.verify",
    "envlock.lock",
    "envlock.determinism.compare",
    "envlock.checks",
    "envlock.pasted",
    "envlock.plan",
    "envlock.explain",  # reading the kernel log is collection (probe/kernellog.py)
    "envlock.report",
    "envlock.imageref",  # the image-reference parser: pure, so checks need no Docker package
    "envlock.fleet.compare",  # the fleet's comparison; its rendezvous and files are collection
)


# The one import that climbs: Jupyter shows a Report (findings.py) with the HTML renderer,
# imported inside Report._repr_html_ only when a notebook displays one (tests/report/
# test_jupyter.py holds that importing the model loads no renderer).
DISPLAY_HOOK = ("envlock.findings", "envlock.report.html")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _layer(name: str) -> int:
    best, depth = -1, -1
    for i, prefixes in enumerate(LAYERS):
        for p in prefixes:
            if (name == p or name.startswith(p + ".")) and len(p) > depth:
                best, depth = i, len(p)
    assert best >= 0, f"{name} is in no layer: add it to LAYERS and ARCHITECTURE.md"
    return best


def _imports(path: Path) -> list[str]:
    """Every module an import statement names, at any depth (function-local ones too)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    return _imports_in(path.read_text(), package, str(path))


def _imports_in(text: str, package: str, where: str = "<text>") -> list[str]:
    """_imports() of a module's text; `package`: the one relative imports start from."""
    out: list[str] = []
    for node in ast.walk(ast.parse(text, where)):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join([*base, node.module] if node.module else base)
            else:
                mod = node.module or ""
            out.append(mod)
            out += [f"{mod}.{a.name}" for a in node.names]  # `from envlock import api`
    return out


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _module_name(p))
def test_imports_only_go_down(path: Path) -> None:
    me = _module_name(path)
    mine = _layer(me)
    for target in _imports(path):
        if not target.startswith("envlock"):
            continue
        if target not in {_module_name(m) for m in MODULES} and "." in target:
            target = target.rpartition(".")[0]  # `from envlock.x import name`: the module x
        if (me, target) == DISPLAY_HOOK:
            continue
        assert _layer(target) >= mine, f"{me} (layer {mine}) imports {target} from above"


@pytest.mark.parametrize(
    "path", [p for p in MODULES if _module_name(p).startswith(PURE)], ids=_module_name
)
def test_pure_layer_starts_no_process(path: Path) -> None:
    for target in _imports(path):
        if target.startswith(PURE_EXCEPTIONS):
            continue
        bad = [m for m in PROCESS_MODULES if target == m or target.startswith(m + ".")]
        assert not bad, f"{_module_name(path)} imports {target}"


def test_checks_import_nothing_from_the_docker_package() -> None:
    """A pure check reads Facts; the image-reference parser it needs is pure
    (envlock.imageref), so no check imports envlock.container, even lazily."""
    checks = [p for p in MODULES if _module_name(p).startswith("envlock.checks")]
    assert checks
    for path in checks:
        targets = _imports(path)
        bad = [t for t in targets if t == "envlock.container" or t.startswith("envlock.container.")]
        assert not bad, f"{_module_name(path)} imports {bad}"


def test_the_layer_test_fires_on_an_upward_import(tmp_path: Path) -> None:
    """The check above can fail: verify importing the API would be caught."""
    assert _layer("envlock.verify") < _layer("envlock.lock.model")
    assert _layer("envlock.api") < _layer("envlock.verify")
    assert _layer("envlock.determinism.runner") < _layer("envlock.determinism.compare")


# ------------------------------------------------------ commands only through the API
# What a command may import from envlock: the API (the use cases behind it), its own
# shared option modules, the renderers, the error tree, and the typed results it renders.
COMMAND_MAY_IMPORT = (
    "envlock.api",
    "envlock.commands",  # _source.py, _report_options.py
    "envlock.report",
    "envlock.errors",
    "envlock.findings",  # Report, Finding
    "envlock.details",  # a Report's details, typed per command
    "envlock.facts",  # Facts, DeterminismFacts: what probe and determinism render
    "envlock.lock.model",  # Lock, SCOPES, DEFAULT_LOCK_NAME: the lock command's result
)


def _around_the_api(targets: list[str]) -> list[str]:
    """The envlock modules among `targets` that a command may not import."""
    modules = {_module_name(m) for m in MODULES}
    bad: list[str] = []
    for target in targets:
        if not target.startswith("envlock"):
            continue
        if target not in modules and "." in target:
            target = target.rpartition(".")[0]  # `from envlock.x import name`: the module x
        allowed = target == "envlock" or any(
            target == p or target.startswith(p + ".") for p in COMMAND_MAY_IMPORT
        )
        if not allowed:
            bad.append(target)
    return sorted(set(bad))


COMMANDS = [p for p in MODULES if _module_name(p).startswith("envlock.commands.")]


@pytest.mark.parametrize("path", COMMANDS, ids=_module_name)
def test_commands_only_go_through_the_api(path: Path) -> None:
    """A command parses, calls envlock.api and renders: evaluating the matrix or writing a
    lock's header itself is how `envlock lock` and api.write_lock came to differ."""
    assert _around_the_api(_imports(path)) == [], _module_name(path)


def test_the_api_rule_fires_on_a_command_going_around_it() -> None:
    text = (PACKAGE / "commands" / "lock.py").read_text()
    assert _around_the_api(_imports_in(text, "envlock.commands")) == []
    sneaky = text + (
        "\n\ndef _sneak() -> None:\n"
        "    from envlock.lock.io import write_lock\n"
        "    from envlock import matrix\n"
        "    from envlock.lock import SCOPES\n"
        "    from . import _source\n"
        "    import envlock.usecases.lock\n"
    )
    assert _around_the_api(_imports_in(sneaky, "envlock.commands")) == [
        "envlock.lock",
        "envlock.lock.io",
        "envlock.matrix",
        "envlock.usecases.lock",
    ]


def test_what_commands_may_import_exists() -> None:
    """A renamed module does not leave a stale entry that would let its new name in."""
    modules = {_module_name(m) for m in MODULES}
    assert [p for p in COMMAND_MAY_IMPORT if p not in modules] == []
    assert len(COMMANDS) >= 12


# ---------------------------------------------------------------- finding IDs
ID = re.compile(r"""["'](EL-[A-Z0-9]+(?:-[A-Z0-9]+)+)["']""")


def _ids_in_source() -> set[str]:
    found: set[str] = set()
    for path in MODULES:
        if path.name == "catalog.py":
            continue
        found |= set(ID.findall(path.read_text()))
    return found


def test_every_finding_id_in_the_code_is_registered() -> None:
    assert _ids_in_source() - KINDS.keys() == set()


def test_every_registered_id_is_reported_somewhere() -> None:
    assert KINDS.keys() - _ids_in_source() == set()


def test_an_unregistered_id_cannot_be_built() -> None:
    from envlock.findings import Finding, Severity

    with pytest.raises(ValueError, match="EL-NOT-A-THING"):
        Finding(check_id="EL-NOT-A-THING", severity=Severity.ERROR, message="x")


def test_doctor_checks_are_exactly_the_catalog_doctor_ids() -> None:
    from envlock.catalog import DOCTOR, ids
    from envlock.checks import CHECKS

    assert set(CHECKS) == ids(DOCTOR)


# ---------------------------------------------------------------- import circles
def _module_graph() -> dict[str, set[str]]:
    """Module -> the envlock modules it imports (function-local imports too)."""
    names = {_module_name(m) for m in MODULES}
    graph: dict[str, set[str]] = {}
    for path in MODULES:
        me = _module_name(path)
        edges = set()
        for target in _imports(path):
            if not target.startswith("envlock"):
                continue
            if target not in names and "." in target:
                target = target.rpartition(".")[0]
            if (me, target) == DISPLAY_HOOK:
                continue
            # a package's __init__ re-exporting its own modules is not a circle
            if target in names and target != me and not me.startswith(target + "."):
                edges.add(target)
        graph[me] = edges
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_circles() -> None:
    assert _cycles(_module_graph()) == []


def test_the_circle_test_fires_on_a_circle() -> None:
    graph = {"envlock.catalog": {"envlock.findings"}, "envlock.findings": {"envlock.catalog"}}
    assert _cycles(graph) == [["envlock.catalog", "envlock.findings"]]
    assert _cycles({"envlock.a": {"envlock.b"}, "envlock.b": set()}) == []


# ------------------------------------------------------------ one copy of each
def _function_bodies() -> dict[str, list[str]]:
    """ast.dump of each function's body (docstring left out) -> where it is defined."""
    out: dict[str, list[str]] = {}
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            body = node.body[1:] if ast.get_docstring(node) is not None else node.body
            tree = ast.Module(body=body, type_ignores=[])
            if sum(1 for _ in ast.walk(tree)) > 20:  # a one-line helper may recur
                out.setdefault(ast.dump(tree), []).append(f"{_module_name(path)}.{node.name}")
    return out


def test_no_function_is_written_twice() -> None:
    """The children are served envlock's stdlib-only modules (probe/_served.py), so no
    code needs a copy: the parent watch, say, is probe/_parentwatch.py alone."""
    twice = [places for places in _function_bodies().values() if len(places) > 1]
    assert twice == []


def _constants(path: Path) -> dict[str, object]:
    """Module-level NAME = literal (a tuple may unpack an earlier one: `(*DRIVER, ...)`)."""
    out: dict[str, object] = {}
    for node in ast.parse(path.read_text(), str(path)).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
            continue
        target, value = node.targets[0], node.value
        if not isinstance(target, ast.Name):
            continue
        try:
            if isinstance(value, ast.Tuple):
                items: list[object] = []
                for e in value.elts:
                    name = (
                        e.value.id
                        if isinstance(e, ast.Starred) and isinstance(e.value, ast.Name)
                        else ""
                    )
                    earlier = out.get(name)
                    if isinstance(earlier, tuple):
                        items += earlier
                    else:
                        items.append(ast.literal_eval(e))
                out[target.id] = tuple(items)
            else:
                out[target.id] = ast.literal_eval(value)
        except (ValueError, KeyError, TypeError, SyntaxError):
            continue
    return out


def test_the_child_packages_define_no_constant_twice() -> None:
    """A marker, class list or library list the probe or the suite shares with the host
    is defined once (the children import it): none equal to another module's."""
    where: dict[str, list[str]] = {}
    for path in MODULES:
        for name, value in _constants(path).items():
            if isinstance(value, str | tuple) and len(value) >= (
                6 if isinstance(value, str) else 3
            ):
                where.setdefault(repr(value), []).append(f"{_module_name(path)}.{name}")
    child = ("envlock.probe", "envlock.determinism")
    twice = [
        places
        for places in where.values()
        if len({p.rpartition(".")[0] for p in places}) > 1
        and any(p.startswith(child) for p in places)
    ]
    assert twice == []


# ------------------------------------------------------------ one concern a module
MAX_MODULE_LINES = 500
# The child suite is served whole to another interpreter (the seeded workload, one file);
# a data table would go here too (there is none today: explain's messages are TOML).
LONG_MODULES = {"envlock.determinism.suite"}


def _too_long(texts: dict[str, str]) -> list[str]:
    """The modules (name -> text) over MAX_MODULE_LINES lines, not exempt."""
    lines = {name: len(text.splitlines()) for name, text in texts.items()}
    return [
        f"{name}: {n} lines (split it by concern)"
        for name, n in sorted(lines.items())
        if n > MAX_MODULE_LINES and name not in LONG_MODULES
    ]


def test_no_module_is_over_500_lines() -> None:
    assert _too_long({_module_name(p): p.read_text() for p in MODULES}) == []


def test_the_size_rule_fires_on_a_long_module() -> None:
    at, over = "x\n" * MAX_MODULE_LINES, "x\n" * (MAX_MODULE_LINES + 1)
    assert _too_long({"envlock.a": at, "envlock.b": over, "envlock.determinism.suite": over}) == [
        f"envlock.b: {MAX_MODULE_LINES + 1} lines (split it by concern)"
    ]
    assert all(_module_name(PACKAGE / f"{m.replace('.', '/')[8:]}.py") == m for m in LONG_MODULES)

"""The one bootstrap (envlock/probe/_served.py) that starts envlock's code under another
interpreter, served from memory: the probe payload, the torch child, the suite.

Each child is served exactly the modules it imports (read here from their import
statements), all of them stdlib-only Python 3.8, and nothing else of envlock: a
module left out fails even where envlock is installed.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from envlock.determinism import runner
from envlock.probe import torch_info
from envlock.probe._served import command, served
from tests.conftest import REPO, clean_env
from tests.probe.test_probe_integration import _python38

CHILDREN = {
    "torch child": (torch_info.CHILD_FILES, torch_info.CHILD_ENTRY),
    "determinism suite": (runner.SUITE_FILES, runner.SUITE_ENTRY),
}


def _file_of(module: str) -> str | None:
    """envlock.probe.libnames -> envlock/probe/libnames.py (a package: its __init__.py)."""
    rel = module.replace(".", "/")
    for cand in (f"{rel}/__init__.py", f"{rel}.py"):
        if (REPO / cand).is_file():
            return cand
    return None


def _imports(rel: str, *, nested: bool) -> set[str]:
    """Modules named by import statements that run when `rel` is imported (`nested`: and
    those inside its functions). `from a import b` names a.b too, in case b is a module."""
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module)
                found.update(f"{node.module}.{a.name}" for a in node.names)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if nested:
                    visit(node.body)
            elif isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
                continue  # typing-only imports never run
            else:
                for field in ("body", "orelse", "finalbody", "handlers"):
                    visit([n for n in getattr(node, field, []) if isinstance(n, ast.AST)])

    visit(ast.parse((REPO / rel).read_text()).body)
    return found


def _needed(entry: str) -> set[str]:
    """The files that running `entry` loads: its module, the packages above it, and what
    they import when imported, transitively; the entry module's function-level imports
    too. envlock/__init__.py is served as a one-line stub, so its imports are not."""
    module = entry.partition(":")[0]
    entry_file = _file_of(module)
    todo, files = [module], {"envlock/__init__.py"}
    while todo:
        parts = todo.pop().split(".")
        for i in range(1, len(parts) + 1):
            rel = _file_of(".".join(parts[:i]))
            if rel is None or rel in files:
                continue
            files.add(rel)
            mods = _imports(rel, nested=rel == entry_file)
            todo += [m for m in mods if m.split(".")[0] == "envlock"]
    return files


@pytest.mark.parametrize("child", CHILDREN)
def test_each_child_is_served_exactly_what_it_imports(child: str) -> None:
    files, entry = CHILDREN[child]
    assert set(served(files)) == _needed(entry)


@pytest.mark.parametrize("child", CHILDREN)
def test_served_modules_import_only_the_standard_library_and_torch(child: str) -> None:
    files, _ = CHILDREN[child]
    for rel in files:
        source = (REPO / rel).read_text()
        ast.parse(source, filename=rel, feature_version=(3, 8))
        for name in _imports(rel, nested=True):
            top = name.split(".")[0]
            assert top in sys.stdlib_module_names or top in ("envlock", "torch"), (rel, name)


def test_a_module_left_out_is_not_found_even_where_envlock_is_installed() -> None:
    files = served(tuple(f for f in torch_info.CHILD_FILES if not f.endswith("libnames.py")))
    cmd = command(sys.executable, files, torch_info.CHILD_ENTRY, ["MARK:"])
    proc = subprocess.run(cmd, capture_output=True, text=True, env=clean_env(), timeout=120)
    assert proc.returncode != 0 and "MARK:" not in proc.stdout
    assert "No module named 'envlock.probe.libnames'" in proc.stderr


ECHO = """\
import os, sys

def main(argv):
    try:
        __loader__.get_data(os.path.join(os.path.dirname(__file__), "missing.py"))
        missing = "read"
    except OSError:
        missing = "OSError"
    print(json.dumps({
        "argv": argv,
        "cwd_on_path": "" in sys.path or os.getcwd() in sys.path,
        "missing": missing,
        "own_source": __loader__.get_data(__file__).decode().startswith("import os, sys"),
        "big": len(BIG),
    }))
    return int(argv[0])

import json
"""


def test_the_bootstrap_serves_calls_and_exits_with_the_entry_result(tmp_path: Path) -> None:
    # Incompressible, so the blob spans several arguments below Linux's 128 KiB limit each.
    big = os.urandom(300 * 1024).hex()
    files = {"echo.py": ECHO + f"BIG = {big!r}\n"}
    (tmp_path / "zlib.py").write_text("raise SystemExit('the working directory was imported')\n")
    cmd = command(sys.executable, files, "echo:main", ["7", "--", "two words"])
    assert max(len(a.encode()) for a in cmd) < 128 * 1024 and cmd.index("--") > 5
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 7, proc.stderr
    assert json.loads(proc.stdout) == {
        "argv": ["7", "--", "two words"],
        "cwd_on_path": False,
        "missing": "OSError",
        "own_source": True,
        "big": len(big),
    }


# ----------------------------------------------------------- under Python 3.8
def test_the_torch_child_starts_under_python_3_8() -> None:
    # No torch there: the child got as far as `import torch`, every served import worked.
    live = torch_info.LiveProbe(python=_python38()).result(60)
    assert live == {
        "unavailable": "import torch failed: ModuleNotFoundError: No module named 'torch'"
    }


def test_the_suite_starts_under_python_3_8() -> None:
    from envlock.errors import DeterminismError

    with pytest.raises(DeterminismError, match="torch is not importable: ModuleNotFoundError"):
        runner.run_suite(device="cpu", python=_python38())


# ------------------------------------------------------------ real torch
@pytest.mark.venv
def test_the_torch_child_imports_the_interpreters_torch_not_the_cwds(
    cpu_python: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text("raise ImportError('a torch checkout')\n")
    monkeypatch.chdir(tmp_path)
    live = torch_info.LiveProbe(python=str(cpu_python)).result(120)
    assert live["unavailable"] is None, live
    assert live["cuda_unavailable_reason"] == "torch is a CPU-only build (+cpu)"

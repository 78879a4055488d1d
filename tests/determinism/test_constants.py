"""The suite runs in another interpreter and never imports envlock: its copies of the
shared constants are held equal to envlock.determinism's here."""

from __future__ import annotations

import ast

import envlock.determinism as det
from envlock.determinism.runner import SUITE_PATH


def _suite_constants() -> dict[str, object]:
    tree = ast.parse(SUITE_PATH.read_text())
    out: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id.isupper():
                try:
                    out[target.id] = ast.literal_eval(node.value)
                except ValueError:
                    continue
    return out


def test_suite_copies_match_the_package() -> None:
    suite = _suite_constants()
    for name in ("CLASSES", "RESULT_MARK", "ERROR_MARK", "SUITE_VERSION"):
        assert suite[name] == getattr(det, name), name


def test_suite_imports_nothing_of_envlock() -> None:
    tree = ast.parse(SUITE_PATH.read_text())
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [n for n in names if n.startswith("envlock")]


def test_the_parent_watch_is_the_same_in_both_child_scripts() -> None:
    """Both children are self-contained, so each carries `_exit_with_parent`: one copy."""
    import inspect

    from envlock.determinism import suite
    from envlock.probe import _torch_child

    assert inspect.getsource(suite._exit_with_parent) == inspect.getsource(
        _torch_child._exit_with_parent
    )


def test_the_api_repeats_the_default_lock_name_exactly() -> None:
    from envlock import api
    from envlock.lock.model import DEFAULT_LOCK_NAME

    assert api.DEFAULT_LOCK_NAME == DEFAULT_LOCK_NAME

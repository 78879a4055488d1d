"""EL-FAMILY-MISMATCH under vLLM offers no "move torch" road (session 6 review, helper X).

vLLM's wheel is compiled against one torch build, so moving torch to the release a stray
family member was built for breaks vLLM: vllm-6099 (vLLM 0.4.2 on its pinned torch 2.3.0)
was told to move torch to 1.13 for a torchvision 0.14.1. The member for this torch stays
the fix, with the reason the other road is not offered. Without vLLM the road stays.
"""

from __future__ import annotations

import pytest

from envlock.checks.registry import run_checks
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


def _family_fixes(name: str, drop_vllm: bool = False) -> list[str]:
    text = (CE / name).read_text()
    if drop_vllm:  # the same machine without vLLM: the list's vllm lines removed
        text = "\n".join(line for line in text.splitlines() if "vllm" not in line.lower())
    facts = facts_from_texts(collect_env=text)
    return [f.fix or "" for f in run_checks(facts) if f.check_id == "EL-FAMILY-MISMATCH"]


@pytest.mark.parametrize("name", ["vllm-6099.txt", "vllm-11839.txt", "vllm-7112.txt"])
def test_no_move_torch_road_beside_vllm(name: str) -> None:
    fixes = _family_fixes(name)
    assert fixes, name
    for fix in fixes:
        assert "move torch" not in fix, fix
        assert "is built for this torch build: keep it" in fix, fix
        assert fix.startswith("pip install") or fix.startswith("pip uninstall"), fix


def test_the_road_stays_without_vllm() -> None:
    fixes = _family_fixes("vllm-11839.txt", drop_vllm=True)
    assert any("move torch" in fix for fix in fixes), fixes


@pytest.mark.parametrize("drop_vllm", [False, True])
def test_torchtext_comes_from_pypi_never_a_variant_index(drop_vllm: bool) -> None:
    """torchtext has no CUDA/CPU builds (hints.install_line already sends it to PyPI): a
    family fix that pins it on a cuXYZ index ('pip install "torchtext==0.17.*" --index-url
    .../whl/cu121', vllm-4252) risks pip's "No matching distribution". It goes in its own
    pip line from PyPI, torch and the members with builds stay on torch's index."""
    fixes = _family_fixes("vllm-4252.txt", drop_vllm=drop_vllm)
    assert any("torchtext" in fix for fix in fixes), fixes
    for fix in fixes:
        for command in fix.replace(";", "&&").split("&&"):
            if "torchtext==" in command:
                assert "--index-url" not in command, fix
    if drop_vllm:  # the move-torch road keeps torch on its index
        assert any('"torch==2.1.*"' in fix and "--index-url" in fix for fix in fixes), fixes

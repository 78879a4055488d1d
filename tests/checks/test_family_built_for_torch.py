"""EL-FAMILY-MISMATCH for a package whose own version names the torch release it was built
for, beside another torch (issue 21, session 9; envlock/checks/builtfor.py, raised from
checks/family.py's check): MindIE Torch's `+torch2.1.0.abi0` (vllm-ascend-556), PyG's
`+pt112cu113` wheels (data.pyg.org's naming; a pip freeze of their direct URLs too). Quiet
where the named torch is the installed one (GPTQModel's +cu124torch2.5 beside torch 2.5.1,
k2's +cuda11.8.torch1.14.0a0 beside NVIDIA's 1.14.0a0), for another scheme (a CoreX build of
torch_scatter) and for FlashInfer (its wheels for the previous torch ran: sglang-3303).
Every fix printed is followed (tests/checks/test_fixes_recheck.py's pip-line applier)."""

from __future__ import annotations

import pytest

from envlock.checks import run_checks
from envlock.checks.builtfor import built_for
from envlock.facts import Facts
from envlock.findings import Finding, Severity
from envlock.matrix import Version
from envlock.pasted import facts_from_texts
from tests.checks.test_fixes_recheck import _recheck_pasted
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"

# PyG's wheels for torch 1.12 and CUDA 11.3, as a pip freeze of their direct URLs writes them
# (the file names of a public requirements file: data.pyg.org/whl/torch-1.12.0%2Bcu113/...)
PYG_FREEZE = """\
torch-scatter @ https://data.pyg.org/whl/torch-1.12.0%2Bcu113/torch_scatter-2.1.0%2Bpt112cu113-cp38-cp38-linux_x86_64.whl
torch-sparse @ https://data.pyg.org/whl/torch-1.12.0%2Bcu113/torch_sparse-0.6.16%2Bpt112cu113-cp38-cp38-linux_x86_64.whl
torch_cluster==1.6.0+pt112cu113
torch-spline-conv==1.2.1+pt112cu113
torch-geometric @ git+https://github.com/pyg-team/pytorch_geometric.git@2.1.0
"""


def _facts(name: str, pip_freeze: str | None = None) -> Facts:
    return facts_from_texts(collect_env=(CE / name).read_text(), pip_freeze=pip_freeze)


def _built(facts: Facts) -> list[Finding]:
    return [
        f
        for f in run_checks(facts)
        if f.check_id == "EL-FAMILY-MISMATCH"
        and f.evidence.get("found_by") == ["built for (local version label)"]
    ]


def test_schemes() -> None:
    b = built_for("mindietorch", "1.0rc2+torch2.1.0.abi0")
    assert b is not None and (b.torch, b.cuda, b.scheme) == (Version((2, 1)), None, "torch-tag")
    b = built_for("torch_scatter", "2.1.2+pt20cu118")
    assert b is not None and (b.torch, b.cuda, b.scheme) == (
        Version((2, 0)),
        Version((11, 8)),
        "pyg",
    )
    b = built_for("pyg_lib", "0.7.0+pt212cpu")
    assert b is not None and (b.torch, b.cuda) == (Version((2, 12)), None)
    b = built_for("k2", "1.23.2.dev20221221+cuda11.8.torch1.14.0a0")
    assert b is not None and (b.torch, b.cuda) == (Version((1, 14)), Version((11, 8)))
    assert built_for("torch-scatter", "2.1.0+corex.4.5.0.20260721") is None  # a vendor's
    assert built_for("torch-scatter", "2.0.9") is None  # PyG's index before local labels
    assert built_for("flashinfer-python", "0.2.3+cu124torch2.5") is None  # not judged
    assert built_for("torchvision", "0.16.0+cu121") is None  # a variant, no torch named


@pytest.mark.parametrize(
    "name",
    [
        "vllm-11839.txt",  # gptqmodel 1.5.1+cu124torch2.5 beside torch 2.5.1+cu124
        "pytorch-91351.txt",  # k2 ...+cuda11.8.torch1.14.0a0 beside torch 1.14.0a0+410ce96
        "tilelang-3042.txt",  # torch_scatter 2.1.0+corex.4.5.0.20260721: CoreX's scheme
        "sglang-3303.txt",  # flashinfer 0.1.6+cu121torch2.4 beside torch 2.5.1: not judged
        "vllm-16880.txt",  # flashinfer-python 0.2.3+cu124torch2.5 beside torch 2.6.0
    ],
)
def test_a_build_for_this_torch_or_another_scheme_is_quiet(name: str) -> None:
    assert _built(_facts(name)) == []


def test_pyg_wheels_for_the_installed_torch_are_quiet() -> None:
    # vllm-3771 (healthy): torch 1.12.1+cu113, PyG's pt112cu113 wheels beside it
    facts = _facts("vllm-3771.txt", PYG_FREEZE)
    assert facts.packages.distributions["torch-scatter"] == "2.1.0+pt112cu113"
    assert _built(facts) == []


def test_vllm_ascend_556_mindietorch_for_torch_2_1_beside_2_5_1() -> None:
    facts = _facts("vllm-ascend-556.txt")
    (f,) = _built(facts)
    assert f.severity is Severity.ERROR
    assert f.evidence["package"] == "mindietorch" and "torch 2.1" in f.message
    assert "2.5.1+cpu" in f.message
    assert "pip uninstall -y mindietorch" in (f.fix or "")
    assert "EL-FAMILY-MISMATCH" in _recheck_pasted(facts)


def test_pyg_wheels_for_torch_1_12_beside_2_5_1_are_one_finding() -> None:
    # vllm-12168 (healthy): torch 2.5.1+cu118; the same PyG wheels beside it
    facts = _facts("vllm-12168.txt", PYG_FREEZE)
    (f,) = _built(facts)
    assert f.evidence["package"] == "torch-cluster, torch-scatter, torch-sparse, torch-spline-conv"
    assert "its build names torch 1.12 (+pt112cu113)" in f.message
    assert f.fix == (
        "pip uninstall -y torch-cluster torch-scatter torch-sparse torch-spline-conv && "
        "pip install torch-cluster torch-scatter torch-sparse torch-spline-conv "
        "-f https://data.pyg.org/whl/torch-2.5.0+cu118.html"
    )
    assert "EL-FAMILY-MISMATCH" in _recheck_pasted(facts)


def test_pyg_wheel_of_the_release_but_another_cuda_major() -> None:
    # vllm-12168's torch 2.5.1+cu118 beside a pt25cu121 wheel: CUDA 12 beside CUDA 11.8
    facts = _facts("vllm-12168.txt", "torch-scatter==2.1.2+pt25cu121\n")
    (f,) = _built(facts)
    assert "its build names CUDA 12.1, torch's is CUDA 11.8" in f.message
    # cu124 beside cu121 is one CUDA major: quiet
    assert _built(_facts("vllm-12168.txt", "torch-scatter==2.1.2+pt25cu118\n")) == []

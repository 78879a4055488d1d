"""A system nvcc of another CUDA major is a note, not a warning, where nothing is built
here (session 7 review, helper X2).

The corpus's healthy reports carry it 17 times (vllm#20813: "an old system nvcc is
irrelevant to the wheel"): torch runs on the CUDA runtime its wheels bring, and nvcc
matters only when CUDA extensions are compiled against it. It stays a warning where the
environment shows packages built from source (a vcs, local or editable install).
"""

from __future__ import annotations

from envlock.checks.registry import run_checks
from envlock.facts import PackageSourceFacts
from envlock.findings import Severity
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES
from tests.facts_builders import cuda_venv, edit

CE = FIXTURES / "collect_env"


def test_a_healthy_paste_gets_a_note() -> None:
    found = run_checks(facts_from_texts(collect_env=(CE / "vllm-20813.txt").read_text()))
    (f,) = [f for f in found if f.check_id == "EL-NVCC-MISMATCH"]
    assert f.severity is Severity.INFO, f.severity
    assert "its own CUDA" in f.message and "only when building" in f.message, f.message


def test_a_source_built_package_keeps_the_warning() -> None:
    facts = edit(cuda_venv(), "cuda.toolkit.nvcc_version", "12.4.131")
    source = PackageSourceFacts(kind="vcs", url="https://github.com/NVIDIA/apex", commit="0da3ffb")
    facts = edit(facts, "packages.sources", {"apex": source})
    (f,) = [f for f in run_checks(facts) if f.check_id == "EL-NVCC-MISMATCH"]
    assert f.severity is Severity.WARNING and "apex" in f.message, f.message

"""EL-FAMILY-MISMATCH's fix names only an index pytorch.org's install commands name for
torch's own release and build (matrix/indexes.toml). ROCm/legacy-rocm-build#4729: torch
2.3.0+rocm6.2.3 (AMD's repo.radeon.com build) beside torchaudio 2.7.0+rocm6.3; the fix
used to print https://download.pytorch.org/whl/rocm6.2.3, an index that does not exist.
"""

from __future__ import annotations

from envlock.checks.registry import run_checks
from envlock.findings import Finding
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"
REPORT = (CE / "legacy-rocm-build-4729.txt").read_text()


def _family(text: str) -> list[Finding]:
    facts = facts_from_texts(collect_env=text)
    return [f for f in run_checks(facts) if f.check_id == "EL-FAMILY-MISMATCH"]


def test_amds_rocm_6_2_3_torch_gets_no_invented_index() -> None:
    (f,) = _family(REPORT)
    fix = f.fix or ""
    assert "download.pytorch.org/whl/rocm6.2.3" not in fix, fix
    assert "--index-url" not in fix, fix
    assert "torch 2.3.0+rocm6.2.3 is not a download.pytorch.org build" in fix, fix
    assert "repo.radeon.com" in fix, fix
    assert '"torchaudio==2.3.*" built for torch 2.3.0+rocm6.2.3 from the same place' in fix, fix


def test_a_rocm_build_pytorch_org_names_keeps_its_index() -> None:
    """The same report with torch at 2.3.0+rocm6.0, the ROCm build pytorch.org's 2.3.0
    command names (previous-versions.md, PV23): the member comes from that index."""
    text = REPORT.replace("torch==2.3.0+rocm6.2.3", "torch==2.3.0+rocm6.0").replace(
        "torchvision==0.18.0+rocm6.2.3", "torchvision==0.18.0+rocm6.0"
    )
    (f,) = _family(text)
    fix = f.fix or ""
    assert (
        'pip install "torchaudio==2.3.*" "torch==2.3.0" '
        "--index-url https://download.pytorch.org/whl/rocm6.0"
    ) in fix, fix

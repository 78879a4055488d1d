"""EL-WHEELS-MIXED-CUDA: wheels of two CUDA majors clash only where they install the same
files (session 8's miss ghfile-wwoosshh-entail-research-vllm-collect-env: vLLM 0.30 on
torch 2.13.0+cu130 with nvidia-cutlass-dsl 4.7.1).

Read from the wheels themselves (pip download --no-deps, their file lists):
nvidia-nccl-cu12 2.27.3 and nvidia-nccl-cu13 2.29.7 both install
nvidia/nccl/lib/libnccl.so.2, so the copy on disk is the last installed; but
nvidia-cutlass-dsl-libs-cu12 and -cu13 4.7.1 install nvidia_cutlass_dsl/cu12/... and
nvidia_cutlass_dsl/cu13/... (only the directories above them are shared), and
nvidia-cutlass-dsl 4.7.1 requires -libs-cu12 always and -libs-cu13 with its cu13 extra:
the two side by side are the package as designed, no clash.
"""

from __future__ import annotations

from envlock.checks.registry import run_checks
from envlock.findings import Finding, Severity
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

ENTAIL = FIXTURES / "collect_env" / "ghfile-wwoosshh-entail-research-vllm-collect-env.txt"


def _mixed(text: str) -> Finding:
    found = run_checks(facts_from_texts(collect_env=text))
    (f,) = [f for f in found if f.check_id == "EL-WHEELS-MIXED-CUDA"]
    return f


def test_cutlass_dsl_libs_of_two_majors_install_apart() -> None:
    f = _mixed(ENTAIL.read_text())
    assert f.severity is Severity.INFO, f.message
    assert f.evidence["same_files"] == []
    assert "install the same" not in f.message, f.message


def test_a_second_nccl_of_another_major_still_clashes() -> None:
    """The same paste with CUDA 12's NCCL wheel beside torch's CUDA 13 one."""
    text = ENTAIL.read_text().replace(
        "[pip3] nvidia-nccl-cu13==2.29.7",
        "[pip3] nvidia-nccl-cu12==2.27.3\n[pip3] nvidia-nccl-cu13==2.29.7",
    )
    f = _mixed(text)
    assert f.severity is Severity.ERROR, f.message
    assert f.evidence["same_files"] == [["nvidia-nccl-cu12", "nvidia-nccl-cu13"]]

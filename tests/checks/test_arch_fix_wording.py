"""EL-ARCH-UNSUPPORTED's fix says "no official build has sm_XY kernels ... PTX JIT" only when
the build it names runs the GPU through PTX alone; a build with the GPU's own SASS whose
only caveat is a driver the paste does not state (vllm#21633: no driver line) is named as
what it is (the wording read the caveats, any caveat, as PTX-only)."""

from __future__ import annotations

from pathlib import Path

from envlock.checks import run_checks
from envlock.pasted import facts_from_texts

CE = Path(__file__).resolve().parent.parent / "fixtures" / "collect_env"


def _arch_fix(text: str) -> str:
    findings = run_checks(facts_from_texts(collect_env=text))
    (finding,) = [f for f in findings if f.check_id == "EL-ARCH-UNSUPPORTED"]
    return finding.fix or ""


def test_a_build_with_the_gpus_own_sass_is_not_called_ptx_only() -> None:
    fix = _arch_fix((CE / "vllm-21633.txt").read_text())  # RTX 5070 Ti, torch to sm_90
    assert fix.startswith("install a torch build that includes sm_120")
    assert "PTX JIT" not in fix

"""Issue 21 item 6: a torch fix for an environment where conda holds torch removes conda's
torch family first (naming exactly what conda lists, quoted for the shell), then installs
with pip; where conda does not hold torch the fix is as it was. Real reports of the corpus:
pytorch-29301 and espnet-bug-template (conda's pytorch), pytorch-112553 and vllm-20173
(pip's torch alone)."""

from __future__ import annotations

import shlex

from envlock.api import matrix_advice
from envlock.checks.registry import run_checks
from envlock.collect import Source
from envlock.findings import Finding
from envlock.matrix import load_matrix
from envlock.pasted import facts_from_texts
from tests.checks.test_fixes_recheck import CE, _pasted, apply_pip_line, apply_road
from tests.conftest import run_envlock
from tests.facts_builders import edit


def _finding(name: str, check_id: str) -> Finding:
    (finding,) = [f for f in run_checks(_pasted(name)) if f.check_id == check_id]
    return finding


def _removal(command: str) -> list[str]:
    """The words of the `conda remove` part of a fix (shell grammar: shlex); on Windows
    the commands are one a line (checks/shells.py)."""
    start = command.index("conda remove")
    conda, sep, _ = command[start:].replace("\n", " && ", 1).partition(" && ")
    assert sep, command
    return shlex.split(conda)


def test_the_doctors_pip_road_for_conda_torch_removes_condas_family_first() -> None:
    """pytorch#29301: conda's pytorch 1.3.0 (cuda92) and torchvision 0.4.1 (py37_cu92) on a
    driver too old; the pip road to torch 1.1 cu90 removes both from conda first (conda's
    torch 1.3.1 pypi_0 is pip's, not conda's: not named)."""
    finding = _finding("pytorch-29301.txt", "EL-DRIVER-TOO-OLD")
    fix = finding.fix or ""
    road = next(w for w in fix.split("; or ") if "pip install" in w)
    assert _removal(road) == ["conda", "remove", "--force", "pytorch", "torchvision"]
    roads = finding.evidence["fix.roads"]
    pip_road = next(r for r in roads if "driver_at_least" not in r)
    assert pip_road["conda_remove"] == "pytorch torchvision"
    # the driver road keeps conda's build: nothing to remove
    assert all("conda_remove" not in r for r in roads if "driver_at_least" in r)
    # followed, one torch is left: conda's record of it is gone
    after = apply_road(_pasted("pytorch-29301.txt"), pip_road)
    assert "pytorch" not in after.toolchain.conda_packages
    assert "EL-TORCH-TWO-INSTALLS" not in {f.check_id for f in run_checks(after)}


def test_matrix_for_a_conda_paste_removes_condas_pytorch_first() -> None:
    """espnet's bug template: conda's pytorch 1.4.0 beside pip-listed torchaudio (pypi_0):
    only pytorch is conda's; torchaudio is reinstalled by pip at the paired series."""
    advice = matrix_advice(Source(collect_env=str(CE / "espnet-bug-template.txt")))
    assert advice.best is not None
    assert _removal(advice.best.pip) == ["conda", "remove", "--force", "pytorch"]
    assert '"torchaudio==' in advice.best.pip
    after = apply_pip_line(_pasted("espnet-bug-template.txt"), advice.best.pip)
    assert "EL-TORCH-TWO-INSTALLS" not in {f.check_id for f in run_checks(after)}


def test_envlock_matrix_prints_the_removal_for_a_conda_paste() -> None:
    proc = run_envlock(["matrix", "--collect-env", str(CE / "espnet-bug-template.txt")])
    assert proc.returncode == 0, proc.stderr
    assert "conda remove --force pytorch && pip install " in proc.stdout


def test_a_fix_where_conda_does_not_hold_torch_is_unchanged() -> None:
    """pytorch#112553 (pip's torch 2.1.0+cu121 on driver 525) and vllm#20173: no conda
    removal, the fix text as before (but pip's own uninstall of the installed 2.1 build:
    `==2.1.*` is already satisfied by 2.1.0+cu121, tests/checks/test_fix_pip_noop.py)."""
    finding = _finding("pytorch-112553.txt", "EL-DRIVER-TOO-OLD")
    assert finding.fix == (
        "install torch built for an older CUDA: pip uninstall -y torch && "
        'pip install "torch==2.1.*" --index-url '
        "https://download.pytorch.org/whl/cu118  (torch 2.1 cu118, through this driver's "
        "minor-version compatibility); or upgrade the NVIDIA "
        "driver to >= 530.30.02"
    )
    assert all("conda_remove" not in r for r in finding.evidence["fix.roads"])
    advice = matrix_advice(Source(collect_env=str(CE / "vllm-20173.txt")))
    assert advice.best is not None and advice.best.pip.startswith("pip install ")


def test_conda_held_names_only_condas_own_torch_family() -> None:
    from envlock.checks.hints import conda_held

    pip_built = {"pytorch": "1.4.0 py3.7_cuda10.0.130_cudnn7.6.3_0", "torchaudio": "0.4.0 pypi_0"}
    assert conda_held(pip_built) == ("pytorch",)
    full = {
        "pytorch": "2.1.0 py3.10_cuda11.8_cudnn8.7.0_0",
        "pytorch-cuda": "11.8 h7e8668a_5",
        "pytorch-mutex": "1.0 cuda",
        "torchvision": "0.16.0 py310_cu118",
        "torchaudio": "2.1.0 py310_cu118",
        "cudatoolkit": "11.8.0 h6a678d5_0",
        "numpy": "1.26.0 py310h5f9d8c6_0",
    }
    assert set(conda_held(full)) == set(full) - {"numpy"}
    # conda lists pip's torch (pypi_0) but holds none itself: nothing to remove
    assert conda_held({"torch": "2.1.0 pypi_0", "torchvision": "0.16.0 py310_cu118"}) == ()
    assert conda_held({"pytorch": "2.1.0 pypi_0"}) == ()


def test_the_cpu_fallback_with_no_torch_version_removes_condas_family_first() -> None:
    """A GeForce GTX 660 Ti (3.0) under a torch whose floor is 3.5 (torch's warning as
    alievk/avatarify-python#58 pasted it) beside pytorch#72957's library block (conda's
    pytorch 1.10.2 cuda10.2 family; no 'PyTorch version' line): no CUDA build serves the
    GPU, and the CPU line, with no torch version to pin, removes conda's family first. The
    line followed (conda's records gone, pip's newest CPU torch), no error of its own is
    left and torch is installed once."""
    from tests.checks.test_arch_floor import AVATARIFY_58
    from tests.checks.test_fixes_recheck import _conda_remove, _cpu_build

    text = AVATARIFY_58 + "\n" + (CE / "pytorch-72957.txt").read_text()
    facts = facts_from_texts(collect_env=text)
    assert facts.torch.version is None
    (finding,) = [f for f in run_checks(facts) if f.check_id == "EL-GPU-UNSERVABLE"]
    fix = finding.fix or ""
    cpu = fix[fix.index("(") + 1 : fix.index(")")]
    assert _removal(cpu) == [
        *("conda", "remove", "--force"),
        *("pytorch", "torchvision", "torchaudio", "pytorch-mutex", "cudatoolkit"),
    ]
    assert cpu.endswith("&& pip install torch --index-url https://download.pytorch.org/whl/cpu")
    newest = max(r.release for r in load_matrix().torch)
    after = _cpu_build(_conda_remove(facts, _removal(cpu)[3:]), f"{newest}.0+cpu")
    after = edit(
        after,
        "packages.distributions",
        {**after.packages.distributions, "torch": f"{newest}.0+cpu"},
    )
    ids = {f.check_id for f in run_checks(after)}
    assert not ids & {"EL-GPU-UNSERVABLE", "EL-TORCH-TWO-INSTALLS"}, ids

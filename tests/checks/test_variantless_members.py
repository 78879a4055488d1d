"""Pip lines that pip can run (session 7 review, helper X2).

pytorch#58794 (torch 1.7.1+cu102 with torchtext 0.8 and torchaudio 0.7, no driver) was told
`pip uninstall -y torch torchvision torchaudio torchtext && pip install "torch==1.7.*"
"torchvision==0.8.*" "torchaudio==0.7.*" "torchtext==0.8.*" --index-url .../whl/cpu`:
torchtext never had CUDA or CPU variants (nor torchaudio before 0.10, whose install lines
name no local tag), so a variant index is no place to ask for them, and pip fails the whole
line after the uninstall, leaving no torch. A member without variants that already pairs
with the target release stays as it is; one that must move comes from PyPI on a line of its
own.

Held as it was (a guard, not a failure seen): pip answers `torch==2.0.*` "already
satisfied" beside a source build 2.0.0a0+git7f2b5ea (it matches pre-releases of an installed
distribution), so a line installing 2.0 there uninstalls it first.
"""

from __future__ import annotations

from envlock.checks.hints import install_line
from envlock.checks.registry import run_checks
from envlock.matrix import Version
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


def test_58794_cpu_road_leaves_its_torchtext_and_torchaudio_alone() -> None:
    found = run_checks(facts_from_texts(collect_env=(CE / "pytorch-58794.txt").read_text()))
    (f,) = [f for f in found if f.check_id == "EL-NO-DRIVER"]
    fix = f.fix or ""
    assert "-f https://download.pytorch.org/whl/torch_stable.html" in fix, fix
    assert "torchtext" not in fix and "torchaudio" not in fix, fix
    assert '"torchvision==0.8.2+cpu"' in fix, fix  # torchvision has a CPU build: it moves


def test_a_member_without_variants_that_must_move_comes_from_pypi() -> None:
    line = install_line(
        Version((2, 2)),
        "cu121",
        {"torchvision": Version((0, 17)), "torchtext": Version((0, 17))},
        installed={"torch": "2.1.2+cu121", "torchvision": "0.16.2+cu121", "torchtext": "0.16.2"},
    )
    main, _, rest = line.partition(" && ")
    assert main == (
        'pip install "torch==2.2.*" "torchvision==0.17.*" '
        "--index-url https://download.pytorch.org/whl/cu121"
    ), line
    assert rest == 'pip install "torchtext==0.17.*"', line


def test_a_pre_release_of_the_release_is_uninstalled_first() -> None:
    line = install_line(Version((2, 0)), "cu118", {}, installed={"torch": "2.0.0a0+git7f2b5ea"})
    assert line.startswith("pip uninstall -y torch && pip install"), line


def test_91973_as_pip_would_list_its_source_build() -> None:
    text = (CE / "pytorch-91973.txt").read_text()
    text = text.replace("[pip3] torch==1.13.1", "[pip3] torch==2.0.0a0+git7f2b5ea")
    found = run_checks(facts_from_texts(collect_env=text))
    (f,) = [f for f in found if f.check_id == "EL-TORCH-CPU-ONLY"]
    assert "pip uninstall -y torch && pip install" in (f.fix or ""), f.fix

"""EL-FAMILY-MISMATCH's fix beside a nightly torch (pytorch-91420: torch
1.14.0.dev20221202+cu117 with torchvision 0.15.0.dev20221203+cpu): the member of torch's
own night from the nightly index of torch's variant. A rebuild of PyPI's newest
torchvision, or a released one (which pins a released torch), never pairs with a nightly.
"""

from __future__ import annotations

from envlock.checks.registry import run_checks
from envlock.findings import Finding
from envlock.pasted import facts_from_texts


def _paste(torch: str, torchvision: str) -> str:
    return "\n".join(
        [
            "Collecting environment information...",
            f"PyTorch version: {torch}",
            "Is debug build: False",
            "CUDA used to build PyTorch: 11.7",
            "",
            "OS: Ubuntu 22.04.1 LTS (x86_64)",
            "Python version: 3.9.12 (main, Apr  5 2022, 06:56:58)  [GCC 7.5.0] (64-bit runtime)",
            "Python platform: Linux-5.15.0-56-generic-x86_64-with-glibc2.35",
            "Is CUDA available: True",
            "CUDA runtime version: 11.6.124",
            "GPU models and configuration: GPU 0: NVIDIA GeForce RTX 3090",
            "Nvidia driver version: 515.86.01",
            "",
            "Versions of relevant libraries:",
            f"[pip3] torch=={torch}",
            f"[pip3] torchvision=={torchvision}",
            "",
        ]
    )


def _family(torch: str, torchvision: str) -> list[Finding]:
    facts = facts_from_texts(collect_env=_paste(torch, torchvision))
    return [f for f in run_checks(facts) if f.check_id == "EL-FAMILY-MISMATCH"]


def test_a_cpu_nightly_member_beside_a_current_nightly_torch_takes_torchs_night() -> None:
    """cu132's nightly index is one pytorch.org names today (indexes.toml [nightly], PVN)."""
    (f,) = _family("2.15.0.dev20261202+cu132", "0.30.0.dev20261203+cpu")
    fix = f.fix or ""
    assert fix.startswith(
        'pip install --pre --no-deps --force-reinstall "torchvision==0.30.0.dev20261202" '
        "--index-url https://download.pytorch.org/whl/nightly/cu132"
    ), fix
    assert "--no-binary" not in fix, fix


def test_a_retired_nightly_tag_names_no_nightly_index() -> None:
    """pytorch-91420's pair: the cu117 nightly index is gone (pytorch.org's selector names
    nightly/cpu, cu132, cu134, rocm10.1), so the fix names no nightly/cu117 URL; it moves
    torch and torchvision to the release torchvision 0.15 belongs to (2.0, whose cu117
    index pytorch.org's 2.0.x commands name)."""
    (f,) = _family("1.14.0.dev20221202+cu117", "0.15.0.dev20221203+cpu")
    fix = f.fix or ""
    assert "nightly/cu117" not in fix, fix
    assert "no nightly index for cu117" in fix, fix
    assert fix.endswith(
        'pip uninstall -y torch torchvision && pip install "torch==2.0.*" "torchvision==0.15.*" '
        "--index-url https://download.pytorch.org/whl/cu117"
    ), fix


def test_the_same_nights_member_is_no_mismatch() -> None:
    assert _family("1.14.0.dev20221202+cu117", "0.15.0.dev20221202+cu117") == []


def test_a_released_torchs_member_fix_is_not_a_nightly() -> None:
    (f,) = _family("2.0.1+cu117", "0.15.2+cpu")
    assert "nightly" not in (f.fix or "") and "torchvision==0.15.*" in (f.fix or ""), f.fix

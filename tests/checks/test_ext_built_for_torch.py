"""EL-EXT-TORCH-ABI for an extension whose build names another torch release (issue 21,
session 9): xFormers' load warning and `python -m xformers.info` say the torch its wheel
was built for (ExtensionFacts.built_for_torch, read by envlock/pasted/xformers_info.py).
Another major.minor than the installed torch's cannot load (its libtorch symbols are that
release's); another patch release or another CUDA of the same release is not this finding
(EL-EXT-CUDA-MAJOR judges the CUDA). The fix installs the torch build the wheel was made
for, as the matrix holds it (a road, re-checked), or rebuilds the extension for this torch.
"""

from __future__ import annotations

import pytest

from envlock.checks import run_checks
from envlock.facts import Facts
from envlock.findings import Finding, Severity
from envlock.pasted import facts_from_texts
from tests.checks.test_fixes_recheck import apply_road
from tests.conftest import FIXTURES
from tests.pasted.test_tool_reports import XFORMERS_A100

CE = FIXTURES / "collect_env"


def _facts(text: str) -> Facts:
    return facts_from_texts(collect_env=text)


def _abi(facts: Facts) -> list[Finding]:
    return [f for f in run_checks(facts) if f.check_id == "EL-EXT-TORCH-ABI"]


def test_comfyui_supir_35_xformers_for_torch_2_2_beside_2_1_2() -> None:
    # 'PyTorch 2.2.0+cu121 with CUDA 1201 (you have 2.1.2+cu121)': the maintainer's fix was
    # torch 2.2 from the cu121 index
    facts = _facts((CE / "ComfyUI-SUPIR-35.txt").read_text())
    assert [e.built_for_torch for e in facts.extensions.items] == ["2.2.0+cu121"]
    (f,) = _abi(facts)
    assert f.severity is Severity.ERROR
    assert "built for torch 2.2.0+cu121" in f.message and "2.1.2+cu121" in f.message
    assert f.evidence["fix.roads"] == [{"torch": "2.2", "variant": "cu121"}]
    assert 'torch==2.2.*" --index-url https://download.pytorch.org/whl/cu121' in (f.fix or "")
    assert "--no-binary xformers" in (f.fix or "")  # or xFormers rebuilt for torch 2.1.2
    after = apply_road(facts, f.evidence["fix.roads"][0])
    assert after.torch.version == "2.2.0+cu121" and _abi(after) == []


@pytest.mark.parametrize(
    ("name", "built", "road"),
    [
        # Unsloth's import error quoting the warning after 'xformers<0.0.27' was forced in
        ("unsloth-1026.txt", "2.3.0+cu121", {"torch": "2.3", "variant": "cu121"}),
        # the webui's warning after torch was force-reinstalled as 2.2.2+cu121
        ("sd-webui-15444.txt", "2.1.2+cu121", {"torch": "2.1", "variant": "cu121"}),
    ],
)
def test_the_warning_in_other_reports_fires(name: str, built: str, road: dict[str, str]) -> None:
    (f,) = _abi(_facts((CE / name).read_text()))
    assert f"built for torch {built}" in f.message
    assert f.evidence["fix.roads"] == [road]


def test_xformers_info_build_torch_version_of_another_release_fires() -> None:
    # the recorded xformers.info (wheel-v0.0.20, build.torch_version 2.0.1+cu118) with a
    # torch 2.1.0+cu118 installed beside it, on its A100
    text = XFORMERS_A100.replace("2.0.1+cu117", "2.1.0+cu118")
    (f,) = _abi(_facts(text))
    assert "built for torch 2.0.1+cu118" in f.message
    assert f.evidence["fix.roads"] == [{"torch": "2.0", "variant": "cu118"}]


def test_same_release_is_not_this_finding() -> None:
    # xformers.info as recorded: 2.0.1+cu118's wheel beside torch 2.0.1+cu117
    assert _abi(_facts(XFORMERS_A100)) == []
    # xformers-899: 2.1.0+cu121's wheel beside 2.1.0+cu118: the CUDA major's finding only
    facts = _facts((CE / "xformers-899.txt").read_text())
    assert _abi(facts) == []
    assert "EL-EXT-CUDA-MAJOR" in {f.check_id for f in run_checks(facts)}
    # xformers-971: 2.1.2+cu121's wheel beside 2.1.0+cpu: a patch release apart, CPU-only's
    assert _abi(_facts((CE / "xformers-971.txt").read_text())) == []


def test_beside_a_cpu_torch_it_is_cpu_onlys() -> None:
    # xformers-982's warning ('2.2.0+cu121 ... (you have 2.2.0+cpu)') with torch 2.1.0+cpu:
    # the CUDA wheel cannot load beside any CPU build; the CPU-only finding names the cause
    text = (
        (CE / "xformers-982.txt")
        .read_text()
        .replace("(you have 2.2.0+cpu)", "(you have 2.1.0+cpu)")
    )
    facts = _facts(text)
    assert facts.torch.version == "2.1.0+cpu" and _abi(facts) == []
    assert "EL-TORCH-CPU-ONLY" in {f.check_id for f in run_checks(facts)}


def test_a_build_the_matrix_does_not_hold_gets_the_rebuild_only() -> None:
    # a wheel built for a torch build the matrix holds none of (1.0.0 with CUDA 12.1): no
    # road, the extension rebuilt for the torch here
    text = (CE / "ComfyUI-SUPIR-35.txt").read_text().replace("2.2.0+cu121", "1.0.0+cu121")
    (f,) = _abi(_facts(text))
    assert "fix.roads" not in f.evidence
    assert (f.fix or "").startswith("install a xformers build for torch 2.1.2+cu121")


# xFormers 0.0.34's CUDA wheels are built against torch's stable ABI for torch 2.10
# (its CHANGELOG: "binary builds targeting PyTorch 2.10+ will be compatible with any later
# version"; setup.py: -DTORCH_STABLE_ONLY -DTORCH_TARGET_VERSION=0x020a..., CUDA builds only)
XFORMERS_034 = (
    XFORMERS_A100.replace(
        "build.cuda_version:                                1108",
        "build.cuda_version:                                1208",
    )
    .replace(
        "build.torch_version:                               2.0.1+cu118",
        "build.torch_version:                               2.10.0+cu128",
    )
    .replace("wheel-v0.0.20", "wheel-v0.0.34")
)


def test_a_stable_abi_xformers_on_a_later_torch_is_not_this_finding() -> None:
    # the PyPI xformers 0.0.34 (built for 2.10.0+cu128) beside torch 2.11.0+cu128
    facts = _facts(XFORMERS_034.replace("2.0.1+cu117", "2.11.0+cu128"))
    [ext] = facts.extensions.items
    assert ext.built_for_torch == "2.10.0+cu128" and ext.version == "0.0.34"
    assert _abi(facts) == []
    assert not any("does not load" in n for n in facts.meta.notes)


def test_a_stable_abi_xformers_on_an_older_torch_fires() -> None:
    # the stable ABI runs forward only: a build for 2.10 beside torch 2.9 does not load
    facts = _facts(XFORMERS_034.replace("2.0.1+cu117", "2.9.1+cu128"))
    (f,) = _abi(facts)
    assert "built for torch 2.10.0+cu128" in f.message
    assert any("does not load" in n for n in facts.meta.notes)


def test_an_xformers_before_the_stable_abi_on_a_later_torch_fires() -> None:
    # 0.0.33.post2 was still built against one torch release's C++ ABI
    text = XFORMERS_034.replace("wheel-v0.0.34", "wheel-v0.0.33.post2")
    (f,) = _abi(_facts(text.replace("2.0.1+cu117", "2.11.0+cu128")))
    assert "built for torch 2.10.0+cu128" in f.message


def _ids(facts: Facts) -> list[str]:
    return [f.check_id for f in run_checks(facts) if f.check_id.startswith("EL-EXT-")]


def test_a_build_for_another_torch_and_its_cuda_is_one_cause() -> None:
    # comfyui-colab-6: xFormers built for 1.13.1+cu117 (CUDA 1107) beside Colab's 2.4.0+cu121:
    # the other release brought the other CUDA; one finding says both, and its fix moves both
    facts = _facts((CE / "comfyui-colab-6.txt").read_text())
    assert [(e.built_for_torch, e.cuda_major) for e in facts.extensions.items] == [
        ("1.13.1+cu117", 11)
    ]
    (f,) = _abi(facts)
    assert _ids(facts) == ["EL-EXT-TORCH-ABI"]
    assert "built for torch 1.13.1+cu117" in f.message
    assert "and with it CUDA 11 where torch uses CUDA 12.1" in f.message


def test_the_same_release_with_another_cuda_stays_the_cuda_major_finding() -> None:
    # xformers-899: a build for torch's own release linking another CUDA runtime
    facts = _facts((CE / "xformers-899.txt").read_text())
    assert "EL-EXT-CUDA-MAJOR" in _ids(facts) and _abi(facts) == []

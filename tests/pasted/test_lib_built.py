"""A compiled library's own words about what it was built for (envlock/pasted/libbuilt.py,
issue 21, session 13): torchvision's, torchaudio's and PyG's CUDA check, Open3D's torch
release check, spconv's prebuilt arch warning and PyG's wheel index in a pip command run.
The texts are real pastes from issue threads (each with its address) or the library's own
source wording; each case where a finding fires has one where it must not."""

from __future__ import annotations

from envlock.checks import run_checks
from envlock.checks.triage import top_finding
from envlock.pasted import facts_from_texts
from envlock.pasted.libbuilt import SPCONV_GPU, read_lib_built
from tests.pasted.test_tool_reports import _errors, _report, _top

# deforum/deforum-stable-diffusion#348: torchvision 0.16's wording ("CUDA major versions")
TV_MAJOR = (
    "RuntimeError: Detected that PyTorch and torchvision were compiled with different CUDA major "
    "versions. PyTorch has CUDA Version=12.1 and torchvision has CUDA Version=11.8. Please "
    "reinstall the torchvision that matches your PyTorch install."
)
# Linaqruf/kohya-trainer#164: the same check on a minor difference (torchvision refuses it too)
TV_MINOR = (
    "4.2.1. BLIP Captioning\n\n"
    "RuntimeError: Detected that PyTorch and torchvision were compiled with different CUDA "
    "versions. PyTorch has CUDA Version=11.7 and torchvision has CUDA Version=11.6. Please "
    "reinstall the torchvision that matches your PyTorch install.\n"
)
# geocine/sd-easy-mode#18: the message wrapped by the terminal
TV_WRAPPED = (
    "RuntimeError: Detected that PyTorch and torchvision were compiled with different\n"
    "CUDA versions. PyTorch has CUDA Version=11.7 and torchvision has CUDA \n"
    "Version=11.8. Please reinstall the torchvision that matches your PyTorch \n"
    "install.\n"
)
# torchaudio's _extension/utils.py wording (pytorch/audio), majors differing as after an
# upgrade of torch to a CUDA 13 build beside a CUDA 12 torchaudio
TA_MAJOR = (
    "RuntimeError: Detected that PyTorch and TorchAudio were compiled with different CUDA "
    "versions. PyTorch has CUDA version 13.0 whereas TorchAudio has CUDA version 12.8. Please "
    "install the TorchAudio version that matches your PyTorch version."
)
# vision's extension.py copied as a template (its placeholder name kept): no distribution
TEMPLATE = (
    "RuntimeError: Detected that PyTorch and Extension were compiled with different CUDA "
    "versions. PyTorch has CUDA Version=11.8 and Extension has CUDA Version=12.1."
)
# a PyG build without CUDA reports CUDA version 0.0 (a CSDN note on torch_spline_conv)
NO_CUDA = (
    "RuntimeError: Detected that PyTorch and torch_spline_conv were compiled with different "
    "CUDA versions. PyTorch has CUDA version 10.0 and torch_spline_conv has CUDA version 0.0. "
    "Please reinstall the torch_spline_conv that matches your PyTorch install."
)
# Open3D's message (python/open3d/ml/torch/__init__.py) told as gone
OPEN3D_GONE = (
    "I used to get `Version mismatch: Open3D needs PyTorch version 1.7.*, but version 1.8.2 is "
    "installed!` but it went away after installing the 0.13 requirements."
)
# spconv's warning (spconv/pytorch/cppcore.py) where its prebuilt set holds the GPU's major
SPCONV_AMPERE = (
    "[WARNING]your gpu arch (8, 6) isn't compiled in prebuilt, may cause invalid device function "
    "error. available: {(7, 5), (8, 0), (6, 1)}"
)
# pyg-6900's form, its PyG command offered instead of run (a maintainer's reply's shape)
PYG_PROPOSED = (
    "* PyTorch version: `2.1.0.dev20230309+cu117`\n"
    "You should install them with `pip install torch_scatter torch_sparse -f "
    "https://data.pyg.org/whl/torch-1.13.0+cu117.html`\n"
)
PYG_NOT_FOUND = (
    "* PyTorch version: `2.1.0.dev20230309+cu117`\n"
    "$ pip install torch_scatter -f https://data.pyg.org/whl/torch-1.13.0+cu117.html\n"
    "ERROR: No matching distribution found for torch_scatter\n"
)
PYG_SAME_MINOR = (
    "* PyTorch version: `1.13.1+cu117`\n"
    "$ pip install torch_scatter torch_sparse -f https://data.pyg.org/whl/torch-1.13.0+cu117.html\n"
)


def _items(text: str) -> dict[str, dict[str, object]]:
    reading = read_lib_built(text)
    if reading is None:
        return {}
    return {e["distribution"]: dict(e) for e in reading.extensions}


def test_pyg_cuda_check_names_torch_sparse_and_both_cudas() -> None:
    text = _report("pytorch_sparse-86.txt")
    assert _items(text)["torch-sparse"]["cuda_major"] == 11
    facts = facts_from_texts(collect_env=text)
    assert facts.torch.installed and facts.torch.cuda == "10.2"
    top = top_finding(run_checks(facts))
    assert top is not None and top.check_id == "EL-EXT-CUDA-MAJOR"
    assert "torch-sparse" in top.message and "torch uses CUDA 10.2" in top.message


def test_torchvision_of_another_cuda_major_is_ext_cuda_major_a_minor_one_a_note() -> None:
    assert _items(TV_MAJOR)["torchvision"]["cuda_major"] == 11
    assert _top(TV_MAJOR) == "EL-EXT-CUDA-MAJOR"
    reading = read_lib_built(TV_MINOR)
    assert reading is not None and any("torchvision refuses" in n for n in reading.notes)
    assert "EL-EXT-CUDA-MAJOR" not in _errors(TV_MINOR)


def test_a_wrapped_message_and_torchaudio_wording_are_read() -> None:
    assert _items(TV_WRAPPED)["torchvision"]["cuda_major"] == 11
    assert facts_from_texts(collect_env=TV_WRAPPED).torch.cuda == "11.7"
    assert _items(TA_MAJOR)["torchaudio"]["cuda_major"] == 12
    assert _top(TA_MAJOR) == "EL-EXT-CUDA-MAJOR"


def test_a_template_placeholder_and_a_build_without_cuda_are_not_read() -> None:
    assert read_lib_built(TEMPLATE) is None
    assert read_lib_built(NO_CUDA) is None


def test_open3d_built_for_another_torch_release_is_ext_torch_abi() -> None:
    text = _report("Open3D-ML-430.txt")
    assert _items(text)["open3d"]["built_for_torch"] == "1.7"
    top = top_finding(run_checks(facts_from_texts(collect_env=text)))
    assert top is not None and top.check_id == "EL-EXT-TORCH-ABI"
    assert "torch 1.7" in top.message and "1.8.2" in top.message
    assert read_lib_built(OPEN3D_GONE) is None


def test_spconv_prebuilt_without_the_gpus_arch_is_ext_arch_unsupported() -> None:
    text = _report("spconv-724.txt")
    reading = read_lib_built(text)
    assert reading is not None
    assert reading.gpus == {0: SPCONV_GPU} and reading.capabilities == {0: "8.6"}
    assert "sm_86" not in _items(text)["spconv"]["sass"]
    assert _top(text) == "EL-EXT-ARCH-UNSUPPORTED"
    # an sm_80 kernel runs on an 8.6 GPU (torch's rule): spconv's exact-match warning alone
    assert _items(SPCONV_AMPERE)["spconv"]["sass"] == ["sm_61", "sm_75", "sm_80"]
    assert "EL-EXT-ARCH-UNSUPPORTED" not in _errors(SPCONV_AMPERE)


def test_pyg_wheels_from_another_torchs_index_are_ext_torch_abi() -> None:
    text = _report("pyg-6900.txt")
    items = _items(text)
    assert set(items) == {"torch-scatter", "torch-sparse", "torch-cluster", "torch-spline-conv"}
    assert {e["built_for_torch"] for e in items.values()} == {"1.13.0+cu117"}
    assert _top(text) == "EL-EXT-TORCH-ABI"


def test_a_pyg_command_offered_failed_or_for_this_torch_raises_nothing() -> None:
    assert read_lib_built(PYG_PROPOSED) is None
    assert read_lib_built(PYG_NOT_FOUND) is None
    assert set(_items(PYG_SAME_MINOR)) == {"torch-scatter", "torch-sparse"}
    assert "EL-EXT-TORCH-ABI" not in _errors(PYG_SAME_MINOR)

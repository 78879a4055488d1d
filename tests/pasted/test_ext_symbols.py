"""An extension's import failing on a torch C++ symbol, pasted (envlock/pasted/extsymbol.py,
issue 21, session 13): the extension under site-packages becomes an `extensions` item with the
missing symbol, judged by EL-EXT-TORCH-ABI; a torch family member's is EL-FAMILY-MISMATCH's
effect where that check names the member. The texts are real pastes from issue threads, each
with its address; each case where the finding fires has one where it must not."""

from __future__ import annotations

from envlock.checks import run_checks
from envlock.checks.triage import top_finding
from envlock.pasted import facts_from_texts
from envlock.pasted.extsymbol import read_ext_symbols
from tests.pasted.test_tool_reports import _errors, _report, _top


def _lines(*lines: str) -> str:
    return "\n".join(lines) + "\n"


# Dao-AILab/flash-attention#853, taka-nscc's comment: the import, then the environment listed
FLASH_ATTN = """\
```
import torch
import flash_attn_2_cuda as flash_attn_cuda
Traceback (most recent call last):
  File "<stdin>", line 1, in <module>
ImportError: /XXXXX/lib/python3.11/site-packages/flash_attn_2_cuda.cpython-311-x86_64-linux-gnu.so: \
undefined symbol: _ZN3c104cuda9SetDeviceEi
```
My environment is as follows:
- OS: Red Hat Enterprise Linux 8.4
- Python: 3.11.7
- PyTorch: 2.3.1+cu121
- CUDA: 12.2
- flash-attn: 2.5.9.post1
"""
# facebookresearch/maskrcnn-benchmark#891: torchvision's _C, no torch version in the paste
TORCHVISION = (
    "ImportError: /home/ltc/anaconda3/envs/maskrcnn_benchmark_/lib/python3.6/site-packages/"
    "torchvision/_C.cpython-36m-x86_64-linux-gnu.so: undefined symbol: _ZN3c106Device8validateEv"
)
# sgl-project/sglang#851 (jtmer's comment): Transformer Engine's top-level module in dist-packages
TE = (
    "[rank0]: ImportError: /usr/local/lib/python3.10/dist-packages/transformer_engine_extensions"
    ".cpython-310-x86_64-linux-gnu.so: undefined symbol: _ZN2at4_ops5zeros4callEN3c108ArrayRefIN"
    "S2_6SymIntEEENS2_8optionalINS2_10ScalarTypeEEENS6_INS2_6LayoutEEENS6_INS2_6DeviceEEENS6_IbEE"
)
# HKUST-Aerial-Robotics/Stereo-RCNN#36: the project's own _C, built in its source checkout
CHECKOUT = (
    "ImportError: /Stereo-RCNN/lib/model/_C.cpython-36m-x86_64-linux-gnu.so: undefined symbol: "
    "_ZN6caffe26detail37_typeMetaDataInstance_preallocated_30E\n\n"
    "I ran this on Ubuntu 16.04, Python  3.6.8, CUDA 9.0, pytorch 1.1.0."
)
# vllm-project/vllm (corpus vllm-11623): a CUDA driver API symbol, not torch's
DRIVER_SYMBOL = (
    "WARNING 12-30 17:06:52 _custom_ops.py:19] Failed to import from vllm._C with ImportError('/usr"
    "/local/app/.local/lib/python3.8/site-packages/vllm/_C.abi3.so: undefined symbol: "
    "cuTensorMapEncodeTiled')"
)
# erikwijmans/Pointnet2_PyTorch#112: the extension's own function in a frame, not a missing one
OWN_FRAME = (
    "frame #1: furthest_point_sampling(at::Tensor, int) + 0x4eb (0x7fc495afd89b in /home/nehil/"
    "Documents/environments/nehil/lib/python3.7/site-packages/pointnet2_ops/_ext.cpython-37m-"
    "x86_64-linux-gnu.so)"
)
# NixOS/nixpkgs#162286 (pimiento's comment): torchvision's image extension, old-ABI std::string
IMAGE_WARNING = _lines(
    ">>> import torchvision",
    "/home/octopus/workdir/lib/python3.10/site-packages/torchvision/io/image.py:13: UserWarning: "
    "Failed to load image Python extension: /home/octopus/workdir/lib/python3.10/site-packages/"
    "torchvision/image.so: undefined symbol: _ZN3c105ErrorC2ENS_14SourceLocationESs",
    '  warn(f"Failed to load image Python extension: {e}")',
    "```",
    " $ pip freeze|grep torch",
    "torch==1.12.0",
    "torchvision==0.13.0",
    "```",
)


def _ext(text: str) -> list[tuple[str, str, list[str]]]:
    reading = read_ext_symbols(text)
    if reading is None:
        return []
    return [
        (e["distribution"], e["file"], list(e.get("missing_torch_symbols", [])))
        for e in reading.extensions
    ]


def test_flash_attn_built_for_another_torch_is_named_with_its_symbol() -> None:
    assert _ext(FLASH_ATTN) == [
        (
            "flash-attn",
            "flash_attn_2_cuda.cpython-311-x86_64-linux-gnu.so",
            ["_ZN3c104cuda9SetDeviceEi"],
        )
    ]
    findings = run_checks(facts_from_texts(collect_env=FLASH_ATTN))
    top = top_finding(findings)
    assert top is not None and top.check_id == "EL-EXT-TORCH-ABI"
    assert "flash-attn" in top.message and "torch 2.3.1+cu121" in top.message
    assert "_ZN3c104cuda9SetDeviceEi" in top.message
    assert "--no-binary flash-attn" in (top.fix or "")


def test_the_same_list_without_the_import_error_raises_nothing() -> None:
    env = FLASH_ATTN[FLASH_ATTN.index("My environment") :]
    assert read_ext_symbols(env) is None
    assert "EL-EXT-TORCH-ABI" not in _errors(env)


def test_detectron2_built_for_a_newer_torch_is_the_top_finding() -> None:
    # detectron2-3710: at::TensorBase (torch >= 1.10) needed beside torch 1.8.0+cu101
    text = _report("detectron2-3710.txt")
    assert _ext(text)[0][0] == "detectron2"
    assert _top(text) == "EL-EXT-TORCH-ABI"


def test_a_package_directory_and_a_top_level_module_name_their_distribution() -> None:
    assert _ext(TORCHVISION) == [
        (
            "torchvision",
            "torchvision/_C.cpython-36m-x86_64-linux-gnu.so",
            ["_ZN3c106Device8validateEv"],
        )
    ]
    assert [d for d, _, _ in _ext(TE)] == ["transformer-engine"]


def test_a_source_checkout_a_cuda_symbol_and_a_frame_are_not_read() -> None:
    assert read_ext_symbols(CHECKOUT) is None  # no site-packages: no distribution to reinstall
    assert read_ext_symbols(DRIVER_SYMBOL) is None  # cuTensorMapEncodeTiled is the driver's
    assert read_ext_symbols(OWN_FRAME) is None  # a frame, not the loader's message


def _warning_beside(report: str) -> list[str]:
    """IMAGE_WARNING's warning pasted under a collect_env report: the top finding, then the
    errors."""
    warning = IMAGE_WARNING[: IMAGE_WARNING.index("```")]
    findings = run_checks(facts_from_texts(collect_env=report + "\n" + warning))
    top = top_finding(findings)
    return [top.check_id if top else ""] + [
        f.check_id for f in findings if f.severity.name == "ERROR"
    ]


def test_a_member_with_matching_versions_is_judged_on_its_symbol() -> None:
    # torch 1.12.0 and torchvision 0.13.0 pair, yet torchvision's image.so needs the old C++ ABI's
    # c10::Error (std::string as 'Ss'), which this torch does not export: EL-EXT-TORCH-ABI
    assert _ext(IMAGE_WARNING)[0][:2] == ("torchvision", "torchvision/image.so")
    # under pytorch-82889's report (a healthy torch 1.12.0 beside torchvision 0.13.0, CUDA 11.6)
    report = _report("pytorch-82889.txt")
    assert _errors(report) == []
    top, *errors = _warning_beside(report)
    assert top == "EL-EXT-TORCH-ABI" and errors == ["EL-EXT-TORCH-ABI"]


def test_a_mismatched_member_is_the_cause_and_its_symbol_the_effect() -> None:
    # the same warning beside a torchvision of another release: the family check names the
    # member, and the member's failing import is read after it (checks/triage.py)
    report = _report("pytorch-82889.txt").replace("torchvision==0.13.0", "torchvision==0.12.0")
    top, *errors = _warning_beside(report)
    assert {"EL-EXT-TORCH-ABI", "EL-FAMILY-MISMATCH"} <= set(errors)
    assert top == "EL-FAMILY-MISMATCH"


def test_a_message_told_as_gone_or_asked_about_is_not_read() -> None:
    said = TORCHVISION.removeprefix("ImportError: ")
    assert read_ext_symbols(f"I used to get '{said}' on my old PC, now it imports") is None
    assert read_ext_symbols(f"Is '{said}' something I should worry about?") is None
    assert read_ext_symbols(f"I get '{said}' when I import it") is not None


# pytorch/pytorch#1772: macOS's loader, torch's own _C missing a cuDNN symbol (not read here:
# torch's own file, and no torch C++ symbol)
TORCH_C = "/Volumes/home500/anaconda/envs/pytorch/lib/python3.5/site-packages/torch/_C.cpython-35m-darwin.so"
DYLD = _lines(
    f"ImportError: dlopen({TORCH_C}, 10): Symbol not found: _cudnnBatchNormalizationBackward",
    f"  Referenced from: {TORCH_C}",
    "  Expected in: flat namespace",
)


def test_macos_loader_names_the_file_on_the_line_after() -> None:
    assert read_ext_symbols(DYLD) is None
    # the same loader layout with torchvision's file and the c10 symbol of maskrcnn-benchmark#891
    # (macOS's mangled names carry one more leading underscore)
    vision = "/Volumes/home500/anaconda/envs/pytorch/lib/python3.5/site-packages/torchvision/_C.so"
    text = DYLD.replace("_cudnnBatchNormalizationBackward", "__ZN3c106Device8validateEv")
    text = text.replace(TORCH_C, vision)
    assert _ext(text) == [("torchvision", "torchvision/_C.so", ["_ZN3c106Device8validateEv"])]


def test_a_report_naming_no_torch_still_shows_the_missing_symbol() -> None:
    # apex-428: apex's fused_layer_norm_cuda needs at::getType (gone after torch 1.x's
    # early releases); the paste names no torch version: the finding says "the installed
    # torch", and apex (not PyPI's unrelated 'apex') is rebuilt from NVIDIA's source with the
    # options its extensions need
    text = _report("apex-428.txt")
    assert [d for d, _, _ in _ext(text)] == ["apex"]
    top = top_finding(run_checks(facts_from_texts(collect_env=text)))
    assert top is not None and top.check_id == "EL-EXT-TORCH-ABI"
    assert "the installed torch does not export" in top.message
    assert "'git+https://github.com/NVIDIA/apex.git'" in (top.fix or "")
    assert "--build-option=--cuda_ext" in (top.fix or "")
    assert "None" not in top.message + (top.fix or "")


def test_a_bare_file_name_stands_for_a_known_top_level_module_only() -> None:
    # flash-attention-950: the loader's path cut to the file name, the message wrapped
    text = _report("flash-attention-950.txt")
    assert _ext(text) == [
        (
            "flash-attn",
            "flash_attn_2_cuda.cpython-310-x86_64-linux-gnu.so",
            ["_ZN3c104impl3cow11cow_deleterEPv"],
        )
    ]
    assert _top(text) == "EL-EXT-TORCH-ABI"
    # a bare file of no known module names no distribution
    assert read_ext_symbols(text.replace("flash_attn_2_cuda", "my_ops_cuda")) is None


def test_a_member_beside_a_torch_named_without_its_build_is_paired_by_release() -> None:
    # TTS-3313: Kaggle's 'torch-2.1.1' beside 'torchaudio-2.0.1' (a hand list; torch's build
    # unsaid): the pairing needs no build, and torchaudio's failing import is its effect
    text = _report("TTS-3313.txt")
    assert _top(text) == "EL-FAMILY-MISMATCH"
    assert {"EL-FAMILY-MISMATCH", "EL-EXT-TORCH-ABI"} <= set(_errors(text))
    paired = text.replace("torchaudio-2.0.1", "torchaudio-2.1.1")
    assert "EL-FAMILY-MISMATCH" not in _errors(paired)
    # a pre-release torch names no release row to pair against
    nightly = text.replace("torch-2.1.1", "torch-2.2.0.dev20231010")
    assert "EL-FAMILY-MISMATCH" not in _errors(nightly)

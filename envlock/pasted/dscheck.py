"""DeepSpeed's own runtime check of its prebuilt ops, as pasted into issue threads.

A DeepSpeed installed with prebuilt ops (DS_BUILD_OPS=1, or a wheel built that way) records
the torch and CUDA they were compiled with (deepspeed/git_version_info_installed.py's
torch_info, "2.1" and "12.1": major.minor); loading such an op checks them against the
running torch (op_builder/builder.py, OpBuilder.load) and refuses another release:

    RuntimeError: PyTorch version mismatch! DeepSpeed ops were compiled and installed with a
    different version than what is being used at runtime. Please re-install DeepSpeed or
    switch torch versions. Install torch version=2.1, Runtime torch version=2.2

then, where torch's release matches, "CUDA version mismatch! ... Install CUDA version=11.8,
Runtime CUDA version=12.1" (torch.version.cuda), or on ROCm "HIP version mismatch! ...
Install HIP version=5.4, Runtime HIP version=5.6" (validate_torch_version,
validate_torch_op_version, since DeepSpeed 0.3.16, 2021). DeepSpeed 0.3.x said both at once
(assert_torch_info): "PyTorch and CUDA version mismatch! ... DeepSpeed install versions:
torch=1.7, cuda=11.0, runtime versions:torch=1.8, cuda=11.1".

Read: the running torch's release and CUDA (its version as DeepSpeed prints it, major.minor)
and DeepSpeed's ops as an extension built for the other torch release (EL-EXT-TORCH-ABI,
checks/extensions.py) or CUDA major (EL-EXT-CUDA-MAJOR). A CUDA minor DeepSpeed refuses
within one major, or another HIP, is said in a note: no check of envlock's states it.
"""

from __future__ import annotations

import re

from envlock.pasted.toolreading import ToolReading
from envlock.probe.shapes import ExtensionDoc

_MISMATCH = "version mismatch! DeepSpeed ops were compiled and installed"
_MM = r"(\d{1,3}\.\d{1,3})"
# each wording's pairs, after its own words only (the message may be cut or wrapped: the
# pair is read where both halves are on the line the layout step made)
_NEW = re.compile(
    rf"Install (torch|CUDA|HIP) version={_MM},[ \t]*Runtime (?:torch|CUDA|HIP) version={_MM}"
)
_OLD = re.compile(
    rf"DeepSpeed install versions:[ \t]*torch={_MM},[ \t]*cuda={_MM},[ \t]*"
    rf"runtime versions:[ \t]*torch={_MM},[ \t]*cuda={_MM}"
)
PARTIAL = "read from DeepSpeed's runtime check in the paste, not from its files"
OPS_FILE = "deepspeed.ops"  # the package its prebuilt op libraries are installed in


def deepspeed_ops(for_torch: str | None, cuda: str | None, partial: str) -> ExtensionDoc:
    """DeepSpeed's prebuilt ops as an extension built for torch `for_torch` (major.minor,
    None where not said) and CUDA `cuda` (major.minor, None where not said or "0.0": built
    without CUDA)."""
    ext: ExtensionDoc = {"distribution": "deepspeed", "file": OPS_FILE, "partial": partial}
    if for_torch:
        ext["built_for_torch"] = for_torch
    major = int(cuda.split(".")[0]) if cuda else 0
    if major:
        ext["cuda_major"] = major
    return ext


def read_ds_check(text: str) -> ToolReading | None:
    """The running torch and DeepSpeed's ops from its runtime check's refusal; None where
    the text holds none of its wordings whole."""
    if _MISMATCH not in text:
        return None
    pairs: dict[str, tuple[str, str]] = {}
    for line in text.split("\n"):
        if "version=" in line:
            for m in _NEW.finditer(line):
                pairs.setdefault(m.group(1).lower(), (m.group(2), m.group(3)))
        old = _OLD.search(line) if "install versions:" in line else None
        if old:
            pairs.setdefault("torch", (old.group(1), old.group(3)))
            pairs.setdefault("cuda", (old.group(2), old.group(4)))
    if not pairs:
        return None
    return _reading(pairs)


def _reading(pairs: dict[str, tuple[str, str]]) -> ToolReading:
    out = ToolReading()
    torch, cuda, hip = pairs.get("torch"), pairs.get("cuda"), pairs.get("hip")
    out.put("PyTorch version", torch[1] if torch else None)
    out.put("CUDA used to build PyTorch", cuda[1] if cuda else None)
    out.put("ROCM used to build PyTorch", hip[1] if hip else None)
    built_cuda = cuda[0] if cuda else None
    if torch and torch[0] != torch[1]:
        out.extensions.append(deepspeed_ops(torch[0], built_cuda, PARTIAL))
    elif cuda and cuda[0].split(".")[0] != cuda[1].split(".")[0]:
        # the same torch release (DeepSpeed checks it first): built for another CUDA major
        out.extensions.append(deepspeed_ops(None, built_cuda, PARTIAL))
    for name, pair in (("CUDA", cuda), ("HIP", hip)):
        if pair and pair[0] != pair[1] and not out.extensions:
            out.notes.append(
                f"DeepSpeed's ops were built for {name} {pair[0]}, torch uses {name} {pair[1]}: "
                "DeepSpeed refuses to load them (its runtime check); reinstall DeepSpeed for "
                "this torch"
            )
    out.notes.append("DeepSpeed's runtime check ('... version mismatch! DeepSpeed ops ...'): read")
    return out

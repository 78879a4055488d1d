"""A library's or a container's own refusal, read as the fact it states (issue 21, session 10;
a number format a library refused is envlock/pasted/precmsg.py's since session 11).

- torch's "Torch not compiled with CUDA enabled" (torch/cuda/__init__.py's _lazy_init, raised
  only where torch._C has no CUDA: a build without CUDA): "CUDA used to build PyTorch: None",
  as collect_env prints it for such a build; not where the paste shows torch itself with a
  +cuNNN tag (then the message is another moment's or another interpreter's); in any case
  and spacing, wherever it stands (lower-cased inside Chinese prose: ControlNet-15);
- the NGC containers' entrypoint banner (/opt/nvidia/entrypoint.d, nvidia_entrypoint.sh):
  "ERROR: This container was built for NVIDIA Driver Release 450.36 or later, but version
  440.100 was detected and compatibility mode is UNAVAILABLE." (the lines wrap at "but"):
  the host's driver, and the driver the image's CUDA needs (a note checks/driver.py reads);
  not where its line tells it as another machine's or quotes it in a sentence
  (envlock/pasted/hearsay.py: "On the old server we saw '...'");
- Triton's GPU floors, as torch's inductor and Triton word them (envlock/pasted/tritonmsg.py:
  the GPU and capability torch's refusal names, Triton's fp8e4nv refusal below 8.9).

Each literal is found with str.find and a bounded match runs from there: linear in the text.
"""

from __future__ import annotations

import re

from envlock.pasted.hearsay import not_this_machines_in
from envlock.pasted.toolreading import ToolReading
from envlock.pasted.tritonmsg import read_triton_refusals

_NOT_COMPILED = "Torch not compiled with CUDA enabled"
# its words as reporters paste them: lower-cased ("AssertionError:torch not compiled with cuda
# enabled" in Chinese prose: ControlNet-15), wrapped or spaced, "torch" joined to the word
# before it ("提示AssertionError:torch", "PyTorch not compiled ..."); a bounded match that
# fails at its first letters where it fails: linear in the text
_NOT_COMPILED_ANY = re.compile(
    r"torch\s{1,8}not\s{1,8}compiled\s{1,8}with\s{1,8}cuda\s{1,8}enabled", re.IGNORECASE
)
# the note it leaves; checks/cpubuild.py judges it alone where the paste names no torch version
TORCH_NOT_COMPILED = f"torch says '{_NOT_COMPILED}': a build without CUDA"
# a torch version with a CUDA tag near "torch" (not torchvision's, torchaudio's)
_CUDA_TAG = "+cu"
_TAG_DIGIT = re.compile(r"\d")
_FAMILY_TAIL = re.compile(r"[A-Za-z_]")
_TAG_REACH = 60

_NGC = "This container was built for NVIDIA Driver Release "
_NGC_TAIL = re.compile(
    r"(\d{3}\.\d{1,3}(?:\.\d{1,3})?) or later, but[\s*>-]{0,40}version (\d{3}\.\d{1,3}(?:\.\d{1,3})?)"
    r" was detected and compatibility mode is UNAVAILABLE"
)
# the note the banner leaves; checks/driver.py reads the driver the image needs from its tail
CONTAINER_DRIVER = (
    "the container's start-up banner (NVIDIA NGC) says its CUDA needs a newer driver: "
)
_CONTAINER_TAIL = re.compile(r"\[needs (\d{3}\.\d{1,3}(?:\.\d{1,3})?)\]$")


def read_lib_messages(text: str) -> ToolReading | None:
    """The facts torch's and the container's own refusals in `text` state."""
    out = ToolReading()
    if _not_compiled(text) and not _torch_tagged_cuda(text):
        out.put("CUDA used to build PyTorch", "None")
        out.notes.append(TORCH_NOT_COMPILED)
    container = _ngc_banner(text)
    if container:
        needs, found = container
        out.put("Nvidia driver version", found)
        out.notes.append(
            f"{CONTAINER_DRIVER}built for NVIDIA driver {needs} or later, {found} detected, "
            f"compatibility mode UNAVAILABLE [needs {needs}]"
        )
    triton = read_triton_refusals(text)  # Triton's GPU floors (envlock/pasted/tritonmsg.py)
    if triton is not None:
        out.merge(triton)
    return out if out.fields or out.notes else None


def _not_compiled(text: str) -> bool:
    """Whether torch's "Torch not compiled with CUDA enabled" stands somewhere in the text, in
    any case and spacing, as this machine's (pasted/hearsay.py)."""
    return any(
        not not_this_machines_in(text, m.start(), m.end()) for m in _NOT_COMPILED_ANY.finditer(text)
    )


def _torch_tagged_cuda(text: str) -> bool:
    """Whether a "+cuNNN" version in the text is torch's own: the nearest torch-family name
    before it is "torch" (or "pytorch"), not torchvision or torchaudio."""
    at = text.find(_CUDA_TAG)
    while at >= 0:
        if _TAG_DIGIT.match(text, at + len(_CUDA_TAG)):
            window = text[max(0, at - _TAG_REACH) : at].lower()
            name = window.rfind("torch")
            if name >= 0 and not _FAMILY_TAIL.match(window, name + 5):
                return True
        at = text.find(_CUDA_TAG, at + 1)
    return False


def _ngc_banner(text: str) -> tuple[str, str] | None:
    """(driver needed, driver found) of the NGC banner's ERROR line."""
    at = text.find(_NGC)
    while at >= 0:
        m = _NGC_TAIL.match(text, at + len(_NGC))
        if m and not not_this_machines_in(text, at, m.end()):
            return m.group(1), m.group(2)
        at = text.find(_NGC, at + 1)
    return None


def container_driver_need(notes: list[str]) -> str | None:
    """The driver the container's banner says its CUDA needs ("450.36"), or None."""
    for note in notes:
        if note.startswith(CONTAINER_DRIVER):
            m = _CONTAINER_TAIL.search(note)
            if m:
                return m.group(1)
    return None

"""nvcc's own refusal of a GPU architecture it does not know, in a pasted build log (issue 21,
session 13: DeepSpeed-3299).

An extension build (torch.utils.cpp_extension, DeepSpeed's and ColossalAI's JIT op builders,
CMake, PyCUDA) passes nvcc one `-gencode=arch=compute_XY,code=sm_XY` (or `-arch sm_XY`) per
architecture it targets: TORCH_CUDA_ARCH_LIST's, else the visible GPUs'. An nvcc older than
the architecture stops the build with one of two lines (nvcc's own words, every release):

    nvcc fatal   : Unsupported gpu architecture 'compute_89'                 (-gencode)
    nvcc fatal   : Value 'sm_89' is not defined for option 'gpu-architecture'  (-arch)

(pycuda#437/#440: sm_89 on CUDA 11.6; kokkos#7108: sm_90 before 11.8). A toolkit newer than
the architecture's last (CUDA 12 has no compute_35) says the same words: which of the two it
was is the check's to judge from the matrix (checks/buildenv.py, EL-NVCC-ARCH-TOO-NEW).

Each refusal is a note (NVCC_REFUSED + the architecture as nvcc named it); `nvcc -V`'s
"Cuda compilation tools, release 11.7, V11.7.99" beside it is the toolkit's version
(cuda.toolkit.nvcc_version, where the draft has none). Not read: a placeholder ('arch',
'[sm_61]': not an architecture), a refusal the text tells as another machine's
(pasted/hearsay.py). One pattern, searched from the literal it starts with: linear.
"""

from __future__ import annotations

import re

from envlock.pasted.draft import Draft
from envlock.pasted.hearsay import not_this_machines_in

# the note a refusal leaves; checks/buildenv.py reads it back
NVCC_REFUSED = "nvcc refused a GPU architecture it does not know: "
_REFUSAL = re.compile(
    r"(unsupported\s+gpu\s+architecture|value)\s+['\"`\u2018]?((?:compute|sm)_\d{2,3}[af]?)\b"
    r"['\"`\u2019]?(\s+is\s+not\s+defined\s+for\s+option\s+['\"`\u2018]?gpu-(?:architecture|code))?",
    re.IGNORECASE,
)
_RELEASE = re.compile(
    r"cuda\s+compilation\s+tools,\s+release\s+(\d{1,2}\.\d{1,2}),\s+V(\d{1,2}\.\d{1,2}\.\d{1,4})",
    re.IGNORECASE,
)
MAX_REFUSALS = 4


def nvcc_refusals(text: str) -> list[str]:
    """The architectures nvcc refused in `text` ("compute_89", "sm_90"), in order, each once."""
    out: list[str] = []
    for m in _REFUSAL.finditer(text):
        if m.group(1).lower() == "value" and m.group(3) is None:
            continue  # "value 'sm_89'" of something else than nvcc's gpu-architecture
        arch = m.group(2).lower()
        if arch not in out and not not_this_machines_in(text, m.start(), m.end()):
            out.append(arch)
        if len(out) >= MAX_REFUSALS:
            break
    return out


def nvcc_release(text: str) -> str | None:
    """`nvcc -V`'s full version ("11.7.99") where the text shows it once, or twice the same."""
    found = {m.group(2) for m in _RELEASE.finditer(text)}
    return found.pop() if len(found) == 1 else None


def read_nvcc_refusals(text: str, draft: Draft) -> int:
    """nvcc's refusals in `text` as notes, with nvcc's version where shown; how many facts."""
    refused = nvcc_refusals(text)
    if not refused:
        return 0
    for arch in refused:
        draft.note(NVCC_REFUSED + arch)
    release = nvcc_release(text)
    if release is not None:
        draft.set_default(draft.toolkit, "nvcc_version", release)
    return len(refused) + (release is not None)

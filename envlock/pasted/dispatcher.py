"""torch's dispatcher refusing a torch family member's operator on CUDA, as pasted into issue
threads: the member was built without CUDA.

A compiled operator is registered per backend (TORCH_LIBRARY_IMPL(torchvision, CUDA, m) in
a CUDA build's csrc/ops/cuda/, beside CPU's); called with CUDA tensors where no CUDA kernel
was registered, the dispatcher refuses (aten/src/ATen/core/dispatch/OperatorEntry.cpp,
reportError):

    NotImplementedError: Could not run 'torchvision::roi_align' with arguments from the 'CUDA'
    backend. This could be because the operator doesn't exist for this backend, or was
    omitted during the selective/custom build process (if using custom build). If you are a
    Facebook employee using PyTorch on mobile, please visit https://fburl.com/ptmfixes for
    possible resolutions. 'torchvision::roi_align' is only available for these backends:
    [CPU, Meta, QuantizedCPU, BackendSelect, Python, ...].

(torch 1.5-1.8 without the middle sentences; torch 1.4 named the keys 'CUDATensorId',
'CPUTensorId'.) CUDA tensors mean a torch with CUDA; an operator every CUDA build of its
member registers for CUDA, listed without a CUDA kernel, means a member built without CUDA
(PyPI's Windows wheels, a +cpu build, a source build where no CUDA was found). The
operators judged are those: torchvision's detection ops (csrc/ops/cuda/: nms, roi_align,
roi_pool, ps_roi_align, ps_roi_pool, deform_conv2d, and their backward ops) and torchaudio's
rnnt_loss and forced_align (their gpu/compute.cu); not torchaudio's lfilter loop, whose CUDA
kernel some releases leave out. The backend list must reach past CUDA's place in the
dispatcher's order (CPU, CUDA, ..., Meta, QuantizedCPU, BackendSelect, ...): a list a paste
cut before it says nothing.

Read: a note the family check reads (checks/familydev.py: EL-FAMILY-MISMATCH with that
member's variant), and the member's version where the paste lists it in a `pip list` row;
never torch's version (the error names none).
"""

from __future__ import annotations

import re

from envlock.pasted.toolreading import ToolReading

_CUDA_OPS = {
    "torchvision": frozenset(
        {"nms", "roi_align", "roi_pool", "ps_roi_align", "ps_roi_pool", "deform_conv2d"}
        | {"_roi_align_backward", "_roi_pool_backward", "_ps_roi_align_backward"}
        | {"_ps_roi_pool_backward", "_deform_conv2d_backward"}
    ),
    "torchaudio": frozenset({"rnnt_loss", "forced_align"}),
}
_REFUSED = re.compile(
    r"Could not run '(torchvision|torchaudio)::(\w{1,60})' with arguments from the "
    r"'(?:CUDA|CUDATensorId)' backend\."
)
# the backends named after the refusal (the same operator), up to the list's end on its line
_BACKENDS = re.compile(
    r"'(torchvision|torchaudio)::(\w{1,60})' is only available for these backends: \[([^\]\n]{0,4000})\]"
)
_CUDA_KEYS = frozenset({"CUDA", "CUDATensorId"})
# keys the dispatcher lists after CUDA's: a list holding one of them reached past CUDA
_PAST_CUDA = frozenset(
    {"Meta", "QuantizedCPU", "BackendSelect", "Python", "Named", "VariableTensorId"}
)
NOTE = "torch's dispatcher found no CUDA kernel of "
_NOTE = re.compile(r"torch's dispatcher found no CUDA kernel of (torchvision|torchaudio)'s '(\w+)'")
# a `pip list` row of the member: its name, blanks, its version, nothing after
_ROW = r"(?m)^[ \t]*{name}[ \t]+(\d+\.\d+(?:\.\d+)?(?:\.post\d+)?(?:\+[\w.]+)?)[ \t]*$"


def read_dispatcher(text: str) -> ToolReading | None:
    """The family members torch's dispatcher found without a CUDA kernel; None where the
    text holds no such refusal whole."""
    if "Could not run '" not in text:
        return None
    found: dict[str, str] = {}
    for line in text.split("\n"):
        if "is only available for these backends" in line:
            for member, op in _without_cuda(line):
                found.setdefault(member, op)
    if not found:
        return None
    out = ToolReading()
    for member, op in found.items():
        out.notes.append(
            f"{NOTE}{member}'s '{op}' (the backends it lists have none): this {member} was "
            "built without CUDA"
        )
        row = re.search(_ROW.format(name=member), text)
        if row:
            out.packages[member] = row.group(1)
    return out


def _without_cuda(line: str) -> list[tuple[str, str]]:
    """(member, operator) of each refusal on CUDA in the line whose backend list, whole past
    CUDA's place, has no CUDA kernel."""
    refused = {(m.group(1), m.group(2)) for m in _REFUSED.finditer(line)}
    out = []
    for m in _BACKENDS.finditer(line):
        member, op = m.group(1), m.group(2)
        if (member, op) not in refused or op not in _CUDA_OPS[member]:
            continue
        keys = {k.strip() for k in m.group(3).split(",")}
        if keys & _PAST_CUDA and not keys & _CUDA_KEYS:
            out.append((member, op))
    return out


def members_without_cuda(notes: list[str]) -> dict[str, str]:
    """member -> the operator torch's dispatcher found no CUDA kernel of (read_dispatcher's
    notes)."""
    found: dict[str, str] = {}
    for note in notes:
        m = _NOTE.match(note) if note.startswith(NOTE) else None
        if m:
            found.setdefault(m.group(1), m.group(2))
    return found

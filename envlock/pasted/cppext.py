"""An extension build's own words about the CUDA toolkit beside torch's CUDA (issue 21,
session 10): the toolkit's CUDA (the nvcc collect_env calls "CUDA runtime version") and
torch's, and whether the build was refused for them.

- torch.utils.cpp_extension's _check_cuda_version runs CUDA_HOME's `nvcc --version` and
  compares its release with torch.version.cuda. Where they differ it raises RuntimeError
  CUDA_MISMATCH_MESSAGE, "The detected CUDA version (X) mismatches the version that was used
  to compile\\nPyTorch (Y). Please make sure to use the same CUDA versions." (torch 1.x: any
  difference; from 1.8 only a major one, a minor one is the UserWarning CUDA_MISMATCH_WARN
  "The detected CUDA version (X) has a minor version mismatch with the version that was used
  to compile PyTorch (Y). Most likely this shouldn't be a problem."; 2.x joins the error's two
  pieces without a blank: "compilePyTorch (Y)"). The refusal stops the build.
- ColossalAI's op_builder (utils.check_system_pytorch_cuda_match, run before it builds a
  kernel at run time) raises "[extension] Failed to build PyTorch extension because the
  detected CUDA version (X) mismatches the version that was used to compile PyTorch (Y)."
  when the majors differ: the same sentence, the same refusal.
- DeepSpeed's op builder (op_builder/builder.py, assert_no_cuda_mismatch, before it builds an
  op): "Installed CUDA version X does not match the version torch was compiled with Y, unable
  to compile cuda/cpp extensions without a matching cuda version." (a refusal; its
  CUDAMismatchException), or "... with Y but since the APIs are compatible, accepting this
  combination" (a minor difference DeepSpeed accepts: no refusal).
- ColossalAI's `colossalai check -i` table (colossalai/cli/check/check_installation.py):
  "PyTorch version:", "System CUDA version:" ("CUDA version:" before 0.3: CUDA_HOME's nvcc),
  "CUDA version required by PyTorch:" (torch.version.cuda) and "Found AOT CUDA Extension:"
  (x where none was built at install: the kernels are then built on this machine at run time,
  through the check above). Values may be bold ("**11.7**") when pasted through markdown.

These facts are set in the draft directly (`read_build_messages`, called by
envlock/pasted/toolenv.py): the messages state torch's CUDA without torch's version, which a
collect_env line cannot carry (its reader needs the version first). The refusal and a
run-time build are notes that checks/libraries.py's EL-NVCC-MISMATCH reads back. Each literal
is found with str.find and a bounded match runs from there: linear.
"""

from __future__ import annotations

import re

from envlock.pasted.draft import Draft
from envlock.pasted.toolreading import ToolReading

_DETECTED = "detected CUDA version ("
_SENTENCE = re.compile(
    r"detected CUDA version \((?P<toolkit>\d{1,2}\.\d{1,2})(?:\.\d{1,3})?\) "
    r"(?:(?P<refused>mismatches)|has a minor version mismatch with) the version that was used to"
    r" compile[\s>]{0,40}PyTorch \((?P<torch>\d{1,2}\.\d{1,2})(?:\.\d{1,3})?\)"
)
_INSTALLED = "Installed CUDA"
# (its blanks as a wrap may have turned them)
_DEEPSPEED = re.compile(
    r"Installed CUDA\s{1,4}version\s{1,4}(?P<toolkit>\d{1,2}\.\d{1,2})(?:\.\d{1,3})?\s{1,4}does\s{1,4}not"
    r"\s{1,4}match\s{1,4}the\s{1,4}version\s{1,4}torch[\s>]{0,40}was\s{1,4}compiled\s{1,4}with"
    r"[\s>]{1,40}(?P<torch>\d{1,2}\.\d{1,2})(?:\.\d{1,3})?"
    r"(?P<refused>,[\s>]{0,40}unable\s{1,4}to\s{1,4}compile)?"
)
# the note a refusal leaves; checks/libraries.py reads it back
BUILD_REFUSED = "an extension build was refused for the CUDA toolkit's version (its own error)"
# the note a ColossalAI without ahead-of-time kernels leaves
BUILDS_HERE = "ColossalAI builds its CUDA kernels on this machine at run time (no AOT kernels)"

_TABLE_KEY = "CUDA version required by PyTorch:"
_ROW = re.compile(r"[ \t]{0,8}(?:\d{1,2}\.[ \t]{1,4})?([A-Za-z][A-Za-z -]{2,40}?):[ \t]*(.{0,40})")
_VALUE = re.compile(r"\d{1,2}\.\d{1,4}(?:\.\d{1,4})?")
_ROWS = {
    "pytorch version": "PyTorch version",
    "system cuda version": "CUDA runtime version",
    "cuda version": "CUDA runtime version",
    "cuda version required by pytorch": "CUDA used to build PyTorch",
}
_NO_AOT = frozenset({"x", "\u00d7", "\u2717"})


def read_cpp_extension(text: str) -> ToolReading | None:
    """The toolkit's and torch's CUDA an extension build's message or ColossalAI's
    installation table in `text` states, with the refusal and run-time build notes."""
    out = ToolReading()
    _read_sentences(text, out)
    if _TABLE_KEY in text:
        _read_table(text, out)
    return out if out.fields or out.notes else None


def read_build_messages(text: str, draft: Draft) -> int:
    """The toolkit's and torch's CUDA (and torch's version, the table's) that `text` states,
    set where the draft has none; the notes. How many facts were read."""
    reading = read_cpp_extension(text)
    if reading is None:
        return 0
    fields = reading.fields
    draft.set_default(draft.toolkit, "nvcc_version", fields.get("CUDA runtime version"))
    cuda = fields.get("CUDA used to build PyTorch")
    if cuda and not draft.torch.get("cuda") and not draft.torch.get("hip"):
        draft.torch.pop("unavailable", None)
        draft.torch.update({"installed": True, "cuda": cuda})
        draft.set_default(draft.torch, "version", fields.get("PyTorch version"))
    for note in reading.notes:
        draft.note(note)
    return len(fields) + len(reading.notes)


def _read_sentences(text: str, out: ToolReading) -> None:
    """torch's (and ColossalAI's) sentence and DeepSpeed's op builder's: the toolkit's CUDA,
    torch's, and a refusal where the sentence is one."""
    for literal, sentence in ((_DETECTED, _SENTENCE), (_INSTALLED, _DEEPSPEED)):
        at = text.find(literal)
        while at >= 0:
            m = sentence.match(text, at)
            if m:
                out.put("CUDA runtime version", m.group("toolkit"))
                out.put("CUDA used to build PyTorch", m.group("torch"))
                if m.group("refused") and BUILD_REFUSED not in out.notes:
                    out.notes.append(BUILD_REFUSED)
            at = text.find(literal, at + 1)


def _read_table(text: str, out: ToolReading) -> None:
    for line in text.splitlines():
        m = _ROW.fullmatch(line.replace("*", "").rstrip())
        if m is None:
            continue
        key, value = m.group(1).strip().lower(), m.group(2).strip()
        if key == "found aot cuda extension" and value.lower() in _NO_AOT:
            if BUILDS_HERE not in out.notes:
                out.notes.append(BUILDS_HERE)
        elif key in _ROWS and _VALUE.fullmatch(value):
            out.put(_ROWS[key], value)

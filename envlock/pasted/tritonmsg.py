"""Triton's GPU refusals, as torch's inductor and Triton itself word them (issue 21, session 12).

The wordings, from their own source, read case-insensitively anywhere in a line (a traceback,
torch._dynamo's "BackendCompilerFailed: backend='inductor' raised:\\nRuntimeError: ...",
torch 2.6+'s "InductorError: GPUTooOldForTriton: ...", a logger's or vLLM's "(EngineCore
pid=333)" prefix, prose that quotes it), blanks not counted (a wrap the layout step joined
without its blank reads the same):

- torch's inductor (torch/_inductor/scheduler.py's create_backend from torch 2.0, the same
  words in torch/_inductor/exc.py's GPUTooOldForTriton from 2.6, raised through
  torch/_dynamo/device_interface.py to torch 2.14): "Found Tesla P100-PCIE-16GB which is
  too old to be supported by the triton GPU compiler, which is used as the backend. Triton
  only supports devices of CUDA Capability >= 7.0, but your device is of CUDA capability
  6.0", raised for a CUDA device of major < 7 whatever Triton is installed: the GPU's name
  and capability are read from the message itself ("Found <name> which", "of CUDA
  capability <major>.<minor>"); a message cut after its first sentence still names the GPU
  and says it is below the floor;
- Triton's own refusal of the e4m3 fp8 format (python/triton/language/core.py's dtype.to_ir,
  Triton 3.0 on): "type fp8e4nv not supported in this architecture. The supported fp8 dtypes
  are ('fp8e4b15', 'fp8e5')", the list its NVIDIA backend gives a GPU below compute
  capability 8.9 (third_party/nvidia/backend/compiler.py: fp8e4nv added from 89; its AMD
  backend lists no fp8e4b15, and a Radeon's refusal is not read); Triton 2.2-3.0's
  "fp8e4nv data type is not supported on CUDA arch < 89" (language/semantic.py's cast).

A refusal is not read where the words around it on its line, or the sentence after it, say
it is gone or another machine's ("That was on my old PC", "went away", "setting
compile=False fixed it"): a message the reporter no longer gets is no fact of the job. Each
literal is found with str.find and a bounded match runs from there: linear in the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from envlock.pasted.toolreading import ToolReading

# the notes each refusal leaves; checks/triton.py reads them back
TRITON_TOO_OLD = "torch's inductor refused the GPU for Triton, by its error in the paste: "
FP8_REFUSED = (
    "Triton refused the fp8 e4m3 format (fp8e4nv) on this GPU, by its error in the paste: "
)
_TOO_OLD = "whichistoooldtobesupportedbythetritongpucompiler"
# "Found <name> which is too old": the name after the last "found" before the words
_FOUND = "found"
_NAME_MAX = 80
_CAPABILITY = re.compile(
    r"^.{0,200}?butyourdeviceisofcudacapability(\d{1,2})\.(\d{1,2})(?!\d)", re.DOTALL
)
_FLOOR_WORDS = "tritononlysupportsdevicesofcudacapability>="
_FLOOR = re.compile(r"^.{0,120}?cudacapability>=(\d{1,2})\.(\d{1,2})", re.DOTALL)
_NAME_REACH = 100
_MAX_FOUND = 64
_MAX_GPUS = 8
# Triton's: the refused type and the list it names ("('fp8e4b15', 'fp8e5')"), blanks left out
_FP8_LIST = re.compile(
    r"typefp8e4nvnotsupportedinthisarchitecture\.thesupportedfp8dtypesare\(([^)]{0,80})\)"
)
_FP8_OLD = "fp8e4nvdatatypeisnotsupportedoncudaarch<89"
_FP8_HERE = "typefp8e4nvnotsupportedinthisarchitecture"
# the words that tell a message as gone or as another machine's, around it on its line or in
# the sentence after it
_GONE = re.compile(
    r"\b(?:went away|goes away|gone now|no longer (?:see|get|appears?|shows?|happens?)"
    r"|not (?:see|get) (?:it|this|that) any ?more|used to (?:get|see|have)"
    r"|old (?:pc|server|machine|computer|laptop|box|workstation|node)"
    r"|(?:another|a different|someone else'?s|a friend'?s|colleague'?s)"
    r" (?:machine|pc|server|computer|laptop|box|workstation|node)"
    r"|(?:fixed|solved|resolved) (?:it|this|that|the (?:error|issue|problem))"
    r"|that was (?:before|on)|works now|now it works|is fixed|was fixed)\b"
)
_REACH = 240
_FELL_BACK = "convert_frame: [warning]"


def read_triton_refusals(text: str) -> ToolReading | None:
    """Each GPU torch's inductor refused for Triton (with the capability it states) and each
    fp8 refusal of Triton's, as notes; None where the text holds neither."""
    lower = text.lower().replace("\u2019", "'")
    flat = " ".join(lower.split())
    squeezed, starts = _squeeze(flat)
    if _TOO_OLD not in squeezed and _FLOOR_WORDS not in squeezed and "fp8e4nv" not in squeezed:
        return None
    out = ToolReading()
    _too_old(text, flat, squeezed, starts, out)
    _floor_only(flat, squeezed, starts, out)
    _fp8(flat, squeezed, starts, out)
    return out if out.notes else None


def _too_old(text: str, flat: str, squeezed: str, starts: list[int], out: ToolReading) -> None:
    """torch's refusals: the GPU each names, its capability and the floor it states."""
    for at, start, end in _places(squeezed, starts, _TOO_OLD):
        after = squeezed[at + len(_TOO_OLD) : at + len(_TOO_OLD) + 300]
        if not _gone(flat, start, end):
            eager = _fell_back(flat, start)
            _one_refusal(text, flat[max(0, start - _NAME_REACH) : start], after, eager, out)


def _floor_only(flat: str, squeezed: str, starts: list[int], out: ToolReading) -> None:
    """The message's second sentence where the first is not in the text (cut, or elided:
    "GPUTooOldForTriton: ... Triton only supports devices of CUDA Capability >= 7.0, but
    your device is of CUDA capability 5.2"): the capability alone, of a GPU not named."""
    for at, start, end in _places(squeezed, starts, _FLOOR_WORDS):
        if _TOO_OLD not in squeezed[max(0, at - 200) : at]:
            cap = _CAPABILITY.match(squeezed[at : at + 300])
            if cap is not None and not _gone(flat, start, end):
                eager = _fell_back(flat, start)
                _one_refusal("", "", squeezed[at : at + 300], eager, out)


def _fell_back(flat: str, start: int) -> bool:
    """Whether torch._dynamo logged the refusal as a warning and ran the frame eagerly
    (torch._dynamo.config.suppress_errors: "torch._dynamo.convert_frame: [WARNING]
    RuntimeError: Found ..."): the job ran, without torch.compile's speed."""
    return _FELL_BACK in flat[max(0, start - 2 * _NAME_REACH) : start]


def _one_refusal(text: str, before: str, after: str, eager: bool, out: ToolReading) -> None:
    name = _name_before(before)
    if name is None:
        return  # the f-string of torch's own source in a traceback, not a GPU
    cap = _CAPABILITY.match(after)
    floor = _FLOOR.match(after)
    capability = f"{int(cap.group(1))}.{int(cap.group(2))}" if cap else ""
    stated = f"{int(floor.group(1))}.{int(floor.group(2))}" if floor else ""
    written = _in_case(text, name) if name else "the GPU"
    tail = f"{capability or '-'} {stated or '-'}{' eager' if eager else ''}"
    note = f"{TRITON_TOO_OLD}{written} [{tail}]"
    if note in out.notes:
        return
    out.notes.append(note)
    out.put("Is CUDA available", "True")  # torch asked the CUDA device's properties
    if name and len(out.gpus) < _MAX_GPUS and written not in out.gpus.values():
        index = len(out.gpus)
        out.gpus[index] = written
        if capability:
            out.capabilities[index] = capability


def _name_before(before: str) -> str | None:
    """The GPU name after the last "found" of the words before torch's ("Found <name> which
    is too old"), '' where none is there; None for torch's own f-string in a traceback."""
    at = before.rfind(_FOUND)
    name = before[at + len(_FOUND) :].strip(" `'\"*:") if at >= 0 else ""
    if "{" in name or "}" in name:
        return None
    return name if len(name) <= _NAME_MAX else ""


def _fp8(flat: str, squeezed: str, starts: list[int], out: ToolReading) -> None:
    """Triton's refusal of fp8e4nv where the list it names is its NVIDIA backend's below 8.9,
    or its older 'CUDA arch < 89' wording."""
    words = None
    for m in _FP8_LIST.finditer(squeezed):
        listed = {t.strip("'\"") for t in m.group(1).split(",") if t.strip("'\"")}
        if listed == {"fp8e4b15", "fp8e5"} and not _all_gone(flat, squeezed, starts, _FP8_HERE):
            words = "'type fp8e4nv not supported in this architecture'"
            break
    if words is None and _FP8_OLD in squeezed and not _all_gone(flat, squeezed, starts, _FP8_OLD):
        words = "'fp8e4nv data type is not supported on CUDA arch < 89'"
    if words is not None:
        out.notes.append(f"{FP8_REFUSED}{words}")
        out.put("Is CUDA available", "True")  # Triton's NVIDIA backend compiled for the GPU


def _all_gone(flat: str, squeezed: str, starts: list[int], words: str) -> bool:
    """Whether every place the words stand (blanks as written) is told as gone."""
    places = list(_places(squeezed, starts, words))
    return bool(places) and all(_gone(flat, start, end) for _, start, end in places)


def _places(squeezed: str, starts: list[int], words: str) -> Iterator[tuple[int, int, int]]:
    """Where `words` stand in the squeezed text, the first _MAX_FOUND of them: the index in
    `squeezed`, and where they start and end in the text with its blanks."""
    at = squeezed.find(words)
    for _ in range(_MAX_FOUND):
        if at < 0:
            return
        yield at, starts[at], starts[min(at + len(words), len(starts) - 1)]
        at = squeezed.find(words, at + len(words))


def _squeeze(flat: str) -> tuple[str, list[int]]:
    """`flat` without its blanks, and where each of its characters stands in `flat` (one
    more at the end: the text's length)."""
    starts = [i for i, c in enumerate(flat) if c != " "]
    return "".join(flat[i] for i in starts), [*starts, len(flat)]


def _gone(flat: str, start: int, end: int) -> bool:
    """Whether the words around flat[start:end] (its own words left out) tell it as gone or
    another machine's: before it up to _REACH, after it to the end of the next sentence."""
    before = flat[max(0, start - _REACH) : start]
    after = flat[end : end + _REACH]
    return bool(_GONE.search(before) or _GONE.search(after))


def _in_case(text: str, name: str) -> str:
    """`name` (lower-cased, blanks as one) in the case the text writes it."""
    flat = " ".join(text.split())
    at = flat.lower().find(name)
    return flat[at : at + len(name)] if at >= 0 else name


def triton_refusals(notes: list[str]) -> list[tuple[str, str | None, bool]]:
    """(GPU name, its capability, whether torch._dynamo ran the frame eagerly instead) of
    each refusal of torch's inductor in `notes`; None where the message did not state it."""
    found = []
    for note in notes:
        if not note.startswith(TRITON_TOO_OLD):
            continue
        name, _, tail = note[len(TRITON_TOO_OLD) :].rpartition(" [")
        capability, *rest = tail.rstrip("]").split(" ")
        found.append((name, _stated(capability), "eager" in rest))
    return found


def _stated(value: str) -> str | None:
    return None if value == "-" else value


def fp8_refused(notes: list[str]) -> str | None:
    """The words of Triton's fp8e4nv refusal in `notes`, None where there is none."""
    return next((n[len(FP8_REFUSED) :] for n in notes if n.startswith(FP8_REFUSED)), None)

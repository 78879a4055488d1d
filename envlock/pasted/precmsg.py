"""A library's refusal of a number format the GPU lacks, whoever words it (issue 21, session 11).

The wordings, from each library's own source, read case-insensitively anywhere in a line
(a reporter lower-cases, quotes or wraps them, or pastes them mid-sentence in another
language), blanks not counted (a wrap the layout step joined without its blank reads the same):

- vLLM (vllm/worker/worker.py's _check_if_gpu_supports_dtype from 0.1, later
  vllm/platforms/cuda.py's check_if_supports_dtype; copied by IPEX-LLM):
  "Bfloat16 is only supported on GPUs with compute capability of at least 8.0. Your Tesla T4
  GPU has compute capability 7.5." (0.2.2 on: "You can use float16 instead by explicitly
  setting the`dtype` flag in CLI, for example: --dtype=half."): the GPU and its capability
  are read from the message itself;
- transformers' TrainingArguments (src/transformers/training_args.py): "Your setup doesn't
  support bf16/gpu" (4.21 on), "Your setup doesn't support bf16. You need Ampere GPU,
  torch>=1.10, cuda>=11.0" (4.11-4.20), "--tf32 requires Ampere or a newer GPU arch, cuda>=11
  and torch>=1.7" (tf32);
- torch's autocast (torch/amp/autocast_mode.py, torch/cuda/amp/autocast_mode.py before 1.13):
  "Current CUDA Device does not support bfloat16. Please switch dtype to float16.", raised only
  on a CUDA device torch found (where CUDA is not available autocast disables itself with a
  warning): CUDA is available;
- xFormers' operators (xformers/ops/fmha/common.py, not_supported_reasons, 0.0.16 on): "bf16
  is only supported on A100+ GPUs", said of a bf16 input on a GPU below 8.0 or off the GPU
  (then with "device=cpu (supported: {'cuda'})": not read); from 0.0.23 its kernels' own
  reason "requires device with capability > (8, 0) but your GPU has capability (7, 0) (too
  old)" states the capability of the GPU it ran on (read beside the bf16 refusal, as
  XFORMERS_GPU where no name is stated; alone it is a kernel's need, not a format refused,
  as are "requires A100 GPU", "requires a GPU with compute capability > 7.5" and
  FlashAttention's "FlashAttention only supports Ampere GPUs or newer");
- FlashAttention (csrc/flash_attn/flash_api.cpp, fmha_api.cpp of 1.x): "bfloat16 is only
  supported on Ampere GPUs or newer";
- Accelerate (accelerator.py, commands/launch.py): "bf16 mixed precision requires PyTorch >=
  1.10 and a supported device."

Where the message does not name the GPU and the text lists none ("GPU 0: ...", nvidia-smi), the
one GPU model the text names in prose (a GPU table name, whole words: 'tsla T4' names the T4)
is taken, and none where it names two or more: a refusal is about the GPU the job ran on, and a
text that compares GPUs does not say which. A refusal in a sentence that says it is gone ("We
no longer see ...", "since we switched --bf16 to --fp16") is not read, nor the GPU vLLM names
where a statement names another model that runs the job ("On my own RTX 4090 it works"). Each
literal is found with str.find and a bounded match runs from there: linear in the text.
"""

from __future__ import annotations

import functools
import re

from envlock.pasted.toolreading import ToolReading

# (the wording lower-cased, the library's key, the number format it refused)
_WORDINGS = (
    ("bfloat16 is only supported on gpus with compute capability of at least 8.0", "vllm", "bf16"),
    ("your setup doesn't support bf16/gpu", "transformers", "bf16"),
    ("your setup doesn't support bf16. you need ampere gpu", "transformers", "bf16"),
    ("--tf32 requires ampere or a newer gpu arch", "transformers", "tf32"),
    ("current cuda device does not support bfloat16", "torch", "bf16"),
    ("bf16 is only supported on a100+ gpus", "xformers", "bf16"),
    ("bfloat16 is only supported on ampere gpus or newer", "flash-attn", "bf16"),
    ("bf16 mixed precision requires pytorch >= 1.10 and a supported device", "accelerate", "bf16"),
)
# the note each refusal leaves; checks/precision.py reads the library and format from its tail
PRECISION_REFUSED = "a library refused a number format this GPU lacks, by its error in the paste: "
_NOTE_TAIL = re.compile(r"\[([a-z0-9]+) ([a-z-]+)\]$")
# vLLM's: "... at least 8.0. Your <name> GPU has compute capability <major>.<minor>": the
# capability after its words, the name between "your" and "gpu" at most _NAME_REACH before
_VLLM_CAPABILITY = re.compile(r"has ?compute ?capability ?(\d{1,2})\.(\d{1,2})(?!\d)")
_VLLM_NAME = re.compile(r"your ?([^.]{1,80}?) ?gpu ?$")
_NAME_REACH = 100
_TOKEN = re.compile(r"[0-9a-z]+")
# a text that lists its GPUs itself (collect_env's and nvidia-smi -L's "GPU 0: ...",
# nvidia-smi's table): the GPU is read from there, not from a name in its prose
_GPU_LISTINGS = ("gpu 0", "gpu0", "nvidia-smi")
_MAX_GPUS = 8
# a sentence's end, kept by the split (ASCII and full-width)
_SENTENCE_END = re.compile(r"([!?\n\u3002\uff01\uff1f]|\.(?!\d))")
_QUESTION = ("?", "\uff1f")
# a refusal the words around it say is gone (within its sentence): "We no longer see 'Your
# setup doesn't support bf16/gpu' since we switched --bf16 to --fp16"
_GONE = re.compile(
    r"\b(?:no longer|not (?:see|get|getting|seeing)[^.!?]{0,40}any ?more|anymore|went away"
    r"|(?:is|are|was|were) gone|used to (?:see|get)|previously|since (?:i|we) (?:switched|changed"
    r"|moved))\b"
)
_MAX_FOUND = 64
# xFormers' dispatcher on a CUDA device (xformers/ops/fmha/common.py, not_supported_reasons,
# 0.0.23 on): "requires device with capability > (8, 0) but your GPU has capability (7, 0)
# (too old)", blanks left out: the GPU's own capability, a kernel's need, never a format
_XFORMERS_CAPABILITY = re.compile(r"butyourgpuhascapability\((\d{1,2}),(\d{1,2})\)")
# its reason for an input on another device: "bf16 is only supported on A100+ GPUs" is then
# said of any bf16 input (not device_type.startswith("cuda")), the GPU not asked
_XFORMERS_OFF_GPU = re.compile(r"device=(?!cuda)[a-z]{2,10}\(supported:")
# the name of the GPU xFormers states only the capability of
XFORMERS_GPU = "the GPU xFormers ran on"


def read_precision_refusals(text: str) -> ToolReading | None:
    """The refusals in `text` as notes, and the GPU each names (vLLM's) or the one GPU model
    the text names; None where no library refused a number format."""
    lower = text.lower().replace("\u2019", "'")
    flat = " ".join(lower.split())
    # every blank left out: a wrap the layout step joined without one is the same words
    squeezed = "".join(lower.split())
    out = ToolReading()
    for literal, library, number_format in _WORDINGS:
        if not _refused(literal, library, flat, squeezed):
            continue
        out.notes.append(f"{PRECISION_REFUSED}{library}: '{literal}' [{number_format} {library}]")
        if library == "vllm":
            _vllm_gpus(text, flat, out)
        if library == "torch":  # autocast refuses only on a CUDA device it found
            out.put("Is CUDA available", "True")
    if not out.notes:
        return None
    prose = " ".join(_statements(lower).split())
    for literal, _, _ in _WORDINGS:
        prose = prose.replace(literal, " ")
    if out.gpus and _another_gpu_works(prose, out):
        out.gpus.clear()  # vLLM's words of another machine ("On my own RTX 4090 it works")
        out.capabilities.clear()
    elif not out.gpus and not any(listing in flat for listing in _GPU_LISTINGS):
        # the refusals' own words name no GPU of the job's (xFormers' "A100+"), a question
        # states none ("do you use v100?")
        _named_gpu(prose, squeezed, out)
    return out


def _refused(literal: str, library: str, flat: str, squeezed: str) -> bool:
    """Whether the text holds the refusal as this job's: found (blanks not counted), not in a
    sentence that says it is gone, and xFormers' not said of an input off the GPU."""
    if "".join(literal.split()) not in squeezed:
        return False
    if library == "xformers" and _XFORMERS_OFF_GPU.search(squeezed):
        return False
    found = 0
    at = flat.find(literal)
    while at >= 0 and found < _MAX_FOUND:
        if not _GONE.search(_sentence_at(flat, at, at + len(literal))):
            return True
        found += 1
        at = flat.find(literal, at + len(literal))
    return found == 0  # found only with its blanks left out: a wrap joined, read as it is


def _sentence_at(flat: str, start: int, end: int) -> str:
    """The sentence of flat text around [start, end): from the last sentence end before it
    to the next after it, each at most _NAME_REACH * 2 away."""
    lo = max(0, start - 2 * _NAME_REACH)
    ends = [m.end() for m in _SENTENCE_END.finditer(flat, lo, start)]
    after = _SENTENCE_END.search(flat, end, end + 2 * _NAME_REACH)
    return flat[ends[-1] if ends else lo : after.start() if after else end + 2 * _NAME_REACH]


def _another_gpu_works(prose: str, out: ToolReading) -> bool:
    """Whether a statement names another GPU model than the refusals name, that runs the
    job: the refusal is another machine's."""
    named = {_one_gpu_named(" ".join(_TOKEN.findall(name.lower()))) for name in out.gpus.values()}
    for sentence in _SENTENCE_END.split(prose)[::2]:
        if not _WORKS.search(sentence):
            continue
        other = _one_gpu_named(sentence)
        if other is not None and other not in named:
            return True
    return False


_WORKS = re.compile(
    r"\b(?:works?|worked|working|runs?|running fine|no (?:problem|issue|error)s?)\b"
)


def _named_gpu(prose: str, squeezed: str, out: ToolReading) -> None:
    """The one GPU model the statements name, where it agrees with the capability xFormers
    states of the GPU it ran on; where the statements name none, that GPU by its capability
    (xFormers' "but your GPU has capability (7, 0)" beside its bf16 refusal)."""
    named = _gpus_named(prose)
    stated = {f"{int(a)}.{int(b)}" for a, b in _XFORMERS_CAPABILITY.findall(squeezed)}
    if len(named) == 1:
        ((name, capability),) = named.items()
        if capability and (not stated or capability in stated):
            out.gpus[0], out.capabilities[0] = name, capability
    elif not named and len(stated) == 1 and any(n.endswith(" xformers]") for n in out.notes):
        out.gpus[0], out.capabilities[0] = XFORMERS_GPU, stated.pop()
        out.put("Is CUDA available", "True")  # its capability asked of a CUDA device


def _statements(lower: str) -> str:
    """The text without its questions: each sentence (up to '.', '!', '?' or a line's end,
    in either width; not a version's dot) that ends in a question mark left out."""
    pieces = _SENTENCE_END.split(lower)
    ends = [*pieces[1:], ""]
    return " ".join(p for p, end in zip(pieces, ends, strict=True) if end not in _QUESTION)


def _vllm_gpus(text: str, flat: str, out: ToolReading) -> None:
    """Each distinct GPU vLLM's refusals name (as the text writes it), with the capability
    they state."""
    seen: set[tuple[str, str]] = set()
    for m in _VLLM_CAPABILITY.finditer(flat):
        named = _VLLM_NAME.search(flat[max(0, m.start() - _NAME_REACH) : m.start()])
        if named is None:
            continue
        name = named.group(1).strip(" `'\"")
        capability = f"{int(m.group(1))}.{int(m.group(2))}"
        if name and (name, capability) not in seen:
            seen.add((name, capability))
            index = len(out.gpus)
            out.gpus[index], out.capabilities[index] = _as_written(text, name), capability
            if len(out.gpus) >= _MAX_GPUS:
                return


def _as_written(text: str, name: str) -> str:
    """`name` (lower-cased, blanks as one) in the case the text writes it."""
    m = re.search(r"\s+".join(re.escape(word) for word in name.split()), text, re.IGNORECASE)
    return " ".join(m.group(0).split()) if m else name


def _one_gpu_named(flat: str) -> tuple[str, str] | None:
    """(name, capability) of the one GPU model the GPU table knows that the text names;
    None where it names none, several, or one whose name says no capability."""
    found = _gpus_named(flat)
    if len(found) != 1:
        return None
    ((name, capability),) = found.items()
    return (name, capability) if capability else None


def _gpus_named(flat: str) -> dict[str, str]:
    """The GPU models the GPU table knows that the text names (name -> capability, '' where
    the name says none), up to two: a second is enough to tell."""
    table, prefixes = _gpu_table()
    tokens = _TOKEN.findall(flat)
    found: dict[str, str] = {}
    i = 0
    while i < len(tokens) and len(found) < 2:
        words = _longest_name(tokens, i, table, prefixes)
        if words is None:
            i += 1
            continue
        name, capability = table[words]
        found.setdefault(name, capability or "")
        i += len(words)
    return found


_Table = dict[tuple[str, ...], tuple[str, "str | None"]]


def _longest_name(
    tokens: list[str], i: int, table: _Table, prefixes: frozenset[tuple[str, ...]]
) -> tuple[str, ...] | None:
    """The words of the longest table name that starts at token `i`, grown one word at a
    time while they begin a name."""
    best = None
    n = 1
    while i + n <= len(tokens) and (words := tuple(tokens[i : i + n])) in prefixes:
        if words in table:
            best = words
        n += 1
    return best


@functools.cache
def _gpu_table() -> tuple[_Table, frozenset[tuple[str, ...]]]:
    """The GPU table's names by their words: (name, capability or None where the name was
    sold under several), and every run of words a name starts with."""
    from envlock.matrix import load_matrix

    table: _Table = {}
    for gpu in load_matrix().gpus:
        if gpu.tokens:
            capability = (
                None if gpu.ambiguous else ".".join(str(p) for p in gpu.capability.parts[:2])
            )
            table.setdefault(gpu.tokens, (gpu.name, capability))
    prefixes = frozenset(words[:n] for words in table for n in range(1, len(words) + 1))
    return table, prefixes


def refusals(notes: list[str]) -> list[tuple[str, str]]:
    """(library, number format) of each refusal the reading left in `notes`, in order."""
    found: list[tuple[str, str]] = []
    for note in notes:
        if note.startswith(PRECISION_REFUSED):
            m = _NOTE_TAIL.search(note)
            if m and (m.group(2), m.group(1)) not in found:
                found.append((m.group(2), m.group(1)))
    return found

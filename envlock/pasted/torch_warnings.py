"""What torch itself printed into a collect_env report when collect_env imported it.

The GPU's compute capability ("NAME with CUDA capability sm_120 is not compatible",
torch < 1.8's "Found GPU0 NAME which is of cuda capability 3.0"), torch's own arch
list, the driver's CUDA version from "driver on your system is too old" and the cuDNN torch
found from its "cuDNN version incompatibility" check: read
from any line of the report, wherever it was pasted.
"""

from __future__ import annotations

import re

from envlock.pasted.draft import Draft
from envlock.pasted.hearsay import name_start, not_this_machines
from envlock.probe.libnames import decode_cuda_version

# Every pattern is anchored or starts with a literal (see collect_env.py): each line
# costs time linear in its length.
# torch's own warnings, printed into the report by collect_env's `import torch`:
# "NVIDIA GeForce RTX 5090 D with CUDA capability sm_120 is not compatible with ..."
_CAPABILITY = " with CUDA capability sm_"
_CAPABILITY_TAIL = re.compile(r"(\d{2,3}) is not compatible")
# the note it leaves ("...: GeForce RTX 3090, compute capability 8.6"): torch/cuda/__init__.py's
# _check_cubins warns only where no sm_XY of its arch list has the GPU's major (its PTX not
# counted): torch's word on its arch list where the paste does not hold the list
# (checks/archsaid.py reads it back)
TORCH_NO_MAJOR_KERNELS = "torch says its arch list holds no kernels of this GPU's major: "
TORCH_NO_MAJOR_AT = ", compute capability "
# "The current PyTorch install supports CUDA capabilities sm_50 sm_60 ... compute_37."
_ARCH_WARNING = re.compile(
    r"The current PyTorch install supports CUDA capabilities ((?:(?:sm|compute)_\d+[a-z]?\s*)+)"
)
# "The NVIDIA driver on your system is too old (found version 9010)" (torch/cuda/__init__.py's
# _check_driver before 1.5, c10/cuda's device count since: the same words): the driver's CUDA,
# older than torch's (pasted/driverneed.py reads the note it leaves); as reporters retell it
# too: "it said NVIDIA driver on my system is too old(found version 10000)" (kaolin-17),
# lower-cased, spaced or wrapped otherwise. Found from its literal "too old", then a bounded
# look behind and an anchored match ahead: linear in the line.
_DRIVER_OLD = "too old"
_DRIVER_HEAD = re.compile(
    r"driver\s{1,4}on\s{1,4}(?:your|my|our|the|this)\s{1,4}system\s{1,4}is\s{1,4}$", re.I
)
_DRIVER_TAIL = re.compile(r"\s{0,4}\(\s{0,2}found\s{1,4}version:?\s{0,2}(\d{4,5})\s{0,2}\)", re.I)
TORCH_DRIVER_TOO_OLD = "torch says the NVIDIA driver is older than the CUDA it was built with "
# torch/backends/cudnn/__init__.py's check, raised at the first cuDNN use ("cuDNN version
# incompatibility: PyTorch was compiled  against (8, 7, 0) but found runtime version (8, 2, 4)",
# the two spaces torch's own; torch 1.x: "... compiled against (8, 3, 2) but linked against
# (8, 2, 1)"): the runtime version is the cuDNN torch loaded
_CUDNN_CHECK = "cuDNN version incompatibility: PyTorch was compiled"
_CUDNN_TAIL = re.compile(
    r"[ \t]{1,4}against[ \t]{1,4}\((\d{1,2}), (\d{1,2}), (\d{1,3})\)[ \t]{1,4}but[ \t]{1,4}"
    r"(?:found runtime version|linked against)[ \t]{1,4}\((\d{1,2}), (\d{1,2}), (\d{1,3})\)"
)
# the note that carries the cuDNN torch says it was compiled against (checks/libraries.py
# reads it back where the paste does not name torch's build: gladia-928, bark-46)
TORCH_CUDNN_COMPILED = "torch says it was compiled against cuDNN "
# the compiled one is taken where the paste shows the error as Python printed it
_RAISED = "RuntimeError: cuDNN version incompatibility"
# where torch raised a warning: "(Triggered internally at  /pytorch/c10/cuda/CUDAFunctions.cpp:100.)"
# names the source tree torch was built from; pytorch/builder's Linux wheels (manywheel) build in
# /pytorch, conda's in /opt/conda/conda-bld/pytorch_<stamp>/work, and c10/cuda is compiled into
# CUDA builds only: a pip-installed Linux CUDA wheel
_TRIGGERED = "Triggered internally at "
_WHEEL_ROOT = re.compile(r" ?/pytorch/c10/cuda/")
PIP_LINUX_CUDA_WHEEL = (
    "torch's own warning was raised in c10/cuda under /pytorch/ (pytorch/builder's Linux wheel "
    "build root): a Linux CUDA wheel installed with pip"
)
# "Found GPU0 GeForce GTX 770 which is of cuda capability 3.0." (torch < 1.8): found by
# its two literal halves, the name is what lies between
_OLD_GPU = "Found GPU"
_OLD_GPU_HEAD = re.compile(r"Found GPU(\d{1,3}) ")
_OLD_GPU_CAPABILITY = " which is of cuda capability "
_OLD_GPU_TAIL = re.compile(r"(\d{1,2})\.(\d{1,2})")
# torch >= 2.8's _check_capability ("Found GPU0 NVIDIA GeForce GTX 1060 which is of compute
# capability (CC) 6.1.", then one "- 7.5 which supports hardware CC >=7.5,<8.0" line per CC
# of its arch list): torch says no CC it was built for runs the GPU; the list is its arch
# list (read as SASS: each line states the hardware its code runs on, PTX as SASS)
_CC_GPU = " which is of compute capability (CC) "
_CC_TAIL = re.compile(r"(\d{1,2})\.(\d{1,2})")
_CC_NAME_CUT = "the GPU torch names (its name cut by the paste's line break)"
_CC_BUILT = " which supports hardware CC "
_CC_BUILT_HEAD = re.compile(r"- (\d{1,2})\.(\d)$")
# "... too old. The minimum cuda capability supported by this library is 7.5." (torch >= 1.9:
# the least of its arch list), "... that we support is 3.5." (earlier, a constant): the floor
_FLOOR = "The minimum cuda capability "
_FLOOR_TAIL = re.compile(r"(?:supported by this library|that we support) is ([0-9]{1,2})\.([0-9])")
# torch 2.8-2.10's _check_capability, where the GPU is outside the least and the greatest CC of
# its arch list: "Found GPU0 Tesla V100-SXM2-16GB which is of cuda capability 7.0." (the old
# warning's first line), then "Minimum and Maximum cuda capability supported by this version
# of PyTorch is" and, on the next line as torch prints it, "(7.5) - (12.0)". Below the least
# no code runs the GPU (SASS runs only a later minor of its own major, PTX only a later CC):
# the least is the floor. Above the greatest it warns for a GPU its major's SASS runs (a GB10,
# 12.1, beside sm_120: sglang-13198, healthy), so the greatest is not read.
_RANGE = "Minimum and Maximum cuda capability supported by this version of PyTorch is"
_RANGE_TAIL = re.compile(r"[ \t]{0,8}\(([0-9]{1,2})\.([0-9])\)[ \t]{0,4}-[ \t]{0,4}\(\d{1,2}\.\d\)")
# the range alone on its line, read only after a GPU torch warned about (its line before)
_RANGE_ALONE = re.compile(
    r"[ \t]{0,16}\(([0-9]{1,2})\.([0-9])\)[ \t]{1,4}-[ \t]{1,4}\(\d{1,2}\.\d\)[ \t]*$"
)
# "UserWarning: CUDA initialization: Found no NVIDIA driver on your system." (torch >= 1.5
# at import), "AssertionError: Found no NVIDIA driver on your system." (older torch)
_NO_DRIVER = "Found no NVIDIA driver on your system"
# the note it leaves: only a CUDA build raises it (torch < 1.5's _check_driver after its 'not
# compiled with CUDA' check; from 1.5 c10/cuda's device count, compiled into CUDA builds only),
# so it says so where the paste names no torch (checks/driver.py's EL-NO-DRIVER reads it)
TORCH_FOUND_NO_DRIVER = "a CUDA build of torch said 'Found no NVIDIA driver on your system'"
# vLLM's "Failed to import from vllm._C with ImportError('libcudart.so.12: cannot open
# shared object file ...')": its compiled extension links that CUDA major's runtime
_IMPORT_ERROR = "Failed to import from "
_IMPORT_ERROR_TAIL = re.compile(
    r"([A-Za-z_][\w.]{0,100}) with ImportError\([\"'](libcudart\.so\.(\d{1,2})):\s{1,8}cannot open"
)
# "UserWarning: Can't initialize NVML" (torch/cuda/__init__.py, when nvmlInit fails: no
# driver library here); the apostrophe may come curly or dropped from a rendered page.
# nvidia-smi's own "Failed to initialize NVML: Driver/library version mismatch" is another
# cause (a driver is installed) and is not matched.
_NVML = "t initialize NVML"
_NVML_HEADS = ("Can't", "Can\u2019t", "Can t", "Cant")
# what Python's warnings module prints before the message on the same line:
# ".../torch/cuda/__init__.py:215: UserWarning: NVIDIA GeForce RTX 5090 with ..."
_WARNING_PREFIX = "Warning: "
# a count a flattened log line left before the name ("... for Validation: 0 NVIDIA GeForce RTX
# 3090 with CUDA capability sm_86": MONAILabel-1015); no GPU's name starts with a number alone
_LEADING_COUNT = re.compile(r"^(?:\d+[ \t]+)+")
# what may stand around a message as pasted: blanks, quote marks, a fence's backquotes
_PASTE_MARKS = " \t`'\"*>"


def torch_warnings(line: str, d: Draft) -> bool:
    """What torch itself printed about this GPU and its own arch list; whether the line was
    one of its messages that states a fact (a text of only such lines is still a report)."""
    warned = _capability_warning(line)
    if warned:
        # pasted on one line, the supported list follows the GPU's (voice-cloning-app#60)
        d.warned_capabilities[warned[0]] = warned[1]
        d.note(f"{TORCH_NO_MAJOR_KERNELS}{warned[0]}{TORCH_NO_MAJOR_AT}{warned[1]}")
    if _from_wheel_build(line):
        d.note(PIP_LINUX_CUDA_WHEEL)
    if _said(line, _NO_DRIVER):
        d.torch_found_no_driver = True
        d.note(TORCH_FOUND_NO_DRIVER)
        return True
    if _nvml_warning(line):
        d.torch_nvml_failed = True
    return _stated(line, d) or warned is not None


def _stated(line: str, d: Draft) -> bool:
    """torch's arch list, the cuDNN it found, the driver's CUDA, an old GPU, its floor, an
    extension's import error: read from the line; whether any was."""
    m = _ARCH_WARNING.search(line)
    if m and not not_this_machines(line, m.start(), m.end()):
        d.live.setdefault("arch_flags", m.group(1).split())
        return True
    cudnn = _cudnn_versions(line)
    if cudnn:
        d.live.setdefault("cudnn_version", cudnn[1])
        if cudnn[2]:  # the error as raised, not a mention of it (a PR that fixes it)
            d.note(f"{TORCH_CUDNN_COMPILED}{cudnn[0]} and found {cudnn[1]} at run time")
        return True
    found = _driver_too_old(line)
    if found:
        d.set_default(d.driver, "cuda_version", decode_cuda_version(found))
        d.note(f"{TORCH_DRIVER_TOO_OLD}(found version {found})")
        return True
    warned = _old_gpu_warning(line)
    if warned:
        d.warned_capabilities[warned[0]] = warned[1]
    said = None if warned else _cc_warning(line)
    if said:  # torch >= 2.8: no CC of its list runs the GPU, so none of the GPU's major does
        d.warned_capabilities[said[0]] = said[1]
        d.note(f"{TORCH_NO_MAJOR_KERNELS}{said[0]}{TORCH_NO_MAJOR_AT}{said[1]}")
    floor = _floor(line) or _range_floor(line, d)
    if floor:
        d.live.setdefault("min_capability", floor)
    built = _cc_built(line, d)  # read whatever else the line said (a flattened paste)
    return bool(warned or said or floor or built) | _extension_import_error(line, d)


def _driver_too_old(line: str) -> str | None:
    """ "10000" of torch's "The NVIDIA driver on your system is too old (found version 10000)"
    in any case and spacing, where the line tells it as this machine's (pasted/hearsay.py)."""
    low = line.lower()
    at = low.find(_DRIVER_OLD)
    while at >= 0:
        head = _DRIVER_HEAD.search(line, max(0, at - 40), at)
        tail = _DRIVER_TAIL.match(line, at + len(_DRIVER_OLD)) if head else None
        if head and tail and not not_this_machines(line, head.start(), tail.end()):
            return tail.group(1)
        at = low.find(_DRIVER_OLD, at + 1)
    return None


def _cc_warning(line: str) -> tuple[str, str] | None:
    """(GPU name, "6.1") of torch >= 2.8's "Found GPU0 NAME which is of compute capability (CC)
    6.1.": the name after "Found GPU<n> " on the line, else (wrapped) said to be cut."""
    at = line.find(_CC_GPU)
    tail = _CC_TAIL.match(line, at + len(_CC_GPU)) if at >= 0 else None
    if tail is None:
        return None
    head = _OLD_GPU_HEAD.search(line, max(0, at - 200), at)
    name = line[head.end() : at].strip() if head else ""
    if not_this_machines(line, head.start() if head else at, tail.end()):
        return None
    if name and not any(c.isalnum() for c in name):
        return None  # "Found GPU0 ... which is": an example's elided name, no machine's GPU
    return name or _CC_NAME_CUT, f"{tail.group(1)}.{tail.group(2)}"


def _cc_built(line: str, d: Draft) -> bool:
    """Each "- 7.5 which supports hardware CC ..." in the line (one a line as torch prints
    them, all on one where the paste was flattened): sm_75 joins torch's arch list."""
    read = False
    at = line.find(_CC_BUILT)
    while at >= 0:
        head = _CC_BUILT_HEAD.search(line[max(0, at - 8) : at].lstrip())
        flags = d.live.setdefault("arch_flags", []) if head else None
        if head and isinstance(flags, list):
            flag = f"sm_{head.group(1)}{head.group(2)}"
            flags.extend([] if flag in flags else [flag])
            read = True
        at = line.find(_CC_BUILT, at + 1)
    return read


def _after(line: str, literal: str, tail: re.Pattern[str]) -> re.Match[str] | None:
    """`tail` matched right after the first occurrence of `literal` where it matches (a
    find, then an anchored match: linear in the line, no backtracking search)."""
    at = line.find(literal)
    while at >= 0:
        found = tail.match(line, at + len(literal))
        if found:
            return found
        at = line.find(literal, at + 1)
    return None


def _from_wheel_build(line: str) -> bool:
    """torch's "(Triggered internally at  /pytorch/c10/cuda/...)" anywhere in the line."""
    return _after(line, _TRIGGERED, _WHEEL_ROOT) is not None


def _cudnn_versions(line: str) -> tuple[str, str, bool] | None:
    """("8.7.0", "8.2.4", raised) of torch's "cuDNN version incompatibility: PyTorch was
    compiled  against (8, 7, 0) but found runtime version (8, 2, 4)": compiled, runtime, and
    whether it stands as raised (see _raised); None where it is not there or not this
    machine's (quoted in a sentence, told as gone: pasted/hearsay.py)."""
    tail = _after(line, _CUDNN_CHECK, _CUDNN_TAIL)
    if tail is None:
        return None
    at = line.rfind(_CUDNN_CHECK, 0, tail.start())
    if not_this_machines(line, at, tail.end()):
        return None
    numbers = tail.groups()
    return ".".join(numbers[:3]), ".".join(numbers[3:]), _raised(line, at)


def _raised(line: str, at: int) -> bool:
    """Whether the message at `at` stands as the error was raised: after "RuntimeError: ",
    alone at its line's start (VS Code's "Exception has occurred: RuntimeError" puts it on the
    next line; a notebook's or IDE's frame, a fence or quote around it), or after a prefix
    that ends in a colon (a logger's "ERROR:root:", "I get the following error:", a
    reporter's words in another language before a full-width colon)."""
    if _RAISED in line:
        return True
    head = line[max(0, at - 200) : at].strip().strip(_PASTE_MARKS).rstrip()
    return head == "" or head.endswith((":", "\uff1a"))


def _extension_import_error(line: str, d: Draft) -> bool:
    """An extension that failed to import for want of a CUDA major's runtime; whether one did."""
    at = line.find(_IMPORT_ERROR)
    m = _IMPORT_ERROR_TAIL.match(line, at + len(_IMPORT_ERROR)) if at >= 0 else None
    if m and not any(e.get("file") == m.group(1) for e in d.extensions):
        d.extensions.append(
            {
                "distribution": m.group(1).split(".")[0],
                "file": m.group(1),
                "links": [m.group(2)],
                "cuda_major": int(m.group(3)),
                "partial": "read from its import error in the paste, not from its file",
            }
        )
    return m is not None


def _nvml_warning(line: str) -> bool:
    """torch's "Can't initialize NVML" anywhere in the line (each find is linear)."""
    at = line.find(_NVML)
    while at >= 0:
        head = line[max(0, at - 5) : at + 1]
        if any(head.endswith(h) for h in _NVML_HEADS):
            return True
        at = line.find(_NVML, at + 1)
    return False


def _capability_warning(line: str) -> tuple[str, str] | None:
    """(GPU name, "12.0") of torch's "NAME with CUDA capability sm_120 is not compatible"."""
    at = line.find(_CAPABILITY)
    while at >= 0:
        tail = _CAPABILITY_TAIL.match(line, at + len(_CAPABILITY))
        if tail:
            # the name after what stands before it on the line (the warning's prefix, a
            # quote opened, "error:" joined by a lost line break); a bold opened on this line
            # and closed after a wrap is not the name's
            head = _after_prefix(line[:at])
            start = at - len(head) + name_start(head)
            name = _LEADING_COUNT.sub("", line[start:at].strip().lstrip("*_").lstrip())
            if not_this_machines(line, start, tail.end()):
                return None
            cc = tail.group(1)
            return (name, f"{cc[:-1]}.{cc[-1]}") if name else None
        at = line.find(_CAPABILITY, at + 1)
    return None


def _old_gpu_warning(line: str) -> tuple[str, str] | None:
    """(GPU name, "3.0") of torch < 1.8's "Found GPU0 NAME which is of cuda capability 3.0":
    the first "Found GPU<n> " and the first capability after it."""
    at = line.find(_OLD_GPU)
    while at >= 0:
        head = _OLD_GPU_HEAD.match(line, at)
        if head:
            break
        at = line.find(_OLD_GPU, at + 1)
    else:
        return None
    tail_at = line.find(_OLD_GPU_CAPABILITY, head.end() + 1)
    while tail_at >= 0:
        tail = _OLD_GPU_TAIL.match(line, tail_at + len(_OLD_GPU_CAPABILITY))
        if tail:
            name = line[head.end() : tail_at].strip()
            if not_this_machines(line, at, tail.end()):
                return None
            return (name, f"{tail.group(1)}.{tail.group(2)}") if name else None
        tail_at = line.find(_OLD_GPU_CAPABILITY, tail_at + 1)
    return None


def _floor(line: str) -> str | None:
    """ "7.5" of torch's "The minimum cuda capability supported by this library is 7.5"."""
    tail = _after(line, _FLOOR, _FLOOR_TAIL)
    return f"{tail.group(1)}.{tail.group(2)}" if tail else None


def _range_floor(line: str, d: Draft) -> str | None:
    """ "7.5" of torch 2.8-2.10's "Minimum and Maximum cuda capability supported by this
    version of PyTorch is (7.5) - (12.0)": the range on the line, or alone on its own line
    once torch's warning named a GPU (the line before, as torch prints it)."""
    tail = _after(line, _RANGE, _RANGE_TAIL)
    if tail is None and d.warned_capabilities:
        tail = _RANGE_ALONE.match(line)
    return f"{tail.group(1)}.{tail.group(2)}" if tail else None


def _said(line: str, literal: str) -> bool:
    """Whether `literal`, a message of torch's, is on the line as this machine's."""
    at = line.find(literal)
    return at >= 0 and not not_this_machines(line, at, at + len(literal))


def _after_prefix(head: str) -> str:
    """A warning's text without what `warnings` printed before it on its line (the file,
    line and category: "...__init__.py:215: UserWarning: ")."""
    at = head.rfind(_WARNING_PREFIX)
    return head[at + len(_WARNING_PREFIX) :] if at >= 0 else head

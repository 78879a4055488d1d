"""PyTorch's `python -m torch.utils.collect_env` text (and vLLM's extended copy) -> a Draft.

The layouts read, from torch/utils/collect_env.py across releases:

- 1.0-1.6: `Is debug build: No`, `[pip] numpy (1.15.4)` or `[pip3] numpy==1.19.0`,
  no ROCm line, `Python version: 3.7`;
- 1.7-2.x: `ROCM used to build PyTorch`, `Clang version`, `Libc version`,
  `Python platform`, `CUDA_MODULE_LOADING set to`, `Is XNNPACK available`, a
  `CPU:` block (lscpu on Linux, wmic `Key=Value` on Windows), then
  `Versions of relevant libraries:` with `[pip3]` and `[conda]` lines;
- vLLM's copy: the same keys, plus `vLLM Version`, `vLLM Build Flags`,
  `GPU Topology:` and the environment variables it prints (`NAME=value`); newer
  vLLM aligns the keys (`PyTorch version              : 2.7.0`) under banner
  lines (`=====` / `System Info`).

Only lines whose key is known are read; a value that says "Could not collect",
"N/A" or does not look like what the key promises is not observed, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from envlock.pasted.accel_lines import accelerator_line
from envlock.pasted.draft import TORCH_NOT_IMPORTED, VLLM_REPORT, Draft, normalize
from envlock.pasted.lscpu import cpu_system, cpu_toolchain
from envlock.pasted.os_lines import mac_line, os_line, windows_platform, wsl1
from envlock.pasted.pip_torch import torch_from_pip_list
from envlock.pasted.python_paths import python_from_paste_paths
from envlock.pasted.signals import collect_env_signals
from envlock.pasted.toolreading import TORCH_VERSION
from envlock.pasted.torch_warnings import torch_warnings
from envlock.probe.envvars import is_allowed, is_secret_name, mask_url_credentials

# key (lowercase, single spaces) -> field name
KEYS = {
    "pytorch version": "torch_version",
    "is debug build": "debug",
    "cuda used to build pytorch": "torch_cuda",
    "rocm used to build pytorch": "torch_hip",
    "os": "os",
    "gcc version": "gcc",
    "clang version": "clang",
    "cmake version": "cmake",
    "libc version": "libc",
    "python version": "python",
    "python platform": "platform",
    "is cuda available": "cuda_available",
    "cuda runtime version": "nvcc",
    "cuda_module_loading set to": "module_loading",
    "gpu models and configuration": "gpus",
    "nvidia driver version": "driver",
    "cudnn version": "cudnn",
    "hip runtime version": "hip_runtime",
    "miopen runtime version": "miopen",
    "is xnnpack available": "xnnpack",
    "cpu": "cpu",
    "versions of relevant libraries": "versions",
    "version of relevant libraries": "versions",
    "vllm version": "vllm",
    "vllm build flags": "vllm_flags",
    "gpu topology": "topology",
    "rocm version": "rocm",
    "neuron sdk version": "neuron",
}
# blocks: the lines after the key line belong to it until the next known key
BLOCKS = frozenset({"gpus", "cudnn", "cpu", "versions", "vllm_flags", "topology"})

# Every pattern below is anchored or starts with a literal, and none has two unbounded
# repeats that can share characters: each line costs time linear in its length (issue 19;
# a lazy `(.+?)` before a literal, tried at every 'Found GPU', took minutes on one line).
# A key line, "Key: value" ("Key    : value" in newer vLLM), is split at its first colon.
_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_ ]{0,40}")
# "PyTorch version 1.5.0": the colon lost in an edited paste (pytorch/pytorch#37320)
_NO_COLON = re.compile(r"^\s{0,4}(PyTorch version)\s+(\d.*)$")
_QUOTE = re.compile(r"^\s{0,3}>\s?")
_VERSION = re.compile(r"^v?(\d+\.\d+(?:\.\d+)*)")
_TORCH_VERSION = re.compile(rf"^({TORCH_VERSION})")
# matched on the stripped line: "GPU 0: NVIDIA A100-SXM4-80GB"
_GPU_LINE = re.compile(r"GPU (\d{1,3})[:\uff1a]\s*(.+)")
_PIP_EQ = re.compile(r"^\[(pip3?|uv)\]\s+([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*(\S+)")
_PIP_PAREN = re.compile(r"^\[(pip3?)\]\s+([A-Za-z0-9][A-Za-z0-9._-]*)\s+\(([^)\s]+)\)")
# "[conda] pytorch  2.0.1  py3.10_cuda11.8_cudnn8.7.0_0  pytorch": name, version, build
_CONDA = re.compile(r"^\[conda\]\s+([A-Za-z0-9][A-Za-z0-9._-]*)\s+(\d[^\s]*)(?:\s+(\S+))?")
_ENV_LINE = re.compile(r"^([A-Z][A-Z0-9_]{1,80})=(.*)$")
# one word of a cuDNN block line (split at separators): a library file name
_CUDNN_FILE = re.compile(r"libcudnn\w*\.so[\d.]*|cudnn\w*64_\d+\.dll")
_WORD_SEPARATORS = re.compile(r"[^\w.]+")
_NOT_COLLECTED = ("could not collect", "n/a", "none", "no cuda", "")
_SUFFIX_CUDA = re.compile(r"\+cu(\d{2,4})$")
_BANNER = re.compile(r"^\s*(=+|-+|\*+)\s*$")


def looks_like_collect_env(text: str) -> bool:
    return bool(
        re.search(
            r"(?m)^[ \t]*(PyTorch version|CUDA used to build PyTorch|Is CUDA available)[ \t]*:",
            text,
        )
    )


# Section headings of newer reports: each ends the block before it.
_HEADINGS = frozenset(
    {
        "environment variables",
        "system info",
        "pytorch info",
        "python environment",
        "cuda / gpu info",
        "cpu info",
        "versions of relevant libraries",
        "vllm info",
    }
)
# the headings only vLLM's copy prints (torch's collect_env has none of them)
_VLLM_HEADINGS = frozenset({"system info", "pytorch info", "cuda / gpu info", "vllm info"})
# Variables read outside an "Environment Variables" block (and outside vLLM's reports).
_ENV_PREFIXES = ("CUDA_", "NCCL_", "NVIDIA_", "TORCH_", "PYTORCH_", "VLLM_", "LD_LIBRARY_PATH")
# an unquoted value, a blank, then a command word (a program or a path: lower case, no '='
# or ','), as in `CUDA_VISIBLE_DEVICES=0,1 torchrun ...`; linear in the line's length
_COMMAND_AFTER = re.compile(r"[^\s\"']\S*\s+[a-z/.~][\w./~-]*(?:\s|$)")


@dataclass
class _Reading:
    """Where parse_collect_env is: the fields read (name -> lines), the block being read."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    current: str | None = None
    in_env_block: bool = False
    vllm: bool = False  # one of vLLM's own section headings was read


def parse_collect_env(text: str, draft: Draft) -> int:
    """Read collect_env text into `draft`; returns how many known fields were read."""
    r, heading, said = _Reading(), False, 0
    for raw in text.splitlines():
        line = _QUOTE.sub("", raw.rstrip(), count=1)
        said += torch_warnings(line, draft)
        accelerator_line(line, draft)
        mac_line(line, draft)
        no_colon = _NO_COLON.match(line)
        if no_colon:
            line = f"{no_colon.group(1)}: {no_colon.group(2)}"
        if _BANNER.match(line):
            # vLLM's sectioned layout: the banner after a heading closes it, not its block
            r.current, heading = (r.current if heading else None), False
            continue
        stripped = line.strip()
        heading = _heading(r, stripped.lower()) or (heading and not stripped)  # blanks after it
        if not heading and not _known_key(r, line, stripped):
            _block_or_env(r, stripped, draft)
    _apply(r.fields, draft)
    if r.vllm:
        draft.note(VLLM_REPORT)
    python_from_paste_paths(text, draft)
    # an excerpt cut before its first key, or a paste of torch's own message alone, may hold
    # only what torch printed: its GPUs and their capabilities, its arch list, the cuDNN it
    # found, its word on the driver are read all the same (a report of what torch stated)
    return len(r.fields) or said


def _heading(r: _Reading, heading: str) -> bool:
    """A section heading (lowercased): it ends the block before it; True if it was one."""
    if heading not in _HEADINGS:
        return False
    if heading in _VLLM_HEADINGS:
        r.vllm = True
    r.in_env_block = heading == "environment variables"
    if heading == "versions of relevant libraries":
        r.current = "versions"
        r.fields.setdefault("versions", [""])
    else:
        r.current = None
    return True


def _known_key(r: _Reading, line: str, stripped: str) -> bool:
    """A "Key: value" line of a known key: its field (a block's first line); True if it was one."""
    m = _key_line(line)
    key = " ".join(m[0].lower().split()) if m else ""
    if not m or key not in KEYS or _GPU_LINE.match(stripped):
        return False
    name = KEYS[key]
    # the CPU block's own keys (lscpu "CPU(s):" etc.) never collide with these
    if name in r.fields and name not in BLOCKS:
        r.current = None
        return True  # a second copy (two reports pasted): the first wins
    r.fields[name] = [m[1].strip()]
    r.current = name if name in BLOCKS else None
    r.in_env_block = False
    return True


def _block_or_env(r: _Reading, stripped: str, draft: Draft) -> None:
    """Any other line: part of the block being read, or an environment variable."""
    env = _ENV_LINE.match(stripped) if r.current != "cpu" else None
    if r.current is not None and r.current in BLOCKS and env is None:
        if stripped:
            r.fields[r.current].append(stripped)
        return
    if env is None:
        return
    # outside an environment block, 'NAME=value cmd args' is one command's assignment prefix
    # (`CUDA_VISIBLE_DEVICES=1 llamafactory-cli train \`), not the environment; a value's own
    # blanks ('7.0 7.5+PTX', 'cuda>=12.1 brand=tesla,...') are kept
    if r.in_env_block or (
        ("vllm" in r.fields or env.group(1).startswith(_ENV_PREFIXES))
        and not _COMMAND_AFTER.match(env.group(2))
    ):
        _env(draft, env.group(1), env.group(2))


def _key_line(line: str) -> tuple[str, str] | None:
    """("Key", "value") of a "Key: value" line (up to 4 spaces before the key, a full-width
    colon too); None for any other line."""
    colon = min((i for i in (line.find(":"), line.find("\uff1a")) if i >= 0), default=-1)
    if colon < 0:
        return None
    head = line[:colon].rstrip()
    key = head.lstrip()
    if len(head) - len(key) > 4 or not _KEY.fullmatch(key):
        return None
    value = line[colon + 1 :]
    return key, value[1:] if value[:1].isspace() else value


def _cudnn_files(line: str) -> list[str]:
    """The cuDNN library file names in a line of collect_env's cuDNN block, as
    `_CUDNN_FILE.findall` finds them, each run of word characters tried at most twice."""
    found = []
    for word in _WORD_SEPARATORS.split(line):
        pos = 0
        while (at := word.find("cudnn", pos)) >= 0:
            lib = at >= pos + 3 and word.startswith("lib", at - 3)
            m = (lib and _CUDNN_FILE.match(word, at - 3)) or _CUDNN_FILE.match(word, at)
            if not m:
                # Either form matches only where this run of word characters ends (in .so or
                # 64_N.dll): a later "cudnn" in the run fails too, a later "libcudnn" is
                # still worth one try if there was no "lib" here.
                run_end = word.find(".", at)
                run_end = len(word) if run_end < 0 else run_end
                later = -1 if lib else word.find("libcudnn", at, run_end)
                m = _CUDNN_FILE.match(word, later) if later >= 0 else None
                if not m:
                    pos = run_end
                    continue
            found.append(m.group())
            pos = m.end()
    return found


def _env(draft: Draft, name: str, value: str) -> None:
    if is_secret_name(name):
        if name not in draft.redacted:
            draft.redacted.append(name)
    elif is_allowed(name) or name.startswith("VLLM_"):
        draft.env.setdefault(name, mask_url_credentials(value))


def _value(fields: dict[str, list[str]], name: str) -> str | None:
    lines = fields.get(name)
    if not lines:
        return None
    v = lines[0].strip()
    return None if v.lower() in _NOT_COLLECTED else v


def _bool(value: str | None) -> bool | None:
    if value is None:
        return None
    v = value.strip().lower()
    return True if v in ("true", "yes") else False if v in ("false", "no") else None


def _version(value: str | None) -> str | None:
    m = _VERSION.match(value or "")
    return m.group(1) if m else None


def _apply(fields: dict[str, list[str]], d: Draft) -> None:
    _torch(fields, d)
    _system(fields, d)
    _gpus(fields, d)
    drv = _version(_value(fields, "driver"))
    d.set_default(d.driver, "version", drv)
    nvcc = _version(_value(fields, "nvcc"))
    if nvcc:
        d.set_default(d.toolkit, "nvcc_version", nvcc)
    for line in fields.get("cudnn", []):
        d.system_libraries.extend(_cudnn_files(line))
    if fields.get("cudnn") and d.system_libraries:
        d.note("cuDNN: collect_env lists the cuDNN files on the system, not the one torch loads")
    _toolchain(fields, d)
    _versions(fields.get("versions", []), d)
    torch_from_pip_list(d, fields)
    vllm = _value(fields, "vllm")
    if vllm:
        d.note(f"vLLM version {vllm[:60]}")
    collect_env_signals(fields, d)


def _torch(fields: dict[str, list[str]], d: Draft) -> None:
    raw = fields.get("torch_version")
    if raw is None:
        return
    version = _torch_version(raw[0].strip(), d)
    if version is None:
        return
    hip = _value(fields, "torch_hip")
    cuda, cuda_known = _torch_cuda(fields.get("torch_cuda"), hip, version)
    hip_version = _version(hip) if hip else None
    if not cuda_known and hip_version is None:
        d.torch["unavailable"] = "the report does not say which CUDA torch was built with"
        d.torch["version"] = version
        return
    d.torch.update({"installed": True, "version": version, "cuda": cuda, "hip": hip_version})
    d.torch["build"] = _torch_build(version, hip_version, cuda)
    debug = _bool(_value(fields, "debug"))
    if debug is not None:
        d.torch["debug"] = debug
    if hip_version:
        d.note(f"ROCm build of torch (HIP {hip_version}): the NVIDIA checks do not apply")
    available = _bool(_value(fields, "cuda_available"))
    if available is not None:
        d.live["cuda_available"] = available
    xnnpack = _bool(_value(fields, "xnnpack"))
    if xnnpack is not None:
        d.live["xnnpack"] = xnnpack


def _torch_version(value: str, d: Draft) -> str | None:
    """torch's version from its line; None (noted) when torch was not imported or the
    value is not a version."""
    m = _TORCH_VERSION.match(value)
    if value.lower() in ("n/a", "none"):
        d.torch["installed"] = False
        d.note(TORCH_NOT_IMPORTED)
        return None
    if not m:
        d.note(f"PyTorch version {value[:40]!r} not understood")
        return None
    return m.group(1)


def _torch_cuda(built: list[str] | None, hip: str | None, version: str) -> tuple[str | None, bool]:
    """(torch.version.cuda, whether the report says it): from "CUDA used to build PyTorch",
    else from the version's local part (+cu121, +cpu)."""
    if built is not None:
        b = built[0].strip()
        # collect_env prints torch.version.cuda; its pretty_str() writes every None as
        # "Could not collect" (or "None" when no CUDA at all is seen): with torch imported
        # (its version printed), both mean torch.version.cuda is None, a CPU (or ROCm) build.
        if b.lower() in ("none", "could not collect") or (b.lower() == "n/a" and hip):
            return None, True
        if _version(b):
            return _version(b), True
    s = _SUFFIX_CUDA.search(version)
    if s:
        digits = s.group(1)
        return f"{digits[:-1]}.{digits[-1]}", True
    if version.endswith("+cpu"):
        return None, True
    return None, False


def _torch_build(version: str, hip_version: str | None, cuda: str | None) -> str:
    """The build torch's version names (cu121, cpu, rocm6.0, xpu), else the one its CUDA or
    HIP version implies."""
    suffix = version.partition("+")[2]
    if re.fullmatch(r"cu\d+|cpu|rocm[\d.]+|xpu", suffix):
        return suffix  # a local version such as +9ddd3df (a git hash) names no build
    if hip_version:
        return f"rocm{hip_version}"
    if cuda:
        major, _, rest = cuda.partition(".")
        return f"cu{major}{rest.partition('.')[0]}"
    return "cpu"


def _system(fields: dict[str, list[str]], d: Draft) -> None:
    os_line(_value(fields, "os"), d)
    libc = _value(fields, "libc")
    if libc:
        m = re.match(r"glibc-(\d+\.\d+)", libc)
        if m:
            d.system["glibc"] = m.group(1)
    _python(_value(fields, "python"), d)
    plat = _value(fields, "platform")
    if plat:
        m = re.match(r"Linux-(.+?)-(x86_64|aarch64|ppc64le|s390x)(?:-with|$)", plat)
        if m:
            d.system["kernel"] = m.group(1)
            d.set_default(d.system, "arch", m.group(2))
            if wsl1(m.group(1)) and d.gpus is None:
                d.gpus = []  # no GPU can be there, whatever the paste left out
                d.note(f"WSL 1 (kernel {m.group(1)}): no GPU is reachable there")
        windows_platform(plat, d)
    cpu_system(fields.get("cpu", [])[1:], d)


def _python(py: str | None, d: Draft) -> None:
    v = _version(py) if py else None
    if py and v:
        impl = (
            "PyPy"
            if "PyPy" in py
            else ("CPython" if re.search(r"\[(GCC|MSC|Clang)", py) else "unknown")
        )
        d.system["python"] = {"version": v, "implementation": impl}


_TOOL_VERSION = {
    # (?<!\d): a run of digits is tried once, not from each of its digits
    "gcc": r"(?<!\d)(\d+\.\d+(?:\.\d+)?)",
    "clang": r"^(\d+\.\d+(?:\.\d+)?)",
    "cmake": r"version (\d+\.\d+(?:\.\d+)?)",
}


def _toolchain(fields: dict[str, list[str]], d: Draft) -> None:
    """GCC/Clang/CMake lines and the CPU block's Flags and NUMA lines (the probe's toolchain)."""
    compilers: dict[str, str | None] = {}
    for name, pattern in _TOOL_VERSION.items():
        value = _value(fields, name)
        m = re.search(pattern, value or "")
        if m:
            compilers[name] = m.group(1)
    if compilers:
        d.toolchain["compilers"] = compilers
    cpu_toolchain(fields.get("cpu", [])[1:], d)


def _gpus(fields: dict[str, list[str]], d: Draft) -> None:
    lines = fields.get("gpus")
    nvcc = fields.get("nvcc")
    no_cuda = nvcc is not None and nvcc[0].strip().lower() == "no cuda"
    if lines is None and no_cuda and _bool(_value(fields, "cuda_available")) is False:
        # collect_env writes 'No CUDA' for the runtime only when CUDA is unavailable and the
        # GPU models and driver are missing too (pretty_str's all_dynamic_cuda_fields_missing):
        # a report trimmed of its GPU lines says it all the same (pytorch-189803)
        lines = ["No CUDA"]
    if lines is None:
        _warned_gpus(d)
        return
    first = lines[0].strip().lower()
    if first == "no cuda":
        d.gpus = d.gpus if d.gpus is not None else []
        d.note("collect_env found no NVIDIA GPU or driver (GPU models: No CUDA)")
        return
    if d.torch.get("hip"):
        return  # AMD GPUs: not NVIDIA facts
    for line in lines:
        m = _GPU_LINE.match(line)
        if m:
            name = _without_uuid(m.group(2))
            d.add_gpu(
                {
                    "index": int(m.group(1)),
                    "name": name[:120],
                    "compute_capability": d.warned_capabilities.get(name),
                }
            )
    _warned_gpus(d)


def _warned_gpus(d: Draft) -> None:
    """The GPUs torch's own capability warning names, when the report lists none (cut
    before its GPU lines, or 'Could not collect'): torch saw them, with that capability."""
    if d.gpus is not None or d.torch.get("hip"):
        return
    for index, (name, capability) in enumerate(d.warned_capabilities.items()):
        d.add_gpu({"index": index, "name": name[:120], "compute_capability": capability})


def _without_uuid(name: str) -> str:
    """A GPU line's name without its "(UUID: GPU-...)"."""
    name = name.rstrip()
    at = name.rfind("(UUID: ")
    if at >= 0 and name.endswith(")") and ")" not in name[at:-1]:
        name = name[:at]
    return name.strip()


def _versions(lines: list[str], d: Draft) -> None:
    for line in lines:
        s = line.strip()
        m = _PIP_EQ.match(s) or _PIP_PAREN.match(s)
        if m:
            d.add_package(m.group(2), m.group(3))
            continue
        c = _CONDA.match(s)
        if c and len(d.conda) < 500:
            # "version build", as the probe records conda-meta's file names
            d.conda.setdefault(normalize(c.group(1)), " ".join(filter(None, c.group(2, 3))))

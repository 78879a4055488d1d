"""detectron2's own environment table (`python -m detectron2.utils.collect_env`), read as the
collect_env facts it holds.

detectron2 prints a two-column table (tabulate, under and over dashed rules), then torch's
`torch.__config__.show()` ("PyTorch built with:"):

    sys.platform            linux
    Python                  3.8.2 (default, Mar 26 2020, 15:53:00) [GCC 7.3.0]
    detectron2              0.1.3 @/home/u/detectron2/detectron2
    CUDA compiler           10.0                       (what detectron2's _C was built by)
    detectron2 arch flags   sm_37                      (7.5 / 3.5, 5.0 in newer releases)
    PyTorch                 1.4.0 @/path/torch
    PyTorch debug build     False
    CUDA available          True                       (GPU available since 0.2)
    GPU 0,1                 GeForce GTX TITAN X (arch=5.2)
    Driver version          460.32.03                  (some releases)
    NVCC                    Cuda compilation tools, release 10.1, V10.1.105
    torchvision             0.5.0 @/path/torchvision
    torchvision arch flags  3.5, 5.0, 6.0, 7.0, 7.5
      - CUDA Runtime 10.1
      - NVCC architecture flags: -gencode;arch=compute_37,code=sm_37;...

The arch flags of detectron2's and torchvision's CUDA extensions are what cuobjdump
--list-elf lists (detectron2/utils/collect_env.py, detect_compute_compatibility): their SASS
only; PTX is not shown (torch's cpp_extension embeds none unless TORCH_CUDA_ARCH_LIST says
"+PTX", before 1.8). A path instead of flags means cuobjdump found no device code or is
missing: nothing is read. Each extension becomes an `extensions` item, judged by the checks
that judge the live scan's (checks/extensions.py). The GPUs' capabilities ("arch=5.2") come
back beside the text.

The rows become the collect_env lines they are (`PyTorch version:`, `Is CUDA available:`,
`GPU n:`, ...), which envlock/pasted/collect_env.py reads; every other line is kept. Rows are
found by their known keys, also where a hard wrap's undoing joined two of them on one line.
Where torch's own config (its "CUDA Runtime") is not in the paste, torch's CUDA is still
known when detectron2's _C was compiled by a CUDA whose major only one official build of
that torch release has: torch's cpp_extension builds an extension only with an nvcc of
torch's own CUDA major (its CUDA_MISMATCH_MESSAGE), so that build is torch's (noted).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from envlock.pasted.draft import Draft, rewritten_as_collect_env
from envlock.probe.shapes import ExtensionDoc

# detectron2's keys, as its releases print them (longest first where one starts another)
_KEYS = (
    "detectron2 CUDA compiler",
    "detectron2 arch flags",
    "detectron2 compiler",
    "detectron2._C",
    "detectron2",
    "DETECTRON2_ENV_MODULE",
    "torchvision arch flags",
    "torchvision._C",
    "torchvision",
    "PyTorch debug build",
    "PyTorch",
    "sys.platform",
    "Python",
    "numpy",
    "Compiler ($CXX)",
    "Compiler",
    "CUDA compiler",
    "CUDA available",
    "GPU available",
    "CUDA_HOME",
    "ROCM_HOME",
    "TORCH_CUDA_ARCH_LIST",
    "NVCC",
    "Driver version",
    "Pillow",
    "fvcore",
    "iopath",
    "cv2",
)
# A row's key where a row can start: at the line's start, or after a blank or a dashed rule
# (rows a hard wrap's undoing joined); the keys that end a joined path ("...torchvision" +
# "torchvision arch flags") start anywhere. Then blanks and the value.
_ANYWHERE = ("torchvision arch flags", "detectron2 arch flags", "PyTorch debug build")
_ROW_AT = re.compile(
    r"(?:(?<![^\s-])(?:"
    + "|".join(re.escape(k) for k in _KEYS)
    + r"|GPU \d{1,3}(?:,\d{1,3}){0,255})|"
    + "|".join(re.escape(k) for k in _ANYWHERE)
    + r")(?=[ \t]+\S)"
)
# what a paste put before a row that the layout step left (a list bullet, an indentation:
# it strips them where collect_env's keys show, which a detectron2 table has none of)
_DECORATION = re.compile(r"^[ \t]*+(?:[-*+>][ \t]++)*+")
_RULE = re.compile(r"-{5,}(?:[ \t]+-{5,})?")
# what makes a table of this layout: its own keys (torch's collect_env has none of them),
# wherever a line holds them (after a bullet, or flattened onto one line)
_SIGNS = re.compile(
    r"(?<!\S)(?:DETECTRON2_ENV_MODULE|detectron2 arch flags|PyTorch debug build)[ \t]+\S"
    # a fragment's rows: a package's version and where it was imported from, after the
    # table's blanks ("PyTorch   1.4.0 @/.../site-packages/torch"), which only this table prints
    r"|(?<!\S)(?:PyTorch|torchvision|detectron2)[ \t]{1,40}+\d[\w.+]{0,40}+ @(?:/|[A-Za-z]:\\)"
)
_GPU = re.compile(r"GPU ((?:\d{1,3},)*\d{1,3})$")
_ARCH = re.compile(r"^(.*?)[ \t]*\(arch=(\d{1,2}\.\d)\)$")
_VERSION = re.compile(r"^(\d[\w.+!-]*)")
_FLAG_ITEM = re.compile(r"^(?:sm_(\d{2,3})[a-z]?|(\d{1,2})\.(\d))$")
_RELEASE = re.compile(r"release (\d+\.\d+), V(\d+\.\d+(?:\.\d+)?)")
# torch.__config__.show()'s lines
_CUDA_RUNTIME = re.compile(r"(?<![\w.])CUDA Runtime (\d{1,2}\.\d)")
_NVCC_FLAGS = re.compile(r"NVCC architecture flags:[ \t]{1,8}([\w=,;-]{1,2000})")
_CODE = re.compile(r"code=((?:sm|compute)_\d{2,3}[a-z]?)")
# key (lowercase) -> the collect_env key its value is
_FIELDS = {
    "pytorch": "PyTorch version",
    "pytorch debug build": "Is debug build",
    "cuda available": "Is CUDA available",
    "gpu available": "Is CUDA available",
    "driver version": "Nvidia driver version",
    "python": "Python version",
}
# packages, by the distribution name pip knows them by
_PACKAGES = {
    "numpy": "numpy",
    "detectron2": "detectron2",
    "torchvision": "torchvision",
    "pillow": "pillow",
    "fvcore": "fvcore",
    "iopath": "iopath",
}
_EXTENSIONS = {"detectron2 arch flags": "detectron2", "torchvision arch flags": "torchvision"}
_SASS_ONLY = (
    "arch flags from detectron2's collect_env (cuobjdump --list-elf): its SASS; PTX not listed"
)


@dataclass
class D2Table:
    """A detectron2 table as collect_env lines, and what collect_env has no line for."""

    text: str
    capabilities: dict[int, str] = field(default_factory=dict)
    extensions: list[ExtensionDoc] = field(default_factory=list)
    torch_arch_flags: list[str] = field(default_factory=list)
    env: list[str] = field(default_factory=list)  # NAME=value lines
    notes: list[str] = field(default_factory=list)


def looks_like_d2table(text: str) -> bool:
    return bool(_SIGNS.search(text))


def rows(line: str) -> list[tuple[str, str]]:
    """The (key, value) rows in one line: one, or several a hard wrap's undoing joined."""
    found = list(_ROW_AT.finditer(line))
    ends = [m.start() for m in found[1:]] + [len(line)] if found else []
    out: list[tuple[str, str]] = []
    for m, end in zip(found, ends, strict=True):
        value = _unquoted(_RULE.sub("", line[m.end() : end]).strip())
        if value:
            out.append((m.group(0), value))
    return out


def _unquoted(value: str) -> str:
    """A row's value without the quote markers a flattened reply left after it (' >  >');
    a value's own '>' ('<not set>') is kept."""
    kept = value.rstrip(" \t>")
    return kept if value[len(kept) : len(kept) + 1] in (" ", "\t") else value


def as_collect_env(text: str) -> D2Table:
    fields: dict[str, str] = {}
    gpus: dict[int, str] = {}
    out = D2Table("")
    packages: list[str] = []
    kept: list[str] = []
    for line in text.split("\n"):
        found = rows(_DECORATION.sub("", line, count=1))
        for key, value in found:
            _row(key, value, fields, gpus, out, packages)
        if not found and not _RULE.fullmatch(line.strip()):
            kept.append(line)
    _config(text, fields, out)
    _torch_cuda(fields, out)
    lines = [f"{key}: {value}" for key, value in fields.items()] + out.env
    out.text = rewritten_as_collect_env(kept, lines, gpus, packages)
    return out


def _row(
    key: str,
    value: str,
    fields: dict[str, str],
    gpus: dict[int, str],
    out: D2Table,
    packages: list[str],
) -> None:
    low = key.lower()
    if low in _FIELDS:
        # "1.4.0 @/path/torch": the version; a Python line is kept whole; 0.6's "GPU
        # available  No: torch.cuda.is_available() == False" is its first word
        kept = value if low == "python" else value.split(" @", 1)[0].strip()
        kept = kept.split(":", 1)[0] if low.endswith("available") else kept
        fields.setdefault(_FIELDS[low], kept)
    elif low == "nvcc":
        m = _RELEASE.search(value)
        if m:
            fields.setdefault("CUDA runtime version", m.group(2))
    elif low == "torch_cuda_arch_list":
        out.env.append(f"TORCH_CUDA_ARCH_LIST={value}")
    elif low in _EXTENSIONS:
        _extension(_EXTENSIONS[low], value, out)
    elif _GPU.match(key):
        _gpu(key, value, gpus, out)
    elif low in _PACKAGES:
        m = _VERSION.match(value)
        if m:
            packages.append(f"[pip3] {_PACKAGES[low]}=={m.group(1)}")


def _gpu(key: str, value: str, gpus: dict[int, str], out: D2Table) -> None:
    """ "GPU 0,1  GeForce GTX TITAN X (arch=5.2)": one GPU line per index, and its capability."""
    m = _GPU.match(key)
    assert m is not None
    arch = _ARCH.match(value)
    name = arch.group(1) if arch else value
    for index in m.group(1).split(","):
        gpus.setdefault(int(index), name)
        if arch:
            out.capabilities.setdefault(int(index), arch.group(2))


def _extension(distribution: str, value: str, out: D2Table) -> None:
    """An extension's arch flags ("sm_37", "7.5", "3.5, 5.0, 6.0"); a path (cuobjdump found
    no device code, or is missing) reads as nothing."""
    sass = []
    for item in value.split(","):
        m = _FLAG_ITEM.match(item.strip())
        if m is None:
            return
        digits = m.group(1) or f"{m.group(2)}{m.group(3)}"
        sass.append(f"sm_{digits}")
    if sass and not any(e["distribution"] == distribution for e in out.extensions):
        out.extensions.append(
            {
                "distribution": distribution,
                "file": f"{distribution}/_C",
                "links": [],
                "sass": sass,
                "ptx": [],
                "partial": _SASS_ONLY,
            }
        )


def _config(text: str, fields: dict[str, str], out: D2Table) -> None:
    """torch.__config__.show() below the table: torch's CUDA and its arch list."""
    at = text.find("PyTorch built with:")
    if at < 0:
        return
    config = text[at:]
    cuda = _CUDA_RUNTIME.search(config)
    if cuda:
        fields.setdefault("CUDA used to build PyTorch", cuda.group(1))
    flags = _NVCC_FLAGS.search(config)
    if flags:
        out.torch_arch_flags = _CODE.findall(flags.group(1))


def parse_any_report(text: str, draft: Draft) -> int:
    """A pasted report into `draft`: a detectron2 table as the collect_env lines it holds,
    anything else as envlock/pasted/check_env.py reads it (collect_env, check_env)."""
    from envlock.pasted.check_env import parse_report

    if looks_like_d2table(text):
        return parse_d2table(text, draft, parse_report)
    return parse_report(text, draft)


def parse_d2table(text: str, draft: Draft, parse: Callable[[str, Draft], int]) -> int:
    """Read a detectron2 table into `draft` through `parse` (the collect_env reader); returns
    its count, with the extensions read."""
    table = as_collect_env(text)
    read = parse(table.text, draft)
    draft.note("detectron2's collect_env table (python -m detectron2.utils.collect_env): read")
    for note in table.notes:
        draft.note(note)
    for gpu in draft.gpus or []:
        draft.set_default(gpu, "compute_capability", table.capabilities.get(gpu["index"]))
    for ext in table.extensions:
        if not any(e.get("file") == ext["file"] for e in draft.extensions):
            draft.extensions.append(ext)
    if table.torch_arch_flags:
        draft.live.setdefault("arch_flags", table.torch_arch_flags)
    return read + len(table.extensions)


def _torch_cuda(fields: dict[str, str], out: D2Table) -> None:
    """torch's CUDA where the paste does not state it, bounded by torchvision's GPU code:
    torchvision refuses to import beside a torch of another CUDA (its extension.py
    _check_cuda_version; detectron2's table imports it), so torch's CUDA is at least the first
    CUDA that knew torchvision's newest SASS; where one official build of torch's release
    has such a CUDA, it is torch's (detectron2-2910: sm_80 needs CUDA 11.0, torch 1.7's
    only such build is cu110)."""
    version = fields.get("PyTorch version", "")
    tv_ext = next((e for e in out.extensions if e["distribution"] == "torchvision"), None)
    if "CUDA used to build PyTorch" in fields or tv_ext is None or "+" in version:
        return
    from envlock.matrix import Version, load_matrix

    matrix, tv = load_matrix(), Version.of(version)
    release = matrix.torch_release(tv) if tv is not None else None
    newest = max((Version.parse(f"{f[3:-1]}.{f[-1]}") for f in tv_ext["sass"]), default=None)
    known = matrix.capability(newest) if newest is not None else None
    if release is None or known is None:
        return
    floor = known.first_cuda.truncate(2)
    builds = [v for v in release.variants if v.cuda.truncate(2) >= floor]
    if len(builds) != 1:
        return
    cuda = builds[0].cuda.truncate(2)
    fields["CUDA used to build PyTorch"] = str(cuda)
    out.notes.append(
        f"torch's CUDA {cuda}: torchvision imports only beside a torch of its own CUDA, its "
        f"sm_{known.sm.major}{known.sm.minor} code needs CUDA {floor} or newer, and torch "
        f"{release.release}'s only such official build is {builds[0].name}"
    )

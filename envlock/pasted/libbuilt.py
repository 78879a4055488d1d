"""A compiled library's own words about what it was built for, beside what is installed.

Each wording is its library's source (session 13, issue21-s13):

- torchvision's extension.py (0.5 on), torchaudio's _extension (0.10 on), PyG's extensions
  (torch_scatter, torch_sparse, torch_cluster, torch_spline_conv __init__.py, from 2.0) and
  the libraries that copy their check (Falkon's):
      RuntimeError: Detected that PyTorch and torch_sparse were compiled with different CUDA
      versions. PyTorch has CUDA version 10.2 and torch_sparse has CUDA version 11.1.
  ("CUDA Version=11.3 and torchvision has CUDA Version=11.1"; torch_scatter 2.0.3's
  "CUDA version=10.1"; torchaudio's "CUDA version 13.0 whereas TorchAudio has CUDA version
  12.8"): the library becomes an `extensions` item of that CUDA major, and torch's CUDA is
  the one the message states (`read_torch_cuda`: set in the draft directly, as a collect_env
  line cannot carry it without torch's version). Another major is EL-EXT-CUDA-MAJOR's
  (checks/extensions.py); a minor one torchvision and torchaudio refuse too, which is said in
  a note. A template's placeholder name ("Extension") names no distribution and is not read,
  nor is a CUDA of 0.x (a build without CUDA).
- Open3D's python/open3d/ml/torch/__init__.py (0.11 on; "Pytorch" in 0.11):
      Version mismatch: Open3D needs PyTorch version 1.7.*, but version 1.8.2 is installed!
  its PyTorch ops were built for torch 1.7: an item with that `built_for_torch` beside torch
  1.8.2 (EL-EXT-TORCH-ABI); and its later warning "Open3D was built with CUDA 11.8 but
  PyTorch was built with CUDA 12.1." (its ops' CUDA, torch's).
- spconv's get_arch (spconv/pytorch/cppcore.py, 2.1.21 on):
      [WARNING]your gpu arch (8, 6) isn't compiled in prebuilt, may cause invalid device
      function. available: {(6, 1), (3, 7), (7, 0), (5, 0), (6, 0), (7, 5), (5, 2)}
  (2.2 adds " error"): the GPU it ran on (that capability, SPCONV_GPU where no name is
  stated) and spconv's prebuilt kernels (SASS of the listed archs), judged by
  EL-EXT-ARCH-UNSUPPORTED on torch's own rule (an sm_80 kernel runs on an 8.6 GPU: spconv's
  exact-match warning alone is then no finding).
- PyG's wheel index in the pip command the reporter ran: "pip install torch_scatter ... -f
  https://data.pyg.org/whl/torch-1.13.0+cu117.html" (pytorch-geometric.com/whl before 2022)
  installs each named PyG extension built for torch 1.13.0+cu117 (checks/builtfor.py's pyg
  scheme names the same index): an item per package with that `built_for_torch`. A command a
  line asks about, plans or proposes is not read, nor a text where pip found no such
  distribution (nothing was installed).

A message told as another machine's or as gone (pasted/hearsay.py) is not read. Each literal
is found with str.find in the text with its blanks squeezed (a paste may wrap a message), and
a bounded match runs from there: linear time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from envlock.pasted.draft import Draft
from envlock.pasted.hearsay import not_this_machines_in
from envlock.pasted.toolreading import TORCH_VERSION, ToolReading
from envlock.probe.shapes import ExtensionDoc

PARTIAL = "read from the library's own message in the paste, not from its file"
SPCONV_GPU = "the GPU spconv ran on"
_MAX_ITEMS = 8

_PAIR_AT = "pytorch has cuda version"
_PAIR = re.compile(
    r"pytorch has cuda version ?=? ?(\d{1,2})\.(\d{1,2})\.? (?:and|whereas) "
    r"([a-z_][a-z0-9_.-]{0,40}) has cuda version ?=? ?(\d{1,2})\.(\d{1,2})"
)
_PLACEHOLDERS = frozenset({"extension", "torch", "pytorch"})
_OPEN3D_AT = "open3d needs pytorch version "
_OPEN3D = re.compile(
    rf"open3d needs pytorch version (\d{{1,2}})\.(\d{{1,3}})\.\*, but version "
    rf"({TORCH_VERSION}) is installed"
)
_OPEN3D_CUDA_AT = "open3d was built with cuda "
_OPEN3D_CUDA = re.compile(
    r"open3d was built with cuda (\d{1,2})\.(\d{1,2})(?:\.\d{1,3})? but pytorch was built "
    r"with cuda (\d{1,2})\.(\d{1,2})"
)
_SPCONV_AT = "your gpu arch ("
_SPCONV = re.compile(
    r"your gpu arch \((\d{1,2}), ?(\d)\) isn['\u2019]?t compiled in prebuilt, may cause "
    r"invalid device function(?: error)?\.? available: \{((?:\(\d{1,2}, ?\d\)(?:, )?){1,40})\}"
)
_SPCONV_ARCH = re.compile(r"\((\d{1,2}), ?(\d)\)")
_PYG_AT = "/whl/torch-"
_COMMAND_REACH = 600  # how far before its index a pip command and the words before it are read
_PYG_INDEX = re.compile(
    r"(?:-f|--find-links)[ =]{1,3}['\"]?https?://(?:data\.pyg\.org|pytorch-geometric\.com)"
    r"/whl/torch-(\d{1,2}\.\d{1,2}\.\d{1,2})\+(cpu|cu\d{2,3})\.html"
)
_PIP_INSTALL = re.compile(r"(?<![\w-])(?:pip3?|uv pip|python3? -m pip) install ")
_PYG_NAME = re.compile(
    r"(?<![\w/.-])(torch[-_](?:scatter|sparse|cluster|spline[-_]conv)|pyg[-_]lib)(?![\w-])"
)
# the words of a line that ask, plan or propose a command rather than say it was run here
# (a command quoted in a form's answer is the one run: hearsay's rule for messages is not used)
_PROPOSED = re.compile(
    r"\?|\b(?:should|could|would|can|need to|needs to|have to|has to|must|try|please"
    r"|recommend(?:ed)?|suggest(?:ed)?|instead|if|want|will|going to|plan|used to|previously"
    r"|another|other (?:machine|pc|server))\b"
)
_SENTENCE_END = re.compile(r"[.?!](?=\s)")
_FENCE = re.compile(r"[ \t>]{0,4}(?:```|~~~)")
_NOT_INSTALLED = ("no matching distribution found for", "could not find a version that satisfies")


def read_lib_built(text: str) -> ToolReading | None:
    """What each library's own message in `text` says it was built for; None where none."""
    low = _squeezed(text)
    out = ToolReading()
    _cuda_pairs(low, out)
    _open3d(low, out)
    _spconv(low, out)
    _pyg_index(text.lower(), out)
    if not (out.extensions or out.notes):
        return None
    out.notes.append("a library's own message on what it was built for: read")
    return out


def read_torch_cuda(text: str, draft: Draft) -> int:
    """torch's CUDA as a library's own message states it ("PyTorch has CUDA version 10.2"),
    set where nothing else said which build torch is; how many facts were set (0 or 1)."""
    low = _squeezed(text)
    cudas = {f"{m.group(1)}.{m.group(2)}" for m in _matches(low, _PAIR_AT, _PAIR) if _named(m)}
    cudas |= {f"{m.group(3)}.{m.group(4)}" for m in _matches(low, _OPEN3D_CUDA_AT, _OPEN3D_CUDA)}
    if len(cudas) != 1 or draft.torch.get("installed") or draft.torch.get("cuda"):
        return 0
    draft.torch.pop("unavailable", None)
    draft.torch.update({"installed": True, "cuda": cudas.pop()})
    return 1


def _squeezed(text: str) -> str:
    return " ".join(text.lower().split())


def _told_here(low: str, m: re.Match[str]) -> bool:
    return not not_this_machines_in(low, m.start(), m.end())


def _matches(low: str, anchor: str, pattern: re.Pattern[str]) -> Iterator[re.Match[str]]:
    """Each match of `pattern` at an occurrence of its literal `anchor`, told as here."""
    at = low.find(anchor)
    found = 0
    while at >= 0 and found < _MAX_ITEMS:
        m = pattern.match(low, at)
        if m is not None and _told_here(low, m):
            found += 1
            yield m
        at = low.find(anchor, at + len(anchor))


def _named(m: re.Match[str]) -> bool:
    """A CUDA pair message of a library by name, built with CUDA (not a template's
    placeholder, not a build without CUDA)."""
    return m.group(3).rstrip(".") not in _PLACEHOLDERS and int(m.group(4)) >= 7


def _item(out: ToolReading, name: str, file: str) -> ExtensionDoc:
    """The extension item of `name` (one per distribution), new or already read."""
    distribution = name.replace("_", "-")
    for known in out.extensions:
        if known["distribution"] == distribution:
            return known
    ext: ExtensionDoc = {"distribution": distribution, "file": file, "partial": PARTIAL}
    out.extensions.append(ext)
    return ext


def _cuda_pairs(low: str, out: ToolReading) -> None:
    for m in _matches(low, _PAIR_AT, _PAIR):
        name, major, minor = m.group(3).rstrip("."), int(m.group(4)), int(m.group(5))
        if not _named(m) or len(out.extensions) >= _MAX_ITEMS:
            continue
        _item(out, name, name)["cuda_major"] = major
        torch = f"{m.group(1)}.{m.group(2)}"
        if (major, minor) != (int(m.group(1)), int(m.group(2))):
            out.notes.append(
                f"{name} refuses to load: it was built with CUDA {major}.{minor}, torch with "
                f"CUDA {torch} (its own check)"
            )
    for m in _matches(low, _OPEN3D_CUDA_AT, _OPEN3D_CUDA):
        _item(out, "open3d", "open3d/ml/torch")["cuda_major"] = int(m.group(1))


def _open3d(low: str, out: ToolReading) -> None:
    found = {(f"{m.group(1)}.{m.group(2)}", m.group(3)) for m in _matches(low, _OPEN3D_AT, _OPEN3D)}
    if len(found) != 1:
        return  # none, or two that disagree
    ((built_for, installed),) = found
    _item(out, "open3d", "open3d/ml/torch")["built_for_torch"] = built_for
    out.put("PyTorch version", installed)


def _spconv(low: str, out: ToolReading) -> None:
    found = {(m.group(1), m.group(2), m.group(3)) for m in _matches(low, _SPCONV_AT, _SPCONV)}
    if len(found) != 1:
        return
    ((major, minor, available),) = found
    ext = _item(out, "spconv", "spconv (its prebuilt kernels)")
    ext["sass"] = sorted({f"sm_{a}{b}" for a, b in _SPCONV_ARCH.findall(available)})
    ext["ptx"] = []
    out.gpus.setdefault(0, SPCONV_GPU)
    out.capabilities.setdefault(0, f"{major}.{minor}")
    out.put("Is CUDA available", "True")  # its capability was asked of a CUDA device


def _pyg_index(low: str, out: ToolReading) -> None:
    """PyG's extensions a run pip command installed from its wheel index for one torch."""
    if _PYG_AT not in low or any(s in low for s in _NOT_INSTALLED):
        return
    found: dict[str, str] = {}
    tries = 0
    words = ""  # the last line of words before, where it ends in a colon (it leads in)
    for line in low.split("\n"):
        at = line.find(_PYG_AT)
        while at >= 0 and tries < _MAX_ITEMS:
            tries += 1
            _pyg_command(line, at, words, found)
            at = line.find(_PYG_AT, at + len(_PYG_AT))
        if line.strip() and not _FENCE.match(line):
            words = line[-_COMMAND_REACH:] if line.rstrip().endswith(":") else ""
    if len(set(found.values())) != 1:
        return  # none, or indexes of two torch builds
    for name, built_for in found.items():
        ext = _item(out, name.replace("-", "_"), name.replace("-", "_"))
        ext["built_for_torch"] = built_for
        cuda = built_for.partition("+cu")[2]
        if cuda:
            ext["cuda_major"] = int(cuda[:-1])


def _pyg_command(line: str, at: int, lead: str, found: dict[str, str]) -> None:
    """The PyG packages of the pip command whose index URL holds `at`, with that index's
    torch build, where neither its sentence nor the line leading in to it (`lead`) asks,
    plans or proposes it."""
    options = (line.rfind(o, max(0, at - 80), at) for o in ("--find-links", "-f"))
    m = next((m for o in options if o >= 0 and (m := _PYG_INDEX.match(line, o))), None)
    if m is None:
        return
    start = max(0, m.start() - _COMMAND_REACH)
    pip = list(_PIP_INSTALL.finditer(line, start, m.start()))
    if not pip:
        return
    before = line[max(0, start - _COMMAND_REACH) : pip[-1].start()]
    sentence = before[max((e.end() for e in _SENTENCE_END.finditer(before)), default=0) :]
    if _PROPOSED.search(sentence) or (sentence.strip(" `$>*-") == "" and _PROPOSED.search(lead)):
        return
    for name in _PYG_NAME.findall(line, pip[-1].end(), m.start()):
        found[name.replace("_", "-")] = f"{m.group(1)}+{m.group(2)}"

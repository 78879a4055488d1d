"""An extension's import failing on a torch C++ symbol, as the dynamic loader says it.

    ImportError: /x/site-packages/detectron2/_C.cpython-36m-x86_64-linux-gnu.so: undefined
    symbol: _ZNK2at10TensorBase8data_ptrIdEEPT_v
    OSError: /opt/conda/.../site-packages/torchaudio/lib/libtorchaudio.so: undefined symbol:
    _ZNK5torch8autograd4Node4nameB5cxx11Ev
    ImportError: dlopen(/x/site-packages/torchvision/_C.so, 2): Symbol not found:
    __ZN3c106detail14torchCheckFailEPKcS2_jRKNSt3__112basic_stringIcNS_11char_traitsIcEENS_9allocatorIcEEEE
      Referenced from: /x/site-packages/torchvision/_C.so

A symbol of torch's own namespaces (at::, c10::, torch::, caffe2::, its Python bindings'
THP* functions, its stable C shim's aoti_torch_*) that an extension's file needs and the
installed torch does not export is the sign of a build for another torch release (or C++
ABI): the extension becomes an `extensions` item with that missing symbol, judged by
EL-EXT-TORCH-ABI (checks/extensions.py) as the live scan's are; a torch family member's is
EL-FAMILY-MISMATCH's effect where that check names the member (checks/family.py). The
extension is named from its file's place under site-packages/dist-packages (its package's
directory, or a known top-level module such as flash-attn's `flash_attn_2_cuda`, also where the
paste cut its directory off); a file elsewhere (a source checkout) names no distribution a fix
could reinstall and is not read.
torch's own libraries are torch_import.py's; a symbol of the extension's own code
(`_Z22gather_points_cuda_fwd...`) or of the C++ or CUDA runtime says nothing of torch and is
not read. A message told as another machine's or as gone (pasted/hearsay.py) is not read.

Each message is a literal found with str.find, then bounded matches from there: linear time.
"""

from __future__ import annotations

import re

from envlock.pasted.hearsay import not_this_machines_in
from envlock.pasted.toolreading import ToolReading
from envlock.probe.shapes import ExtensionDoc

PARTIAL = "read from its import error in the paste, not from its file"
_LINUX = "undefined"
# the blanks between the words, as a paste may have turned them: a tab, a word wrap's line
# break, and on the next line a list's bullet or a reply's quote marker (its indentation kept
# where the layout step joined the wrap back)
_GAP = r"[ \t]{0,12}(?:\r?\n[ \t>*+\-]{0,12})?"
_LINUX_SAID = re.compile(rf"undefined(?:[ \t]{{1,12}}|{_GAP})symbol:{_GAP}")
_MARKS = " \t\r\n>*+-"
_DYLD = "Symbol not found: "
_REFERENCED = re.compile(r"\s{0,40}Referenced from: (?:<[\w-]{1,40}> )?(\S{1,400})")
# the outermost name in torch's namespaces (typeinfo/vtable too), or torch's Python bindings
_TORCH_SYMBOL = re.compile(
    r"_?_Z(?:T[IVS])?N[rVKO]{0,3}(?:2at|3c10|5torch|6caffe2)\d[\w.@]{0,400}"
    r"|_?_Z\d{1,3}THP[A-Z]\w{0,400}"
    r"|_?aoti_torch_\w{1,200}"  # torch's stable C shim (torch/csrc/inductor/aoti_torch)
)
# top-level extension modules whose distribution is not their name
_TOP_LEVEL = {
    "flash_attn_2_cuda": "flash-attn",
    "flash_attn_cuda": "flash-attn",
    "flash_attn_3_cuda": "flash-attn",
    "selective_scan_cuda": "mamba-ssm",
    "causal_conv1d_cuda": "causal-conv1d",
    "amp_C": "apex",
    "apex_C": "apex",
    "fused_layer_norm_cuda": "apex",
    "fused_dense_cuda": "apex",
    "fused_adam_cuda": "apex",
    "mlp_cuda": "apex",
    "syncbn": "apex",
    "transformer_engine_extensions": "transformer-engine",
}
_SITE = ("site-packages", "dist-packages")
_OPEN = "'\"`([\u2018\u201c"
_NAME = re.compile(r"[A-Za-z_][\w]{0,80}")
_MAX_ITEMS = 8


def read_ext_symbols(text: str) -> ToolReading | None:
    """Each extension the text shows failing on a torch symbol, with that symbol."""
    out = ToolReading()
    for path, symbol in _linux(text) + _dyld(text):
        if len(out.extensions) >= _MAX_ITEMS:
            break
        ext = _extension(path, symbol)
        if ext is not None and all(e["file"] != ext["file"] for e in out.extensions):
            out.extensions.append(ext)
    return out if out.extensions else None


def _linux(text: str) -> list[tuple[str, str]]:
    """The loader's 'FILE: undefined symbol: NAME', its blanks as a paste may have turned them
    (a tab, a word wrap's line break)."""
    found: list[tuple[str, str]] = []
    at = text.find(_LINUX)
    while at >= 0 and len(found) < _MAX_ITEMS:
        said = _LINUX_SAID.match(text, at)
        colon = text.rfind(":", max(0, at - 16), at)
        if colon < 0 or text[colon + 1 : at].strip(_MARKS):
            colon = -1  # 'undefined' not right after the file's 'FILE: '
        token = text[max(0, colon - 400) : colon].rsplit(None, 1)[-1:] if colon > 0 else []
        path = token[0].lstrip(_OPEN) if token else ""  # after a quote that opens the message
        symbol = _TORCH_SYMBOL.match(text, said.end()) if said else None
        if symbol and path and not not_this_machines_in(text, colon - len(path), symbol.end()):
            found.append((path, symbol.group()))
        at = text.find(_LINUX, at + len(_LINUX))
    return found


def _dyld(text: str) -> list[tuple[str, str]]:
    """macOS's loader: the symbol, then the file on a 'Referenced from:' line after it."""
    found: list[tuple[str, str]] = []
    at = text.find(_DYLD)
    while at >= 0 and len(found) < _MAX_ITEMS:
        symbol = _TORCH_SYMBOL.match(text, at + len(_DYLD))
        end = symbol.end() if symbol else at + len(_DYLD)
        line_end = text.find("\n", end, end + 200)  # the symbol ends its line
        referenced = _REFERENCED.match(text, line_end + 1) if symbol and line_end >= 0 else None
        if symbol and referenced and not not_this_machines_in(text, at, end):
            found.append((referenced.group(1), symbol.group()))
        at = text.find(_DYLD, at + len(_DYLD))
    return found


def _extension(path: str, symbol: str) -> ExtensionDoc | None:
    """The extension `path` names under site-packages, with its missing torch symbol."""
    path = path.strip(_OPEN + "'\"`)],;\u2019\u201d")
    if path.startswith("dlopen("):
        path = path[len("dlopen(") :]
    parts = re.split(r"[\\/]", path)
    site = max((i for i, p in enumerate(parts) if p in _SITE), default=-1)
    if (site < 0 and len(parts) > 1) or site + 1 >= len(parts):
        return None  # a bare file name stands as a top-level module's (its path cut off)
    top, file = parts[site + 1], parts[-1]
    if not (".so" in file or file.endswith(".dylib")):
        return None
    distribution = _distribution(top, is_file=site + 2 == len(parts))
    if distribution is None:
        return None
    return {
        "distribution": distribution,
        "file": "/".join(parts[site + 1 :]),
        "missing_torch_symbols": [symbol.removeprefix("_") if symbol.startswith("__Z") else symbol],
        "missing_torch_symbols_total": 1,
        "partial": PARTIAL,
    }


def _distribution(top: str, *, is_file: bool) -> str | None:
    """The distribution of the top-level package directory (or module file) `top`."""
    name = top.split(".", 1)[0] if is_file else top
    if not _NAME.fullmatch(name) or name == "torch":
        return None  # torch's own files are torch_import.py's
    if is_file:
        return _TOP_LEVEL.get(name)
    return _TOP_LEVEL.get(name) or name.lower().replace("_", "-")

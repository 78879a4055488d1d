"""torch's own import failure, pasted anywhere in a text: torch does not import there, and
the message says why (EL-TORCH-MISSING's cause and fix: `import_failure_words`).

What torch itself raises when `import torch` fails, read only where it is torch's and not an
extension's (an extension's import error leaves torch importable):

- Windows, torch/__init__.py's `_load_dll_libraries` (torch >= 1.8): each DLL of torch\\lib
  loaded, a failure raised as `OSError: [WinError 126] <the system's words, localized> Error
  loading "...\\torch\\lib\\fbgemm.dll" or one of its dependencies.` (a launcher may wrap it
  after "Error loading": kohya_ss's log);
- Windows, older torch or a DLL that `from torch._C import *` needs: `ImportError: DLL load
  failed while importing _C: ...` (Python 3.8+; "DLL load failed: ..." before) under a
  torch/__init__.py frame or its `from torch._C import *` line (pytorch3d's own _C is not
  torch's);
- Linux, under that frame: `ImportError: libcudnn.so.9: cannot open shared object file` (a
  CUDA library torch's wheel takes from an nvidia-* wheel, pytorch#104259, #165812) or one of
  torch's own (`libtorch_cuda.so`); anywhere: `.../torch/lib/libtorch_cpu.so: undefined
  symbol: iJIT_NotifyEvent`, an undefined symbol in torch's own library (an extension's own
  .so with an undefined symbol is not read);
- `ModuleNotFoundError: No module named 'torch'` (Python 2: `ImportError: No module named
  torch`), except in a pip build's output, where torch is missing from pip's isolated build
  environment, not from the interpreter (flash-attn's "Getting requirements to build wheel").

Each pattern is a literal found with str.find, then a bounded match from there: linear time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from envlock.pasted.toolreading import ToolReading
from envlock.probe.libnames import is_cuda_library

# the note the reading leaves; checks/runtime.py reads the cause back from its tail
NOTE = "torch did not import here, by its error in the paste: "
_TAIL = re.compile(r" \[(dll|dll-c|so|symbol|absent):([\w.+-]{0,80}):([\w.@]{0,80})\]$")

_DLL = "Error loading"
_DLL_PATH = re.compile(r'\s{0,80}"([^"\n]{1,400})"\s{0,80}or one of its dependencies')
_FILE_NAME = re.compile(r"[\w.+-]{1,80}")  # what a note's tail can carry back
_WINERROR = re.compile(r"\[WinError (\d{1,5})\]")
_DLL_C = re.compile(r"^(?:ImportError: )?DLL load failed(?: while importing _C)?(?::|$)")
_SO_MISSING = re.compile(r"^ImportError: ([\w.+-]{1,80}\.so[\d.]*): cannot open shared object file")
_SYMBOL = ": undefined symbol: "
_SYMBOL_NAME = re.compile(r"[\w.@]{1,80}")
_ABSENT = ("ModuleNotFoundError: No module named 'torch'", "ImportError: No module named torch")
# a pip build's output: torch missing from its isolated build environment
_PIP_BUILD = (
    "Getting requirements to build",
    "pip-build-env-",
    "subprocess-exited-with-error",
    "Preparing metadata",
    "setup.py egg_info",
)
# a report that printed torch's version imported it: an import error beside it is another
# moment's or another interpreter's ("PyTorch version: 2.4.0", "- PyTorch version (GPU?): 2.1")
_TORCH_SHOWN = re.compile(r"(?im)^[ \t>*`-]{0,8}PyTorch version[^:\n]{0,20}:[ \t*`]{0,4}\d")
# torch's own libraries (torch/lib): their absence is an incomplete wheel
_OWN = ("libtorch", "libc10", "libshm", "libcaffe2", "libtorch_global_deps")
# how far above an error line its frame may be (its code line, Python 3.11's carets,
# IPython's context lines)
_FRAME_LINES = 8


@dataclass(frozen=True, slots=True)
class ImportFailure:
    """One torch import failure: its kind, the library it names, and its detail: the
    Windows error's number (dll), the undefined symbol (symbol)."""

    kind: str  # dll (torch\lib's DLL), dll-c (_C's DLL), so, symbol, absent
    library: str = ""  # fbgemm.dll, libcudnn.so.9, libtorch_cpu.so
    detail: str = ""  # "126" (WinError), "iJIT_NotifyEvent" (the undefined symbol)

    def said(self) -> str:
        """The failure in words, for the note."""
        code = f" ([WinError {self.detail}])" if self.detail else ""
        if self.kind == "dll":
            return f"torch's {self.library} or a DLL it needs did not load{code}"
        if self.kind == "dll-c":
            return "a DLL torch._C needs did not load ('DLL load failed while importing _C')"
        if self.kind == "so":
            return f"{self.library}, which torch links, was not found"
        if self.kind == "symbol":
            return f"torch's own {self.library} has an undefined symbol: {self.detail}"
        return "No module named 'torch'"

    def note(self) -> str:
        return f"{NOTE}{self.said()} [{self.kind}:{self.library}:{self.detail}]"


def read_torch_import(text: str) -> ToolReading | None:
    """The collect_env line a torch import failure stands for ('PyTorch version: N/A', as
    collect_env prints where its `import torch` fails) and the note naming the cause."""
    failure = find_import_failure(text)
    if failure is None or _TORCH_SHOWN.search(text):
        return None
    out = ToolReading()
    out.put("PyTorch version", "N/A")
    out.notes.append(failure.note())
    return out


def find_import_failure(text: str) -> ImportFailure | None:
    """The first torch import failure the text shows, or None."""
    return _dll(text) or _by_lines(text.split("\n")) or _absent(text)


def _dll(text: str) -> ImportFailure | None:
    """torch\\lib's DLL that did not load; the message may be wrapped after "Error loading"."""
    at = text.find(_DLL)
    while at >= 0:
        m = _DLL_PATH.match(text, at + len(_DLL))
        parts = re.split(r"[\\/]", m.group(1)) if m else []
        torch_lib = len(parts) >= 3 and parts[-3].lower() == "torch" and parts[-2].lower() == "lib"
        if torch_lib and _FILE_NAME.fullmatch(parts[-1]):
            line_start = text.rfind("\n", 0, at) + 1
            code = _WINERROR.search(text, line_start, at)
            return ImportFailure("dll", parts[-1], code.group(1) if code else "")
        at = text.find(_DLL, at + 1)
    return None


def _by_lines(lines: list[str]) -> ImportFailure | None:
    """An ImportError under torch/__init__.py's frame, or an undefined symbol in torch's lib."""
    for i, raw in enumerate(lines):
        line = raw.strip()
        if line.startswith("ImportError") or "DLL load failed" in line[:40]:
            found = _under_torch_frame(line, lines[max(0, i - _FRAME_LINES) : i])
            if found:
                return found
        symbol = _undefined_symbol(line)
        if symbol:
            return symbol
    return None


def _under_torch_frame(line: str, above: list[str]) -> ImportFailure | None:
    if not _torch_frame(above):
        return None
    if _DLL_C.match(line):
        return ImportFailure("dll-c")
    m = _SO_MISSING.match(line)
    return ImportFailure("so", m.group(1)) if m else None


def _torch_frame(above: list[str]) -> bool:
    """Whether the frame nearest above the error is torch/__init__.py's (a traceback's `File
    ".../torch/__init__.py"`, IPython's `...torch/__init__.py in <module>`) or its
    `from torch._C import *` line; a nearer frame of another file (an extension's) is not."""
    for raw in reversed(above):
        s = raw.strip()
        if "from torch._C import" in s:
            return True
        if s.startswith("File ") or ".py in " in s:
            return "/torch/__init__.py" in s or "\\torch\\__init__.py" in s
    return False


def _undefined_symbol(line: str) -> ImportFailure | None:
    """ "ImportError: /x/site-packages/torch/lib/libtorch_cuda.so: undefined symbol: nccl...":
    the file torch's own (torch/lib, torch/_C), not an extension's."""
    at = line.find(_SYMBOL)
    if at < 0:
        return None
    path = line[:at].rsplit(" ", 1)[-1]
    parts = re.split(r"[\\/]", path)
    own = len(parts) >= 2 and (
        (parts[-2] == "lib" and len(parts) >= 3 and parts[-3] == "torch")
        or (parts[-2] == "torch" and parts[-1].startswith("_C."))
    )
    name = _SYMBOL_NAME.match(line, at + len(_SYMBOL))
    if not own or not name or not _FILE_NAME.fullmatch(parts[-1]):
        return None
    return ImportFailure("symbol", parts[-1], name.group())


def _absent(text: str) -> ImportFailure | None:
    if not any(a in text for a in _ABSENT) or any(p in text for p in _PIP_BUILD):
        return None
    for line in text.split("\n"):
        s = line.strip()
        if s in _ABSENT or any(s.endswith(a) for a in _ABSENT):
            return ImportFailure("absent")
    return None


def failure_in_notes(notes: list[str]) -> ImportFailure | None:
    """The failure a reading noted (its note's tail), or None."""
    for note in notes:
        if note.startswith(NOTE):
            m = _TAIL.search(note)
            if m:
                return ImportFailure(m.group(1), m.group(2), m.group(3))
    return None


def is_own_library(name: str) -> bool:
    """One of torch's own shared libraries (torch/lib): libtorch_cuda.so, libc10.so."""
    return name.startswith(_OWN)


def is_cuda_dependency(name: str) -> bool:
    """A CUDA library torch's CUDA wheels take from the nvidia-* wheels they pin."""
    return is_cuda_library(name)


# torch 2.4.0's Windows wheels load fbgemm.dll, which needs LLVM's OpenMP runtime
# libomp140.x86_64.dll; neither the wheel nor the Visual C++ Redistributable ships it, and
# torch 2.4.1's wheels do (pytorch/pytorch#131662, fixed by #130697; kohya-ss/sd-scripts#1597)
_LIBOMP_FIXED_IN = "2.4.1"
# Microsoft's link to the latest Visual C++ Redistributable (2015-2022), x64; torch's own
# hint (torch/__init__.py) names the same redistributable
_VC_REDIST = "https://aka.ms/vs/17/release/vc_redist.x64.exe"


def import_failure_words(notes: list[str], exe: str) -> tuple[str, str] | None:
    """EL-TORCH-MISSING's message head and fix where the paste named why torch did not
    import (`exe`: the interpreter, "python" where the paste does not name it); None where it
    did not, or where the cause has no fix of its own here."""
    failure = failure_in_notes(notes)
    if failure is None:
        return None
    said = f"torch does not import: {failure.said()}"
    if failure.kind == "absent":
        return f"torch is not installed ({failure.said()})", (
            f"{exe} -m pip install torch in the interpreter the job runs (or run the job "
            "with the interpreter torch is installed in)"
        )
    if (
        failure.kind == "dll"
        and failure.library.lower() == "fbgemm.dll"
        and failure.detail == "126"
    ):
        return said, _libomp_fix(exe)
    if failure.kind in ("dll", "dll-c"):
        return said, (
            "install the Microsoft Visual C++ Redistributable 2015-2022 (x64), whose "
            f"vcruntime140.dll, vcruntime140_1.dll and msvcp140.dll torch's DLLs load: {_VC_REDIST}; "
            f"if it is installed, the wheel is incomplete: {exe} -m pip uninstall -y torch, then "
            f"{exe} -m pip install torch from the index of its build"
        )
    if failure.kind == "so" and is_cuda_dependency(failure.library):
        return said, (
            f"{exe} -m pip install torch in that interpreter: pip keeps torch and installs the "
            f"nvidia-* wheels its version pins ({failure.library} is in one); if they are "
            "installed, they are where torch does not look (pytorch/pytorch#165812: torch in "
            "lib64, the nvidia wheels in lib): install both into one site-packages"
        )
    if failure.kind == "symbol" and failure.detail == "iJIT_NotifyEvent":
        return said, (
            "conda's MKL 2024.1 and later no longer export iJIT_NotifyEvent, which conda's "
            "pytorch builds take from it (pytorch/pytorch#123097): conda install mkl==2024.0; "
            f"or conda remove pytorch and {exe} -m pip install torch, whose wheel needs no MKL"
        )
    if failure.kind in ("so", "symbol") and is_own_library(failure.library):
        why = "is missing" if failure.kind == "so" else "does not match the libraries it loads"
        return said, (
            f"torch's own {failure.library} {why}: the wheel is incomplete or mixed with another "
            f"copy: {exe} -m pip uninstall -y torch (until it says it is not installed), then "
            f"{exe} -m pip install torch from the index of its build, with LD_LIBRARY_PATH unset"
        )
    return None


def _libomp_fix(exe: str) -> str:
    from envlock.matrix.family import load_family
    from envlock.matrix.versions import Version

    row = load_family().row_for_torch(Version.parse(_LIBOMP_FIXED_IN))
    vision = row.members.get("torchvision") if row else None
    with_vision = f' "torchvision=={vision}.*"' if vision else ""
    return (
        "fbgemm.dll needs libomp140.x86_64.dll (LLVM's OpenMP runtime), which torch 2.4.0's "
        "Windows wheels did not ship and the Visual C++ Redistributable does not install "
        "(pytorch/pytorch#131662): add it with the Visual Studio Installer's 'MSVC v143 - VS "
        "2022 C++ x64/x86 build tools' (it puts the DLL in System32), or move to torch "
        f"{_LIBOMP_FIXED_IN}, whose wheels ship it: {exe} -m pip install "
        f"torch=={_LIBOMP_FIXED_IN}{with_vision} with the --index-url of torch's build "
        "(pip show torch: 2.4.0+cu124 is https://download.pytorch.org/whl/cu124)"
    )

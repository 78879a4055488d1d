"""Environment lists filled in by hand in an issue template (issue 21).

Before collect_env's output was asked for alone (2018-2021), PyTorch's bug-report template
asked for a checklist, and many repositories copied it. The wordings read, with their sources:

- pytorch/pytorch .github/ISSUE_TEMPLATE.md (2018): "- PyTorch or Caffe2:", "- How you
  installed PyTorch (conda, pip, source):", "- Build command you used (if compiling from
  source):", "- OS:", "- PyTorch version:", "- Python version:", "- CUDA/cuDNN version:",
  "- GPU models and configuration:", "- GCC version (if compiling from source):", "- CMake
  version:", "- Versions of any other relevant libraries:";
- pytorch/pytorch .github/ISSUE_TEMPLATE/---bug-report.md (2018): "- PyTorch Version: [e.g.,
  1.0]", "- OS [e.g., Linuxi]";
- pytorch/pytorch .github/ISSUE_TEMPLATE/bug-report.md (2018-2021), copied by Lightning's
  bug_report.md: " - PyTorch Version (e.g., 1.0):", " - OS (e.g., Linux):", " - How you
  installed PyTorch (`conda`, `pip`, source):", " - Build command you used (if compiling from
  source):", " - Python version:", " - CUDA/cuDNN version:", " - GPU models and
  configuration:", " - Any other relevant information:" (Lightning's later ones: "PyTorch
  Version (e.g., 1.10):", "Python version (e.g., 3.9):"; its 1_bug_report.yaml of 2022-2024
  comments each line out in a code block: "#- PyTorch Version (e.g., 1.10):", "#- OS (e.g.,
  Linux):", "#- CUDA/cuDNN version:", "#- GPU models and configuration:", "#- How you
  installed Lightning(`conda`, `pip`, source):", Lightning's install, not torch's);
- pytorch/vision .github/ISSUE_TEMPLATE/bug-report.md: " - PyTorch / torchvision Version
  (e.g., 1.0 / 0.4.0):", " - How you installed PyTorch / torchvision (`conda`, `pip`,
  source):";
- facebookresearch/fairseq .github/ISSUE_TEMPLATE/bug_report.md: " - PyTorch Version (e.g.,
  1.0)" without its colon (filled as "- PyTorch Version ('1.10.2+cu113')", "- PyTorch Version
  1.11"), " - How you installed fairseq (`pip`, source):" (fairseq's install, not torch's);
- pytorch/TensorRT .github/ISSUE_TEMPLATE/bug-report.md: " - PyTorch Version (e.g. 1.0):",
  " - How you installed PyTorch (`conda`, `pip`, `libtorch`, source):", " - CUDA version:";
- THUDM's ChatGLM-6B and ChatGLM2-6B .github/ISSUE_TEMPLATE/bug_report.yaml (its Environment
  field's value): "- OS:", "- Python:", "- Transformers:", "- PyTorch:", "- CUDA Support
  (`python -c \"import torch; print(torch.cuda.is_available())\"`) :", the last its own line; an
  answer left empty reads nothing, "Ture"/"Flase" (a hand's swapped letters) as True/False.

A list is read only with one of the template's own lines in it (how torch was installed, the
build command, the GPU models, CUDA/cuDNN, the torch line's "(e.g." placeholder, or ChatGLM's
CUDA Support line with its command): Hugging
Face's "- Key: value" lists are envlock/pasted/hfenv.py's. Placeholder text left in ("(e.g.,
1.0)", "N/A", "-", nothing) is no value. What the lines state, as collect_env's lines:

- torch's version, one version in the line ("1.7.1 (cuda 11.0)" says two: not read);
  torchvision's after the "/" of torchvision's template;
- the OS when it names one (a distribution, Windows, macOS; "Linux" alone is none), Python's
  version, the GPUs the table of envlock/matrix/gpus.toml knows by the name written ("2x RTX
  3090": two of them), a driver written as "driver 450.80";
- torch's CUDA build only where an install command says it: the pytorch channel's
  `cudatoolkit=10.1` or `pytorch-cuda=11.8` (its builds pin the toolkit's minor version;
  conda-forge's do not), `cpuonly`, pip's `torch==1.7.1+cu110` or a download.pytorch.org/whl/
  cuNNN index, and only for a variant the matrix lists for that release; conda's command and
  pip's `--extra-index-url` only where the list says Linux (elsewhere conda's solver and pip
  fall back to a CPU build when the variant is missing for the OS: pytorch/pytorch#92273,
  conda/conda#11001). "CUDA/cuDNN version:
  11.1 / 8.0.5" is not read: written by hand it is as often the system's toolkit (nvcc) or the
  driver's CUDA as torch's, and collect_env keeps those apart;
- a torch built from source or NVIDIA's (an NGC container): its version as written by hand
  ("1.8.0") has lost the local part that says so, so a release version is not read there;
- collect_env's own keys written as bullets ("- CUDA used to build PyTorch: 10.1", "- Nvidia
  driver version: 450.80", "- CUDA runtime version:", "- Is CUDA available:"), as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from envlock.pasted.toolreading import TORCH_VERSION, ToolReading

# a bullet (and a quote of it, and Lightning's "#-"): the template's lines are all list items
# (two bullets: a list's lines bulleted again by the paste)
_LINE = re.compile(r"^[ \t]{0,4}(?:>[ \t]?){0,2}[ \t]{0,4}#?(?:[-*+\u2022][ \t]+){1,2}(.*)$")
_KEYS = {
    "pytorch version": "torch",
    "pytorch/torchvision version": "torch/vision",
    "os": "os",
    "how you installed pytorch": "install",
    "how you installed pytorch/torchvision": "install",
    "build command you used": "build",
    "python version": "python",
    "cuda/cudnn version": "cuda/cudnn",
    "gpu models and configuration": "gpus",
    "cuda used to build pytorch": "torch_cuda",
    "cuda runtime version": "nvcc",
    "nvidia driver version": "driver",
    "driver version": "driver",
    "gpu driver version": "driver",
    "is cuda available": "available",
    # ChatGLM's template (ChatGLM-6B, ChatGLM2-6B: .github/ISSUE_TEMPLATE/bug_report.yaml)
    "pytorch": "torch",
    "transformers": "transformers",
    "cuda support": "available",
}
_KEY = re.compile(
    r"(?:\*\*)?(pytorch ?/ ?torchvision version|pytorch version|os|how you installed pytorch"
    r"(?: / torchvision)?|build command you used|python version|cuda/cudnn version|gpu models"
    r" and configuration|cuda used to build pytorch|cuda runtime version|(?:nvidia |gpu )?"
    r"driver version|is cuda available|pytorch|transformers|cuda support)(?:\*\*)?"
    r"(?![\w/])",
    re.IGNORECASE,
)
# the lines only the template has (a tool's "- Key: value" list has none of them)
_TEMPLATE_ONLY = frozenset({"install", "build", "gpus", "cuda/cudnn", "torch/vision"})
# a parenthesis or bracket after a key: the template's hint, unless it is the value itself
_QUALIFIER = re.compile(r"[(\[]([^()\[\]\n]{0,80})[)\]]")
# ChatGLM's "- CUDA Support (`python -c "import torch; print(torch.cuda.is_available())"`) :"
_CODE_HINT = re.compile(r"\(`([^`\n]{0,120})`\)")
# a code span's backticks: at a word's edge
_CODE_MARKS = re.compile(r"(?:^|(?<=[\s(]))`+|`+(?=[\s),;:]|$)")
_HINT = re.compile(r"e\.? ?g\b|\bif\b|`|conda|pip|source|gpu\?", re.IGNORECASE)
_EG = re.compile(r"[ \t]*e\.?[ \t]?g\b", re.IGNORECASE)  # the template's "(e.g., 1.0)"
_EMPTY = frozenset({"", "n/a", "na", "none", "-", "--", "?", "unknown", "null", "nan"})
_VERSION_AT = re.compile(rf"v?({TORCH_VERSION})(?![\w.+])")
_ANY_VERSION = re.compile(r"(?<![\d.])\d+\.\d+")
_TORCH_WORD = re.compile(r"(?:py)?torch[ \t]*(?:==?|:)?[ \t]*", re.IGNORECASE)
_PYTHON = re.compile(r"(?:python[ \t]*)?v?(\d\.\d{1,2}(?:\.\d{1,2})?)(?![\w.])", re.IGNORECASE)
_DRIVER = re.compile(r"\d{3}\.\d{1,3}(?:\.\d{1,3})?")
_DRIVER_IN = re.compile(r"\bdriver(?: version)?[ \t]*[:=]?[ \t]*v?(\d{3}\.\d{1,3}(?:\.\d{1,3})?)\b")
_CUDA_VERSION = re.compile(r"\d{1,2}\.\d(?:\.\d{1,3})?")
_OS_NAMES = re.compile(
    r"(?:linux[ \t]*[-,:(/][ \t]*|linux[ \t]+)?((?:ubuntu|debian|centos|red hat|rhel|rocky"
    r"|almalinux|fedora|amazon linux|arch linux|opensuse|windows|macos|mac os)\b.*)",
    re.IGNORECASE,
)
# "2x RTX 3090", "RTX 3090 x 2", "8 * V100": how many of one model
_COUNT_BEFORE = re.compile(r"^(\d{1,2})[ \t]*[x\u00d7*][ \t]*(?=\D)", re.IGNORECASE)
_COUNT_AFTER = re.compile(r"[ \t]*(?:[x\u00d7*][ \t]*(\d{1,2})|\((\d{1,2})[ \t]*x?\))$")
_MEMORY = re.compile(
    r"(?:[ \t]*\([^()]{0,40}\)|(?:,[ \t]*|[ \t]+)\d{1,3}[ \t]*gb?)$", re.IGNORECASE
)
_GPU_SPLIT = re.compile(r"[,;+&/]|\band\b", re.IGNORECASE)
MAX_GPUS = 16
MAX_VALUE = 400
_NOT_NVIDIA = ("amd", "radeon", "intel", "apple", " m1", " m2", "mps", "cpu")
# install commands: the build of torch they name
_CONDA_CUDA = re.compile(r"\b(?:cudatoolkit|pytorch-cuda)[ \t]*=?=[ \t]*(\d{1,2}\.\d)\b")
_PYTORCH_CHANNEL = re.compile(r"(?:-c|--channel)[ \t=]+pytorch(?![\w-])")
_PIP_TAG = re.compile(rf"\btorch[ \t]*==[ \t]*({TORCH_VERSION})")
_LINUX = re.compile(
    r"\b(?:linux|ubuntu|debian|centos|red hat|rhel|rocky|almalinux|fedora|amazon linux|arch"
    r"|opensuse)",
    re.IGNORECASE,
)
_PIP_INDEX = re.compile(r"download\.pytorch\.org/whl/(cu\d{2,3}|cpu)\b")
_NOTE = "a hand-filled environment list (PyTorch's bug-report template and its copies): read"


@dataclass
class _Template:
    """The template's lines as read: key -> value (first wins), and whether a line only the
    template has (or its "(e.g." placeholder) was among them."""

    values: dict[str, str] = field(default_factory=dict)
    template: bool = False


def read_template(text: str) -> ToolReading | None:
    """The collect_env facts a hand-filled template list states; None without one."""
    t = _lines(text)
    if not t.template:
        return None
    out = ToolReading()
    _torch(t.values, out)
    _system(t.values, out)
    _gpus(t.values.get("gpus", ""), out)
    for key in ("gpus", "cuda/cudnn"):
        m = _DRIVER_IN.search(t.values.get(key, "").lower())
        out.put("Nvidia driver version", m.group(1) if m else None)
    if not (out.fields or out.gpus or out.packages):
        return None
    out.notes.append(_NOTE)
    return out


def _lines(text: str) -> _Template:
    t = _Template()
    for line in text.split("\n"):
        m = _LINE.match(line)
        pair = _pair(m.group(1)) if m else None
        if pair is None:
            continue
        key, value, hinted = pair
        t.template = (
            t.template
            or key in _TEMPLATE_ONLY
            or (key == "torch" and hinted == "e.g")
            or (key == "available" and hinted == "code")
        )
        if value and key not in t.values:
            t.values[key] = value
    return t


def _pair(item: str) -> tuple[str, str, str] | None:
    """(key, value, the hint after the key: "e.g" for the template's example, "hint" for
    another, "" for none) of one list item; None for an item of no known key."""
    m = _KEY.match(item)
    if m is None:
        return None
    key = _KEYS[" ".join(m.group(1).lower().replace(" /", "/").replace("/ ", "/").split())]
    rest, inner = item[m.end() :].lstrip(), None
    q = _QUALIFIER.match(rest) or _CODE_HINT.match(rest)
    if q:
        inner, rest = q.group(1), rest[q.end() :].lstrip()
    inner_text = inner or ""
    hinted = "e.g" if _EG.match(inner_text) else "hint" if _HINT.search(inner_text) else ""
    if key == "available" and "is_available()" in inner_text:
        hinted = "code"  # ChatGLM's line: the command that prints the answer
    if rest[:1] in (":", "\uff1a"):
        return key, _clean(rest[1:]), hinted
    if not rest and inner is not None and not hinted:
        return key, _clean(inner), hinted  # "PyTorch Version ('1.10.2+cu113')"
    if rest[:1].isdigit() and key in ("torch", "torch/vision", "python"):
        return key, _clean(rest), hinted  # "PyTorch Version (e.g., 1.0) 1.7.1"
    return key, "", hinted


def _clean(value: str) -> str:
    """A value without marks (a code span's backticks, at a word's edge; one inside a word is
    no mark: "1`.7.0" is no version); "" for a placeholder, and for a line longer than any
    answer to the template (an install command is some 200 characters)."""
    v = _CODE_MARKS.sub("", value).replace("**", "").strip().strip("'\"").strip()
    too_long = len(v) > MAX_VALUE
    return "" if too_long or v.lower() in _EMPTY or "e.g." in v.lower() else v


def _version(value: str) -> str | None:
    """The one torch version a value holds ("1.7.1", "v1.7.1+cu110", "torch 1.7.1 (pip)");
    None for none or for two ("1.7.1 (cuda 11.0)", "1.7 and 1.8")."""
    v = value.strip().strip("'\"")
    t = _TORCH_WORD.match(v)
    if t:
        v = v[t.end() :]
    m = _VERSION_AT.match(v)
    if m is None or _ANY_VERSION.search(v, m.end()):
        return None
    return m.group(1)


def _torch(values: dict[str, str], out: ToolReading) -> None:
    """torch's version, torchvision's, and torch's CUDA where an install command says it."""
    torch = values.get("torch")
    vision = values.get("torch/vision")
    if torch is None and vision is not None:
        torch, _, other = vision.partition("/")
        seen = _version(other)
        if seen:
            out.packages.setdefault("torchvision", seen)
    version = _version(torch) if torch else None
    install = " ".join(values.get(k, "") for k in ("install", "build")).lower()
    if version and _hidden_build(install, version):
        out.notes.append(
            f"torch {version}: built from source or NVIDIA's, by the template's install line; "
            "a version written by hand without its local part says no build: not read"
        )
        return
    out.put("PyTorch version", version)
    if version and "+" not in version:
        linux = _LINUX.search(values.get("os", "")) is not None
        out.put("CUDA used to build PyTorch", _command_cuda(install, version, linux))
    for key, name in (
        ("torch_cuda", "CUDA used to build PyTorch"),
        ("nvcc", "CUDA runtime version"),
    ):
        value = values.get(key, "")
        out.put(name, value if _CUDA_VERSION.fullmatch(value) else None)


def _hidden_build(install: str, version: str) -> bool:
    """A release version ("1.8.0") written for a torch the install line says was built from
    source or is NVIDIA's (an NGC container), whose own version says so ("1.8.0a0+git...")."""
    words = set(re.findall(r"[a-z]+", install))
    other = bool(words & {"source", "nvcr", "ngc"}) and not words & {"pip", "conda", "pip3"}
    return other and re.fullmatch(r"\d+\.\d+(?:\.\d+)?", version) is not None


def _command_cuda(install: str, version: str, linux: bool) -> str | None:
    """torch's CUDA ("10.1", "None" for a CPU build) as the install command names it, for a
    variant the matrix lists for the release; None where the command names none."""
    variant = _command_variant(install, version, linux)
    if variant is None:
        return None
    if variant == "cpu":
        return "None"
    from envlock.matrix import Version, load_matrix

    parsed = Version.of(version)
    release = load_matrix().torch_release(parsed) if parsed else None
    found = release.variant(variant) if release else None
    return f"{found.cuda.major}.{found.cuda.minor}" if found else None


def _command_variant(install: str, version: str, linux: bool) -> str | None:
    """The variant an install command names. conda's solver and pip's extra index fall back
    to another build where the variant is missing for the OS (CPU builds on Windows:
    pytorch#92273, conda#11001), so those two count only on Linux."""
    if "conda" in install and _PYTORCH_CHANNEL.search(install) and "conda-forge" not in install:
        m = _CONDA_CUDA.search(install)
        if "cpuonly" in install:
            return "cpu"
        return "cu" + m.group(1).replace(".", "") if m and linux else None
    pinned = _PIP_TAG.search(install)
    if pinned:
        public, _, tag = pinned.group(1).partition("+")
        if public != version:
            return None  # the command installed another torch than the one written
        if tag:
            return tag if re.fullmatch(r"cu\d{2,3}|cpu", tag) else None
    index = _PIP_INDEX.search(install)
    if index is None or ("extra-index-url" in install and not linux):
        return None
    return index.group(1)


def _system(values: dict[str, str], out: ToolReading) -> None:
    m = _PYTHON.match(values.get("python", ""))
    out.put("Python version", m.group(1) if m else None)
    os_name = _OS_NAMES.match(values.get("os", ""))
    if os_name:
        name = os_name.group(1).strip()
        out.put("OS", f"Microsoft {name}" if name.lower().startswith("windows") else name)
    driver = values.get("driver", "")
    out.put("Nvidia driver version", driver if _DRIVER.fullmatch(driver) else None)
    available = values.get("available", "").lower()
    out.put(
        "Is CUDA available",
        "True"
        if available in ("true", "yes", "ture")  # "Ture": a hand's swapped letters
        else "False"
        if available in ("false", "no", "flase")
        else None,
    )
    transformers = values.get("transformers", "")
    if re.fullmatch(r"v?\d+\.\d+(?:\.\d+)?(?:\.?dev\d*)?", transformers):
        out.packages.setdefault("transformers", transformers.lstrip("v"))


def _gpus(value: str, out: ToolReading) -> None:
    """The GPUs of "GPU models and configuration" the GPU table knows, each as many times as
    written ("2x RTX 3090"); the pieces it does not know (memory, a driver) are passed over."""
    named: list[tuple[str, int]] = []
    for piece in _GPU_SPLIT.split(value, maxsplit=MAX_GPUS)[:MAX_GPUS]:
        gpu = _gpu(piece.strip()) if piece.strip() else None
        if gpu is not None:
            named.append(gpu)
    index = 0
    for name, count in named:
        for _ in range(count):
            if index < MAX_GPUS:
                out.gpus.setdefault(index, name)
                index += 1


def _gpu(piece: str) -> tuple[str, int] | None:
    """(name, count) of one piece of the GPU line, when the GPU table knows the name."""
    from envlock.matrix import load_matrix

    count = 1
    before = _COUNT_BEFORE.match(piece)
    if before:
        count, piece = int(before.group(1)), piece[before.end() :]
    after = _COUNT_AFTER.search(piece)
    if after:
        count, piece = int(after.group(1) or after.group(2)), piece[: after.start()]
    name = _MEMORY.sub("", piece).strip()
    low = f" {name.lower()}"
    if not name or count < 1 or not any(c.isdigit() for c in name):
        return None
    if any(w in low for w in _NOT_NVIDIA):
        return None
    return (name, count) if load_matrix().gpu_by_name(name) else None

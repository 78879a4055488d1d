"""An application's versions printed as a JSON object or a Python dict (issue 21, session 13).

Applications print their dependencies as one object and reporters paste it whole. InvokeAI's
bug template asks for "### Python dependencies", which its UI copies from the `/api/v1/app/
app_deps` route (invokeai/app/api/routers/app_info.py): in 3.x-5.x a fixed set, "torch":
torch.version.__version__ and "cuda": torch.version.cuda beside accelerate, compel,
diffusers, numpy, opencv, onnx, pillow, python, torchvision, transformers, xformers (null when
missing); from 6.x every installed distribution by its name, and "CUDA": torch.version.cuda
("N/A" when it is None):

    {
        "version": "5.10.0",
        "dependencies": {
            "cuda"        : "12.4"        ,
            "python"      : "3.11.10"     ,
            "torch"       : "2.6.0+cu124" ,
            "torchvision" : "0.21.0+cu124",
            "xformers"    : null
        },
        ...

Scripts print the same shape ({"torch": torch.__version__, "torchvision": ..., "cuda":
torch.version.cuda, "python": ...}). The object is found by a quoted "torch" key with a colon
(JSON's double quotes or a repr's single ones) and read from the brace that opens it to the
first blank line, without evaluating it (envlock/pasted/mmrepr.py's `env_pairs`, 4 KiB a
string). It is read only where it stands as data: its brace opens a line or follows another
key's colon (a nested object), never after an assignment or a call (`expected = {"torch":
...}` in a pasted script is what someone wants, not what is installed); and only with a
release version for "torch" and one more key of the list below beside it. What is read:
torch's version; "cuda"/"CUDA" (torch.version.cuda in every source above) as torch's CUDA
where it is a version and agrees with torch's local tag ("N/A" and null are not read: a ROCm
build has no CUDA either); torchvision, torchaudio, torchtext, triton and xformers as
packages; "python" as Python's version.
"""

from __future__ import annotations

import re

from envlock.pasted.mmrepr import env_pairs
from envlock.pasted.toolreading import TORCH_VERSION, ToolReading

_TORCH_KEY = re.compile(r"([\"'])torch\1[ \t]*:")
_OPENS_DATA = re.compile(r"(?:^|[\"'][ \t]*:)[ \t]*$", re.M)
_MAX_KEYS = 16  # "torch" keys tried at the most (a log may print many objects)
_REACH = 8192  # how far before its "torch" key an object's brace may stand
_SLICE = 16 * 1024
_VERSION = re.compile(r"\d{1,3}\.\d{1,3}(?:\.\d{1,4})?(?:[a-z]+\d*)?(?:\.dev\d+)?(?:\+[\w.]+)?")
_CUDA = re.compile(r"\d{1,2}\.\d{1,2}")
_PYTHON = re.compile(r"\d\.\d{1,2}(?:\.\d{1,3})?")
_CUDA_KEYS = ("cuda", "CUDA", "torch.version.cuda", "cuda_build")
_PACKAGES = ("torchvision", "torchaudio", "torchtext", "triton", "xformers")
_OTHER_KEYS = (*_CUDA_KEYS, *_PACKAGES, "python")
NOTE = (
    "versions printed as a JSON object or dict (InvokeAI's Python dependencies and the like): read"
)


def read_versions_object(text: str) -> ToolReading | None:
    """torch's version, its CUDA, its family's versions and Python's from the first object of
    versions the text holds; None for none."""
    for n, key in enumerate(_TORCH_KEY.finditer(text)):
        if n >= _MAX_KEYS:
            break
        brace = text.rfind("{", max(0, key.start() - _REACH), key.start())
        if brace < 0 or not _OPENS_DATA.search(text, text.rfind("\n", 0, brace) + 1, brace):
            continue
        end = text.find("\n\n", key.end())
        reading = _reading(env_pairs(text[brace : end if end >= 0 else brace + _SLICE]))
        if reading is not None:
            return reading
    return None


def _reading(pairs: dict[str, str | bool | int | None]) -> ToolReading | None:
    torch = pairs.get("torch")
    if not isinstance(torch, str) or not re.fullmatch(TORCH_VERSION, torch.strip()):
        return None
    if not any(isinstance(pairs.get(k), str) for k in _OTHER_KEYS):
        return None
    torch = torch.strip()
    out = ToolReading()
    out.put("PyTorch version", torch)
    cuda = next((v for k in _CUDA_KEYS if isinstance(v := pairs.get(k), str)), "").strip()
    tag = torch.partition("+")[2]
    if _CUDA.fullmatch(cuda) and (not tag or tag == "cu" + cuda.replace(".", "")):
        out.put("CUDA used to build PyTorch", cuda)
    python = pairs.get("python")
    if isinstance(python, str) and _PYTHON.fullmatch(python.strip()):
        out.put("Python version", python.strip())
    for name in _PACKAGES:
        version = pairs.get(name)
        if isinstance(version, str) and _VERSION.fullmatch(version.strip()):
            out.packages.setdefault(name, version.strip())
    out.notes.append(NOTE)
    return out

"""OpenMMLab's environment printed as a Python dict or OrderedDict repr (issue 21).

mmcv's `mmcv.utils.collect_env()` (mmcv/utils/env.py, mmcv 1.x) returns a dict and mmengine's
`mmengine.utils.dl_utils.collect_env()` (as mmdet, mmpose, mmseg... wrap it) an OrderedDict;
the tools print it a key a line ('PyTorch: 1.13.1', envlock/pasted/check_env.py reads that),
but a reporter who runs `print(collect_env())` pastes its repr:

    {'sys.platform': 'linux', 'Python': '3.8.19 (default, ...) [GCC 11.2.0]',
     'CUDA available': True, 'GPU 0': 'NVIDIA A100-SXM4-80GB MIG 3g.40gb', ...,
     'PyTorch': '1.10.1', 'PyTorch compiling details': 'PyTorch built with:\\n - ...'}
    OrderedDict([('sys.platform', 'win32'), ('CUDA available', True), ('GPU 0,1', ...), ...])

The keys across releases (mmcv/utils/env.py, mmengine/utils/dl_utils/collect_env.py):
'sys.platform', 'Python', 'CUDA available' (and mmengine's 'MUSA available', 'SUPA
available', 'numpy_random_seed'), 'GPU 0,1' (the GPUs of one name, by index), 'CUDA_HOME',
'NVCC' (nvcc -V's 'Cuda compilation tools, release 11.6, V11.6.55', or hipcc's 'HIP
version:' under /opt/rocm), 'MSVC', 'GCC', 'PyTorch', 'PyTorch compiling details',
'TorchVision', 'OpenCV', 'MMCV', 'MMCV Compiler', 'MMCV CUDA Compiler', 'MMEngine'.

The repr is read without evaluating it: one pass finds the string literals (a repr never
breaks a string over lines, so a line end in one is the paste's wrap, taken out; a terminal
may break the dict between its items too, and an issue excerpt may cut it anywhere); each
pair is a quoted key followed by ':' (the dict) or a '(' key ',' (the OrderedDict's tuples)
and its value, a string literal, True, False, None or an integer; each string is decoded by
ast.literal_eval, 4 KiB at the most. A repr is read only
with a 'PyTorch' version and one of its 'CUDA available' or 'sys.platform' keys beside it.
What the pairs hold becomes the collect_env lines they mean (as check_env.py maps the printed
form): torch's version (a +rocm tag its HIP), CUDA availability, each GPU by index, Python,
GCC, nvcc's release as the CUDA runtime (or the CUDA of nvcc's last line, 'Build cuda_11.4.r11.4/...',
which older releases printed: `nvcc -V | tail -n1`), torch's CUDA from the compiling details'
'CUDA Runtime 10.2', Windows from 'win32', torchvision, mmcv, mmengine.
"""

from __future__ import annotations

import ast
import re
import warnings

from envlock.pasted.toolreading import TORCH_VERSION, ToolReading

# the keys only OpenMMLab's environment has, quoted as a repr quotes them
_ANCHORS = ("'sys.platform'", "'CUDA available'", '"sys.platform"', '"CUDA available"')
# how far past the first key the repr is read (compiling details are some 3 KiB)
_SLICE = 64 * 1024
_MAX_STRING = 4096
_MAX_STRINGS = 2048
_QUOTES = re.compile(r"['\"\\]")
_COLON = re.compile(r"[ \t\r\n]*:[ \t\r\n]*")
_COMMA = re.compile(r"[ \t\r\n]*,[ \t\r\n]*")
_OPEN = re.compile(r"\([ \t\r\n]*$")
_BARE = re.compile(r"(True|False|None|-?\d{1,40})\b")
_GPUS = re.compile(r"GPU ((?:\d{1,3},){0,15}\d{1,3})")
_NVCC = re.compile(r"release (\d+\.\d+), V(\d+\.\d+(?:\.\d+)?)")
# `nvcc -V | tail -n1` (mmcv 1.x and mmdet 2.x before the rfind): CUDA 11.1+'s last line
# "Build cuda_11.4.r11.4/compiler.30521435_0", CUDA 11.0's "Build cuda_11.0_bu.TC445_37..."
_NVCC_BUILD = re.compile(r"Build cuda_(\d{1,2}\.\d{1,2})[._]")
# torch.__config__.show()'s line in 'PyTorch compiling details': the CUDA torch was built with
_CUDA_RUNTIME = re.compile(r"(?<![\w.])CUDA Runtime (\d{1,2}\.\d)(?![\d.])")
_ROCM = re.compile(r"\+rocm(\d+\.\d+)")
_PACKAGES = {"TorchVision": "torchvision", "MMCV": "mmcv", "MMEngine": "mmengine"}
_Value = str | bool | int | None


def read_mm_repr(text: str) -> ToolReading | None:
    """The collect_env facts an OpenMMLab environment repr states; None without one."""
    starts = [at for at in (text.find(a) for a in _ANCHORS) if at >= 0]
    if not starts:
        return None
    first = min(starts)
    first -= text[first - 1 : first] == "("  # the OrderedDict's first tuple
    pairs = env_pairs(text[first : first + _SLICE])
    torch = pairs.get("PyTorch")
    if not isinstance(torch, str) or not re.fullmatch(TORCH_VERSION, torch):
        return None
    if not ({"CUDA available", "sys.platform"} & pairs.keys()):
        return None
    out = ToolReading()
    _fields(pairs, torch, out)
    out.notes.append(
        "OpenMMLab's collect_env printed as a Python dict/OrderedDict repr: read (never evaluated)"
    )
    return out


def env_pairs(text: str) -> dict[str, _Value]:
    """The repr's key -> value pairs (the first of a key wins), from its string literals: in
    the first _SLICE characters, _MAX_STRINGS literals at the most (an environment has some 20
    pairs)."""
    text = text[:_SLICE]
    strings = _strings(text)
    pairs: dict[str, _Value] = {}
    for i, (start, end) in enumerate(strings):
        tuple_item = _OPEN.search(text, max(0, start - 40), start) is not None
        sep = (_COMMA if tuple_item else _COLON).match(text, end)
        if sep is None:
            continue
        following = strings[i + 1] if i + 1 < len(strings) else None
        value: _Value
        if following is not None and following[0] == sep.end():
            value = _decode(text[following[0] : following[1]])
            if value is None:
                continue  # a string that could not be decoded
        else:
            bare = _BARE.match(text, sep.end())
            if bare is None:
                continue
            value = _bare(bare.group(1))
        key = _decode(text[start:end])
        if key is not None:
            pairs.setdefault(key, value)
    return pairs


def _strings(text: str) -> list[tuple[int, int]]:
    """Each string literal's (start, end), in one pass: a quote opens a string outside one and
    closes it inside, a backslash escapes the next character; a line end inside one is a wrap
    of the paste."""
    found: list[tuple[int, int]] = []
    quote, opened, escaped_at = "", 0, -1
    for m in _QUOTES.finditer(text):
        ch, at = m.group(), m.start()
        if not quote:
            if ch in "'\"":
                quote, opened = ch, at
            continue
        if at == escaped_at:
            continue
        if ch == "\\":
            escaped_at = at + 1
        elif ch == quote:
            found.append((opened, at + 1))
            quote = ""
            if len(found) >= _MAX_STRINGS:
                break
    return found


def _decode(literal: str) -> str | None:
    """A string literal's value; a line break in it is a terminal's or an editor's wrap, taken
    out (a repr writes its own as \\n)."""
    if len(literal) > _MAX_STRING:
        return None
    literal = literal.replace("\r", "").replace("\n", "")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an invalid escape ('C:\Program Files') warns
        try:
            value = ast.literal_eval(literal)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return None
    return value if isinstance(value, str) else None


def _bare(word: str) -> _Value:
    if word in ("True", "False"):
        return word == "True"
    return None if word == "None" else int(word)


def _fields(pairs: dict[str, _Value], torch: str, out: ToolReading) -> None:
    """The pairs as collect_env fields, GPUs and packages."""
    out.put("PyTorch version", torch)
    rocm = _ROCM.search(torch)
    if rocm:
        out.put("ROCM used to build PyTorch", rocm.group(1))
        out.put("CUDA used to build PyTorch", "N/A")
    available = pairs.get("CUDA available")
    if isinstance(available, bool):
        out.put("Is CUDA available", str(available))
    for key in ("Python", "GCC"):
        value = pairs.get(key)
        if isinstance(value, str) and value.strip().lower() != "n/a":
            out.put(f"{key} version", value.strip())
    _cuda(pairs, out, rocm=rocm is not None)
    if pairs.get("sys.platform") == "win32":
        out.put("OS", "Microsoft Windows")
    for key, value in pairs.items():
        if isinstance(value, str):
            _gpus_or_package(key, value.strip(), out)


def _cuda(pairs: dict[str, _Value], out: ToolReading, *, rocm: bool) -> None:
    """nvcc's release (its 'release 11.6, V11.6.55' or its last line's 'Build cuda_11.4...')
    and, from the compiling details' 'CUDA Runtime 10.2', the CUDA torch was built with."""
    nvcc = pairs.get("NVCC")
    nvcc = nvcc if isinstance(nvcc, str) else ""
    m = _NVCC.search(nvcc) or _NVCC_BUILD.match(nvcc.strip())
    out.put("CUDA runtime version", m.group(m.lastindex or 1) if m else None)
    details = pairs.get("PyTorch compiling details")
    built = _CUDA_RUNTIME.search(details) if isinstance(details, str) and not rocm else None
    out.put("CUDA used to build PyTorch", built.group(1) if built else None)


def _gpus_or_package(key: str, value: str, out: ToolReading) -> None:
    """'GPU 0,1': the GPUs of one name; 'TorchVision', 'MMCV', 'MMEngine': a package."""
    gpus = _GPUS.fullmatch(key)
    if gpus and value:
        for index in gpus.group(1).split(","):
            out.gpus.setdefault(int(index), value)
    name = _PACKAGES.get(key)
    if name and re.fullmatch(r"\d[\w.+!-]{0,60}", value):
        out.packages.setdefault(name, value)

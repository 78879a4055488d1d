"""The `cuda` section: system toolkit, libcudart, libcuda, CUDA wheels, loader paths.

libcudart and libcuda are loaded with ctypes in a short-lived child
interpreter (`-I -S`, standard library only), so the caller never maps a CUDA
library or risks a hang inside the driver; the child also reads its own
/proc/self/maps to say which files the loader actually picked.
"""

from __future__ import annotations

import os
import sys

from envlock.probe import _dists
from envlock.probe._util import Spawned, run_command, which
from envlock.probe.libnames import decode_cuda_version, is_cuda_library
from envlock.probe.statcache import cached, is_str_list, stat_line, tool_key

# typing is not imported at run time (~3 ms of every container probe).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, TypedDict

    from envlock.probe.shapes import (
        CudaLibDoc,
        CudartDoc,
        LibcudaDoc,
        LibDirDoc,
        ToolkitDoc,
        WheelDoc,
    )
    from envlock.probe.statcache import StatCache

    class CudartRaw(TypedDict, total=False):
        """What _CTYPES_CHILD prints about libcudart: [rc, value] of each call."""

        loaded: str
        runtime: list[int]
        driver: list[int]
        error: str
        path: str | None
        errors: list[str]

    class LibcudaRaw(TypedDict, total=False):
        """What _CTYPES_CHILD prints about libcuda.so.1."""

        driver: list[int]
        path: str | None
        error: str


# Runs in `python -I -S -c`: argv[1] is a JSON list of libcudart candidates.
_CTYPES_CHILD = r"""
import ctypes, json, sys
cands = json.loads(sys.argv[1])
out = {}
def version(lib, fn):
    v = ctypes.c_int(0)
    rc = getattr(lib, fn)(ctypes.byref(v))
    return [int(rc), int(v.value)]
def mapped(prefix):
    try:
        with open("/proc/self/maps") as fh:
            for line in fh:
                parts = line.split(None, 5)
                if len(parts) == 6 and parts[5].strip().rsplit("/", 1)[-1].startswith(prefix):
                    return parts[5].strip()
    except OSError:
        pass
    return None
errors = []
for name in cands:
    try:
        lib = ctypes.CDLL(name)
    except OSError as exc:
        errors.append(str(exc))
        continue
    r = {"loaded": name}
    try:
        r["runtime"] = version(lib, "cudaRuntimeGetVersion")
        r["driver"] = version(lib, "cudaDriverGetVersion")
    except AttributeError as exc:
        r["error"] = str(exc)
    r["path"] = mapped("libcudart")
    out["cudart"] = r
    break
else:
    out["cudart"] = {"errors": errors}
try:
    cu = ctypes.CDLL("libcuda.so.1")
    out["libcuda"] = {"driver": version(cu, "cuDriverGetVersion"), "path": mapped("libcuda.so")}
except OSError as exc:
    out["libcuda"] = {"error": str(exc)}
except AttributeError as exc:
    out["libcuda"] = {"error": str(exc), "path": mapped("libcuda.so")}
print(json.dumps(out))
"""


def collect(
    timeout: float = 15.0, cache: StatCache | None = None, ldconfig_started: Spawned | None = None
) -> CudaLibDoc:
    """`cache`: what ldconfig, nvcc and the ctypes child said, by their files' stat
    (probe/statcache.py; host side only). `ldconfig_started`: start_ldconfig()'s."""
    toolkit = toolkit_facts(timeout=min(timeout, 10.0), cache=cache)
    ld_path = ld_library_path_facts(os.environ.get("LD_LIBRARY_PATH", ""))
    ldconfig = ldconfig_libraries(timeout=min(timeout, 5.0), cache=cache, started=ldconfig_started)
    if ldconfig is not None and not _runtime_candidates_exist(
        toolkit.get("cuda_home"), ld_path, ldconfig
    ):
        # Nothing the loader could find: skip the ctypes child (most of this source's time).
        cudart = interpret_cudart({"errors": ["no libcudart on the loader path"]})
        libcuda = interpret_libcuda({"error": "no libcuda.so on the loader path"})
    else:
        cudart, libcuda = runtime_facts(
            toolkit.get("cuda_home"), timeout=min(timeout, 10.0), cache=cache
        )
    return {
        "unavailable": None,
        "toolkit": toolkit,
        "cudart": cudart,
        "libcuda": libcuda,
        "wheels": wheel_facts(),
        "ld_library_path": ld_path,
        "ldconfig_libraries": ldconfig or [],
    }


# re.match(r"libcud(art|a)\.so", name), without re: a probe that finds no CUDA imports none
_RUNTIME_LIB = ("libcudart.so", "libcuda.so")
# Searched by the dynamic loader after LD_LIBRARY_PATH and ld.so.cache.
_DEFAULT_LIB_DIRS = ("/lib", "/usr/lib", "/lib64", "/usr/lib64")


def _runtime_candidates_exist(
    cuda_home: str | None, ld_path: list[LibDirDoc], ldconfig: list[str]
) -> bool:
    """Could ctypes load libcudart or libcuda here at all?"""
    if any(os.path.isabs(c) for c in cudart_candidates(cuda_home)):
        return True
    if any(os.path.basename(p).startswith(_RUNTIME_LIB) for p in ldconfig):
        return True
    for entry in ld_path:
        if any(n.startswith(_RUNTIME_LIB) for n in entry.get("libraries", [])):
            return True
    for d in _DEFAULT_LIB_DIRS:
        try:
            if any(n.startswith(_RUNTIME_LIB) for n in os.listdir(d)):
                return True
        except OSError:
            continue
    return False


# ------------------------------------------------------------------ toolkit
def toolkit_facts(timeout: float = 10.0, cache: StatCache | None = None) -> ToolkitDoc:
    """Find nvcc as torch.utils.cpp_extension does: CUDA_HOME/CUDA_PATH, PATH, /usr/local/cuda."""
    cuda_home = os.environ.get("CUDA_HOME") or os.environ.get("CUDA_PATH")
    nvcc = _find_nvcc(cuda_home)
    cuda_home = _toolkit_home(cuda_home, nvcc)
    version = None
    if nvcc is not None:
        exe = nvcc

        def run() -> tuple[str | None, bool]:
            rc, out, _ = run_command([exe, "--version"], timeout)
            return (parse_nvcc_version(out) if rc == 0 else None), rc == 0

        version = cached(cache, "nvcc", tool_key("nvcc", nvcc), run, lambda v: isinstance(v, str))
    return {"cuda_home": cuda_home, "nvcc_path": nvcc, "nvcc_version": version}


def _find_nvcc(cuda_home: str | None) -> str | None:
    """CUDA_HOME's nvcc, else the one on PATH, else /usr/local/cuda's."""
    if cuda_home:
        cand = os.path.join(cuda_home, "bin", "nvcc")
        if os.access(cand, os.X_OK):
            return cand
    nvcc = which("nvcc")
    if nvcc is None and os.access("/usr/local/cuda/bin/nvcc", os.X_OK):
        nvcc = "/usr/local/cuda/bin/nvcc"
    return nvcc


def _toolkit_home(cuda_home: str | None, nvcc: str | None) -> str | None:
    """The toolkit directory: CUDA_HOME as given, else nvcc's, else /usr/local/cuda; its
    real path (/usr/local/cuda -> /usr/local/cuda-13.0)."""
    if cuda_home is None and nvcc is not None:
        cuda_home = os.path.dirname(os.path.dirname(os.path.realpath(nvcc)))
        if not is_toolkit(cuda_home) and is_toolkit("/usr/local/cuda"):
            # nvcc is a wrapper script (/usr/local/bin/nvcc): its parent is no toolkit
            cuda_home = "/usr/local/cuda"
    if cuda_home is None and os.path.isdir("/usr/local/cuda"):
        cuda_home = "/usr/local/cuda"
    return None if cuda_home is None else os.path.realpath(cuda_home)


def is_toolkit(path: str) -> bool:
    """A CUDA toolkit directory: its own headers and nvvm next to bin/nvcc."""
    return os.path.isfile(os.path.join(path, "include", "cuda.h")) or os.path.isdir(
        os.path.join(path, "nvvm")
    )


def parse_nvcc_version(text: str) -> str | None:
    # "Cuda compilation tools, release 13.0, V13.0.88"
    import re

    m = re.search(r"release \d+\.\d+, V(\d+\.\d+\.\d+)", text)
    if m:
        return m.group(1)
    m = re.search(r"release (\d+\.\d+)", text)
    return m.group(1) if m else None


# -------------------------------------------------------- cudart / libcuda
def cudart_candidates(cuda_home: str | None) -> list[str]:
    cands: list[str] = []
    if cuda_home:
        import re

        for sub in ("lib64", "lib", os.path.join("targets", "x86_64-linux", "lib")):
            d = os.path.join(cuda_home, sub)
            try:
                names = sorted(n for n in os.listdir(d) if re.match(r"libcudart\.so(\.\d+)*$", n))
            except OSError:
                continue
            cands.extend(os.path.join(d, n) for n in names)
    # Then whatever the loader finds by soname (LD_LIBRARY_PATH, ldconfig).
    cands.extend(["libcudart.so", "libcudart.so.13", "libcudart.so.12", "libcudart.so.11.0"])
    return cands


def runtime_facts(
    cuda_home: str | None, timeout: float = 10.0, cache: StatCache | None = None
) -> tuple[CudartDoc, LibcudaDoc]:
    cands = cudart_candidates(cuda_home)
    data = cached(
        cache,
        "ctypes",
        _runtime_key(cands),
        lambda: _ctypes_child(cands, timeout),
        _is_child_output,
        _loaded_by_child,
    )
    if "unavailable" in data:
        reason = str(data["unavailable"])
        return {"unavailable": reason}, {"unavailable": reason}
    return interpret_cudart(data.get("cudart", {})), interpret_libcuda(data.get("libcuda", {}))


def _ctypes_child(cands: list[str], timeout: float) -> tuple[dict[str, Any], bool]:
    """What _CTYPES_CHILD printed, and whether it ran ({"unavailable": why} when not)."""
    import json  # here: a served probe that never needs it imports no json (nor re)

    argv = [sys.executable, "-I", "-S", "-c", _CTYPES_CHILD, json.dumps(cands)]
    rc, out, err = run_command(argv, timeout)
    if rc != 0:
        why = (
            f"timed out after {timeout:g} s"
            if rc is None
            else (err.strip().splitlines() or [f"exit {rc}"])[-1]
        )
        return {"unavailable": f"loading CUDA libraries with ctypes failed: {why}"}, False
    try:
        data = json.loads(out)
    except ValueError:
        return {"unavailable": "ctypes child printed no JSON"}, False
    return data, _is_child_output(data)


# The loader's default directories (searched after LD_LIBRARY_PATH and ld.so.cache) and
# the files that decide what it finds: a library added to a directory changes its mtime.
_LOADER_FILES = ("/etc/ld.so.preload", *_DEFAULT_LIB_DIRS)


def _runtime_key(cands: list[str]) -> list[str]:
    """What decides what the ctypes child loads (probe/statcache.py lists it)."""
    machine = os.uname().machine
    key = [sys.executable, stat_line(os.path.realpath(sys.executable)), *cands]
    key += [stat_line(c) for c in cands if os.path.isabs(c)]
    for var in ("LD_LIBRARY_PATH", "LD_PRELOAD"):
        key.append(f"{var}={os.environ.get(var, '')}")
    dirs = [d for d in os.environ.get("LD_LIBRARY_PATH", "").split(os.pathsep) if d]
    dirs += [
        LD_SO_CACHE,
        *_LOADER_FILES,
        f"/lib/{machine}-linux-gnu",
        f"/usr/lib/{machine}-linux-gnu",
    ]
    return key + [stat_line(d) for d in dirs]


def _is_child_output(data: object) -> bool:
    """The shape _CTYPES_CHILD prints (a cache entry of another shape is a miss)."""
    if not isinstance(data, dict):
        return False
    cudart, libcuda = data.get("cudart"), data.get("libcuda")
    if not (isinstance(cudart, dict) and isinstance(libcuda, dict)):
        return False
    for raw in (cudart, libcuda):
        for name in ("runtime", "driver"):
            pair = raw.get(name)
            if pair is not None and not (
                isinstance(pair, list) and len(pair) == 2 and all(type(v) is int for v in pair)
            ):
                return False
        for name in ("loaded", "path", "error"):
            if raw.get(name) is not None and not isinstance(raw.get(name), str):
                return False
    return is_str_list(cudart.get("errors", []))


def _loaded_by_child(data: dict[str, Any]) -> list[str]:
    """The libraries the child loaded: a later read checks they are unchanged."""
    paths = [data.get("cudart", {}).get("path"), data.get("libcuda", {}).get("path")]
    return [p for p in paths if isinstance(p, str)]


def interpret_cudart(raw: CudartRaw) -> CudartDoc:
    if "loaded" not in raw:
        return {
            "unavailable": "libcudart not found (no CUDA toolkit under CUDA_HOME and none on the "
            "loader path); torch wheels bring their own, so this only matters for extensions",
        }
    runtime: Sequence[int | None] = raw.get("runtime") or [None, 0]
    driver: Sequence[int | None] = raw.get("driver") or [None, 0]
    return {
        "path": raw.get("path") or raw.get("loaded"),
        "runtime_version": decode_cuda_version(runtime[1]) if runtime[0] == 0 else None,
        # cudaDriverGetVersion gives 0 (not an error) when no driver is installed.
        "driver_version": decode_cuda_version(driver[1]) if driver[0] == 0 else None,
        "unavailable": raw.get("error"),
    }


def interpret_libcuda(raw: LibcudaRaw) -> LibcudaDoc:
    if "driver" not in raw:
        error = raw.get("error") or "libcuda.so.1 could not be loaded"
        return {
            "path": raw.get("path"),
            "unavailable": "libcuda.so.1 not loadable: no NVIDIA driver (or, in a container, "
            f"no --gpus) ({error})",
        }
    rc, value = raw["driver"]
    path = raw.get("path")
    return {
        "path": path,
        "driver_version": decode_cuda_version(value) if rc == 0 else None,
        "compat": is_compat_path(path),
        "unavailable": None if rc == 0 else f"cuDriverGetVersion returned error {rc}",
    }


def is_compat_path(path: str | None) -> bool:
    """True when libcuda comes from a cuda-compat package (forward compatibility)."""
    if not path:
        return False
    return "compat" in os.path.dirname(path).split(os.sep)


# ------------------------------------------------------------------- wheels
def wheel_facts(path: list[str] | None = None) -> list[WheelDoc]:
    dists = _dists.distributions(path)
    wheels: list[WheelDoc] = []
    for dist in dists.values():
        name = dist.name
        if not (name.startswith("nvidia-") or name.startswith("cuda-")):
            continue
        wheels.append(
            {
                "name": name,
                "version": dist.version,
                "cuda_major": wheel_cuda_major(dist),
            }
        )
    majors = {w["cuda_major"] for w in wheels if w["cuda_major"] is not None}
    if len(majors) > 1:
        # wheels of several CUDA majors: who pulled each in (read only in this rare case)
        required_by: dict[str, list[str]] = {}
        names = {w["name"] for w in wheels}
        for dist in dists.values():
            for req in dist.requires():
                named = _dists.requirement_name(req)
                wanted = _dists.normalize(named) if named else ""
                if wanted in names and dist.name not in required_by.get(wanted, []):
                    required_by.setdefault(wanted, []).append(dist.name)
        for w in wheels:
            if w["name"] in required_by:
                w["required_by"] = sorted(required_by[w["name"]])
    return sorted(wheels, key=lambda w: w["name"])


_VERSIONED_LIKE_CUDA = ("cuda-toolkit", "cuda-bindings", "cuda-python", "cuda-core")


def wheel_cuda_major(dist: _dists.Dist) -> int | None:
    """The CUDA major a wheel is built for: name suffix, install dir, or dependency pins."""
    import re

    m = re.search(r"-cu(\d{1,4})$", dist.name)
    if m:
        return int(m.group(1))
    # CUDA 13 wheels dropped the suffix but install into site-packages/nvidia/cu13/.
    m = re.search(r"(?:^|\n)nvidia/cu(\d{1,4})/", dist.record_head())
    if m:
        return int(m.group(1))
    if dist.name in _VERSIONED_LIKE_CUDA:
        m = re.match(r"(\d{1,4})\.", dist.version)
        return int(m.group(1)) if m else None
    for req in dist.requires():
        m = re.match(r"[A-Za-z0-9._-]+?[-_]cu(\d{1,4})\b", req)
        if m:
            return int(m.group(1))
    return None


# ----------------------------------------------------------- loader paths
def ld_library_path_facts(value: str) -> list[LibDirDoc]:
    out: list[LibDirDoc] = []
    for d in value.split(os.pathsep):
        if not d:
            continue
        try:
            names = sorted(n for n in os.listdir(d) if is_cuda_library(n))
        except OSError:
            continue
        if names:
            out.append({"path": d, "libraries": names})
    return out


LD_SO_CACHE = "/etc/ld.so.cache"  # what `ldconfig -p` prints


def ldconfig_argv() -> list[str] | None:
    """`ldconfig -p` (the loader's own cache by default; another one only where a test
    names it), or None where there is no ldconfig."""
    exe = None
    for cand in ("/sbin/ldconfig", "/usr/sbin/ldconfig"):
        if os.access(cand, os.X_OK):
            exe = cand
            break
    exe = exe or which("ldconfig")
    if exe is None:
        return None
    ld_cache = LD_SO_CACHE
    return [exe, "-p"] if ld_cache == "/etc/ld.so.cache" else [exe, "-C", ld_cache, "-p"]


def start_ldconfig() -> Spawned | None:
    """`ldconfig -p` started now, for a probe without a cache (a served one): it runs
    while the probe imports its sections; ldconfig_libraries(started=) reads it."""
    argv = ldconfig_argv()
    return None if argv is None else Spawned(argv)


def ldconfig_libraries(
    timeout: float = 5.0, cache: StatCache | None = None, started: Spawned | None = None
) -> list[str] | None:
    """CUDA libraries in the loader cache; None when `ldconfig -p` could not be read.
    `started`: that command, started by start_ldconfig() (never with a cache)."""
    if started is not None:
        rc, out, _ = started.result(timeout)
        return parse_ldconfig(out) if rc == 0 else None
    argv = ldconfig_argv()
    if argv is None:
        return None

    def run() -> tuple[list[str] | None, bool]:
        rc, out, _ = run_command(argv, timeout)
        return (parse_ldconfig(out) if rc == 0 else None), rc == 0

    key = [argv[0], stat_line(argv[0]), stat_line(LD_SO_CACHE)]
    libs: list[str] | None = cached(cache, "ldconfig", key, run, is_str_list)
    return libs


def parse_ldconfig(text: str) -> list[str]:
    # "\tlibcudnn.so.9 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcudnn.so.9"
    found = set()
    for line in text.splitlines():
        name, sep, path = line.strip().partition(" => ")
        if sep and is_cuda_library(name.split(" ", 1)[0]):
            found.add(path.strip())
    return sorted(found)

"""What builds extensions and what the CPU offers: the facts collect_env prints that the
rest of the probe did not (compilers, CPU ISA and NUMA nodes, conda packages, pip and uv).

Standard library only, Python 3.8+, never raises: a tool that is absent is None, a tool
that fails or hangs is "unavailable: <reason>" in `notes`.
"""

from __future__ import annotations

import os
import sys

from envlock.probe import _dists
from envlock.probe._util import line_starts, read_text, run_command, skip_space, which
from envlock.probe.libnames import ISA_FLAGS
from envlock.probe.statcache import cached, tool_key

TYPE_CHECKING = False
if TYPE_CHECKING:
    from envlock.probe.shapes import ToolchainDoc
    from envlock.probe.statcache import StatCache

# tool -> (argv after the executable, the version pattern in its first lines)
TOOLS = {
    "gcc": (["--version"], r"(\d+\.\d+(?:\.\d+)?)"),
    "clang": (["--version"], r"clang version (\d+\.\d+(?:\.\d+)?)"),
    "cmake": (["--version"], r"cmake version (\d+\.\d+(?:\.\d+)?)"),
    "ninja": (["--version"], r"^(\d+\.\d+(?:\.\d+)?)"),
    "uv": (["--version"], r"^uv (\d+\.\d+(?:\.\d+)?)"),
}
MAX_CONDA_PACKAGES = 5000


def tool_version(
    name: str, timeout: float, cache: StatCache | None = None
) -> tuple[str | None, str | None]:
    """(version, None), (None, None) when the tool is absent, (None, why) when it failed.
    `cache`: what it said before, by its files' stat (probe/statcache.py)."""
    exe = which(name)
    if exe is None:
        return None, None
    found = exe

    def run() -> tuple[list[str | None], bool]:
        version, why = _run_tool(name, found, timeout)
        return [version, why], why is None or why.endswith(_NO_VERSION)

    said = cached(cache, "tool:" + name, tool_key(name, exe), run, _is_said)
    return said[0], said[1]


_NO_VERSION = ": unavailable: no version in its output"


def _is_said(value: object) -> bool:
    """What run() stores: [version, why] (a damaged cache entry is a miss)."""
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(v is None or isinstance(v, str) for v in value)
    )


def _run_tool(name: str, exe: str, timeout: float) -> tuple[str | None, str | None]:
    args, pattern = TOOLS[name]
    rc, out, err = run_command([exe, *args], timeout)
    if rc != 0:
        return None, "{}: unavailable: {}".format(
            name, (err.strip().splitlines() or [f"exit {rc}"])[-1][:120]
        )
    head = "\n".join(out.splitlines()[:3])
    import re  # here: an image without these tools imports no re

    m = re.search(pattern, head, re.MULTILINE)
    return (m.group(1), None) if m else (None, name + _NO_VERSION)


def cpu_isa(cpuinfo: str | None) -> list[str] | None:
    """The ISA features of the first CPU listed, in ISA_FLAGS order; None: not readable."""
    if not cpuinfo:
        return None
    flags = _first_flags(cpuinfo)
    if flags is None:
        return None
    present = set(flags.split())
    return [f for f in ISA_FLAGS if f in present]


def _first_flags(cpuinfo: str) -> str | None:
    r"""re.search(r"^(?:flags|Features)\s*:\s*(.*)$", cpuinfo, re.M).group(1), without re,
    which a served probe does not import (\s is str.isspace(), newlines too)."""
    for start in line_starts(cpuinfo):
        key = next((k for k in ("flags", "Features") if cpuinfo.startswith(k, start)), None)
        colon = skip_space(cpuinfo, start + len(key)) if key else start
        if key and cpuinfo.startswith(":", colon):
            value = skip_space(cpuinfo, colon + 1)
            end = cpuinfo.find("\n", value)
            return cpuinfo[value:] if end < 0 else cpuinfo[value:end]
    return None


def numa_nodes(root: str = "/sys/devices/system/node") -> int | None:
    """How many entries of `root` glob.glob(root + "/node[0-9]*") finds, None for none,
    without glob (fnmatch imports re)."""
    try:
        names = os.listdir(root)
    except OSError:
        return None
    nodes = sum(1 for n in names if n.startswith("node") and n[4:5] in _DIGITS)
    return nodes or None


_DIGITS = frozenset("0123456789")


def conda_prefix() -> str | None:
    """The conda environment this interpreter runs in: CONDA_PREFIX, or sys.prefix when it
    holds conda-meta/ (an environment used without `conda activate`)."""
    for cand in (os.environ.get("CONDA_PREFIX"), sys.prefix):
        if cand and os.path.isdir(os.path.join(cand, "conda-meta")):
            return cand
    return None


def conda_packages(prefix: str) -> dict[str, str]:
    """name -> "version build" from conda-meta/<name>-<version>-<build>.json file names
    (no JSON read, no conda call: conda itself names the files so)."""
    import glob  # here: glob imports re, and a probe outside conda needs neither

    out: dict[str, str] = {}
    for path in sorted(glob.glob(os.path.join(prefix, "conda-meta", "*.json")))[
        :MAX_CONDA_PACKAGES
    ]:
        stem = os.path.basename(path)[: -len(".json")]
        parts = stem.rsplit("-", 2)
        if len(parts) == 3 and parts[0]:
            out[parts[0]] = f"{parts[1]} {parts[2]}"
    return out


def pip_version() -> str | None:
    """The first pip on sys.path, from the scan the packages section shares: importlib.metadata
    and the email package under it cost more than the rest of this section (issue 23)."""
    dist = _dists.distributions().get("pip")
    return None if dist is None else dist.version


def collect(timeout: float = 10.0, cache: StatCache | None = None) -> ToolchainDoc:
    """`cache`: the tools' versions by their files' stat (host side only)."""
    notes: list[str] = []
    compilers: dict[str, str | None] = {}
    for name in ("gcc", "clang", "cmake", "ninja"):
        version, why = tool_version(name, timeout=min(timeout, 5.0), cache=cache)
        compilers[name] = version
        if why:
            notes.append(why)
    uv, why = tool_version("uv", timeout=min(timeout, 5.0), cache=cache)
    if why:
        notes.append(why)
    prefix = conda_prefix()
    return {
        "unavailable": None,
        "compilers": compilers,
        "pip": pip_version(),
        "uv": uv,
        "cpu_isa": cpu_isa(read_text("/proc/cpuinfo", 1 << 16)),
        "numa_nodes": numa_nodes(),
        "conda_prefix": prefix,
        "conda_packages": conda_packages(prefix) if prefix else {},
        "notes": notes,
    }

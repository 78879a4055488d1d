"""The `torch` section: static facts without importing torch, live facts from a child process.

The caller never imports torch: static facts come from torch/version.py read
as text; live facts (cuDNN, NCCL, arch flags, is_available, devices, flags,
loaded libraries) come from probe/_torch_child.py in a child process of the same
interpreter, served from memory (probe/_served.py), with a time limit.
"""

from __future__ import annotations

import os
import sys

from envlock.probe import _dists

# typing is not imported at run time (~3 ms of every container probe).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import subprocess
    from typing import Any

    from envlock.probe.shapes import TorchDoc
    from envlock.probe.statcache import StatCache

_MARKER = "ENVLOCK-TORCH-LIVE:"
# What the torch child imports, and nothing more (tests/probe/test_served.py holds
# this to the child's imports): the modules travel in its command line.
CHILD_FILES = (
    "envlock/probe/__init__.py",
    "envlock/probe/_torch_child.py",
    "envlock/probe/_parentwatch.py",
    "envlock/probe/libnames.py",
)
CHILD_ENTRY = "envlock.probe._torch_child:main"


def find_torch(path: list[str] | None = None) -> str | None:
    """The torch package directory the interpreter would import, without importing it."""
    for entry in sys.path if path is None else path:
        cand = os.path.join(entry or os.getcwd(), "torch")
        if os.path.isfile(os.path.join(cand, "__init__.py")):
            return cand
    return None


def parse_version_py(text: str) -> dict[str, Any]:
    """Literal assignments of torch/version.py: `__version__`, `cuda`, `hip`, `git_version`..."""
    import ast  # only when torch is installed

    values: dict[str, Any] = {}
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return values
    for node in tree.body:
        target = value = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        if isinstance(target, ast.Name) and value is not None:
            try:
                values[target.id] = ast.literal_eval(value)
            except ValueError:
                continue
    return values


def build_tag(version: str | None, cuda: str | None, hip: str | None) -> str | None:
    """ "cu130", "cpu", "rocm6.2": the local version label, or derived when the wheel has none."""
    if version and "+" in version:
        return version.split("+", 1)[1]
    if cuda:
        return "cu" + cuda.replace(".", "")
    if hip:
        return "rocm" + ".".join(hip.split(".")[:2])
    return "cpu" if version else None


# what static_facts reads of version.py
_VERSION_NAMES = ("__version__", "cuda", "hip", "git_version", "debug")


def _version_values(version_py: str, cache: StatCache | None) -> dict[str, Any]:
    """version.py's _VERSION_NAMES (OSError as open() raises it); from `cache` while its
    stat is unchanged (parsing it loads `ast`, a third of this section's time)."""
    from envlock.probe.statcache import cached, stat_line

    def parse() -> tuple[dict[str, Any], bool]:
        with open(version_py, encoding="utf-8") as fh:
            values = parse_version_py(fh.read())
        kept = {name: values[name] for name in _VERSION_NAMES if name in values}
        # stored only what JSON gives back as it was (a tuple would come back a list)
        plain = all(v is None or isinstance(v, (str, bool, int, float)) for v in kept.values())
        return kept, plain

    key = None if cache is None else [stat_line(version_py)]
    found: dict[str, Any] = cached(
        cache, "torch-version:" + version_py, key, parse, lambda v: isinstance(v, dict)
    )
    return found


def static_facts(path: list[str] | None = None, cache: StatCache | None = None) -> TorchDoc:
    """`cache`: what version.py says, by its stat (this host's probe: statcache.py)."""
    location = find_torch(path)
    if location is None:
        return {"unavailable": None, "installed": False}
    try:
        values = _version_values(os.path.join(location, "version.py"), cache)
    except OSError as exc:
        return {
            "unavailable": f"torch found at {location} but torch/version.py is unreadable: "
            f"{exc.strerror}",
            "installed": True,
            "location": location,
        }
    version = values.get("__version__")
    dist = _dists.distributions(path).get("torch")
    if version is None and dist is not None:
        version = dist.version
    cuda = values.get("cuda")
    hip = values.get("hip")
    debug = values.get("debug")
    return {
        "unavailable": None,
        "installed": True,
        "version": str(version) if version is not None else None,
        "build": build_tag(version, cuda, hip),
        "cuda": str(cuda) if cuda is not None else None,
        "hip": str(hip) if hip is not None else None,
        "git_version": values.get("git_version"),
        "debug": bool(debug) if debug is not None else None,
        "location": location,
        "lib_search_path": _lib_search_path(location) if cuda is not None else None,
    }


def _lib_search_path(location: str) -> str | None:
    """DT_RPATH ("rpath": searched before LD_LIBRARY_PATH) or DT_RUNPATH of libtorch_cuda.so."""
    from envlock.probe.elf import search_path_kind

    return search_path_kind(os.path.join(location, "lib", "libtorch_cuda.so"))


class LiveProbe:
    """The child process, started early so the static sources run while torch imports."""

    def __init__(self, python: str | None = None) -> None:
        """`python`: the interpreter whose torch is probed (default: this one)."""
        import subprocess  # only when the child starts: a warm probe runs none

        from envlock.probe._parentwatch import child_env
        from envlock.probe._served import command, served

        self.proc: subprocess.Popen[bytes] | None = None
        self.error: str | None = None
        try:
            # Read through the loader: inside a container the probe itself runs from memory.
            files = served(CHILD_FILES)
            cmd = command(python or sys.executable, files, CHILD_ENTRY, [_MARKER])
            self.proc = subprocess.Popen(
                cmd,
                env=child_env(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except OSError as exc:
            self.error = f"cannot start the torch child process: {exc}"

    def result(self, timeout: float) -> dict[str, Any]:
        if self.proc is None:
            return {"unavailable": self.error}
        import subprocess

        try:
            out, err = self.proc.communicate(timeout=max(timeout, 0.1))
        except subprocess.TimeoutExpired:
            self.kill()
            return {
                "unavailable": "importing torch and reading its CUDA facts did not finish within "
                f"{timeout:g} s (slow filesystem, or a hang in CUDA initialisation); rerun with a "
                "larger --timeout"
            }
        return parse_child_output(
            out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), self.proc.returncode
        )

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def parse_child_output(out: str, err: str, returncode: int | None) -> dict[str, Any]:
    import json  # here: a probe that finds no torch imports no json (nor re)

    for line in reversed(out.splitlines()):
        if line.startswith(_MARKER):
            try:
                data = json.loads(line[len(_MARKER) :])
            except ValueError:
                break
            if isinstance(data, dict):
                return data
            break
    tail = [ln for ln in err.strip().splitlines() if ln.strip()]
    return {
        "unavailable": "the torch child process exited with {} and no facts: {}".format(
            returncode, tail[-1].strip() if tail else "no output"
        )
    }


def collect(
    torch_live: bool = True,
    timeout: float = 30.0,
    live: LiveProbe | None = None,
    cache: StatCache | None = None,
) -> TorchDoc:
    facts = static_facts(cache=cache)
    if not facts.get("installed"):
        if live is not None:
            live.kill()
        return facts
    if live is None and torch_live:
        live = LiveProbe()
    # the child's JSON as it printed it (livecache stores it as such); Facts.from_dict checks it
    facts["live"] = live.result(timeout) if live is not None else None  # type: ignore[typeddict-item]
    return facts

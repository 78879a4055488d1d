"""The facts of a venv `restore --venv` just built, read from its files in envlock's own
process instead of probed under its interpreter (issue 23 item 4): no child, no served
probe compiled again, no `nvcc --version` nor ctypes child under the new interpreter.

Only where that reads what the probe would: the venv's interpreter is the very binary
running envlock (so its version, implementation and standard library are this one's),
and its import path is known from files alone. That path is what `python -c` gives the
probe (the bootstrap drops the working directory): PYTHONPATH's entries, absolute, in
order, without repeats (an empty one is the working directory, as CPython reads it);
the base interpreter's standard library; the venv's site-packages; the directories its
.pth files name (site.addpackage's rules). What could change that path or run code
first makes this return None and the caller probe as before: a .pth line that imports
anything but the known shims below, a sitecustomize or usercustomize on the path,
PYTHONHOME, the system site-packages, another interpreter binary.

The sections are then the probe's own collectors called with that path (packages,
torch's static facts, extensions, CUDA wheels) or on this process (system, env: the
probe child inherits envlock's environment, the machine is the same); nvcc's version
through the probe's stat-keyed cache when the caller allows it. A test holds the
result equal to the served probe's for the fields verify compares.
"""

from __future__ import annotations

import os
import sys
import time

TYPE_CHECKING = False  # typing: no import of a repeat restore's (usecases/warmrestore.py)
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from envlock.probe.shapes import CudaLibDoc, EnvDoc, FactsDoc, LibDirDoc, SystemDoc, ToolkitDoc

    # the cuda section's machine side: (the cache directory it was read with, the
    # toolkit, LD_LIBRARY_PATH's CUDA libraries)
    Toolkit = tuple[str | None, ToolkitDoc, list[LibDirDoc]]

# .pth lines that import code known to leave sys.path alone: setuptools' distutils shim
# (distutils-precedence.pth) and virtualenv's/uv's patch of distutils (_virtualenv.pth).
KNOWN_IMPORTS = frozenset(
    {
        "import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, 'local')"
        " == 'local'; enabled and __import__('_distutils_hack').add_shim(); ",
        "import _virtualenv",
    }
)
_KNOWN = frozenset(k.strip() for k in KNOWN_IMPORTS)
# What site imports from the path before any code of ours would run.
_CUSTOMIZE = ("sitecustomize", "usercustomize")
_PTH_LIMIT = 1 << 20


def venv_document(
    python: str, sections: Sequence[str], *, cache_dir: str | None = None
) -> FactsDoc | None:
    """The probe's document of `sections` for the venv whose interpreter is `python`
    (VENV/bin/python), read without running it; None when its files cannot tell (the
    caller probes). torch's live facts are not read here (`torch.live` absent)."""
    prefix = os.path.dirname(os.path.dirname(os.path.abspath(python)))
    path = import_path(python, prefix)
    if path is None:
        return None
    from envlock.probe import FACTS_VERSION, _local_target

    started = time.perf_counter()
    system, env, toolkit = _machine(cache_dir)
    doc: FactsDoc = {"facts_version": FACTS_VERSION}
    if "system" in sections:
        doc["system"] = _venv_system(system, python, prefix)
    _fill(doc, sections, path, (env, cache_dir, toolkit))
    doc["meta"] = {
        "envlock_version": _version(),
        "collected_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "target": _local_target(system),
        "partial": False,
        "durations_ms": {"total": round((time.perf_counter() - started) * 1000, 1)},
        "notes": [],
    }
    return doc


# what venv_document() reads of this machine and of the environment, not of the venv:
# read by preload() while the installer runs, with the environment it was read in, and
# taken by the next venv_document() in that same environment (the CUDA toolkit's and
# LD_LIBRARY_PATH's facts with the same cache directory, where preload() read them)
_EARLY: list[tuple[dict[str, str], SystemDoc, EnvDoc, Toolkit | None]] = []


def _machine(cache_dir: str | None) -> tuple[SystemDoc, EnvDoc, Toolkit | None]:
    """This machine's system section and the environment's (what a probe child under
    the venv's interpreter inherits), and the CUDA toolkit's facts read with `cache_dir`:
    preload()'s where the environment is still the one it read, else read now (the
    toolkit's by _cuda(): None)."""
    early = _EARLY.pop() if _EARLY else None
    if early is not None and early[0] == os.environ:
        toolkit = early[3]
        return early[1], early[2], toolkit if toolkit and toolkit[0] == cache_dir else None
    from envlock.probe import envvars
    from envlock.probe import system as system_probe

    return system_probe.collect(), envvars.collect(), None


def preload(cache_dir: str | None = None, *, cuda: bool = False) -> None:
    """Import what venv_document() reads with, and read what it reads of the machine
    and the environment (while the installer runs, say): none of it depends on the
    venv. `cuda`: the toolkit's facts too (nvcc's version through the cache in
    `cache_dir`, as the next venv_document(cache_dir=...) would read them)."""
    import resource  # noqa: F401  (probe.system's limits)

    import envlock.probe.cudalibs
    import envlock.probe.elfscan  # extensions' reader of the .so files uv installs
    import envlock.probe.envvars
    import envlock.probe.extensions
    import envlock.probe.packages
    import envlock.probe.statcache
    import envlock.probe.system
    import envlock.probe.torch_info  # noqa: F401

    list_stdlib()
    _EARLY.clear()
    environ = dict(os.environ)
    system, env, _ = _machine(None)
    _EARLY.append((environ, system, env, _toolkit(cache_dir) if cuda else None))


def _fill(
    doc: FactsDoc,
    sections: Sequence[str],
    path: list[str],
    read: tuple[EnvDoc, str | None, Toolkit | None],
) -> None:
    """The sections read from the venv's import path, the environment's as `read` (with
    the cache directory for nvcc's version, and the toolkit's facts where preload() read
    them)."""
    from envlock.probe import extensions, packages, torch_info

    env, cache_dir, toolkit = read
    if "packages" in sections:
        doc["packages"] = packages.collect(path)
    if "torch" in sections:
        doc["torch"] = torch_info.static_facts(path)
    if "extensions" in sections:
        doc["extensions"] = extensions.collect(path, torch_dir=torch_info.find_torch(path))
    if "env" in sections:
        doc["env"] = env
    if "cuda" in sections:
        doc["cuda"] = _cuda(path, toolkit or _toolkit(cache_dir))


def _venv_system(system: SystemDoc, python: str, prefix: str) -> SystemDoc:
    """This machine's system section, with the venv's interpreter as the probe under it
    names itself (the same binary: version and implementation are this one's)."""
    from envlock.probe.system import python_facts

    own = python_facts()
    return {**system, "python": {**own, "executable": python, "virtualenv": prefix}}


def _cuda(path: list[str], toolkit: Toolkit) -> CudaLibDoc:
    """The toolkit and the loader's path (`toolkit`: _toolkit()'s), the venv's CUDA
    wheels; the runtime libraries' ctypes child is not run (verify compares only the
    toolkit)."""
    from envlock.probe import cudalibs

    return {
        "unavailable": None,
        "toolkit": toolkit[1],
        "wheels": cudalibs.wheel_facts(path),
        "ld_library_path": toolkit[2],
    }


def _toolkit(cache_dir: str | None) -> Toolkit:
    """The cuda section's facts that are the machine's, not the venv's: the toolkit
    (found through PATH and CUDA_HOME: the same for any interpreter here; nvcc's version
    through the stat-keyed cache in `cache_dir` when given) and LD_LIBRARY_PATH's CUDA
    libraries."""
    from envlock.probe import cudalibs

    files = None
    if cache_dir is not None:
        from envlock.probe.statcache import open_cache

        files = open_cache(cache_dir)
    toolkit = cudalibs.toolkit_facts(cache=files)
    if files is not None:
        files.save()
    ld = cudalibs.ld_library_path_facts(os.environ.get("LD_LIBRARY_PATH", ""))
    return cache_dir, toolkit, ld


def _version() -> str:
    from envlock import __version__

    return str(__version__)


def import_path(python: str, prefix: str) -> list[str] | None:
    """sys.path of `python -c` under the venv at `prefix`, less the working directory the
    probe's bootstrap drops; None when its files cannot tell it."""
    if not _same_interpreter(python) or os.environ.get("PYTHONHOME"):
        return None
    if _system_site(os.path.join(prefix, "pyvenv.cfg")) is not False:
        return None  # no pyvenv.cfg, unreadable, or the system site-packages on the path
    path: list[str] = []
    seen: set[str] = set()

    def add(entry: str) -> None:
        entry = os.path.abspath(entry)
        if entry not in seen:
            seen.add(entry)
            path.append(entry)

    for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep) if _pythonpath() else ():
        add(entry)
    for entry in _stdlib():
        add(entry)
    for site in _site_dirs(prefix):
        add(site)
        if not _read_pth_files(site, add):
            return None
    if any(_has_customize(entry) for entry in path):
        return None
    return path


def _same_interpreter(python: str) -> bool:
    """The venv's python is the binary running envlock (a link to it, as venv and uv make)."""
    try:
        return os.path.samefile(os.path.realpath(python), os.path.realpath(sys.executable))
    except OSError:
        return False


def _pythonpath() -> bool:
    """Whether a child reads PYTHONPATH (unset, or set but empty, adds nothing)."""
    return bool(os.environ.get("PYTHONPATH"))


def _system_site(cfg: str) -> bool | None:
    """pyvenv.cfg's include-system-site-packages (false when absent), None when there is
    no readable pyvenv.cfg."""
    from envlock.install.marker import read_small

    data = read_small(cfg, 64 * 1024)
    if data is None:
        return None
    for line in data.decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip().lower() == "include-system-site-packages":
            return value.strip().lower() == "true"
    return False


def _stdlib() -> list[str]:
    """The base interpreter's standard library entries, as its path configuration makes
    them on POSIX (the zip, the library, lib-dynload)."""
    major, minor = sys.version_info[:2]
    lib = getattr(sys, "platlibdir", "lib")
    return [
        os.path.join(sys.base_prefix, lib, f"python{major}{minor}.zip"),
        os.path.join(sys.base_prefix, lib, f"python{major}.{minor}"),
        os.path.join(sys.base_exec_prefix, lib, f"python{major}.{minor}", "lib-dynload"),
    ]


def _site_dirs(prefix: str) -> list[str]:
    """site.getsitepackages([prefix]) that exist, as site adds them."""
    major, minor = sys.version_info[:2]
    libs = [getattr(sys, "platlibdir", "lib")]
    if libs[0] != "lib":
        libs.append("lib")
    dirs = [os.path.join(prefix, lib, f"python{major}.{minor}", "site-packages") for lib in libs]
    return [d for d in dirs if os.path.isdir(d)]


def _read_pth_files(site: str, add: Callable[[str], None]) -> bool:
    """The directories `site`'s .pth files add (site.addpackage: sorted names, no hidden
    files, comment and blank lines skipped, an existing directory added once); False
    when one would run code not known to leave the path alone."""
    try:
        names = sorted(n for n in os.listdir(site) if n.endswith(".pth") and not n.startswith("."))
    except OSError:
        return False
    for name in names:
        lines = _pth_lines(os.path.join(site, name))
        if lines is None:
            return False
        for line in lines:
            entry = os.path.join(site, line.rstrip())
            if os.path.exists(entry):
                add(entry)
    return True


def _pth_lines(pth: str) -> list[str] | None:
    """A .pth file's path lines; None when it cannot be read or imports what is not a
    known shim, or a shim beside other lines (when its import fails, site ignores the
    rest of the file)."""
    from envlock.install.marker import read_small

    data = read_small(pth, _PTH_LIMIT)
    if data is None:
        return None
    text = data.decode("utf-8", "replace")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    if any(ln.startswith(("import ", "import\t")) for ln in lines):
        return [] if len(lines) == 1 and lines[0].strip() in _KNOWN else None
    return lines


# the standard library's answers to _has_customize(), found by preload() while the
# installer runs (~1-2 ms of a restore's wait after it), with the directory's inode and
# mtime then: kept while they are
_LISTED: dict[str, tuple[tuple[int, int], bool]] = {}


def _has_customize(entry: str) -> bool:
    """Whether a sitecustomize or usercustomize may be imported from `entry`."""
    if not os.path.isdir(entry):
        return os.path.exists(entry) and entry.endswith(".zip")  # a zip could hold one
    try:
        stamp = _stamp(entry)
        kept = _LISTED.get(entry)
        if kept is not None and kept[0] == stamp:
            return kept[1]
        return _lists_customize(entry)
    except OSError:
        return False


def _stamp(entry: str) -> tuple[int, int]:
    st = os.stat(entry)
    return st.st_ino, st.st_mtime_ns


def _lists_customize(directory: str) -> bool:
    return any(n == m or n.startswith(m + ".") for n in os.listdir(directory) for m in _CUSTOMIZE)


def list_stdlib() -> None:
    """The standard library's directories listed for _has_customize() (preload())."""
    for entry in _stdlib():
        try:
            if os.path.isdir(entry):
                _LISTED[entry] = (_stamp(entry), _lists_customize(entry))
        except OSError:
            continue

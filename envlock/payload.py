"""The probe as a payload: the stdlib-only probe package, served from memory to another
Python (an image's python3, a running container's, or the interpreter `--python` names).

The package travels inside the command line and is served by the one bootstrap of
envlock/probe/_served.py (the torch child and the determinism suite start the same
way), so nothing is written where it runs, a remote daemon needs no bind mount or
put_archive, and the target interpreter sees its own site-packages and never envlock's.
Not Docker's: the container probe (envlock.container) and `--python` (envlock.collect)
both use it.
"""

from __future__ import annotations

import _thread
import os

from envlock import __version__
from envlock.probe._served import command, served, stdin_command, stdin_payload

# The probe's entry under the bootstrap: its options read by hand (argparse costs ~6 ms).
PROBE_ENTRY = "envlock.probe.__main__:served"
# The standard library modules a probe imports wherever it runs (ELF headers, the sections'
# file reads, resource limits, the ctypes lookup of NVML; never json, re, glob, threading,
# contextlib, importlib.util or array, which a probe imports only where it needs them,
# nor what they import: enum, functools, collections): a served
# probe on stdin imports them while its package is still on its way, which in a fresh
# container takes ~10-20 ms they would otherwise add (tests/container/test_stdin_preload.py
# holds that the probe imports each of them without the preload).
PRELOAD = (
    "struct",
    "select",
    "resource",
    "_ctypes",
)


_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def probe_files(*, with_pynvml: bool) -> dict[str, str]:
    """The stdlib-only probe package as {relative path: source}."""
    return {rel: source for rel, (source, _path) in _probe_sources(with_pynvml).items()}


def _probe_sources(with_pynvml: bool) -> dict[str, tuple[str, str | None]]:
    """{relative path: (source, the file it was read from)}; the one-line
    envlock/__init__.py the bootstrap serves comes from no file."""
    probe = os.path.join(_ROOT, "envlock", "probe")
    rels = tuple(f"envlock/probe/{n}" for n in sorted(os.listdir(probe)) if n.endswith(".py"))
    files = served(rels, version=__version__)
    sources = {
        rel: (src, os.path.join(_ROOT, rel) if rel in rels else None) for rel, src in files.items()
    }
    if with_pynvml:
        import importlib.util

        spec = importlib.util.find_spec("pynvml")
        if spec is not None and spec.origin and spec.origin.endswith(".py"):
            with open(spec.origin, encoding="utf-8") as fh:
                sources["pynvml.py"] = (fh.read(), spec.origin)
    return sources


def python_command(
    target: str,
    *,
    torch_live: bool,
    timeout: float,
    with_pynvml: bool,
    python: str = "python3",
    sections: tuple[str, ...] | None = None,
) -> list[str]:
    """argv that runs the probe under `python` (the image's python3, or another
    interpreter for --python) with no file copied in and nothing of envlock's own
    environment on its path: the probe package is served from memory. `sections`: only
    those sources (default: all)."""
    args = _probe_args(target, torch_live, timeout, sections)
    return command(python, probe_files(with_pynvml=with_pynvml), PROBE_ENTRY, args)


def _probe_args(
    target: str, torch_live: bool, timeout: float, sections: tuple[str, ...] | None
) -> list[str]:
    args = ["--target", target, "--timeout", f"{timeout:g}"]
    if not torch_live:
        args.append("--no-torch-live")
    if sections is not None:
        args += ["--sections", ",".join(sections)]
    return args


def python_stdin(
    target: str, *, torch_live: bool, timeout: float, with_pynvml: bool
) -> tuple[list[str], bytes]:
    """(argv, stdin) that run the probe under the image's python3 as python_command's argv
    does, the package written to its stdin: stdin_argv() and stdin_package()."""
    return stdin_argv(target, torch_live=torch_live, timeout=timeout), stdin_package(
        with_pynvml=with_pynvml
    )


def stdin_argv(target: str, *, torch_live: bool, timeout: float) -> list[str]:
    """python_stdin()'s argv: small, it needs no file read (the container can be created
    while stdin_package() is built)."""
    return stdin_command(
        "python3", PROBE_ENTRY, _probe_args(target, torch_live, timeout, None), PRELOAD
    )


def stdin_package(*, with_pynvml: bool) -> bytes:
    """python_stdin()'s stdin: the package with the host's bytecode of each module whose
    __pycache__ entry is that of the file as it is now, which a python3 of the host's
    magic number runs without compiling the source (~40 ms of the probe's 0.1 s in a
    container). The code objects name the host's files in tracebacks."""
    import importlib.util

    sources = _probe_sources(with_pynvml)
    codes = {rel: code for rel, (_src, path) in sources.items() if (code := _bytecode(path))}
    return stdin_payload(
        {rel: src for rel, (src, _path) in sources.items()}, codes, importlib.util.MAGIC_NUMBER
    )


class PackageLater:
    """stdin_package(), built in a thread from start() on (the caller meanwhile waits on
    the daemon, the GIL free); calling it waits for the package and returns it, or raises
    the error that building it raised. The thread is started without waiting for it to
    run (threading's start() waits, and its caller then waited up to the 5 ms switch
    interval to get the GIL back from it: the container's start request, later)."""

    def __init__(self, *, with_pynvml: bool) -> None:
        self.with_pynvml = with_pynvml
        self._built = _thread.allocate_lock()  # held until the package (or error) is in _box
        self._started = False  # start() is called by one thread first (image.py's)
        self._box: list[bytes | BaseException] = []

    def start(self) -> None:
        if not self._started:
            self._started = True
            self._built.acquire()
            _thread.start_new_thread(self._build, ())

    def _build(self) -> None:
        try:
            self._box.append(stdin_package(with_pynvml=self.with_pynvml))
        except BaseException as exc:  # raised again in the caller's thread
            self._box.append(exc)
        finally:
            self._built.release()

    def __call__(self) -> bytes:
        self.start()
        with self._built:  # free once built
            pass
        if isinstance(self._box[0], BaseException):
            raise self._box[0]
        return self._box[0]


def _bytecode(path: str | None) -> bytes | None:
    """The marshalled code of `path` from its __pycache__ entry, when that entry is this
    Python's (magic number) and records the file's current mtime and size (a timestamp
    pyc, as `pip install` and an import leave them); else None."""
    if path is None:
        return None
    import importlib.util

    try:
        with open(importlib.util.cache_from_source(path), "rb") as fh:
            data = fh.read()
        st = os.stat(path)
    except (OSError, ValueError, NotImplementedError):
        return None
    header = (
        importlib.util.MAGIC_NUMBER
        + bytes(4)  # flags 0: validated by the source's mtime and size
        + (int(st.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little")
        + (st.st_size & 0xFFFFFFFF).to_bytes(4, "little")
    )
    return data[16:] if data[:16] == header else None

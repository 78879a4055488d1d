"""Run one of envlock's stdlib-only modules under another interpreter, served from memory.

The one way envlock starts its code under a Python that need not have envlock
installed: the probe in an image or running container and under `--python`
(envlock/payload.py), the torch child (probe/torch_info.py) and the determinism
suite (determinism/runner.py). The modules travel inside the command line (a
compressed blob that BOOTSTRAP unpacks into a meta-path finder; or on stdin, read by
STDIN_BOOTSTRAP with code objects for a child of the host's magic number), so nothing is
written where the child runs, a remote daemon needs no bind mount, and the child
sees its own site-packages, never envlock's. Then BOOTSTRAP calls
`module:function` with the arguments after "--" and exits with what it returns.

Standard library only, Python 3.8: the probe, itself served into containers,
starts the torch child through it.
"""

from __future__ import annotations

import os

# Runs under the child's python (3.8+ syntax only), after a reader that sets FILES ({path:
# source}), CODES ({path: marshalled code object}, compiled by a Python of the child's own
# magic number) and `end` (sys.argv.index("--")). loader.get_data gives a served module's
# source, so a served probe can serve on.
_FINDER = """\
ROOT = "/<envlock-probe>/"
class Finder:
    @classmethod
    def find_spec(cls, name, path=None, target=None):
        base = name.replace(".", "/")
        for rel, pkg in ((base + "/__init__.py", True), (base + ".py", False)):
            if rel in FILES:
                spec = ModuleSpec(name, cls, origin=ROOT + rel, is_package=pkg)
                spec.has_location = True
                return spec
        return None
    @staticmethod
    def create_module(spec):
        return None
    @staticmethod
    def exec_module(module):
        path = module.__spec__.origin
        rel = path[len(ROOT):]
        if rel in CODES:
            code = marshal.loads(CODES[rel])
        else:
            code = compile(FILES[rel], path, "exec", dont_inherit=True)
        exec(code, module.__dict__)
    @staticmethod
    def get_data(path):
        if not path.startswith(ROOT) or path[len(ROOT):] not in FILES:
            raise OSError(2, "not served", path)
        return FILES[path[len(ROOT):]].encode("utf-8")
sys.meta_path.insert(0, Finder)
module, _, function = sys.argv[1].partition(":")
sys.exit(getattr(import_module(module), function)(sys.argv[end + 1:]))
"""
_PATH = """\
import sys
if sys.path and sys.path[0] == "":
    del sys.path[0]  # -c puts the working directory first: the interpreter's path, not the cwd
"""
_HEAD = (
    _PATH
    + """\
import json, marshal
from importlib import import_module
from importlib.machinery import ModuleSpec
end = sys.argv.index("--")
"""
)
# argv: ENTRY BLOB-CHUNK... -- ARGS; the blob: the sources, JSON, compressed, base64.
BOOTSTRAP = (
    _HEAD
    + """\
import binascii, zlib
FILES = json.loads(zlib.decompress(binascii.a2b_base64("".join(sys.argv[2:end]))).decode())
CODES = {}
"""
    + _FINDER
)
# argv: ENTRY PRELOAD... -- ARGS; stdin: what stdin_payload() writes (the container probe
# over a local daemon: the command line stays small, and the daemon copies less), read by
# its lengths: stdin's end reaches the container ~20 ms after its bytes, so it is not
# waited for. The sources come marshalled (a dict of str, which any Python 3 reads), not as
# JSON: json imports re and enum, ~5-8 ms in a fresh container, which the probe no longer
# needs (tests/container/test_served_imports.py). Its first bytes take 20-30 ms more to arrive than the process takes to start
# (the daemon's stdin plumbing): a thread reads them while this one imports the standard
# library modules named PRELOAD (which a fresh container's filesystem makes slow to import).
STDIN_BOOTSTRAP = (
    _PATH
    + """\
import _thread
def take(n):
    data = sys.stdin.buffer.read(n)
    if len(data) != n:
        raise EOFError
    return data
def receive(got, done):
    try:
        head = take(20)
        got.append(head)
        got.append(take(int.from_bytes(head[:8], "big")))
        got.append(take(int.from_bytes(head[8:16], "big")))
    except BaseException:
        pass  # cut short: said below, in one line
    finally:
        done.release()
got = []
done = _thread.allocate_lock()
done.acquire()
_thread.start_new_thread(receive, (got, done))
try:
    import marshal
    import _frozen_importlib_external as _bootstrap
    from importlib import import_module
    from importlib.machinery import ModuleSpec
    end = sys.argv.index("--")
    for name in sys.argv[2:end]:
        try:
            __import__(name)  # as an import statement imports (and -X importtime sees)
        except Exception:  # absent from this Python: the entry's own import says what it needs
            pass
finally:
    done.acquire()  # stdin's reader done before any exit (it holds stdin's lock meanwhile)
if len(got) != 3:
    sys.stderr.write("envlock: the probe's package on stdin was cut short\\n")
    sys.exit(3)
FILES = marshal.loads(got[1])
CODES = marshal.loads(got[2]) if got[0][16:] == _bootstrap.MAGIC_NUMBER else {}
del got
"""
    + _FINDER
)
# Linux refuses a single argument over 128 KiB (MAX_ARG_STRLEN).
_CHUNK = 96 * 1024
# The directory holding envlock/: on disk, or the served probe's ROOT.
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def served(paths: tuple[str, ...], *, version: str | None = None) -> dict[str, str]:
    """{path: source} of envlock's modules at `paths` ("envlock/probe/libnames.py"), read
    through the loader of this module (the files on disk, or a served probe's memory),
    under a one-line envlock/__init__.py: the real one is the public API and imports
    more than the standard library. OSError when one is missing."""
    files = {"envlock/__init__.py": f"__version__ = {version!r}\n" if version else ""}
    for rel in paths:
        data = __loader__.get_data(os.path.join(_ROOT, rel))  # type: ignore[name-defined]
        files[rel] = data.decode("utf-8")
    return files


def stdin_command(
    python: str, entry: str, args: list[str], preload: tuple[str, ...] = ()
) -> list[str]:
    """argv that runs `entry` as command() does, the modules read from stdin, where
    stdin_payload()'s bytes are to be written; `preload`: standard library modules the
    entry imports, imported while its modules are still on their way."""
    return [python, "-c", STDIN_BOOTSTRAP, entry, *preload, "--", *args]


def stdin_payload(files: dict[str, str], codes: dict[str, bytes], magic: bytes) -> bytes:
    """What STDIN_BOOTSTRAP reads: `files` ({path: source}) and, for a child whose Python
    has the magic number `magic`, `codes` ({path: marshalled code object}, a subset); both
    marshalled at version 4, which every Python from 3.4 on reads."""
    import marshal

    sources = marshal.dumps(files, 4)
    code = marshal.dumps(codes, 4)
    head = len(sources).to_bytes(8, "big") + len(code).to_bytes(8, "big") + magic
    return head + sources + code


def command(python: str, files: dict[str, str], entry: str, args: list[str]) -> list[str]:
    """argv that runs `entry` ("package.module:function", called with `args` as one list;
    its return value is the exit status) under `python`, with `files` served from memory."""
    import binascii  # here, not at the top: an image probe on the local socket (its
    import json  # package on stdin) and a served probe need none of them
    import zlib

    blob = binascii.b2a_base64(zlib.compress(json.dumps(files).encode(), 6), newline=False).decode(
        "ascii"
    )
    chunks = [blob[i : i + _CHUNK] for i in range(0, len(blob), _CHUNK)]
    return [python, "-c", BOOTSTRAP, entry, *chunks, "--", *args]

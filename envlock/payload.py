"""The probe as a payload: the stdlib-only probe package, served from memory to another
Python (an image's python3, a running container's, or the interpreter `--python` names).

The package travels inside the command line (a compressed blob that a few lines of
bootstrap unpack into a meta-path finder), so nothing is written where it runs, a
remote daemon needs no bind mount or put_archive, and the target interpreter sees its
own site-packages and never envlock's. Standard library only, and not Docker's: the
container probe (envlock.container) and `--python` (envlock.collect) both use it.
"""

from __future__ import annotations

import binascii
import json
import os
import zlib

from envlock import __version__

# Runs under the image's python3 (3.8+ syntax only). The probe's modules are
# served from memory by a meta-path finder (nothing is written into the
# container, nothing to clean up); loader.get_data gives the torch child's
# source. Then `envlock.probe.__main__.run` runs with the options after "--"
# (read by hand: argparse costs the container ~6 ms).
BOOTSTRAP = """\
import sys
if sys.path and sys.path[0] == "":
    del sys.path[0]  # -c puts the working directory first: probe the interpreter, not the cwd
import binascii, json, zlib
from importlib.machinery import ModuleSpec
end = sys.argv.index("--")
FILES = json.loads(zlib.decompress(binascii.a2b_base64("".join(sys.argv[1:end]))).decode())
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
        code = compile(FILES[path[len(ROOT):]], path, "exec", dont_inherit=True)
        exec(code, module.__dict__)
    @staticmethod
    def get_data(path):
        return FILES[path[len(ROOT):]].encode("utf-8")
sys.meta_path.insert(0, Finder)
from envlock.probe.__main__ import run
opts = sys.argv[end + 1:]
value = lambda flag: opts[opts.index(flag) + 1]
sys.exit(run(torch_live="--no-torch-live" not in opts, timeout=float(value("--timeout")), target=value("--target")))
"""
# Linux refuses a single argument over 128 KiB (MAX_ARG_STRLEN).
_CHUNK = 96 * 1024


def probe_files(*, with_pynvml: bool) -> dict[str, str]:
    """The stdlib-only probe package as {relative path: source}."""
    package = os.path.dirname(os.path.abspath(__file__))  # envlock/
    # A one-line package __init__ instead of envlock/__init__.py: the real
    # one is the public API and may import modules that are not stdlib-only.
    files = {"envlock/__init__.py": f"__version__ = {__version__!r}\n"}
    for name in sorted(os.listdir(os.path.join(package, "probe"))):
        if name.endswith(".py"):
            files[f"envlock/probe/{name}"] = _read(os.path.join(package, "probe", name))
    if with_pynvml:
        import importlib.util

        spec = importlib.util.find_spec("pynvml")
        if spec is not None and spec.origin and spec.origin.endswith(".py"):
            files["pynvml.py"] = _read(spec.origin)
    return files


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def python_command(
    target: str,
    *,
    torch_live: bool,
    timeout: float,
    with_pynvml: bool,
    python: str = "python3",
) -> list[str]:
    """argv that runs the probe under `python` (the image's python3, or another
    interpreter for --python) with no file copied in and nothing of envlock's own
    environment on its path: the probe package is served from memory."""
    blob = binascii.b2a_base64(
        zlib.compress(json.dumps(probe_files(with_pynvml=with_pynvml)).encode(), 6), newline=False
    ).decode("ascii")
    chunks = [blob[i : i + _CHUNK] for i in range(0, len(blob), _CHUNK)]
    cmd = [
        python,
        "-c",
        BOOTSTRAP,
        *chunks,
        "--",
        "--target",
        target,
        "--timeout",
        f"{timeout:g}",
    ]
    if not torch_live:
        cmd.append("--no-torch-live")
    return cmd

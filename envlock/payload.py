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

import os

from envlock import __version__
from envlock.probe._served import command, served

# The probe's entry under the bootstrap: its options read by hand (argparse costs ~6 ms).
PROBE_ENTRY = "envlock.probe.__main__:served"


def probe_files(*, with_pynvml: bool) -> dict[str, str]:
    """The stdlib-only probe package as {relative path: source}."""
    probe = os.path.join(os.path.dirname(os.path.abspath(__file__)), "probe")
    names = sorted(name for name in os.listdir(probe) if name.endswith(".py"))
    files = served(tuple(f"envlock/probe/{name}" for name in names), version=__version__)
    if with_pynvml:
        import importlib.util

        spec = importlib.util.find_spec("pynvml")
        if spec is not None and spec.origin and spec.origin.endswith(".py"):
            with open(spec.origin, encoding="utf-8") as fh:
                files["pynvml.py"] = fh.read()
    return files


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
    args = ["--target", target, "--timeout", f"{timeout:g}"]
    if not torch_live:
        args.append("--no-torch-live")
    if sections is not None:
        args += ["--sections", ",".join(sections)]
    return command(python, probe_files(with_pynvml=with_pynvml), PROBE_ENTRY, args)

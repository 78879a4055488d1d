"""A venv built at one path made to name another: the build directory's suffix dropped from
its scripts and pyvenv.cfg, and a trampoline an installer wrote only for the longer
build path turned back into a plain shebang (install/swap.py)."""

from __future__ import annotations

import os
import re

from envlock.install.venvdir import is_regular


def relocate(build: str, suffix: str) -> None:
    """Make a venv built at `build` name its final path: `suffix` (build = final + suffix)
    is dropped wherever it appears in its scripts (shebangs, pip's `exec` trampolines,
    activate*) and pyvenv.cfg. The suffix needs no quoting, so this holds whatever quoting
    a tool applied to the path around it (a space, a quote, non-ASCII in DIR)."""
    needle = suffix.encode()
    scripts = [
        os.path.join(build, d) for d in ("bin", "Scripts") if os.path.isdir(os.path.join(build, d))
    ]
    candidates = [os.path.join(build, "pyvenv.cfg")]
    for folder in scripts:
        candidates += [os.path.join(folder, n) for n in sorted(os.listdir(folder))]
    for path in candidates:
        if not is_regular(path):
            continue  # bin/python -> the base interpreter: not ours to touch
        with open(path, "rb") as fh:
            head = fh.read(4096)
            if b"\0" in head:
                continue  # a binary (uv, ninja): no script
            data = head + fh.read()
        if needle in data:
            with open(path, "r+b") as fh:  # same inode: mode and owner stay
                fh.write(plain_shebang(data.replace(needle, b"")))
                fh.truncate()


# pip (distlib) and uv write this instead of `#!PYTHON` when PYTHON is over 127 bytes
# or holds a space; the build path is longer than DIR's, so a script may hold one that
# DIR's own path would not need. Compiled for the first script that starts like one
# (a repeat restore's relocated shebangs are plain: no pattern compiled after uv)
_TRAMPOLINE = (
    rb"#!/bin/sh\n'''exec' (?:\"([^\"\n]*)\"|'([^'\n]*)'|([^\s\"']+)) \"\$0\" \"\$@\"\n' '''\n?"
)
_TRAMPOLINE_START = b"#!/bin/sh\n'''exec' "
SHEBANG_MAX = 127


def plain_shebang(script: bytes) -> bytes:
    """The script as the installer writes it for a path that needs no trampoline."""
    if not script.startswith(_TRAMPOLINE_START):
        return script  # what the pattern, which starts so, cannot match
    match = re.match(_TRAMPOLINE, script)
    if match is None:
        return script
    exe = match.group(1) or match.group(2) or match.group(3)
    if len(b"#!" + exe + b"\n") > SHEBANG_MAX or re.search(rb"[\s\"'\\$`]", exe):
        return script
    return b"#!" + exe + b"\n" + script[match.end() :]

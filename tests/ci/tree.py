"""A copy of this checkout's tracked (and new, not ignored) files, to build from: a build
in the checkout leaves an egg-info of the distribution beside the sources, which every
child started with the checkout on PYTHONPATH would then see installed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import REPO


def tracked_copy(dest: Path) -> Path:
    """The files git knows (or would add) copied to `dest`; symlinks are left out."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for raw in filter(None, listed):
        rel = raw.decode()
        src = REPO / rel
        if src.is_symlink() or not src.is_file():
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest / rel)
    return dest

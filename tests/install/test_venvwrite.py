"""install/venvwrite.py writes the venv `python -m venv --without-pip --prompt P DIR`
writes, without the venv module: the two trees, built at the same path, are compared
entry by entry (name, kind, mode, link target, bytes, pyvenv.cfg's keys among them), for
this interpreter and every other Python of this machine the writer knows."""

from __future__ import annotations

import glob
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# run by each interpreter: the module's venv, then the writer's, at the same path
BOTH = r"""
import json, os, shutil, stat, sys, venv
sys.path.insert(0, sys.argv[1])
from envlock.install import venvwrite

def tree(root):
    out = {}
    for here, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(here, name)
            st = os.lstat(path)
            rel = os.path.relpath(path, root)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ["link", os.readlink(path)]
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ["dir", oct(stat.S_IMODE(st.st_mode))]
            else:
                with open(path, "rb") as fh:
                    out[rel] = ["file", oct(stat.S_IMODE(st.st_mode)), fh.read().decode("latin-1")]
    return out

target, prompt = sys.argv[2], sys.argv[3]
venv.EnvBuilder(with_pip=False, symlinks=True, prompt=prompt).create(target)
module = tree(target)
shutil.rmtree(target)
written = venvwrite.write(target, prompt)
print(json.dumps({"known": venvwrite.known(), "written": written, "module": module,
                  "writer": tree(target) if written else {}}))
"""


def _pythons() -> list[str]:
    found = [sys.executable]
    for pattern in ("/root/.pyenv/versions/3.1[0-9]*/bin/python3", "/usr/bin/python3.1[0-9]"):
        found += sorted(glob.glob(pattern))
    return found


@pytest.mark.parametrize("python", _pythons())
def test_the_written_venv_is_the_venv_modules_tree(tmp_path: Path, python: str) -> None:
    target = tmp_path / "the venv's dir"
    proc = subprocess.run(
        [python, "-I", "-c", BOTH, str(REPO), str(target), "it's (restored)"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    if python == sys.executable:
        assert out["known"], "envlock's own interpreter is one the writer must know"
    if not out["known"]:
        assert not out["written"]  # the module builds it: nothing to compare
        return
    assert out["written"]
    assert out["writer"] == out["module"]
    cfg = out["writer"]["pyvenv.cfg"][2]
    keys = [line.split(" = ")[0] for line in cfg.splitlines()]
    assert keys == ["home", "include-system-site-packages", "version", "prompt", "executable",
                    "command"]  # fmt: skip
    assert {"bin/activate", "bin/python", "bin/python3", "lib64"} <= set(out["writer"])

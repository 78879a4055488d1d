"""What a warm `envlock verify` of an unchanged machine leaves out (issue 23: it runs before
every launch): modules its answer does not need, and globbing where a directory listing
says the same. torch is tests/preflight/test_livecache_keys.py's stand-in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from envlock import api, livecache
from tests.conftest import REPO
from tests.preflight.test_livecache_keys import FakeTorch, fake

__all__ = ["fake"]  # the fixture, shared


def _nvml_loadable() -> bool:
    import ctypes

    try:
        ctypes.CDLL("libnvidia-ml.so.1")
    except OSError:
        return False
    return True


def test_a_warm_verify_loads_nothing_its_answer_does_not_need(
    fake: FakeTorch, tmp_path: Path
) -> None:
    """On a machine without libnvidia-ml: no ctypes (NVML's absence is the dlopen ctypes
    would do, through _ctypes), no glob (/dev/nvidia* listed), no ELF scanner (every
    extension a cache hit), no envlock.errors (only a damaged live-facts entry needs it):
    ~6 ms of every warm verify together."""
    if _nvml_loadable():
        pytest.skip("libnvidia-ml.so.1 loads here: pynvml imports ctypes")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    env["PYTHONPATH"] = os.pathsep.join((str(REPO), str(fake.site)))
    lock = tmp_path / "envlock.lock.toml"
    api.write_lock(lock)
    code = (
        "import runpy, sys\n"
        "before = set(sys.modules)\n"
        "sys.argv = ['envlock', 'verify', sys.argv[1]]\n"
        "try:\n"
        "    runpy.run_module('envlock', run_name='__main__', alter_sys=True)\n"
        "except SystemExit as exc:\n"
        "    rc = exc.code\n"
        "unneeded = ('ctypes', 'glob', 'envlock.errors', 'envlock.probe.elfscan',\n"
        "            'envlock.probe.fatbin', 'envlock.probe.gnuhash', 'argparse')\n"
        "new = set(sys.modules) - before\n"
        "print(rc, sorted(m for m in new if m.startswith(unneeded)), file=sys.stderr)\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", code, str(lock)], env=env, capture_output=True, cwd=tmp_path
        )
        for _ in range(3)  # torch probed, then from the live-facts cache, then warm
    ]
    assert runs[1].stdout == runs[2].stdout
    assert runs[2].stdout.startswith((b"PASS", b"FAIL")), runs[2].stdout + runs[2].stderr
    assert runs[2].stderr.strip().splitlines()[-1] == b"0 []", runs[2].stderr


def _globbed(torch_dir: str) -> list[str]:
    """The live-facts key's file list as it was read before: with Path.glob."""
    out: list[str] = []
    torch_path = Path(torch_dir)
    out += [str(p) for p in torch_path.glob("_C*.so")]
    out.append(str(torch_path / "version.py"))
    lib = torch_path / "lib"
    if lib.is_dir():
        out += [str(p) for p in lib.iterdir()]
    nvidia = torch_path.parent / "nvidia"
    if nvidia.is_dir():
        out += [str(p) for p in nvidia.glob("*/lib/*.so*")]
        out += [str(p) for p in nvidia.glob("*/*/lib/*.so*")]
    return sorted(out)


def test_the_live_key_lists_torchs_files_as_glob_did_without_globbing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """torch's own binaries and the nvidia wheels' libraries (cu12 layout and cu13's one
    level deeper, a linked wheel directory, hidden names, near misses): the same paths as
    the Path.glob patterns gave, read without them (~1 ms of a warm verify)."""
    site = tmp_path / "site-packages"
    torch = site / "torch"
    for rel in (
        "torch/_C.cpython-311-x86_64-linux-gnu.so",
        "torch/_C.so",
        "torch/_C_flatbuffer.so",
        "torch/_Cx.so.1",
        "torch/.hidden_C.so",
        "torch/lib/libtorch_cpu.so",
        "torch/lib/.keep",
        "nvidia/cudnn/lib/libcudnn.so.9",
        "nvidia/cudnn/lib/.libcudnn.so.9",
        "nvidia/cudnn/lib/README",
        "nvidia/cudnn/include/cudnn.h",
        "nvidia/cu13/lib/libcublas.so.13",
        "nvidia/cu13/nvvm/lib/libnvvm.so",
        "nvidia/cu13/lib/lib/deeper.so",
        "nvidia/.hidden/lib/libx.so",
        "elsewhere/lib/libcusparse.so.12",
    ):
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_bytes(b"x")
    (site / "nvidia" / "linked").symlink_to(site / "elsewhere")
    (site / "nvidia" / "file.so").write_bytes(b"x")
    expected = _globbed(str(torch))
    assert len(expected) > 10

    def no_glob(*_a: object, **_k: object) -> object:
        raise AssertionError("Path.glob used")

    monkeypatch.setattr(Path, "glob", no_glob)
    assert livecache._binaries(str(torch)) == expected
    assert livecache._binaries(str(tmp_path / "nowhere")) == [
        str(tmp_path / "nowhere" / "version.py")
    ]

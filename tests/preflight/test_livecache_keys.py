"""The live-facts cache: each part of its key, changed, is a re-probe (the torch child runs
again); nothing changed is a hit (it does not run); ranks starting together probe once.

torch here is a small stand-in package on the path (torch is what the probe observes,
like pynvml, whose recording replays an H100 for the driver's part): importing it
appends a line to a log, so a test counts the torch children that really ran. It loads
a shared library named like cuDNN, so the child's loaded libraries are real too.
"""

from __future__ import annotations

import _ctypes
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from envlock import livecache
from envlock.collect import probe_interpreter
from envlock.probe import _dists
from tests.conftest import REPO, load_fixture_json
from tests.probe.fakes import build_fake_pynvml

TORCH_INIT = """\
import ctypes, os, time, types
from . import version
__version__ = version.__version__
with open(os.environ["FAKE_TORCH_LOG"], "a") as fh:
    fh.write("import\\n")
time.sleep(float(os.environ.get("FAKE_TORCH_SLEEP", "0")))
_lib = ctypes.CDLL(os.environ["FAKE_TORCH_CUDNN"])
cuda = types.SimpleNamespace(is_available=lambda: False)
"""


class FakeTorch:
    def __init__(self, root: Path) -> None:
        self.site = root / "site"
        self.torch = self.site / "torch"
        (self.torch / "lib").mkdir(parents=True)
        (self.torch / "__init__.py").write_text(TORCH_INIT)
        self.set_version("2.13.0+cpu")
        (self.torch / "_C.cpython-311-x86_64-linux-gnu.so").write_bytes(b"not an ELF")
        (self.torch / "lib" / "libtorch_cpu.so").write_bytes(b"x" * 100)
        self.add_dist("torch", "2.13.0+cpu")
        self.cudnn = root / "libs" / "libcudnn.so.9"
        self.cudnn.parent.mkdir()
        shutil.copy(_ctypes.__file__, self.cudnn)  # any shared object dlopen accepts
        self.log = root / "imports.log"
        self.log.touch()

    def set_version(self, version: str) -> None:
        (self.torch / "version.py").write_text(
            f"__version__ = {version!r}\ncuda = None\ngit_version = 'abc'\n"
        )

    def add_dist(self, name: str, version: str) -> None:
        info = self.site / f"{name}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")

    def imports(self) -> int:
        return len(self.log.read_text().splitlines())


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeTorch:
    fake = FakeTorch(tmp_path)
    monkeypatch.syspath_prepend(str(fake.site))
    monkeypatch.setenv("PYTHONPATH", str(fake.site))  # the torch child's path
    monkeypatch.setenv("FAKE_TORCH_LOG", str(fake.log))
    monkeypatch.setenv("FAKE_TORCH_CUDNN", str(fake.cudnn))
    monkeypatch.setenv("ENVLOCK_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("LD_LIBRARY_PATH", "CUDA_VISIBLE_DEVICES", "LD_PRELOAD"):
        monkeypatch.delenv(name, raising=False)
    return fake


def _nvml(monkeypatch: pytest.MonkeyPatch, recording: dict[str, Any]) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", build_fake_pynvml(recording))


def _probe(fake: FakeTorch, python: str | None = None) -> tuple[str, int]:
    """The note saying where torch's live facts came from, and the torch imports so far."""
    _dists._cache.clear()  # a per-process memo: each envlock command is a new process
    if python is None:
        facts, _ = livecache.probe_with_cache(timeout=60)
    else:
        other = python
        facts, _ = livecache.probe_with_cache(
            timeout=60,
            python=other,
            static=lambda: probe_interpreter(other, torch_live=False, timeout=60),
        )
    live = facts.torch.live
    assert live is not None and live.unavailable is None, live
    assert any(lib.path == str(fake.cudnn) for lib in live.loaded_libraries)
    notes = [n for n in facts.meta.notes if n.startswith("torch live facts")]
    assert len(notes) == 1, facts.meta.notes
    return notes[0], fake.imports()


def _filled(fake: FakeTorch) -> int:
    """Probe until the cache holds the current key; the imports so far."""
    _probe(fake)
    note, imports = _probe(fake)
    assert note == livecache.HIT
    return imports


def test_unchanged_is_a_hit(fake: FakeTorch) -> None:
    note, imports = _probe(fake)
    assert (note, imports) == (livecache.MISS, 1)
    assert _probe(fake) == (livecache.HIT, 1)
    assert _probe(fake) == (livecache.HIT, 1)


def _touch_torch_lib(fake: FakeTorch) -> None:
    lib = fake.torch / "lib" / "libtorch_cpu.so"
    os.utime(lib, ns=(lib.stat().st_atime_ns, lib.stat().st_mtime_ns + 10**9))


def _replace_loaded_library(fake: FakeTorch) -> None:
    # a new file at the same path (another inode), as a package manager replaces one
    tmp = fake.cudnn.with_suffix(".new")
    shutil.copy(fake.cudnn, tmp)
    tmp.replace(fake.cudnn)


def _library_in_ld_path(fake: FakeTorch) -> None:
    (Path(os.environ["LD_LIBRARY_PATH"]) / "libnccl.so.2").write_bytes(b"")


CHANGES = {
    "torch's own library rebuilt (mtime)": _touch_torch_lib,
    "torch's version.py": lambda f: f.set_version("2.13.1+cpu"),
    "an nvidia-* wheel's library added": lambda f: (
        (f.site / "nvidia" / "cudnn" / "lib").mkdir(parents=True),
        (f.site / "nvidia" / "cudnn" / "lib" / "libcudnn.so.9").write_bytes(b""),
    ),
    "a distribution installed": lambda f: f.add_dist("numpy", "2.1.0"),
    "a library torch loaded replaced": _replace_loaded_library,
    "a library dropped into an LD_LIBRARY_PATH directory": _library_in_ld_path,
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_changed_file_is_a_reprobe(
    fake: FakeTorch, change: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ld_dir = tmp_path / "ld"
    ld_dir.mkdir()
    monkeypatch.setenv("LD_LIBRARY_PATH", str(ld_dir))
    before = _filled(fake)
    CHANGES[change](fake)
    assert _probe(fake) == (livecache.MISS, before + 1)
    assert _probe(fake) == (livecache.HIT, before + 1)  # refilled for the new key


@pytest.mark.parametrize(
    "name, value",
    [
        ("LD_LIBRARY_PATH", "/opt/other/lib"),
        ("CUDA_VISIBLE_DEVICES", "1"),
        ("LD_PRELOAD", "/opt/libfoo.so"),
    ],
)
def test_a_variable_that_changes_what_loads_is_a_reprobe(
    fake: FakeTorch, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    before = _filled(fake)
    monkeypatch.setenv(name, value)
    assert _probe(fake) == (livecache.MISS, before + 1)


def _driver(recording: dict[str, Any]) -> None:
    recording["nvmlSystemGetDriverVersion"] = "580.95.05"


def _mig(recording: dict[str, Any]) -> None:
    recording["devices"][0]["nvmlDeviceGetMigMode"] = [0, 0]


def _ecc(recording: dict[str, Any]) -> None:
    recording["devices"][0]["nvmlDeviceGetEccMode"] = [0, 0]


def _gpu_swapped(recording: dict[str, Any]) -> None:
    recording["devices"][0]["nvmlDeviceGetName"] = "NVIDIA H200"


@pytest.mark.parametrize("change", [_driver, _mig, _ecc, _gpu_swapped])
def test_the_driver_and_nvml_state_are_read_fresh_and_a_change_is_a_reprobe(
    fake: FakeTorch, monkeypatch: pytest.MonkeyPatch, change: Any
) -> None:
    recording = load_fixture_json("nvml.h100-driver-580.json")["nvml"]
    _nvml(monkeypatch, recording)
    before = _filled(fake)
    changed = json.loads(json.dumps(recording))
    change(changed)
    _nvml(monkeypatch, changed)
    _dists._cache.clear()
    facts, hit = livecache.probe_with_cache(timeout=60)
    assert not hit and fake.imports() == before + 1
    assert facts.driver.gpus  # what NVML says now, never from the cache
    if change is _mig:
        assert facts.driver.gpus[0].mig_mode is False
    _nvml(monkeypatch, recording)  # back as it was: that entry is still there
    assert _probe(fake) == (livecache.HIT, before + 1)


def test_another_interpreter_is_another_entry(fake: FakeTorch, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    before = _filled(fake)
    other = str(venv / "bin" / "python")
    assert _probe(fake, python=other) == (livecache.MISS, before + 1)
    assert _probe(fake, python=other) == (livecache.HIT, before + 1)
    assert _probe(fake) == (livecache.HIT, before + 1)


RANK = """
import json, sys
from envlock import livecache
from envlock.collect import probe_interpreter
facts, hit = livecache.probe_with_cache(timeout=60)
print(json.dumps([n for n in facts.meta.notes if n.startswith("torch live")]))
"""


def test_ranks_starting_together_import_torch_once(fake: FakeTorch) -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join((str(REPO), str(fake.site))))
    env["FAKE_TORCH_SLEEP"] = "2"  # every rank misses before the first one has stored
    ranks = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(RANK)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    notes = [json.loads(r.communicate(timeout=120)[0]) for r in ranks]
    assert fake.imports() == 1, notes
    assert sorted(n for (n,) in notes) == sorted([livecache.MISS] + [livecache.SHARED] * 3)


def test_a_filesystem_without_locks_probes_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """flock refused (ENOLCK: some network filesystems) is not another process holding
    the lock: no waiting for an entry nobody is writing."""
    import errno
    import fcntl
    import time

    def no_locks(fd: int, op: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    def no_wait(seconds: float) -> None:
        raise AssertionError("waited for a lock nobody holds")

    monkeypatch.setenv("ENVLOCK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(fcntl, "flock", no_locks)
    monkeypatch.setattr(time, "sleep", no_wait)
    live, note = livecache.live_facts("k" * 64, lambda: {"cudnn_version": "9.1"}, timeout=30)
    assert (live, note) == ({"cudnn_version": "9.1"}, livecache.MISS)
    assert livecache.load("k" * 64) == {"cudnn_version": "9.1"}


def test_an_entry_that_is_not_live_facts_is_probed_again(fake: FakeTorch) -> None:
    """JSON that the live facts' model refuses (another envlock's, or damaged) is dropped
    and probed again, not an error in every later command."""
    before = _filled(fake)
    (entry,) = (Path(os.environ["ENVLOCK_CACHE_DIR"])).glob("torch-live-*.json")
    data = json.loads(entry.read_text())
    data["live"]["device_count"] = "many"
    entry.write_text(json.dumps(data))
    assert _probe(fake) == (livecache.INVALID, before + 1)
    assert _probe(fake) == (livecache.HIT, before + 1)

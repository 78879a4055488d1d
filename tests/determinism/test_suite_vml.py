"""The suite's CPU digests do not depend on a race in MKL's first vector-math call.

torch's CPU build computes exp and log of contiguous float tensors with MKL's VML.
MKL picks its VML kernels (instruction set, accuracy) on the first VML call of a
process; when that first call comes from several OpenMP threads at once, a thread
can run its whole chunk through MKL's AVX2 "enhanced performance" exp instead of the
dispatched one (up to 1,773 ulps, relative 1.5e-4, over the suite's input). Measured
with torch 2.13.0 CPU (MKL 2024.2) on the 2-core Intel Xeon dev machine, each a forked
process making its first exp of the suite's input: 2 in 3,000 on 2 threads, 12 in
7,000 on 16; after a first call on one thread, 0 in 8,000 on 16. CI saw it as
elementwise's exp differing run to run in one process (its first run: elements
0-32767 from the AVX512 kernel, 32768-65535 from AVX2 EP, digest for digest).

The suite makes the process's first VML call itself, on one thread, before any class
runs. This test watches MKL initialise its dispatch (it reads MKL_VML_DEBUG_CPU_TYPE
then) through an LD_PRELOAD getenv probe, and holds that it happens on the suite's
main thread before the first class starts, and never again.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from envlock.determinism import PROGRESS_MARK, RESULT_MARK
from envlock.determinism.runner import SUITE_ENTRY, SUITE_FILES
from envlock.probe._parentwatch import child_env
from envlock.probe._served import command, served
from tests.conftest import need

pytestmark = pytest.mark.venv

PROBE_SOURCE = Path(__file__).parent / "data" / "getenv_trace.c"
PROBE_MARK = "ENVLOCK-TEST-GETENV "
DISPATCH_INIT = "MKL_VML_DEBUG_CPU_TYPE"


@pytest.fixture(scope="module")
def getenv_probe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc")
    need(cc is not None, "no C compiler to build the getenv probe")
    assert cc is not None
    lib = tmp_path_factory.mktemp("probe") / "getenv_trace.so"
    subprocess.run(
        [cc, "-shared", "-fPIC", "-O2", "-o", str(lib), str(PROBE_SOURCE), "-ldl"], check=True
    )
    return lib


def _suite_stdout(python: Path, probe: Path) -> list[str]:
    cmd = command(str(python), served(SUITE_FILES), SUITE_ENTRY, ["--device", "cpu", "--seed", "0"])
    env = dict(child_env(), LD_PRELOAD=str(probe))
    done = subprocess.run(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=300
    )
    assert done.returncode == 0
    return done.stdout.splitlines()


def test_mkl_vml_dispatch_is_set_up_on_one_thread_before_any_class(
    cpu_python: Path, getenv_probe: Path
) -> None:
    lines = _suite_stdout(cpu_python, getenv_probe)
    assert any(line.startswith(RESULT_MARK) for line in lines)
    first_class = next(i for i, line in enumerate(lines) if line.startswith(PROGRESS_MARK))
    inits = [
        (i, line.split())
        for i, line in enumerate(lines)
        if line.startswith(PROBE_MARK + DISPATCH_INIT)
    ]
    # None would mean this MKL no longer reads it: the probe would see nothing, so fail.
    assert inits, f"MKL never read {DISPATCH_INIT}: the probe cannot see its VML dispatch"
    for i, words in inits:
        tid, pid = words[2].removeprefix("tid="), words[3].removeprefix("pid=")
        assert i < first_class, (
            f"MKL set up VML during the classes: {lines[first_class : i + 1][-3:]}"
        )
        assert tid == pid, "MKL set up VML on a thread other than the suite's main thread"

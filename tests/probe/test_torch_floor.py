"""The live probe's torch floor (torch.live.min_capability) is the one torch itself computes
for its 'minimum cuda capability supported by this library' warning: the least entry of
torch.cuda.get_arch_list(), read here from the real CUDA venv's torch; a CPU build has none."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from envlock.facts import Facts
from tests.conftest import clean_env

# torch/cuda/__init__.py's _check_capability (torch 1.9-2.7): min_arch over the arch list
TORCHS_OWN = (
    "import torch; low = min(int(a.split('_')[1]) for a in torch.cuda.get_arch_list()); "
    "print(f'{low // 10}.{low % 10}')"
)


def _live(python: Path) -> dict[str, object]:
    proc = subprocess.run(
        [str(python), "-m", "envlock.probe"],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    live = Facts.from_dict(json.loads(proc.stdout)).torch.live
    assert live is not None
    return {"min_capability": live.min_capability, "arch_flags": live.arch_flags}


@pytest.mark.venv
def test_the_cuda_venvs_floor_is_torchs_own(cuda_python: Path) -> None:
    own = subprocess.run(
        [str(cuda_python), "-c", TORCHS_OWN],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=180,
        check=True,
    ).stdout.strip()
    live = _live(cuda_python)
    assert live["arch_flags"] and live["min_capability"] == own


@pytest.mark.venv
def test_a_cpu_build_has_no_floor(cpu_python: Path) -> None:
    assert _live(cpu_python) == {"min_capability": None, "arch_flags": []}

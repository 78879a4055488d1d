"""The GPU truth suite's fixtures (`-m gpu`; run on a lent GPU machine by
benchmarks/gpu_truth.sh, skipped with "no NVIDIA GPU" everywhere else).

`gpu_python` is the first interpreter whose torch sees a GPU: $ENVLOCK_GPU_PYTHON,
this interpreter (on the device machine, the image's own python3 with torch), then
the torch-cuda test venv. `gpu_out` is where a test leaves what it recorded: the kit
points $ENVLOCK_GPU_OUT at the device tool's $OUT, so the files come back to be
committed as fixtures; without it they go to the test's temporary directory.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import VENV_ROOT

NO_GPU = "no NVIDIA GPU visible to a CUDA build of torch"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.gpu)


def _candidates() -> list[str]:
    out = [os.environ.get("ENVLOCK_GPU_PYTHON", ""), sys.executable]
    out.append(str(VENV_ROOT / "torch-cuda" / "bin" / "python"))
    return [p for p in out if p]


@cache
def find_gpu_python() -> str | None:
    for py in _candidates():
        try:
            proc = subprocess.run(
                [py, "-c", "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"],
                capture_output=True,
                timeout=180,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if proc.returncode == 0:
            return py
    return None


@pytest.fixture(scope="session")
def gpu_python() -> str:
    py = find_gpu_python()
    if py is None:
        pytest.skip(NO_GPU)
    return py


@pytest.fixture(scope="session")
def gpu_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = os.environ.get("ENVLOCK_GPU_OUT")
    path = Path(out) if out else tmp_path_factory.mktemp("gpu-out")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def record(gpu_out: Path) -> Iterator[Callable[[str, Any], None]]:
    """record(key, value): a line of the run's summary.md (figures for the closing note)."""
    lines: list[str] = []

    def add(key: str, value: Any) -> None:
        lines.append(f"- {key}: {value if isinstance(value, str) else json.dumps(value)}")

    yield add
    if lines:
        with open(gpu_out / "summary.md", "a", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")


def gpu_slug(name: str | None) -> str:
    """ "NVIDIA H100 80GB HBM3" -> "h100", "NVIDIA H200" -> "h200", else a safe lowercase name."""
    text = (name or "gpu").lower().replace("nvidia", "").strip()
    m = re.search(r"\b([a-z]{1,2}\d{2,4}[a-z]?)\b", text)
    slug = m.group(1) if m else text
    return re.sub(r"[^a-z0-9.]+", "-", slug).strip("-") or "gpu"


def fixture_name(kind: str, gpu: str | None, tail: str) -> str:
    """The name a recorded file is committed under, e.g. facts.h100-driver-580.159.04-recorded.json
    (letters, digits, '.', '_' and '-' only: the device tool returns no other names)."""
    safe_tail = re.sub(r"[^A-Za-z0-9._-]+", "-", tail)
    return f"{kind}.{gpu_slug(gpu)}-{safe_tail}-recorded.json"

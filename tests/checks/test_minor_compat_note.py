"""EL-DRIVER-MINOR-COMPAT is a note where nothing in sight needs what minor-version
compatibility lacks (X3's review, session 8).

NVIDIA's CUDA Compatibility guide: from CUDA 11 on, an application built with a newer toolkit
of the same major "can run, with limited feature set" on a driver of that major (>= 525 for
12.x); what it lacks is JIT compilation of PTX made by the newer toolchain
(cudaErrorUnsupportedPtxVersion, 'the provided PTX was compiled with an unsupported
toolchain') and driver APIs newer than the driver (cudaErrorCallRequiresNewerDriver). A torch
wheel carries SASS for every architecture in its list, so on a GPU that list covers, torch
itself JIT-compiles nothing: kornia#3273's torch 2.7.1+cu126 on driver 550 and an RTX 3080 Ti
(sm_86 SASS) is healthy, and a warning whose fix downgrades torch to cu118 is noise. It stays a
warning where something does need it: a GPU served by PTX only, packages that ship kernels of
their own toolchain or call newer driver APIs (sglang#8432: sgl-kernel's cuGreenCtxDestroy on
535), or a vLLM report (its collect_env's sections), whose troubleshooting guide names this
very error on such drivers (vllm#31700).
"""

from __future__ import annotations

import pytest

from envlock.checks.registry import run_checks
from envlock.findings import Finding, Severity
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


def _minor(name: str, edit: tuple[str, str] | None = None) -> Finding:
    text = (CE / name).read_text()
    if edit is not None:
        text = text.replace(*edit)
    found = run_checks(facts_from_texts(collect_env=text))
    (f,) = [f for f in found if f.check_id == "EL-DRIVER-MINOR-COMPAT"]
    return f


@pytest.mark.parametrize("name", ["kornia-3273.txt", "pytorch-97457.txt", "xformers-1305.txt"])
def test_torch_alone_on_sass_is_a_note(name: str) -> None:
    f = _minor(name)
    assert f.severity is Severity.INFO, (name, f.message)
    assert "pip install" not in (f.fix or ""), f.fix
    assert "SASS" in f.message and "minor-version compatibility" in f.message


@pytest.mark.parametrize("name", ["sglang-8432.txt", "vllm-31700.txt", "vllm-20813.txt"])
def test_a_stack_that_needs_it_keeps_the_warning(name: str) -> None:
    assert _minor(name).severity is Severity.WARNING


def test_a_gpu_served_by_ptx_keeps_the_warning() -> None:
    # the same kornia report on an RTX 4090 (sm_89): torch 2.7.1+cu126 has sm_89 SASS, so
    # still a note; on an H20-class sm_90 GPU too; but an arch list ending before the GPU's
    # arch (sm_86 SASS only, compute_86 PTX) leaves it to the driver's JIT
    ptx = _minor(
        "kornia-3273.txt",
        ("GPU 0: NVIDIA GeForce RTX 3080 Ti", "GPU 0: NVIDIA RTX PRO 6000 Blackwell"),
    )
    assert ptx.severity is Severity.WARNING, ptx.message

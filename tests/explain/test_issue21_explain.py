"""explain knows the errors people paste most (issue 21 item 8), and a message that names
its cause runs what confirms it: an undefined c10 symbol the extension scan, a pasted
"sm_120 is not compatible ... supports sm_50 ... sm_90" is read for the GPU and the list.
The texts are the public issues' (each entry's `source`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from envlock.explain import explain_message, messages
from tests.conftest import run_envlock

REAL = [
    (
        "device-side-assert",
        "RuntimeError: CUDA error: device-side assert triggered\nCUDA kernel errors might be "
        "asynchronously reported at some other API call, so the stacktrace below might be "
        "incorrect.\nFor debugging consider passing CUDA_LAUNCH_BLOCKING=1.\nCompile with "
        "`TORCH_USE_CUDA_DSA` to enable device-side assertions.",
    ),
    ("torchvision-ops-missing", "RuntimeError: operator torchvision::nms does not exist"),
    ("torchvision-ops-missing", "RuntimeError: No such operator torchvision::nms"),
    ("no-cuda-gpus", "RuntimeError: No CUDA GPUs are available"),
    (
        "cublas-not-initialized",
        "RuntimeError: CUDA error: CUBLAS_STATUS_NOT_INITIALIZED when calling "
        "`cublasCreate(handle)`",
    ),
    (
        "cublas-alloc-failed",
        "RuntimeError: CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling `cublasCreate(handle)`",
    ),
    (
        "cublas-execution-failed",
        "RuntimeError: CUDA error: CUBLAS_STATUS_EXECUTION_FAILED when calling `cublasSgemm( "
        "handle, opa, opb, m, n, k, &alpha, a, lda, b, ldb, &beta, c, ldc)`",
    ),
    (
        "cublas-invalid-value",
        "RuntimeError: CUDA error: CUBLAS_STATUS_INVALID_VALUE when calling `cublasGemmEx( "
        "handle, opa, opb, m, n, k, &falpha, a, CUDA_R_16F, lda, b, CUDA_R_16F, ldb, &fbeta, "
        "c, CUDA_R_16F, ldc, CUDA_R_32F, CUBLAS_GEMM_DFALT_TENSOR_OP)`",
    ),
    (
        "cublas-arch-mismatch",
        "what():  [FT][ERROR] CUDA runtime error: CUBLAS_STATUS_ARCH_MISMATCH",
    ),
    (
        "cublas-internal-error",
        "CUBLAS_STATUS_INTERNAL_ERROR when calling `cublasCreate(handle)`",
    ),
    ("cublas-not-supported", "CUBLAS_STATUS_NOT_SUPPORTED"),
    ("cublas-mapping-error", "CUBLAS_STATUS_MAPPING_ERROR"),
    ("cublas-license-error", "CUBLAS_STATUS_LICENSE_ERROR"),
    (
        "dataloader-worker-segfault",
        "RuntimeError: DataLoader worker (pid 7699) is killed by signal: Segmentation fault. "
        "Details are lost due to multiprocessing. Rerunning with num_workers=0 may give better "
        "error trace.",
    ),
    ("dataloader-worker-segfault", "ERROR: Unexpected segmentation fault encountered in worker."),
    (
        "dataloader-worker-killed",
        "DataLoader worker (pid 2287) is killed by signal: Killed.",
    ),
    # found missing when tried as a user (each failed before its entry was extended):
    # the kernel's own assert line, pasted without the RuntimeError that follows it
    (
        "device-side-assert",
        "../aten/src/ATen/native/cuda/Loss.cu:271: nll_loss_forward_reduce_cuda_kernel_2d: "
        "block: [0,0,0], thread: [0,0,0] Assertion `t >= 0 && t < n_classes` failed.",
    ),
    (
        "device-side-assert",
        "../aten/src/ATen/native/cuda/NLLLoss2d.cu:103: nll_loss2d_forward_kernel: block: "
        "[5,0,0], thread: [996,0,0] Assertion `t >= 0 && t < n_classes` failed.",
    ),
    # a CPU-only torchvision beside a CUDA torch: the op exists, not for the CUDA backend
    (
        "torchvision-ops-missing",
        "NotImplementedError: Could not run 'torchvision::nms' with arguments from the 'CUDA' "
        "backend. This could be because the operator doesn't exist for this backend, or was "
        "omitted during the selective/custom build process (if using custom build).",
    ),
    (
        "torchvision-ops-missing",
        "RuntimeError: Could not run 'torchvision::nms' with arguments from the 'CUDA' backend. "
        "'torchvision::nms' is only available for these backends: [CPU, BackendSelect, Named, "
        "AutogradOther, AutogradCPU, AutogradCUDA, AutogradXLA, Tracer, Autocast, Batched, "
        "VmapMode].",
    ),
    # the DataLoader's own line when a worker died of anything
    (
        "dataloader-worker-exited",
        "RuntimeError: DataLoader worker (pid(s) 16732) exited unexpectedly",
    ),
    (
        "dataloader-worker-exited",
        "RuntimeError: DataLoader worker (pid(s) 1448, 8988) exited unexpectedly",
    ),
]


@pytest.mark.parametrize(("key", "text"), REAL, ids=[f"{k}-{i}" for i, (k, _) in enumerate(REAL)])
def test_most_pasted_errors_are_known(key: str, text: str) -> None:
    assert key in [e.key for e in explain_message(text)]


def test_each_cublas_status_is_its_own_entry_with_a_source() -> None:
    keys = [e.key for e in messages() if e.key.startswith("cublas-")]
    cublas = [k for k, _ in REAL if k.startswith("cublas-")]
    assert set(cublas) <= set(keys)
    for e in messages():
        if e.key in {k for k, _ in REAL}:
            assert e.source and e.examples, e.key


def test_a_bus_error_worker_is_still_shm_not_a_segfault() -> None:
    text = "DataLoader worker (pid 123) is killed by signal: Bus error."
    assert [e.key for e in explain_message(text)] == ["shm"]


def test_undefined_c10_symbol_runs_the_extension_scan(cuda_python: Path, tmp_path: Path) -> None:
    """The recorded H100 host with torchvision 0.28.0's _C.so (built for torch 2.13) scanned
    against torch 2.14.1: the pasted undefined c10 symbol is confirmed by the scan."""
    from tests.checks.test_extensions import _scan, _with
    from tests.ext_assets import torchvision_dir
    from tests.facts_builders import h100_host

    item = _scan(torchvision_dir("0.28.0") / "torchvision/_C.so", cuda_python, dist="torchvision")
    item["version"] = "0.28.0"
    facts = tmp_path / "facts.h100-torchvision-0.28.json"
    facts.write_text(_with(h100_host(), item).to_json())
    text = (
        "OSError: /venv/lib/python3.12/site-packages/torchvision/_C.so: undefined symbol: "
        "_ZN3c104cuda29c10_cuda_check_implementationEiPKcS2_jb"
    )
    proc = run_envlock(["explain", text, "--facts", str(facts), "--format", "json"])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = json.loads(proc.stdout)
    assert out["explanations"][0]["key"] == "extension-abi"
    assert "EL-EXT-TORCH-ABI" in [f["id"] for f in out["findings"]]


SM120 = (
    "/usr/lib/python3/site-packages/torch/cuda/__init__.py:235: UserWarning: NVIDIA GeForce "
    "RTX 5090 with CUDA capability sm_120 is not compatible with the current PyTorch "
    "installation. The current PyTorch install supports CUDA capabilities sm_50 sm_60 sm_70 "
    "sm_75 sm_80 sm_86 sm_90. If you want to use the NVIDIA GeForce RTX 5090 GPU with PyTorch, "
    "please check the instructions at https://pytorch.org/get-started/locally/"
)


def test_a_pasted_capability_warning_is_read_for_the_gpu_and_the_arch_list() -> None:
    proc = run_envlock(["explain", SM120, "--no-checks", "--format", "json"])
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["explanations"][0]["key"] == "no-kernel-image"
    evidence = out["evidence"]
    assert "NVIDIA GeForce RTX 5090" in evidence["GPU (in the message)"]
    assert "12.0" in evidence["GPU (in the message)"]
    assert "sm_50" in evidence["torch's kernels (in the message)"]
    assert "sm_90" in evidence["torch's kernels (in the message)"]
    assert "none for compute capability 12.0" in evidence["torch's kernels (in the message)"]
    # the newest build that has its kernels, from the matrix, with its install command
    assert "pip install" in evidence["a build with its kernels"]
    text = run_envlock(["explain", SM120, "--no-checks"]).stdout
    assert "RTX 5090" in text and "sm_90" in text


def test_explain_137_imports_no_torch(tmp_path: Path) -> None:
    """A torch on the path that writes down each import: `explain 137` (an exit status)
    never loads it, in envlock or in a child; a pasted message (whose checks probe torch)
    does, so the marker can tell."""
    from tests.conftest import clean_env

    fake = tmp_path / "site" / "torch"
    fake.mkdir(parents=True)
    marker = tmp_path / "imported"
    fake.joinpath("__init__.py").write_text(
        f"open({str(marker)!r}, 'a').write('x')\n__version__ = '9.9.9'\n"
    )
    env = {**clean_env(), "PYTHONPATH": str(tmp_path / "site")}
    proc = run_envlock(["explain", "137", "--no-cache"], env=env, process=True)
    assert proc.returncode == 0, proc.stderr
    assert "SIGKILL" in proc.stdout
    assert not marker.exists()
    run_envlock(
        ["explain", "RuntimeError: No CUDA GPUs are available", "--no-cache"], env=env, process=True
    )
    assert marker.exists()  # the control: a message's checks do import it

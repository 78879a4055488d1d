"""The seeded determinism workload. Runs in a child process, never in envlock's own.

determinism/runner.py starts `main` under the chosen interpreter through the
bootstrap of probe/_served.py: this module and the stdlib-only ones it imports
(the constants of envlock.determinism, the parent watch, the cuDNN decoding) are
served from memory, so envlock need not be installed there. Standard library and
torch only, Python 3.8 syntax, torch 2.0+ with newer APIs guarded. It prints one
line `ENVLOCK-DETERMINISM-RESULT {json}` on stdout; on a failure it can explain it
prints `ENVLOCK-DETERMINISM-ERROR <one line>` and exits 3.

Every class runs twice in this process (all classes, then all again) and each
run is digested separately, so a nondeterministic kernel shows up as two
different digests of one class.

Inputs of every class except `rng` are drawn on the CPU with uniform
distributions and then moved to the device: the CPU uniform sampler is
scalar code, so the inputs are bit-identical on every machine for one torch
version, and numeric summaries can be compared across devices. (CPU randn is
not: it has a separate AVX2 code path.)

Negative control: ENVLOCK_DETERMINISM_PERTURB=<class> gives that class a
different seed on its second run; ENVLOCK_DETERMINISM_PERTURB=atomic-index-add
adds an index_add_ with deterministic algorithms switched off to the reduction
class (run-to-run different on CUDA, where it uses atomics). Both are recorded
in the settings so digests made with them are never mistaken for real ones.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import math
import os
import platform
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from envlock.determinism import (
    CLASSES,
    DEVICES,
    ERROR_MARK,
    PROGRESS_MARK,
    RESULT_MARK,
    SUITE_VERSION,
)
from envlock.probe._parentwatch import exit_with_parent
from envlock.probe.libnames import decode_cudnn

PERTURB_ENV = "ENVLOCK_DETERMINISM_PERTURB"
ATOMIC_PERTURB = "atomic-index-add"
SAMPLES = 8
# cuBLAS needs a fixed workspace for deterministic results before torch 2.10
# (torch raises in mm otherwise); 2.10 gave each handle its own workspace.
CUBLAS_WORKSPACE = ":4096:8"


class Fail(Exception):
    """A failure the user can act on: one line, exit 3."""


class Case:
    """One run of one class: named output tensors, plus ops this torch/device cannot run."""

    def __init__(self, torch: Any, device: str, seed: int) -> None:
        self.torch = torch
        self.device = device
        self.seed = seed
        self.outputs: list[tuple[str, Any]] = []
        self.skipped: dict[str, str] = {}
        self.cpu_gen = torch.Generator().manual_seed(seed)

    def uniform(self, *shape: int, low: float = -1.0, high: float = 1.0) -> Any:
        # Scaling by (high - low) and shifting are exactly rounded IEEE ops: ISA-independent.
        t = self.torch.rand(shape, generator=self.cpu_gen) * (high - low) + low
        return t.to(self.device)

    def add(self, name: str, tensor: Any) -> None:
        self.outputs.append((name, tensor.detach()))

    @contextlib.contextmanager
    def op(self, name: str) -> Iterator[None]:
        try:
            yield
        except (RuntimeError, TypeError, ValueError, NotImplementedError, AttributeError) as exc:
            # A dtype or kernel this torch/device lacks (e.g. fp16 matmul on an old CPU build):
            # recorded by name, so the digest says exactly what it covers.
            self.skipped[name] = _one_line(exc)


# ------------------------------------------------------------------- classes
def rng(case: Case) -> None:
    torch, dev = case.torch, case.device
    # 4096 elements: CUDA distribution kernels cap their grid at SMs x blocks per SM
    # (calc_execution_policy), so larger tensors would map elements to Philox
    # subsequences differently on GPUs with fewer SMs. Below ~10k elements every
    # element gets its own thread on any GPU, so the stream is GPU-independent.
    n = 4096
    g = torch.Generator(device=dev).manual_seed(case.seed)
    case.add("randn", torch.randn(n, generator=g, device=dev))
    case.add("rand", torch.rand(n, generator=g, device=dev))
    case.add("randint", torch.randint(0, 1 << 20, (n,), generator=g, device=dev))
    case.add("normal", torch.empty(n, device=dev).normal_(0.5, 2.0, generator=g))
    case.add("bernoulli", torch.empty(n, device=dev).bernoulli_(0.3, generator=g))
    torch.manual_seed(case.seed)  # dropout takes no generator: it uses the device default
    mask = torch.nn.functional.dropout(torch.ones(n, device=dev), p=0.5, training=True) != 0
    case.add("dropout_mask", mask)


def elementwise(case: Case) -> None:
    torch = case.torch
    F = torch.nn.functional
    x = case.uniform(64, 1024, low=-4.0, high=4.0)
    w = case.uniform(1024, low=0.5, high=1.5)
    b = case.uniform(1024)
    with case.op("gelu"):
        case.add("gelu", F.gelu(x))
    with case.op("gelu_tanh"):
        case.add("gelu_tanh", F.gelu(x, approximate="tanh"))
    with case.op("silu"):
        case.add("silu", F.silu(x))
    with case.op("softmax"):
        case.add("softmax", torch.softmax(x, dim=-1))
    with case.op("layer_norm"):
        case.add("layer_norm", F.layer_norm(x, (1024,), w, b))
    with case.op("exp"):
        case.add("exp", torch.exp(x))
    with case.op("log"):
        case.add("log", torch.log(x.abs() + 1e-3))


def reduction(case: Case) -> None:
    torch = case.torch
    big = case.uniform(1 << 20)
    with case.op("sum"):
        case.add("sum", big.sum())
    with case.op("mean"):
        case.add("mean", big.mean())
    with case.op("norm"):
        case.add("norm", torch.linalg.vector_norm(big))
    with case.op("sum_dim0"):
        case.add("sum_dim0", big.view(1024, 1024).sum(0))
    with case.op("mean_dim1"):
        case.add("mean_dim1", big.view(1024, 1024).mean(1))
    idx = torch.randint(0, 512, (65536,), generator=case.cpu_gen).to(case.device)
    src = case.uniform(65536, 16)
    with case.op("index_add"):
        case.add("index_add", torch.zeros(512, 16, device=case.device).index_add_(0, idx, src))
    with case.op("scatter_add"):
        out = torch.zeros(512, 16, device=case.device)
        case.add("scatter_add", out.scatter_add_(0, idx[:, None].expand(-1, 16), src))
    if os.environ.get(PERTURB_ENV) == ATOMIC_PERTURB:
        # Negative control: float atomics in an unspecified order (CUDA) differ run to run.
        torch.use_deterministic_algorithms(False)
        try:
            hot = torch.randint(0, 8, (1 << 20,), generator=case.cpu_gen).to(case.device)
            vals = case.uniform(1 << 20)
            out = torch.zeros(8, device=case.device)
            case.add("atomic_index_add", out.index_add_(0, hot, vals))
        finally:
            torch.use_deterministic_algorithms(True)


def matmul(case: Case) -> None:
    torch = case.torch
    tf32 = torch.backends.cuda.matmul
    a = case.uniform(512, 512)
    b = case.uniform(512, 512)
    with case.op("fp32"):
        tf32.allow_tf32 = False
        case.add("fp32", a @ b)
    with case.op("tf32"):
        tf32.allow_tf32 = True
        try:
            case.add("tf32", a @ b)
        finally:
            tf32.allow_tf32 = False
    with case.op("bf16"):
        case.add("bf16", a.bfloat16() @ b.bfloat16())
    with case.op("fp16"):
        case.add("fp16", a.half() @ b.half())
    with case.op("bmm_fp32"):
        case.add("bmm_fp32", torch.bmm(a.view(16, 32, 512), b.view(16, 512, 32)))


def conv(case: Case) -> None:
    torch = case.torch
    x = case.uniform(8, 16, 32, 32).requires_grad_()
    w = case.uniform(32, 16, 3, 3, low=-0.2, high=0.2).requires_grad_()
    bias = case.uniform(32).requires_grad_()
    grad = case.uniform(8, 32, 32, 32)
    with case.op("conv2d"):
        y = torch.nn.functional.conv2d(x, w, bias, padding=1)
        case.add("forward", y)
        y.backward(grad)
        case.add("grad_input", x.grad)
        case.add("grad_weight", w.grad)
        case.add("grad_bias", bias.grad)


def attention(case: Case) -> None:
    torch = case.torch
    sdpa = torch.nn.functional.scaled_dot_product_attention
    for dtype_name in ("fp32", "bf16"):
        dtype = torch.float32 if dtype_name == "fp32" else torch.bfloat16
        q, k, v = (case.uniform(2, 4, 128, 64).to(dtype).requires_grad_() for _ in range(3))
        grad = case.uniform(2, 4, 128, 64).to(dtype)
        with case.op(f"sdpa_{dtype_name}"):
            out = sdpa(q, k, v, is_causal=True)
            case.add(f"{dtype_name}.out", out)
            out.backward(grad)
            case.add(f"{dtype_name}.grad_q", q.grad)
            case.add(f"{dtype_name}.grad_k", k.grad)
            case.add(f"{dtype_name}.grad_v", v.grad)


def train(case: Case) -> None:
    torch = case.torch
    torch.manual_seed(case.seed)  # module init draws from the CPU default generator (uniform)
    block = torch.nn.TransformerEncoderLayer(
        d_model=64, nhead=4, dim_feedforward=128, dropout=0.0, batch_first=True
    ).to(case.device)
    opt = torch.optim.AdamW(block.parameters(), lr=1e-3)
    x = case.uniform(4, 32, 64)
    target = case.uniform(4, 32, 64)
    loss = None
    for _ in range(3):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(block(x), target)
        loss.backward()
        opt.step()
    assert loss is not None
    case.add("loss", loss)
    for name, param in block.named_parameters():
        case.add(name, param)


WORKLOADS: dict[str, Callable[[Case], None]] = {
    "rng": rng,
    "elementwise": elementwise,
    "reduction": reduction,
    "matmul": matmul,
    "conv": conv,
    "attention": attention,
    "train": train,
}


# ------------------------------------------------------------------- digests
def digest(outputs: list[tuple[str, Any]]) -> str:
    return digests(outputs)[0]


def digests(outputs: list[tuple[str, Any]]) -> tuple[str, dict[str, str]]:
    """The class digest, and one digest per op output (to name the ops that differ
    when two runs do not agree)."""
    h = hashlib.sha256()
    per_op: dict[str, str] = {}
    for name, t in outputs:
        t = t.contiguous().cpu()
        head = f"{name}|{t.dtype}|{tuple(t.shape)}\n".encode()
        one = hashlib.sha256(head)
        h.update(head)
        nbytes = t.numel() * t.element_size()
        if nbytes:
            # Raw bytes without numpy (not every torch environment has it).
            data = ctypes.string_at(t.data_ptr(), nbytes)
            h.update(data)
            one.update(data)
        per_op[name] = one.hexdigest()
    return "sha256:" + h.hexdigest(), per_op


def differing_ops(first: dict[str, Any], second: dict[str, Any]) -> list[str]:
    """Ops whose outputs differ between two runs of one class, in run order; an op that
    ran in one run only (skipped in the other) counts as differing."""
    a, b = first["ops"], second["ops"]
    names = list(a) + [n for n in b if n not in a]
    return [n for n in names if a.get(n) != b.get(n)]


def summarize(torch: Any, outputs: list[tuple[str, Any]]) -> dict[str, Any]:
    values: list[float] = []
    for _, t in outputs:
        values.extend(t.to(device="cpu", dtype=torch.float64).flatten().tolist())
    n = len(values)
    total = math.fsum(values)  # exact: independent of thread count and summation order
    positions = [i * (n - 1) // (SAMPLES - 1) for i in range(SAMPLES)] if n >= SAMPLES else []
    picks = [values[p] for p in positions] if positions else values
    return {
        "sum": total,
        "mean": total / n if n else 0.0,
        "max_abs": max((abs(v) for v in values), default=0.0),
        "elements": n,
        "samples": picks,
    }


# ------------------------------------------------------------------- context
def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".strip().rstrip(":")


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return None


def _cpu_model() -> str:
    info = _read("/proc/cpuinfo") or ""
    for line in info.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("model name", "Model", "cpu model"):
            return value.strip()
    return platform.processor() or "unknown"


def _driver_version() -> str:
    text = _read("/sys/module/nvidia/version")
    if text and text.strip():
        return text.strip()
    text = _read("/proc/driver/nvidia/version") or ""
    for word in text.split():
        parts = word.split(".")
        if len(parts) >= 2 and all(p.isdigit() for p in parts):
            return word
    return "unknown"


def _cublas_version() -> tuple[str, str]:
    """The cuBLAS this process loaded (asked through cublasGetProperty), else the wheel's."""
    maps = _read("/proc/self/maps") or ""
    paths = sorted({ln.split()[-1] for ln in maps.splitlines() if "/libcublas.so" in ln})
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
            parts = []
            for prop in (0, 1, 2):  # MAJOR_VERSION, MINOR_VERSION, PATCH_LEVEL
                value = ctypes.c_int()
                if lib.cublasGetProperty(prop, ctypes.byref(value)) != 0:
                    raise OSError("cublasGetProperty failed")
                parts.append(str(value.value))
            return ".".join(parts), "loaded library"
        except (OSError, AttributeError):
            continue
    try:
        from importlib import metadata
    except ImportError:
        return "unknown", "none"
    for name in ("nvidia-cublas", "nvidia-cublas-cu13", "nvidia-cublas-cu12", "nvidia-cublas-cu11"):
        try:
            return metadata.version(name), f"wheel {name}"
        except metadata.PackageNotFoundError:
            continue
    return "unknown", "none"


def _cudnn_version(torch: Any) -> str:
    try:
        v = torch.backends.cudnn.version()
    except (RuntimeError, AttributeError):
        return "unknown"
    if not v:
        return "none"
    return decode_cudnn(v) or "none"


def collect_context(torch: Any, device: str) -> dict[str, str]:
    ctx = {"device_type": device, "torch": str(torch.__version__), "machine": platform.machine()}
    if device == "cuda":
        props = torch.cuda.get_device_properties(torch.cuda.current_device())
        cublas, cublas_source = _cublas_version()
        ctx.update(
            gpu_name=str(props.name),
            compute_capability=f"{props.major}.{props.minor}",
            sm_count=str(props.multi_processor_count),
            driver=_driver_version(),
            cuda=str(torch.version.cuda),
            cudnn=_cudnn_version(torch),
            cublas=cublas,
            cublas_source=cublas_source,
        )
    else:
        get_cap = getattr(getattr(torch.backends, "cpu", None), "get_cpu_capability", None)
        cap = get_cap() if get_cap is not None else None  # torch >= 2.1
        ctx.update(
            cpu_model=_cpu_model(),
            cpu_capability=str(cap) if cap else "unknown",
            num_threads=str(torch.get_num_threads()),
        )
    return ctx


def apply_settings(torch: Any, device: str) -> dict[str, str]:
    """Deterministic settings; returns what is in force, as strings."""
    if device == "cuda" and _torch_before(torch, (2, 10)):
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.allow_tf32 = False  # conv in true fp32; matmul sets TF32 per op
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    warn_only = getattr(torch, "is_deterministic_algorithms_warn_only_enabled", lambda: False)()
    m = torch.backends.cuda.matmul
    settings = {
        "deterministic_algorithms": _b(torch.are_deterministic_algorithms_enabled()),
        "deterministic_warn_only": _b(warn_only),
        "cudnn_benchmark": _b(torch.backends.cudnn.benchmark),
        "cudnn_deterministic": _b(torch.backends.cudnn.deterministic),
        "cudnn_allow_tf32": _b(torch.backends.cudnn.allow_tf32),
        "float32_matmul_precision": str(torch.get_float32_matmul_precision()),
        "fp16_reduced_precision_reduction": _flag(m, "allow_fp16_reduced_precision_reduction"),
        "bf16_reduced_precision_reduction": _flag(m, "allow_bf16_reduced_precision_reduction"),
    }
    if device == "cuda":
        settings["cublas_workspace_config"] = os.environ.get("CUBLAS_WORKSPACE_CONFIG", "unset")
    perturb = os.environ.get(PERTURB_ENV)
    if perturb:
        settings["perturb"] = perturb
    return settings


def first_vml_call(torch: Any) -> None:
    """Make this process's first MKL vector-math (VML) call here, on this one thread.

    torch's CPU exp and log of a contiguous float tensor are MKL VML calls, and MKL sets
    up its VML kernels on the first call of a process. When that first call comes from
    several OpenMP threads at once (an op over more than ATen's grain of 2,048 elements),
    a thread can compute its whole chunk with MKL's AVX2 "enhanced performance" exp
    instead of the dispatched kernel (up to 1,773 ulps on the suite's input): 1 in 1,000
    to 2,000 processes on 2 threads (torch 2.13 CPU, MKL 2024.2), seen in CI as
    elementwise's exp differing between the suite's two runs. Later calls are not
    affected, so the classes measure torch's steady state. One element: no thread pool.
    """
    torch.exp(torch.ones(1))


def _b(value: Any) -> str:
    return "true" if value else "false"


def _flag(obj: Any, name: str) -> str:
    try:
        return _b(getattr(obj, name))
    except AttributeError:  # a flag this torch does not have yet
        return "absent"


def _torch_before(torch: Any, version: tuple[int, int]) -> bool:
    parts = str(torch.__version__).split("+")[0].split(".")
    try:
        return (int(parts[0]), int(parts[1])) < version
    except (ValueError, IndexError):
        return False


# ---------------------------------------------------------------------- main
def parse_args(argv: list[str]) -> tuple[str, int]:
    device, seed = "auto", 0
    it = iter(argv)
    for arg in it:
        if arg == "--device":
            device = next(it, "")
        elif arg == "--seed":
            seed = int(next(it, "0"))
        else:
            raise Fail(f"unknown suite argument {arg!r}")
    if device not in DEVICES:
        raise Fail(f"--device must be one of {', '.join(DEVICES)}, not {device!r}")
    return device, seed


def run(argv: list[str]) -> dict[str, Any]:
    device, seed = parse_args(argv)
    warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
    try:
        import torch
    except Exception as exc:  # ImportError, or OSError from a broken CUDA library
        raise Fail(f"torch is not importable: {_one_line(exc)}") from None
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    elif device == "cuda" and not torch.cuda.is_available():
        cpu_only = torch.version.cuda is None
        why = "a CPU-only torch build" if cpu_only else "no usable NVIDIA driver or GPU"
        raise Fail(f"--device cuda, but torch {torch.__version__} sees no CUDA device ({why})")
    started = time.perf_counter()
    settings = apply_settings(torch, device)
    first_vml_call(torch)
    perturb = settings.get("perturb")

    def sync() -> None:
        if device == "cuda":
            torch.cuda.synchronize()

    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in CLASSES}
    failed: dict[str, str] = {}
    for repeat in (0, 1):
        for i, name in enumerate(CLASSES):
            if name in failed:
                continue
            # the parent shows it (class i of n): the suite can take minutes on a CPU
            step = f"{repeat * len(CLASSES) + i + 1} {2 * len(CLASSES)} {name}"
            print(PROGRESS_MARK + step, flush=True)
            class_seed = seed + 1 if (repeat == 1 and perturb == name) else seed
            torch.manual_seed(class_seed)
            case = Case(torch, device, class_seed)
            t0 = time.perf_counter()
            try:
                WORKLOADS[name](case)
                sync()
            except (
                RuntimeError,
                TypeError,
                ValueError,
                NotImplementedError,
                AttributeError,
            ) as exc:
                failed[name] = _one_line(exc)
                continue
            seconds = time.perf_counter() - t0
            class_digest, per_op = digests(case.outputs)
            runs[name].append(
                {
                    "digest": class_digest,
                    "ops": per_op,
                    # The second run only needs its digest.
                    "summary": summarize(torch, case.outputs) if repeat == 0 else None,
                    "tensors": len(case.outputs),
                    "skipped": case.skipped,
                    "seconds": round(seconds, 4),
                }
            )
    classes: dict[str, Any] = {}
    for name in CLASSES:
        if name in failed or len(runs[name]) != 2:
            continue
        first, second = runs[name]
        same = first["digest"] == second["digest"]
        classes[name] = {
            "digest": first["digest"],
            "summary": first["summary"],
            "run_to_run_identical": same,
            "repeat_digest": None if same else second["digest"],
            "differing_ops": [] if same else differing_ops(first, second),
            "tensors": first["tensors"],
            "skipped": first["skipped"],
            "seconds": first["seconds"],
        }
    return {
        "seed": seed,
        "suite_version": SUITE_VERSION,
        "device": device,
        "context": collect_context(torch, device),
        "settings": settings,
        "classes": classes,
        "failed": failed,
        "seconds": round(time.perf_counter() - started, 3),  # workload only, not the import
    }


def main(argv: list[str]) -> int:
    exit_with_parent()
    try:
        result = run(argv)
    except Fail as exc:
        print(ERROR_MARK + str(exc), flush=True)
        return 3
    print(RESULT_MARK + json.dumps(result), flush=True)
    return 0

"""Checks about the number formats a job trains in, held to the GPUs."""

from __future__ import annotations

from collections.abc import Iterator

from envlock.checks.context import CheckContext, Gpu
from envlock.checks.gpu import gpu_line
from envlock.checks.registry import check
from envlock.findings import Finding, Severity
from envlock.matrix import Version
from envlock.pasted.precmsg import refusals

BF16_MIN = Version((8, 0))
TENSOR_CORES_MIN = Version((7, 0))  # Volta: the first fp16 tensor cores


@check("EL-BF16-UNSUPPORTED")
def bf16_unsupported(ctx: CheckContext) -> Iterator[Finding]:
    refused = refusals(ctx.facts.meta.notes)
    gpus = ctx.gpus()
    if not gpus and _DEVICE_SAYS in refused:
        yield _device_refused(ctx, refused)
        return
    old = [g for g in gpus if g.capability is not None and g.capability < BF16_MIN]
    if not old:
        return
    expected = ctx.expects_bf16() or bool(refused)
    names = ", ".join(f"{g.index}: {g.name} ({g.capability})" for g in old)
    yield Finding(
        check_id="EL-BF16-UNSUPPORTED",
        severity=Severity.ERROR if expected else Severity.INFO,
        message=(
            f"GPU(s) {names} lack native bf16 (needs compute capability 8.0): "
            + _expected_words(expected, refused)
        ),
        fix=_bf16_fix(ctx, old, refused),
        evidence={
            "gpus": [gpu_line(g) for g in old],
            "bf16_expected": expected,
            "refused_by_library": [f"{_LIBRARY[lib][0]}: {fmt}" for lib, fmt in refused],
            "ACCELERATE_MIXED_PRECISION": ctx.env("ACCELERATE_MIXED_PRECISION"),
        },
    )


# torch's autocast refuses bf16 only on a CUDA device it found (where CUDA is not available it
# disables itself with a warning: torch/amp/autocast_mode.py), by torch.cuda.is_bf16_supported:
# a GPU below compute capability 8.0, or a CUDA 10 build of torch
_DEVICE_SAYS = ("torch", "bf16")


def _device_refused(ctx: CheckContext, refused: list[tuple[str, str]]) -> Finding:
    """bf16 refused by torch on the CUDA device it ran on, where the paste names no GPU."""
    return Finding(
        check_id="EL-BF16-UNSUPPORTED",
        severity=Severity.ERROR,
        message=(
            "the CUDA device torch ran on lacks native bf16: torch's autocast refused bfloat16 "
            "on it ('Current CUDA Device does not support bfloat16'), which torch says of a GPU "
            "below compute capability 8.0 (or of a CUDA 10 build of torch); the paste names no GPU"
        ),
        fix=_bf16_fix(ctx, [], refused),
        evidence={
            "gpus": [],
            "bf16_expected": True,
            "refused_by_library": [f"{_LIBRARY[lib][0]}: {fmt}" for lib, fmt in refused],
        },
    )


# each refusing library (envlock/pasted/precmsg.py's keys): its name, and its own way to the
# format this GPU has, in fp16 (tensor cores, 7.0 and up) and below 7.0 in fp32
_LIBRARY = {
    "vllm": ("vLLM", '--dtype half (dtype="half" in Python), vLLM\'s own hint', "--dtype float32"),
    "transformers": (
        "transformers",
        "--bf16 False --fp16 True (TrainingArguments(bf16=False, fp16=True))",
        "--bf16 False",
    ),
    "torch": (
        "torch's autocast",
        'torch.autocast("cuda", dtype=torch.float16)',
        "no autocast (fp32)",
    ),
    "xformers": ("xFormers", "the model and its inputs in torch.float16", "torch.float32"),
    "flash-attn": ("FlashAttention", "the model and its inputs in torch.float16", "torch.float32"),
    "accelerate": (
        "Accelerate",
        '--mixed_precision fp16 (Accelerator(mixed_precision="fp16"))',
        "--mixed_precision no",
    ),
}


def _expected_words(expected: bool, refused: list[tuple[str, str]]) -> str:
    """What the job asked: bf16 (expected, or refused by a library), or tf32 too, which
    needs Ampere as well (transformers' '--tf32 requires Ampere or a newer GPU arch')."""
    if refused:
        asked = " and ".join(dict.fromkeys(fmt for _, fmt in refused))
        who = " and ".join(dict.fromkeys(_LIBRARY[lib][0] for lib, _ in refused))
        return (
            f"this job asks for {asked} ({who} refused it for this GPU, by its error in the paste)"
        )
    if expected:
        return "this job expects bf16 and will fail or run emulated, far slower"
    return "a job in bf16 fails or runs emulated on them"


def _bf16_fix(ctx: CheckContext, old: list[Gpu], refused: list[tuple[str, str]]) -> str:
    """fp16 with the loss scaler the installed torch has (torch.amp.GradScaler from 2.3,
    torch.cuda.amp.GradScaler from 1.6, NVIDIA apex before); fp32 below 7.0, where fp16
    saves memory but has no tensor cores to run on (the GTX 1050 Ti of pytorch#51858).
    Where a library refused the format, its own option first (vLLM's --dtype half,
    transformers' --fp16 True, --tf32 False)."""
    tv = ctx.torch_version.truncate(2) if ctx.torch_version else None
    if tv is not None and tv < Version((1, 6)):
        scaler = "NVIDIA apex's amp (torch.cuda.amp came in torch 1.6)"
    elif tv is not None and tv < Version((2, 3)):
        scaler = "torch.cuda.amp.GradScaler"
    else:
        scaler = 'torch.amp.GradScaler("cuda")'
    no_tensor_cores = bool(old) and all(
        g.capability is not None and g.capability < TENSOR_CORES_MIN for g in old
    )
    ways = _library_ways(refused, no_tensor_cores)
    if no_tensor_cores:
        return (
            f"{ways}train in fp32 (no tensor cores below compute capability 7.0: fp16 with "
            f"{scaler} saves memory, not time), or move to an sm_80+ GPU"
        )
    return f"{ways}train in fp16 with {scaler} (or fp32), or move to an sm_80+ GPU"


def _library_ways(refused: list[tuple[str, str]], no_tensor_cores: bool) -> str:
    """Each refusing library's own option to the format this GPU has, as a lead-in."""
    ways: list[str] = []
    for lib, fmt in refused:
        name, fp16, fp32 = _LIBRARY[lib]
        if fmt == "tf32":
            ways.append(f"{name}: --tf32 False")
        else:
            ways.append(f"{name}: {fp32 if no_tensor_cores else fp16}")
    if not ways:
        return ""
    return (
        "what this GPU runs instead: "
        + "; ".join(dict.fromkeys(ways))
        + ". In a loop of your own: "
    )

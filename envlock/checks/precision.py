"""Checks about the number formats a job trains in, held to the GPUs."""

from __future__ import annotations

from collections.abc import Iterator

from envlock.checks.context import CheckContext, Gpu
from envlock.checks.gpu import gpu_line
from envlock.checks.registry import check
from envlock.findings import Finding, Severity
from envlock.matrix import Version
from envlock.pasted.libmessages import refused_formats

BF16_MIN = Version((8, 0))
TENSOR_CORES_MIN = Version((7, 0))  # Volta: the first fp16 tensor cores


@check("EL-BF16-UNSUPPORTED")
def bf16_unsupported(ctx: CheckContext) -> Iterator[Finding]:
    old = [g for g in ctx.gpus() if g.capability is not None and g.capability < BF16_MIN]
    if not old:
        return
    refused = refused_formats(ctx.facts.meta.notes)
    expected = ctx.expects_bf16() or bool(refused)
    names = ", ".join(f"{g.index}: {g.name} ({g.capability})" for g in old)
    yield Finding(
        check_id="EL-BF16-UNSUPPORTED",
        severity=Severity.ERROR if expected else Severity.INFO,
        message=(
            f"GPU(s) {names} lack native bf16 (needs compute capability 8.0): "
            + _expected_words(expected, refused)
        ),
        fix=_bf16_fix(ctx, old),
        evidence={
            "gpus": [gpu_line(g) for g in old],
            "bf16_expected": expected,
            "refused_by_library": refused,
            "ACCELERATE_MIXED_PRECISION": ctx.env("ACCELERATE_MIXED_PRECISION"),
        },
    )


def _expected_words(expected: bool, refused: list[str]) -> str:
    """What the job asked: bf16 (expected, or refused by transformers), or tf32 too, which
    needs Ampere as well (transformers' '--tf32 requires Ampere or a newer GPU arch')."""
    if refused:
        asked = " and ".join(dict.fromkeys(refused))
        return (
            f"this job asks for {asked} (transformers refused it for this GPU, by its error in "
            "the paste): turn it off (--bf16 False / --tf32 False)"
        )
    if expected:
        return "this job expects bf16 and will fail or run emulated, far slower"
    return "a job in bf16 fails or runs emulated on them"


def _bf16_fix(ctx: CheckContext, old: list[Gpu]) -> str:
    """fp16 with the loss scaler the installed torch has (torch.amp.GradScaler from 2.3,
    torch.cuda.amp.GradScaler from 1.6, NVIDIA apex before); fp32 below 7.0, where fp16
    saves memory but has no tensor cores to run on (the GTX 1050 Ti of pytorch#51858)."""
    tv = ctx.torch_version.truncate(2) if ctx.torch_version else None
    if tv is not None and tv < Version((1, 6)):
        scaler = "NVIDIA apex's amp (torch.cuda.amp came in torch 1.6)"
    elif tv is not None and tv < Version((2, 3)):
        scaler = "torch.cuda.amp.GradScaler"
    else:
        scaler = 'torch.amp.GradScaler("cuda")'
    if all(g.capability is not None and g.capability < TENSOR_CORES_MIN for g in old):
        return (
            f"train in fp32 (no tensor cores below compute capability 7.0: fp16 with {scaler} "
            "saves memory, not time), or move to an sm_80+ GPU"
        )
    return f"train in fp16 with {scaler} (or fp32), or move to an sm_80+ GPU"

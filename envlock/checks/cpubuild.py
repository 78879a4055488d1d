"""EL-TORCH-CPU-ONLY for a pasted report that does not show the GPUs (issue 21 item 4).

A report cut before its GPU lines, or one whose "GPU models" line says nothing, still
says that torch is a CPU-only build ("+cpu", "CUDA used to build PyTorch: Could not
collect", conda's py3.9_cpu_0): torch.cuda.is_available() is False on any machine. It is
an error when something beside it asks for CUDA (conda's pytorch-cuda or cudatoolkit, a
+cu118 torchvision, nvidia-* wheels, a CUDA toolkit), a warning otherwise. A report that
says there is no NVIDIA GPU ("No CUDA") and every live probe are left to the GPU check.
Beside another accelerator's plugin (torch-npu, torch_xla, ...: checks/accelerators.py) a
torch without CUDA is the right build, unless something asks for CUDA too.

A paste of torch's own "Torch not compiled with CUDA enabled" (envlock/pasted/libmessages.py)
that names no torch version is an error on its own: torch/cuda/__init__.py's _lazy_init raises
it only where torch._C has no CUDA and only when code asked for CUDA, so the build lacks CUDA for
a job that asks for it (whisperX-983, WhisperLiveKit-284, MiniGPT-4-50). Not on macOS, where
no CUDA build exists (the code asks for what the machine cannot give), nor beside another
accelerator's plugin.
"""

from __future__ import annotations

from collections.abc import Iterator

from envlock.checks.accelerators import other_accelerator
from envlock.checks.context import CheckContext
from envlock.checks.hints import after_conda_removal, conda_held, install_command
from envlock.facts import Facts
from envlock.findings import Finding, Severity
from envlock.matrix.advice import INDEX_URL
from envlock.matrix.builds import SOURCE, cuda_wanted, torch_origin
from envlock.matrix.family import PAIRED
from envlock.pasted.libmessages import TORCH_NOT_COMPILED


def cpu_build_unseen_gpus(ctx: CheckContext, fix: str) -> Iterator[Finding]:
    """The finding for a CPU-only torch in a paste that lists no GPU (`fix`: the GPU
    check's own, for an unknown GPU)."""
    driver = ctx.driver
    if driver.source != "pasted" or driver.gpus is not None or driver.pci_gpus:
        return
    facts = ctx.facts
    packages = facts.packages.distributions
    wanted = cuda_wanted(
        facts.toolchain.conda_packages,
        [w.name for w in facts.cuda.wheels],
        facts.cuda.toolkit.nvcc_version if facts.cuda.toolkit else None,
        {m: packages[m] for m in PAIRED if m in packages},
    )
    if not wanted and other_accelerator(packages, facts.torch.version, facts.meta.notes):
        return  # vllm-ascend#616: the CPU build is the one torch-npu runs on
    if _on_macos(facts):
        return  # vision-7022's osx-arm64 plan: no CUDA build of torch exists for macOS
    yield Finding(
        check_id="EL-TORCH-CPU-ONLY",
        severity=Severity.ERROR if wanted else Severity.WARNING,
        message=(
            f"torch {facts.torch.version} is {torch_without_cuda(facts.torch.version)}: "
            "torch.cuda.is_available() is "
            "False on any machine ('Torch not compiled with CUDA enabled'); the report does "
            "not list the GPUs" + (f", but {wanted}" if wanted else "")
        ),
        fix=fix,
        evidence={
            "torch.version": facts.torch.version,
            "torch.cuda": facts.torch.cuda,
            "cuda_wanted": wanted,
        },
    )


def cpu_build_stated(ctx: CheckContext, fix: str) -> Iterator[Finding]:
    """The finding for torch's own 'Torch not compiled with CUDA enabled' where the paste names
    no torch version (`fix`: the GPU check's own, for an unknown GPU)."""
    facts = ctx.facts
    if facts.torch.installed or TORCH_NOT_COMPILED not in facts.meta.notes:
        return
    if _on_macos(facts):
        return  # no CUDA build of torch exists for macOS: the code asks for what cannot be
    if other_accelerator(facts.packages.distributions, None, facts.meta.notes):
        return
    yield Finding(
        check_id="EL-TORCH-CPU-ONLY",
        severity=Severity.ERROR,
        message=(
            "the installed torch (its version not given) is a build without CUDA: its own "
            "'Torch not compiled with CUDA enabled' is raised only by such a build, and only "
            "when code asks for CUDA (torch.cuda's lazy init), so the job cannot use a GPU"
        ),
        fix=fix,
        evidence={"torch.version": None, "torch.cuda": None, "torch_said": TORCH_NOT_COMPILED},
    )


def torch_without_cuda(version: str | None) -> str:
    """What the installed build is, said of a torch without CUDA: Intel's XPU build is a GPU
    build, a source build was compiled without CUDA, anything else is a CPU-only build."""
    if (version or "").endswith("+xpu"):
        return "an Intel GPU (XPU) build, without CUDA,"
    if version and torch_origin(version).kind == SOURCE:
        return "a source build compiled without CUDA"
    return "a CPU-only build"


def cpu_fix(version: str | None, hint: str) -> str:
    """`hint` (an official build), after rebuilding where torch is a source build: its
    build found no CUDA toolkit (pytorch#91973, a conda environment with cudatoolkit)."""
    if version and torch_origin(version).kind == SOURCE:
        return (
            "rebuild it with CUDA: point CUDA_HOME at a CUDA toolkit with its nvcc on PATH and "
            "USE_CUDA=1 before `python setup.py develop` (its summary must say 'USE_CUDA : ON'); "
            f"or install an official build: {hint}"
        )
    return hint


def cpu_wheel(ctx: CheckContext) -> str:
    """The CPU build of the installed release, its family members with it (from the CPU
    index too); with the release unknown, torch's newest CPU build."""
    tv = ctx.torch_version
    if tv is not None:
        return install_command(ctx, tv.truncate(2), "cpu")
    conda = conda_held(ctx.facts.toolchain.conda_packages)  # pip's torch beside conda's: two
    return after_conda_removal(conda, f"pip install torch --index-url {INDEX_URL}cpu")


def _on_macos(facts: Facts) -> bool:
    """macOS, where every torch is a build without CUDA (its GPU is Apple's, through MPS):
    installing 'a CUDA build' there is advice nothing can follow."""
    return facts.system.os is not None and facts.system.os.id == "macos"

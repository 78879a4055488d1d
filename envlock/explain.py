"""envlock explain: exit codes and known error messages -> cause, the checks that confirm it, fix.

The error strings are those torch, the CUDA runtime, NVML, nvidia-container-cli
and the dynamic loader print, as users paste them into bug reports; each names
the doctor checks that reveal the cause before a launch, so `explain` can run
exactly those on this machine.
"""

from __future__ import annotations

import re
import signal
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True, slots=True)
class Explanation:
    key: str
    title: str
    cause: str
    fix: str
    checks: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()


MESSAGES: tuple[Explanation, ...] = (
    Explanation(
        key="no-kernel-image",
        title="no kernel image for this GPU",
        patterns=(
            r"no kernel image is available",
            r"sm_\d+ is not compatible with the current PyTorch",
            r"not compatible with the current PyTorch installation",
        ),
        cause="torch was not compiled for this GPU's compute capability (no SASS of its major "
        "with a lower-or-equal minor, and no PTX it could JIT from)",
        fix="install a torch wheel whose CUDA variant covers this GPU: `envlock matrix` prints the pip command",
        checks=("EL-ARCH-UNSUPPORTED", "EL-ARCH-PTX-ONLY"),
    ),
    Explanation(
        key="driver-too-old",
        title="NVIDIA driver too old for torch's CUDA",
        patterns=(
            r"driver on your system is too old",
            r"CUDA driver version is insufficient",
            r"found version \d{4,5}",
        ),
        cause="torch was built with a CUDA newer than this driver supports",
        fix="upgrade the driver, or install the torch variant for an older CUDA (`envlock matrix`)",
        checks=("EL-DRIVER-TOO-OLD", "EL-DRIVER-MINOR-COMPAT", "EL-NO-DRIVER"),
    ),
    Explanation(
        key="cpu-only-torch",
        title="CPU-only torch",
        patterns=(r"Torch not compiled with CUDA enabled",),
        cause="a CPU-only wheel (+cpu, torch.version.cuda is None) is installed",
        fix="reinstall torch from a CUDA index (`envlock matrix` prints the command)",
        checks=("EL-TORCH-CPU-ONLY",),
    ),
    Explanation(
        key="no-gpu-in-container",
        title="no GPU inside the container",
        patterns=(
            r"nvidia-smi: command not found",
            r"could not select device driver .* with capabilities: \[\[gpu\]\]",
            r"Found no NVIDIA driver on your system",
        ),
        cause="the container was started without --gpus / the NVIDIA runtime, or no driver is installed",
        fix="start it with `docker run --gpus all` and install the NVIDIA Container Toolkit on the host",
        checks=(
            "EL-CONTAINER-NO-GPU",
            "EL-GPU-REQUEST-FAILED",
            "EL-NO-DRIVER",
            "EL-TORCH-CUDA-UNAVAILABLE",
        ),
    ),
    Explanation(
        key="require-cuda",
        title="image requires a newer CUDA than the host driver",
        patterns=(r"unsatisfied condition: cuda>=", r"requirement error"),
        cause="the image's NVIDIA_REQUIRE_CUDA is above what the host driver supports",
        fix="upgrade the host driver or use an image built for an older CUDA",
        checks=("EL-IMAGE-REQUIRE-CUDA",),
    ),
    Explanation(
        key="forward-compat",
        title="forward compatibility on unsupported hardware (error 804)",
        patterns=(
            r"forward compatibility was attempted on non supported HW",
            r"\b804\b.*compat",
            r"cudaErrorCompatNotSupportedOnDevice",
        ),
        cause="a cuda-compat libcuda is loaded on a GPU that does not support forward compatibility",
        fix="remove the compat directory from LD_LIBRARY_PATH / ld.so.conf, or upgrade the driver",
        checks=("EL-FORWARD-COMPAT-UNSUPPORTED",),
    ),
    Explanation(
        key="nvml-mismatch",
        title="driver/library version mismatch",
        patterns=(r"Driver/library version mismatch", r"Failed to initialize NVML"),
        cause="the driver packages were upgraded but the old kernel module is still loaded",
        fix="reboot (or unload and reload the nvidia kernel modules)",
        checks=("EL-DRIVER-LIBRARY-MISMATCH",),
    ),
    Explanation(
        key="cudnn-mismatch",
        title="cuDNN version incompatibility",
        patterns=(
            r"cuDNN version incompatibility",
            r"libcudnn\w*\.so\.\d.*(cannot open|Could not load)",
            r"Could not load library libcudnn",
        ),
        cause="another cuDNN (often a system copy on LD_LIBRARY_PATH) shadows the one torch was built with",
        fix="remove the system cuDNN directory from LD_LIBRARY_PATH so the wheel's copy loads",
        checks=("EL-CUDNN-INCOMPATIBLE", "EL-CUDNN-SHADOWED", "EL-LD-LIBRARY-PATH-SHADOW"),
    ),
    Explanation(
        key="undefined-symbol",
        title="undefined symbol in a CUDA library",
        patterns=(
            r"undefined symbol: __nvJitLink",
            r"undefined symbol: nccl",
            r"libtorch_cuda\.so: undefined symbol",
        ),
        cause="CUDA libraries from two toolkits mix: an older /usr/local/cuda lib64 on LD_LIBRARY_PATH, "
        "or nvidia-* wheels of two CUDA majors / two NCCLs",
        fix="drop /usr/local/cuda*/lib64 from LD_LIBRARY_PATH; keep one CUDA major of nvidia-* wheels",
        checks=("EL-LD-LIBRARY-PATH-SHADOW", "EL-WHEELS-MIXED-CUDA", "EL-NCCL-MULTIPLE"),
    ),
    Explanation(
        key="nvcc-mismatch",
        title="nvcc differs from torch's CUDA",
        patterns=(
            r"detected CUDA version \([\d.]+\) mismatches the version that was used to compile PyTorch",
        ),
        cause="the system nvcc (CUDA_HOME/PATH) is another CUDA major than torch's",
        fix="point CUDA_HOME at a toolkit of torch's CUDA major",
        checks=("EL-NVCC-MISMATCH",),
    ),
    Explanation(
        key="shm",
        title="shared memory exhausted",
        patterns=(
            r"killed by signal: Bus error",
            r"Error while creating shared memory segment",
            r"No space left on device.*shm",
            r"unable to write to file </torch_",
        ),
        cause="/dev/shm is too small (Docker's default is 64 MB) for DataLoader workers or NCCL",
        fix="run the container with --shm-size 16g or --ipc=host",
        checks=("EL-SHM-SMALL",),
    ),
    Explanation(
        key="invalid-ordinal",
        title="invalid device ordinal",
        patterns=(r"invalid device ordinal", r"device_count\(\) ?== ?0"),
        cause="CUDA_VISIBLE_DEVICES is empty, out of range or names absent UUIDs",
        fix="set CUDA_VISIBLE_DEVICES to indices or UUIDs that exist (see `envlock probe`)",
        checks=("EL-VISIBLE-DEVICES-INVALID",),
    ),
    Explanation(
        key="uvm",
        title="CUDA unknown error (nvidia_uvm)",
        patterns=(
            r"CUDA unknown error",
            r"changing env variable CUDA_VISIBLE_DEVICES after program start",
        ),
        cause="the nvidia_uvm module is missing or broken (e.g. after suspend/resume)",
        fix="reload it: `sudo rmmod nvidia_uvm && sudo modprobe nvidia_uvm`",
        checks=("EL-UVM-MISSING",),
    ),
    Explanation(
        key="cublas-determinism",
        title="deterministic cuBLAS needs CUBLAS_WORKSPACE_CONFIG",
        patterns=(r"CUBLAS_WORKSPACE_CONFIG", r"Deterministic behavior was enabled"),
        cause="torch <= 2.9 needs CUBLAS_WORKSPACE_CONFIG for deterministic cuBLAS",
        fix="export CUBLAS_WORKSPACE_CONFIG=:4096:8",
        checks=("EL-DETERMINISM-INCOMPLETE",),
    ),
    Explanation(
        key="driver-timeout",
        title="driver timeouts / slow nvidia-smi",
        patterns=(r"driver error: timed out",),
        cause="persistence mode is off, so the driver re-initialises every GPU on each use",
        fix="enable persistence: `sudo nvidia-smi -pm 1` (or nvidia-persistenced)",
        checks=("EL-PERSISTENCE-OFF",),
    ),
    Explanation(
        key="bf16",
        title="bf16 on a GPU without bf16",
        patterns=(r"bf16.*(not supported|unsupported)", r"Bfloat16 is only supported"),
        cause="bf16 needs compute capability 8.0 or newer (V100 and T4 lack it)",
        fix="use fp16 with a GradScaler, or a GPU of capability >= 8.0",
        checks=("EL-BF16-UNSUPPORTED",),
    ),
    Explanation(
        key="deserialize",
        title="checkpoint made for other devices",
        patterns=(r"Attempting to deserialize object on a CUDA device",),
        cause="the checkpoint was saved on CUDA and this machine has no (or fewer) GPUs",
        fix="torch.load(..., map_location=...) or run where the lock's GPUs are (`envlock verify`)",
        checks=("EL-TORCH-CUDA-UNAVAILABLE", "EL-NO-DRIVER"),
    ),
)

_SIGNAL_CAUSES = {
    signal.SIGKILL: (
        "killed (SIGKILL): most often the kernel OOM killer or a cgroup/container "
        "memory limit; also a scheduler's hard kill after a grace period",
        "check the memory limit and `dmesg | grep -i oom`; lower batch size or "
        "DataLoader workers, or raise the memory limit (docker run --memory, k8s limits)",
    ),
    signal.SIGSEGV: (
        "segmentation fault: a crash in native code (a CUDA/extension library mismatch, "
        "a DataLoader worker with too little /dev/shm, or a bug)",
        "run `envlock doctor`; get a native backtrace with `python -X faulthandler`",
    ),
    signal.SIGABRT: (
        "aborted (SIGABRT): an uncaught C++ exception or failed assertion, often a "
        "CUDA device-side assert or an NCCL abort",
        "rerun with CUDA_LAUNCH_BLOCKING=1 and TORCH_SHOW_CPP_STACKTRACES=1",
    ),
    signal.SIGTERM: (
        "terminated (SIGTERM): the scheduler/orchestrator stopped the job "
        "(time limit, preemption, torchrun tearing down after another rank failed)",
        "check the scheduler's log and the first rank that failed",
    ),
    signal.SIGBUS: (
        "bus error: usually shared memory exhausted (/dev/shm too small)",
        "run the container with --shm-size 16g or --ipc=host",
    ),
    signal.SIGINT: ("interrupted (Ctrl-C)", "nothing to fix"),
}

_SIGNAL_CHECKS = {
    signal.SIGKILL: (),
    signal.SIGSEGV: (
        "EL-CUDNN-SHADOWED",
        "EL-LD-LIBRARY-PATH-SHADOW",
        "EL-WHEELS-MIXED-CUDA",
        "EL-SHM-SMALL",
    ),
    signal.SIGABRT: ("EL-ARCH-UNSUPPORTED", "EL-NCCL-MULTIPLE"),
    signal.SIGBUS: ("EL-SHM-SMALL",),
}


def explain_exit_code(code: int) -> Explanation:
    if code == 0:
        return Explanation(key="exit-0", title="exit code 0", cause="success", fix="nothing to fix")
    if code == 126:
        return Explanation(
            key="exit-126",
            title="exit code 126: command not executable",
            cause="the command was found but could not be executed (permissions, "
            "a directory, or a binary for another architecture)",
            fix="chmod +x it, or check the interpreter line and architecture",
        )
    if code == 127:
        return Explanation(
            key="exit-127",
            title="exit code 127: command not found",
            cause="the shell could not find the command (PATH, venv not activated, "
            "or the image lacks it, e.g. nvidia-smi without --gpus)",
            fix="check PATH / the virtualenv; in containers start with --gpus all",
            checks=("EL-CONTAINER-NO-GPU",),
        )
    if 128 < code < 128 + 65:
        num = code - 128
        try:
            sig = signal.Signals(num)
            name = sig.name
        except ValueError:
            return Explanation(
                key=f"exit-{code}",
                title=f"exit code {code}: signal {num}",
                cause=f"the process was killed by signal {num}",
                fix="see the job's log",
            )
        cause, fix = _SIGNAL_CAUSES.get(
            sig, (f"the process was killed by {name}", "see the job's log")
        )
        return Explanation(
            key=f"exit-{code}",
            title=f"exit code {code} = 128 + {num} ({name})",
            cause=cause,
            fix=fix,
            checks=_SIGNAL_CHECKS.get(sig, ()),
        )
    if code < 0 and -code < 65:  # Python's subprocess reports -N for signal N
        return explain_exit_code(128 - code)
    if code in (1, 2):
        return Explanation(
            key=f"exit-{code}",
            title=f"exit code {code}",
            cause="the program reported an error itself (a Python exception exits 1)",
            fix="read the traceback or the last lines of its output; "
            '`envlock explain "<error message>"` knows common CUDA/torch ones',
        )
    return Explanation(
        key=f"exit-{code}",
        title=f"exit code {code}",
        cause="a program-specific exit status",
        fix="see the program's documentation",
    )


def explain_message(text: str) -> list[Explanation]:
    return [e for e in MESSAGES if any(re.search(p, text, re.IGNORECASE) for p in e.patterns)]


def memory_evidence(
    cgroup_limit: int | None, total: int | None, cgroup_version: int | None = None
) -> dict[str, str]:
    """What exit 137 promises to look at: the cgroup memory limit is always named (a
    size, none set, or why it is unknown), then the machine's memory and dmesg."""
    out: dict[str, str] = {}
    if cgroup_limit is not None:
        out["cgroup memory limit"] = f"{cgroup_limit / 2**30:.1f} GiB"
    elif cgroup_version is not None:
        out["cgroup memory limit"] = f"none set (cgroup v{cgroup_version}: unlimited)"
    else:
        out["cgroup memory limit"] = "unknown (no cgroup memory controller readable)"
    if total is not None:
        out["machine memory"] = f"{total / 2**30:.1f} GiB"
    try:
        import subprocess

        proc = subprocess.run(["dmesg"], capture_output=True, text=True, timeout=2, check=False)
        hits = [
            ln for ln in proc.stdout.splitlines() if re.search(r"out of memory|oom-kill", ln, re.I)
        ]
        out["dmesg"] = (
            hits[-1].strip()
            if hits
            else ("no OOM-killer lines" if proc.returncode == 0 else "not readable (needs root)")
        )
    except (OSError, subprocess.SubprocessError):
        out["dmesg"] = "not available"
    return out

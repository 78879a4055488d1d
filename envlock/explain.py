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
    # a GPU runtime error: on a machine without a GPU its cause cannot be confirmed
    gpu: bool = False
    # where the message was seen: public issues whose text `examples` reproduces (a test
    # holds every example to its entry)
    source: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()


MESSAGES: tuple[Explanation, ...] = (
    # ---- the errors people hit most, each from real reports (source, examples) ----
    Explanation(
        key="cuda-oom",
        title="CUDA out of memory",
        patterns=(r"CUDA out of memory", r"OutOfMemoryError"),
        cause="the GPU's memory is used up: the job (batch, sequence length, model) needs more "
        "than is free, other processes hold part of it, or the caching allocator's free "
        "blocks are fragmented ('reserved by PyTorch but unallocated' at least as large as "
        "the request)",
        fix="lower the batch size or use activation checkpointing; stop other processes on "
        "the GPU (nvidia-smi); when reserved-but-unallocated memory is large set "
        "PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True",
        gpu=True,
        source=(
            "https://github.com/jhc13/taggui/issues/188",
            "https://github.com/kaito-project/kaito/issues/976",
            "https://github.com/murong-xu/CADS/issues/4",
        ),
        examples=(
            "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB. "
            "GPU 0 has a total capacity of 4.00 GiB of which 2.35 GiB is free. Of the allocated "
            "memory 825.15 MiB is allocated by PyTorch, and 24.85 MiB is reserved by PyTorch but "
            "unallocated. If reserved but unallocated memory is large try setting "
            "PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid fragmentation. See "
            "documentation for Memory Management",
            "ERROR 04-01 23:46:56 [engine.py:160] torch.OutOfMemoryError: CUDA out of memory. "
            "Tried to allocate 546.00 MiB. GPU 0 has a total capacity of 15.77 GiB of which "
            "514.19 MiB is free. Process 562167 has 15.25 GiB memory in use. Of the allocated "
            "memory 13.73 GiB is allocated by PyTorch, with 46.00 MiB allocated in private pools "
            "(e.g., CUDA Graphs), and 736.86 MiB is reserved by PyTorch but unallocated. If "
            "reserved but unallocated memory is large try setting "
            "PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid fragmentation.  See "
            "documentation for Memory Management  "
            "(https://pytorch.org/docs/stable/notes/cuda.html#environment-variables)",
            "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 22.78 GiB. GPU 0 has a "
            "total capacity of 31.47 GiB of which 12.73 GiB is free. Including non-PyTorch "
            "memory, this process has 18.73 GiB memory in use. Of the allocated memory 9.08 GiB "
            "is allocated by PyTorch, and 9.35 GiB is reserved by PyTorch but unallocated. If "
            "reserved but unallocated memory is large try setting "
            "PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid fragmentation.  See "
            "documentation for Memory Management  "
            "(https://pytorch.org/docs/stable/notes/cuda.html#environment-variables)",
        ),
    ),
    Explanation(
        key="illegal-memory-access",
        title="illegal memory access on the GPU",
        patterns=(r"an illegal memory access was encountered", r"cudaErrorIllegalAddress"),
        cause="a kernel read or wrote outside its memory: most often a bug in a kernel or an "
        "extension (an out-of-range index), an extension built for another torch/CUDA, or, "
        "when it moves around between runs, faulty GPU memory; the reported line is usually "
        "not where it happened (CUDA errors are asynchronous)",
        fix="rerun with CUDA_LAUNCH_BLOCKING=1 to find the failing op (compute-sanitizer for "
        "the kernel); rebuild extensions against the installed torch; check `nvidia-smi -q "
        "-d ECC` for memory errors",
        checks=("EL-ARCH-PTX-ONLY", "EL-WHEELS-MIXED-CUDA"),
        gpu=True,
        source=("https://github.com/VITA-Group/TEGNAS/issues/19",),
        examples=(
            "RuntimeError: CUDA error: an illegal memory access was encountered\n"
            "CUDA kernel errors might be asynchronously reported at some other API call,so the "
            "stacktrace below might be incorrect.\n"
            "For debugging consider passing CUDA_LAUNCH_BLOCKING=1.",
        ),
    ),
    Explanation(
        key="device-busy",
        title="GPU busy or unavailable",
        patterns=(
            r"busy or unavailable",
            r"cuda runtime error \(46\)",
            r"cudaErrorDevicesUnavailable",
        ),
        cause="the GPU is in an exclusive compute mode (EXCLUSIVE_PROCESS: one process at a "
        "time) and another process holds it, or in PROHIBITED mode, or it has fallen off "
        "the bus",
        fix="free the GPU (nvidia-smi lists who holds it), pick another one with "
        "CUDA_VISIBLE_DEVICES, or set the mode back: `sudo nvidia-smi -i N -c DEFAULT`",
        checks=("EL-GPU-COMPUTE-MODE",),
        gpu=True,
        source=(
            "https://github.com/pytorch/pytorch/issues/2704",
            "https://github.com/facebookresearch/detectron2/issues/2580",
        ),
        examples=(
            "RuntimeError: cuda runtime error (46) : all CUDA-capable devices are busy or "
            "unavailable at /opt/conda/conda-bld/pytorch_1502004572321/work/torch/lib/THC/"
            "generic/THCStorage.cu:66",
            "RuntimeError: CUDA error: all CUDA-capable devices are busy or unavailable",
        ),
    ),
    Explanation(
        key="system-not-ready",
        title="CUDA system not yet initialized (error 802)",
        patterns=(
            r"system not yet initialized",
            r"cudaErrorSystemNotReady",
            r"CUDA_ERROR_SYSTEM_NOT_READY",
        ),
        cause="on NVSwitch systems (HGX/DGX A100, H100, H200, B200) CUDA cannot start until the "
        "NVIDIA Fabric Manager has configured the NVSwitch fabric: the nvidia-fabricmanager "
        "service is not installed, not running, or not the driver's exact version",
        fix="install nvidia-fabricmanager of exactly the driver's version and start it "
        "(`systemctl enable --now nvidia-fabricmanager`); `nvidia-smi -q | grep -A2 -i fabric` "
        "shows the fabric state",
        gpu=True,
        source=(
            "https://github.com/pytorch/pytorch/issues/35710",
            "https://github.com/aws-samples/aws-deep-learning-ami-ubuntu-dcv-desktop/issues/33",
        ),
        examples=(
            "RuntimeError: cuda runtime error (802) : system not yet initialized at "
            "/opt/conda/conda-bld/pytorch_1579022034529/work/aten/src/THC/THCGeneral.cpp:50",
        ),
    ),
    Explanation(
        key="nccl-timeout",
        title="NCCL watchdog timeout",
        patterns=(
            r"Watchdog caught collective operation timeout",
            r"WorkNCCL\(.*Timeout\(ms\)",
        ),
        cause="a collective did not complete on every rank within the timeout: one rank is "
        "stuck or far behind (an exception or a hang on one rank, uneven data, a rank that "
        "skipped a collective), or the network path between ranks does not work (a wrong "
        "NCCL_SOCKET_IFNAME / NCCL_IB_HCA, a firewall)",
        fix="find the first rank that stopped (run with NCCL_DEBUG=INFO and "
        "TORCH_DISTRIBUTED_DEBUG=DETAIL); make every rank call the same collectives; "
        "`envlock verify --distributed` names ranks whose environment differs",
        checks=("EL-NCCL-MULTIPLE", "EL-SHM-SMALL"),
        gpu=True,
        source=("https://github.com/OFA-Sys/OFA/issues/271",),
        examples=(
            "[E ProcessGroupNCCL.cpp:737] [Rank 1] Watchdog caught collective operation timeout: "
            "WorkNCCL(SeqNum=469508, OpType=ALLREDUCE, Timeout(ms)=1800000) ran for 1802212 "
            "milliseconds before timing out.",
        ),
    ),
    Explanation(
        key="nccl-error",
        title="NCCL unhandled system / CUDA error",
        patterns=(
            r"unhandled system error",
            r"unhandled cuda error",
            r"ncclSystemError",
            r"ncclUnhandledCudaError",
        ),
        cause="system error: NCCL could not set up its transports (/dev/shm too small in a "
        "container, a missing network interface or InfiniBand device, ranks with different "
        "NCCL versions); CUDA error: a CUDA call inside NCCL failed (driver and CUDA mismatch, "
        "peer-to-peer not supported between the GPUs, a GPU fault)",
        fix="rerun with NCCL_DEBUG=INFO: its WARN line names the failing call; in a container "
        "use --shm-size 16g or --ipc=host; keep one NCCL in the environment",
        checks=("EL-SHM-SMALL", "EL-NCCL-MULTIPLE", "EL-DRIVER-TOO-OLD"),
        gpu=True,
        source=(
            "https://github.com/vllm-project/vllm/issues/10523",
            "https://github.com/NVIDIA/nccl/issues/1410",
        ),
        examples=(
            "torch.distributed.DistBackendError: NCCL error in: "
            "../torch/csrc/distributed/c10d/ProcessGroupNCCL.cpp:1333, unhandled system error "
            "(run with NCCL_DEBUG=INFO for details), NCCL version 2.18.1",
            "[rank7]: torch.distributed.DistBackendError: NCCL error in: "
            "../torch/csrc/distributed/c10d/NCCLUtils.hpp:275, unhandled cuda error (run with "
            "NCCL_DEBUG=INFO for details), NCCL version 2.20.5\n"
            "[rank7]: ncclUnhandledCudaError: Call to CUDA function failed.\n"
            "[rank7]: Last error:\n[rank7]: Cuda failure 1 'invalid argument'",
        ),
    ),
    Explanation(
        key="extension-abi",
        title="an extension built for another torch (undefined c10/at/torch symbol)",
        patterns=(r"undefined symbol: _Z\w*?(3c10|2at|5torch|6caffe2)\w*",),
        cause="a compiled extension (.so) was built against another torch release, C++ ABI or "
        "CUDA than the installed torch: the libtorch/c10 symbol it links does not exist here "
        "(a family mismatch, not a broken driver)",
        fix="rebuild the extension against the installed torch (`pip install "
        "--no-build-isolation --no-cache-dir --force-reinstall <package>`), or install the "
        "torch release its wheel was built for",
        source=(
            "https://github.com/rusty1s/pytorch_cluster/issues/100",
            "https://github.com/guyuchao/PyramidCSA/issues/2",
        ),
        examples=(
            "OSError: ~/miniconda3/envs/py38/lib/python3.8/site-packages/torch_cluster/"
            "_grid_cuda.so: undefined symbol: _ZNK3c104Type14isSubtypeOfExtESt10shared_ptrIS0_EPSo",
            "ImportError: /xxxxxxx/Models/PCSA/self_cuda_backend.cpython-36m-x86_64-linux-gnu.so: "
            "undefined symbol: _ZN3c105ErrorC1ENS_14SourceLocationERKSs",
        ),
    ),
    Explanation(
        key="cudnn-missing",
        title="cuDNN library not found",
        patterns=(
            r"libcudnn\w*\.so(\.\d+)*: cannot open shared object file",
            r"Could not load library libcudnn",
        ),
        cause="the cuDNN that torch links is missing from where the loader looks: the "
        "nvidia-cudnn wheel is not installed, or installed into another site-packages than "
        "torch (lib vs lib64, another environment); it is missing, not shadowed by another copy",
        fix="install the nvidia-cudnn-cuXX wheel torch requires (`pip install --force-reinstall "
        "torch` restores it), and keep torch and the nvidia/ packages in one site-packages",
        source=("https://github.com/pytorch/pytorch/issues/165812",),
        examples=(
            "ImportError: libcudnn.so.9: cannot open shared object file: No such file or directory",
        ),
    ),
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
        patterns=(r"cuDNN version incompatibility", r"cuDNN version mismatch"),
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
            r"Unexpected bus error encountered in worker",
            r"insufficient shared memory",
            r"killed by signal: Bus error",
            r"Error while creating shared memory segment",
            r"No space left on device.*shm",
            r"unable to write to file </torch_",
        ),
        cause="/dev/shm is too small (Docker's default is 64 MB) for DataLoader workers or NCCL",
        fix="run the container with --shm-size 16g or --ipc=host",
        checks=("EL-SHM-SMALL",),
        source=(
            "https://github.com/nianticlabs/simplerecon/issues/3",
            "https://github.com/THU-DA-6D-Pose-Group/GDR-Net/issues/16",
        ),
        examples=(
            "ERROR: Unexpected bus error encountered in worker. This might be caused by "
            "insufficient shared memory (shm).",
            "RuntimeError: DataLoader worker (pid 3216) is killed by signal: Bus error. It is "
            "possible that dataloader's workers are out of shared memory. Please try to raise "
            "your shared memory limit.",
        ),
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


_SIZE = r"(\d{1,15}(?:\.\d{1,15})?) (B|KiB|MiB|GiB|TiB)"  # bounded: float() of 400 digits overflows
_UNITS = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}


def _bytes(m: re.Match[str] | None) -> int | None:
    return int(float(m.group(1)) * _UNITS[m.group(2)]) if m else None


def oom_evidence(text: str, alloc_conf: str | None, *, observed: bool) -> dict[str, str]:
    """What a CUDA OOM message says about fragmentation, and the allocator configuration
    (PYTORCH_CUDA_ALLOC_CONF) of the checked environment (`observed`: it was looked at)."""
    out: dict[str, str] = {}
    asked = _bytes(re.search(r"Tried to allocate " + _SIZE, text))
    idle = _bytes(re.search(_SIZE + r" is reserved by PyTorch but unallocated", text))
    if asked is not None and idle is not None:
        out["fragmentation"] = (
            f"likely: {idle / 2**20:.0f} MiB reserved but unallocated >= the "
            f"{asked / 2**20:.0f} MiB requested (set expandable_segments:True)"
            if idle >= asked
            else f"not the cause: {idle / 2**20:.0f} MiB reserved but unallocated < the "
            f"{asked / 2**20:.0f} MiB requested (the job needs more memory)"
        )
    if not observed:
        out["PYTORCH_CUDA_ALLOC_CONF"] = "not checked"
    elif alloc_conf:
        out["PYTORCH_CUDA_ALLOC_CONF"] = alloc_conf + (
            "" if "expandable_segments:True" in alloc_conf else " (expandable_segments is off)"
        )
    else:
        out["PYTORCH_CUDA_ALLOC_CONF"] = "unset (expandable_segments is off)"
    return out


def memory_evidence(
    cgroup_limit: int | None,
    total: int | None,
    cgroup_version: int | None = None,
    *,
    kernel_log: str,
) -> dict[str, str]:
    """What exit 137 promises to look at: the cgroup memory limit is always named (a
    size, none set, or why it is unknown), then the machine's memory and its kernel log's
    last OOM-killer line (`kernel_log`, read by the caller where the facts come from)."""
    out: dict[str, str] = {}
    if cgroup_limit is not None:
        out["cgroup memory limit"] = f"{cgroup_limit / 2**30:.1f} GiB"
    elif cgroup_version is not None:
        out["cgroup memory limit"] = f"none set (cgroup v{cgroup_version}: unlimited)"
    else:
        out["cgroup memory limit"] = "unknown (no cgroup memory controller readable)"
    if total is not None:
        out["machine memory"] = f"{total / 2**30:.1f} GiB"
    out["dmesg"] = kernel_log
    return out

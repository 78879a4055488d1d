"""Every finding ID envlock can report: the one registry, with title and default severity.

IDs are stable: users --ignore them and CI greps for them. A Finding whose
ID is not here cannot be built (envlock/findings.py checks), so every
producer (doctor checks, verify, determinism, fleet) registers its IDs here;
`envlock doctor --list-checks` prints this table. The severity is the one an
ID usually reports at: verify's follow the field's rule, and a determinism
class that cannot run is an error in verify and a warning on its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from envlock.errors import UsageError
from envlock.severity import Severity

DOCTOR, VERIFY, DETERMINISM, FLEET = "doctor", "verify", "determinism", "fleet"
ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO


@dataclass(frozen=True, slots=True)
class Kind:
    id: str
    severity: Severity
    source: str  # which command family reports it
    title: str


KINDS: dict[str, Kind] = {
    k.id: k
    for k in (
        Kind(
            "EL-ARCH-PTX-ONLY", WARNING, DOCTOR, "GPU runs torch only through PTX JIT compilation"
        ),
        Kind(
            "EL-GPU-UNSERVABLE",
            ERROR,
            DOCTOR,
            "no official torch build and no driver for it can run this GPU",
        ),
        Kind(
            "EL-ARCH-UNSUPPORTED",
            ERROR,
            DOCTOR,
            "GPU compute capability not covered by torch's SASS or PTX",
        ),
        Kind(
            "EL-ARCH-NVRTC-UNSUPPORTED",
            WARNING,
            DOCTOR,
            "torch's runtime compiler (NVRTC) does not know the architecture it is asked for",
        ),
        Kind(
            "EL-BF16-UNSUPPORTED",
            ERROR,
            DOCTOR,
            "bf16 expected on a GPU below compute capability 8.0",
        ),
        Kind("EL-CONTAINER-NO-GPU", ERROR, DOCTOR, "container without NVIDIA GPU devices"),
        Kind(
            "EL-CUDNN-GPU-UNSUPPORTED",
            ERROR,
            DOCTOR,
            "the cuDNN torch uses does not support this GPU",
        ),
        Kind(
            "EL-CUDNN-INCOMPATIBLE",
            ERROR,
            DOCTOR,
            "loaded cuDNN is incompatible with the one torch was built with",
        ),
        Kind("EL-CUDNN-SHADOWED", WARNING, DOCTOR, "a cuDNN other than torch's wheel is loaded"),
        Kind(
            "EL-DETERMINISM-INCOMPLETE",
            WARNING,
            DOCTOR,
            "deterministic settings incomplete for this torch version",
        ),
        Kind(
            "EL-DRIVER-LIBRARY-MISMATCH",
            ERROR,
            DOCTOR,
            "loaded kernel module differs from the NVML/driver libraries",
        ),
        Kind(
            "EL-DRIVER-MINOR-COMPAT",
            WARNING,
            DOCTOR,
            "driver runs torch's CUDA only through minor-version compatibility",
        ),
        Kind("EL-DRIVER-TOO-OLD", ERROR, DOCTOR, "NVIDIA driver too old for torch's CUDA"),
        Kind(
            "EL-FACTS-UNAVAILABLE", INFO, DOCTOR, "parts of the environment could not be observed"
        ),
        Kind(
            "EL-FORWARD-COMPAT-UNSUPPORTED",
            ERROR,
            DOCTOR,
            "cuda-compat (forward compatibility) libcuda on a GPU that does not support it",
        ),
        Kind("EL-GPU-MIXED-MODELS", WARNING, DOCTOR, "GPUs of different models in one machine"),
        Kind(
            "EL-GPU-REQUEST-FAILED",
            ERROR,
            DOCTOR,
            "Docker could not give the container the requested GPUs",
        ),
        Kind("EL-IMAGE-LATEST-TAG", WARNING, DOCTOR, "image referenced by the moving tag 'latest'"),
        Kind(
            "EL-IMAGE-NO-DIGEST",
            WARNING,
            DOCTOR,
            "image has no registry digest: a lock can pin only its local id",
        ),
        Kind(
            "EL-IMAGE-PARTIAL-PROBE",
            WARNING,
            DOCTOR,
            "the image could be probed only partially (no usable python3)",
        ),
        Kind(
            "EL-IMAGE-REQUIRE-CUDA",
            ERROR,
            DOCTOR,
            "the image's NVIDIA_REQUIRE_CUDA is above what the host driver supports",
        ),
        Kind("EL-IMAGE-ROOT-USER", INFO, DOCTOR, "the image runs as root"),
        Kind(
            "EL-LD-LIBRARY-PATH-SHADOW",
            WARNING,
            DOCTOR,
            "LD_LIBRARY_PATH holds CUDA libraries that shadow torch's nvidia-* wheels",
        ),
        Kind(
            "EL-NCCL-MULTIPLE",
            ERROR,
            DOCTOR,
            "two NCCLs: several nvidia-nccl wheels, or a loaded NCCL other than the wheel's",
        ),
        Kind(
            "EL-NO-DRIVER",
            WARNING,
            DOCTOR,
            "CUDA build of torch on a host without an NVIDIA driver",
        ),
        Kind("EL-NOUVEAU-BOUND", ERROR, DOCTOR, "nouveau (not nvidia) bound to an NVIDIA GPU"),
        Kind("EL-GPU-LOST", ERROR, DOCTOR, "a GPU fell off the bus (NVML: GPU is lost)"),
        Kind(
            "EL-GPU-ECC-UNCORRECTED",
            ERROR,
            DOCTOR,
            "volatile uncorrectable ECC errors on a GPU since the driver loaded",
        ),
        Kind(
            "EL-GPU-MEMORY-REPAIR-PENDING",
            ERROR,
            DOCTOR,
            "a GPU's row remap or page retirement waits for a reset (or failed)",
        ),
        Kind(
            "EL-MIG-NO-DEVICE",
            ERROR,
            DOCTOR,
            "MIG enabled while CUDA_VISIBLE_DEVICES names no MIG device: torch sees none",
        ),
        Kind(
            "EL-FABRIC-MANAGER",
            ERROR,
            DOCTOR,
            "NVSwitch fabric not set up: the NVIDIA Fabric Manager is not running",
        ),
        Kind(
            "EL-FAMILY-MISSING-DEP",
            ERROR,
            DOCTOR,
            "a torch family package lacks a dependency it requires (pip check)",
        ),
        Kind("EL-NVCC-MISMATCH", WARNING, DOCTOR, "system nvcc's CUDA major differs from torch's"),
        Kind(
            "EL-PERSISTENCE-OFF", WARNING, DOCTOR, "persistence mode off on a multi-GPU Linux host"
        ),
        Kind(
            "EL-PYTHON-UNSUPPORTED",
            ERROR,
            DOCTOR,
            "Python version outside the installed torch's supported range",
        ),
        Kind("EL-SHM-SMALL", WARNING, DOCTOR, "/dev/shm too small in a container"),
        Kind(
            "EL-SHM-PERMISSION",
            ERROR,
            DOCTOR,
            "/dev/shm not writable by the user: NCCL cannot create its shared-memory segments",
        ),
        Kind(
            "EL-NVCC-ARCH-TOO-NEW",
            ERROR,
            DOCTOR,
            "the CUDA toolkit's nvcc is older than a GPU architecture an extension build asks for",
        ),
        Kind(
            "EL-EXT-GLIBC-TOO-OLD",
            ERROR,
            DOCTOR,
            "a compiled module needs a newer glibc than the system's (built on a newer OS)",
        ),
        Kind("EL-TORCH-CPU-ONLY", ERROR, DOCTOR, "CPU-only torch on a machine with NVIDIA GPUs"),
        Kind(
            "EL-TRITON-ARCH-UNSUPPORTED",
            ERROR,
            DOCTOR,
            "GPU below Triton's compute-capability floor: torch.compile's inductor refuses it",
        ),
        Kind(
            "EL-FP8-UNSUPPORTED",
            ERROR,
            DOCTOR,
            "fp8 e4m3 asked of a GPU below compute capability 8.9 (Triton refuses it)",
        ),
        Kind(
            "EL-TRITON-DRIVER-TOO-OLD",
            ERROR,
            DOCTOR,
            "NVIDIA driver too old for the kernels of Triton's bundled ptxas",
        ),
        Kind(
            "EL-TORCH-TWO-INSTALLS",
            ERROR,
            DOCTOR,
            "torch installed twice in one environment (conda's pytorch and pip's torch)",
        ),
        Kind(
            "EL-TORCH-MISSING", ERROR, DOCTOR, "torch is not installed in the checked interpreter"
        ),
        Kind(
            "EL-TORCH-CUDA-UNAVAILABLE",
            ERROR,
            DOCTOR,
            "torch cannot use CUDA although GPUs are present",
        ),
        Kind(
            "EL-UVM-MISSING",
            ERROR,
            DOCTOR,
            "/dev/nvidia-uvm missing although GPU device nodes exist",
        ),
        Kind(
            "EL-VISIBLE-DEVICES-INVALID",
            ERROR,
            DOCTOR,
            "CUDA_VISIBLE_DEVICES names devices that do not exist",
        ),
        Kind(
            "EL-WHEELS-MIXED-CUDA", ERROR, DOCTOR, "nvidia-* wheels built for different CUDA majors"
        ),
        Kind(
            "EL-GPU-COMPUTE-MODE",
            WARNING,
            DOCTOR,
            "GPU in an exclusive or prohibited compute mode",
        ),
        Kind("EL-VERIFY-DRIFT", ERROR, VERIFY, "a locked field has another value now"),
        Kind("EL-VERIFY-MISSING", ERROR, VERIFY, "a locked field is absent now"),
        Kind("EL-VERIFY-UNOBSERVED", ERROR, VERIFY, "a locked field could not be observed here"),
        Kind("EL-VERIFY-NOT-LOCKED", WARNING, VERIFY, "a field observed now is not in the lock"),
        Kind(
            "EL-VERIFY-DETERMINISM-SKIPPED",
            WARNING,
            VERIFY,
            "locked determinism digests were not recomputed",
        ),
        Kind("EL-LOCK-NEWER-MINOR", WARNING, VERIFY, "the lock was written by a newer envlock"),
        Kind(
            "EL-DET-MISMATCH",
            ERROR,
            DETERMINISM,
            "a digest differs though nothing it depends on changed",
        ),
        Kind(
            "EL-DET-TOLERANCE", WARNING, DETERMINISM, "an expected digest change beyond tolerance"
        ),
        Kind(
            "EL-DET-EXPECTED-DIFF", INFO, DETERMINISM, "a digest differs, as the context explains"
        ),
        Kind("EL-DET-CLASS-FAILED", ERROR, DETERMINISM, "a determinism class could not run"),
        Kind(
            "EL-DET-RUN-TO-RUN",
            ERROR,
            DETERMINISM,
            "two runs in one process gave different digests",
        ),
        Kind("EL-DET-PERTURBED", WARNING, DETERMINISM, "the negative-control perturbation is on"),
        Kind(
            "EL-DET-SUITE-VERSION",
            WARNING,
            DETERMINISM,
            "digests of another suite version: not compared",
        ),
        Kind("EL-DET-INCOMPARABLE", ERROR, DETERMINISM, "digests computed with another seed"),
        Kind("EL-FLEET-RANK-DRIFT", ERROR, FLEET, "ranks drifted from the lock"),
        Kind("EL-FLEET-DIVERGENT", ERROR, FLEET, "ranks or nodes disagree on a field"),
        Kind("EL-FLEET-NODE-UNREADABLE", ERROR, FLEET, "a node's facts file could not be read"),
        Kind(
            "EL-EXT-ARCH-UNSUPPORTED",
            ERROR,
            DOCTOR,
            "a CUDA extension carries no SASS or PTX that runs on this GPU",
        ),
        Kind(
            "EL-EXT-ARCH-PTX-ONLY",
            WARNING,
            DOCTOR,
            "a CUDA extension runs on this GPU only through PTX JIT compilation",
        ),
        Kind(
            "EL-EXT-TORCH-ABI",
            ERROR,
            DOCTOR,
            (
                "an extension needs torch symbols this torch does not export, another C++ ABI,"
                " or was built for another torch release"
            ),
        ),
        Kind(
            "EL-EXT-CUDA-MAJOR",
            ERROR,
            DOCTOR,
            "an extension links a CUDA runtime of another major than torch's",
        ),
        Kind(
            "EL-FAMILY-MISMATCH",
            ERROR,
            DOCTOR,
            "torchvision/torchaudio/triton or a package requiring torch does not match this torch",
        ),
        Kind("EL-FLEET-NODE-MISSING", ERROR, FLEET, "an expected node (--nodes) sent no facts"),
        Kind(
            "EL-FLEET-SMOKE-FAILED",
            ERROR,
            FLEET,
            "a rank failed or timed out in the --smoke all-reduce",
        ),
        Kind(
            "EL-NET-IFNAME-MISSING",
            ERROR,
            DOCTOR,
            "NCCL_SOCKET_IFNAME/GLOO_SOCKET_IFNAME names no interface of this node",
        ),
        Kind("EL-NET-IB-HCA-MISSING", ERROR, DOCTOR, "NCCL_IB_HCA names no usable RDMA device"),
        Kind(
            "EL-NET-NO-GPUDIRECT",
            WARNING,
            DOCTOR,
            "RDMA devices and GPUs, but no GPUDirect RDMA module (nvidia_peermem)",
        ),
        Kind(
            "EL-LOCK-UNRESTORABLE",
            INFO,
            VERIFY,
            "a locked distribution is an editable or local-path install: not restorable elsewhere",
        ),
    )
}


def ids(*sources: str) -> frozenset[str]:
    """The IDs reported by `sources` (every ID when none is given)."""
    return frozenset(k.id for k in KINDS.values() if not sources or k.source in sources)


def validate_ignore(ignore: Iterable[str], *sources: str) -> frozenset[str]:
    """--ignore values (repeatable, comma-separated) as IDs; an unknown one is a usage error."""
    wanted = frozenset(i.strip().upper() for arg in ignore for i in arg.split(",") if i.strip())
    unknown = sorted(wanted - ids(*sources))
    if unknown:
        elsewhere = [u for u in unknown if u in KINDS]
        hint = f" ({', '.join(elsewhere)}: reported by another command)" if elsewhere else ""
        raise UsageError(
            f"unknown finding ID(s) {', '.join(unknown)} for --ignore{hint} "
            "(`envlock doctor --list-checks` lists them all)"
        )
    return wanted

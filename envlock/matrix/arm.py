"""Which official builds exist for Linux aarch64 (Grace systems: GH200, GB200, GB10; a
probed aarch64 host): the doctor's roads and `envlock matrix` on Arm judge these only.

download.pytorch.org carries aarch64 CUDA wheels from torch 2.7's cu128 on ("pre-built
wheels for CUDA 12.8 across Linux x86 and arm64", the 2.7 release post); before it Arm's
torch wheels were CPU-only (pytorch#123835's GH200 with 2.2). They are server-Arm (SBSA)
builds: a Jetson's JetPack needs NVIDIA's own builds (JetPack wheels, l4t/NGC containers).
The matrix holds the x86_64 wheels' arch lists; an Arm build's is read as its variant's.
"""

from __future__ import annotations

from dataclasses import replace

from envlock.matrix.advice import Fit
from envlock.matrix.versions import Version

# the first release and CUDA with Linux aarch64 CUDA wheels on download.pytorch.org
ARM_CUDA = (Version((2, 7)), Version((12, 8)))
ARCH_LIST_CAVEAT = "aarch64 wheel (arch list as the x86_64 wheel's: check get_arch_list())"
JETSON_BUILDS = "the JetPack wheels for its JetPack release, or an l4t/NGC PyTorch container"
JETSON = (
    "a Jetson (Tegra) GPU: the official aarch64 wheels are built for server Arm (SBSA), "
    f"not JetPack; install NVIDIA's build for it ({JETSON_BUILDS}), then check "
    "torch.cuda.get_arch_list()"
)


# The machines PyPI and download.pytorch.org publish torch wheels for (every release's
# files: manylinux x86_64 and aarch64, win_amd64, macosx x86_64/arm64), as each OS names
# its machine. Elsewhere (riscv64, ppc64le, s390x, armv7l, i686) pip finds no torch at all.
WHEEL_MACHINES = frozenset({"x86_64", "amd64", "x64", "aarch64", "arm64"})


def jetson_kernel(kernel: str | None) -> bool:
    """A Jetson's L4T kernel ('5.15.148-tegra', platform 'Linux-5.10.120-tegra-aarch64-...'):
    its integrated GPU needs NVIDIA's JetPack builds, not the server-Arm wheels."""
    return "-tegra" in (kernel or "")


def no_torch_wheel(machine: str | None) -> bool:
    """No official torch wheel exists for this machine (None: not known, so not said)."""
    return machine is not None and machine.lower() not in WHEEL_MACHINES


def arm_wheel(f: Fit) -> bool:
    """download.pytorch.org has an aarch64 CUDA wheel of this build."""
    return f.variant.cuda >= ARM_CUDA[1] and f.release.release >= ARM_CUDA[0]


def no_arm_wheel(f: Fit) -> Fit:
    """A build with no aarch64 CUDA wheel runs nowhere on Arm, with any driver (the
    release stays in the list, so the nearest release is still measured from torch's)."""
    why = f"torch {f.release.release} {f.variant.name} has no aarch64 CUDA wheel"
    return replace(f, runs=False, problems=[*f.problems, why], driver_needed=None)


def for_arm(fits: list[Fit], *, caveat: bool = False) -> list[Fit]:
    """`fits` as they stand on an aarch64 machine; with `caveat`, each Arm build that runs
    says where its arch list comes from."""
    return [
        (replace(f, caveats=[*f.caveats, ARCH_LIST_CAVEAT]) if caveat and f.runs else f)
        if arm_wheel(f)
        else no_arm_wheel(f)
        for f in fits
    ]

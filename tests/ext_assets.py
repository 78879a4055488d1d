"""Real binaries for the extension tests: provisioned by .ci/provision-extensions.sh,
plus tiny CUDA extensions built here with the toolkit's nvcc (cached by source and flags).

- cuobjdump(): NVIDIA's cuobjdump from the nvidia-cuda-cuobjdump wheel (ground truth);
- torchvision_dir("0.29.1" | "0.28.0"): the wheel unpacked as pip lays it out;
- nvcc_extension(name): a shared object with exactly the GPU code NVCC_TARGETS names.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from tests.conftest import need

ASSETS = Path(
    os.environ.get(
        "ENVLOCK_TEST_EXT_ASSETS", Path.home() / ".cache" / "envlock-test" / "extensions14"
    )
)
TORCHVISION = {"0.29.1": "tv", "0.28.0": "tv28"}

KERNEL = r"""
__global__ void envlock_add(float *x, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] += 1.0f;
}
extern "C" int envlock_launch(float *x, int n) {
    envlock_add<<<(n + 255) / 256, 256>>>(x, n);
    return 0;
}
"""
# name -> nvcc -gencode flags, and the SASS/PTX targets the reader must report
NVCC_TARGETS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "sm80": (["-gencode", "arch=compute_80,code=sm_80"], ["sm_80"], []),
    "sm90-ptx90": (
        ["-gencode", "arch=compute_90,code=sm_90", "-gencode", "arch=compute_90,code=compute_90"],
        ["sm_90"],
        ["compute_90"],
    ),
    "ptx80": (["-gencode", "arch=compute_80,code=compute_80"], [], ["compute_80"]),
}


def cuobjdump() -> Path:
    found = sorted(ASSETS.glob("cuobjdump/nvidia/*/bin/cuobjdump"))
    need(bool(found), f"cuobjdump is not provisioned under {ASSETS} (.ci/provision-extensions.sh)")
    return found[0]


def torchvision_dir(version: str) -> Path:
    d = ASSETS / TORCHVISION[version]
    need((d / ".complete").exists(), f"torchvision {version} is not unpacked under {ASSETS}")
    return d


def nvcc() -> str:
    found = shutil.which("nvcc") or (
        "/usr/local/cuda/bin/nvcc" if Path("/usr/local/cuda/bin/nvcc").exists() else None
    )
    need(found is not None, "the CUDA toolkit's nvcc is not installed")
    assert found is not None
    return found


def nvcc_extension(name: str) -> Path:
    """The shared object for NVCC_TARGETS[name], built once per source and flags."""
    flags = NVCC_TARGETS[name][0]
    compiler = nvcc()
    key = hashlib.sha256(("\0".join([KERNEL, compiler, *flags])).encode()).hexdigest()[:16]
    out = ASSETS / "nvcc" / f"{name}-{key}.so"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    src = out.with_suffix(".cu")
    src.write_text(KERNEL)
    tmp = out.with_suffix(".tmp.so")
    cmd = [compiler, "-shared", "-Xcompiler", "-fPIC", "--cudart", "shared", *flags]
    subprocess.run([*cmd, "-o", str(tmp), str(src)], check=True, capture_output=True, timeout=300)
    tmp.replace(out)
    return out


def cuobjdump_targets(path: Path) -> tuple[list[str], list[str]]:
    """(SASS, PTX) entries as cuobjdump lists them, in envlock's spelling (a PTX entry
    cuobjdump names "x.sm_90.ptx" is compute_90), cached by path, size and mtime."""
    st = path.stat()
    key = hashlib.sha256(f"{path}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:24]
    cache = ASSETS / "cuobjdump-cache" / f"{key}.txt"
    if not cache.exists():
        lines: list[str] = []
        for flag in ("--list-elf", "--list-ptx"):
            proc = subprocess.run(
                [str(cuobjdump()), flag, str(path)],
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            assert proc.returncode == 0, proc.stderr
            lines += [f"{flag} {line}" for line in proc.stdout.splitlines() if line.strip()]
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.with_suffix(".tmp").write_text("\n".join(lines) + "\n")
        cache.with_suffix(".tmp").replace(cache)
    sass: list[str] = []
    ptx: list[str] = []
    for line in cache.read_text().splitlines():
        if not line.strip():
            continue
        flag, _, rest = line.partition(" ")
        arch = rest.rsplit(".", 2)[-2]  # "ELF file 1: x.3.sm_75.cubin" -> "sm_75"
        if flag == "--list-elf":
            sass.append(arch)
        else:
            ptx.append("compute_" + arch.removeprefix("sm_"))
    return sass, ptx

"""Every check fires on a case built for it and stays quiet on one that is not.

Bases are the recorded venv facts, or the H100 host built from them with a
replayed NVML recording and named edits (see tests/facts_builders.py); each
case edits only the fields it names, and only a case run on a recording itself
says "as recorded". A meta-test makes sure every registered check has both
kinds of case.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from envlock.checks import CHECKS, run_checks
from envlock.errors import UsageError
from envlock.facts import (
    ContainerFacts,
    Facts,
    ImageFacts,
    LibcudaFacts,
    LibDirFacts,
    LoadedLibFacts,
    PciGpuFacts,
    WheelFacts,
)
from envlock.findings import Finding, Severity
from tests.conftest import load_fixture_json
from tests.facts_builders import RECORDINGS, cpu_venv, cuda_venv, edit, gpu, h100_host, with_gpus

DATA = Path(__file__).parent / "data"
VLLM_ENV = json.loads((DATA / "image-env.vllm-openai-v0.8.5.json").read_text())["env"]


@dataclass(frozen=True)
class Case:
    check_id: str
    name: str  # what was edited, relative to the base recording
    build: Callable[[], Facts]
    fires: bool
    severity: Severity | None = None
    expect: tuple[str, ...] = ()
    host: Callable[[], Facts] | None = None
    says: str | None = None  # a substring the message must contain


def _live(f: Facts, **changes: object) -> Facts:
    assert f.torch.live is not None
    return edit(f, "torch.live", dataclasses.replace(f.torch.live, **changes))  # type: ignore[arg-type]


def _env(f: Facts, **variables: str) -> Facts:
    return edit(f, "env.variables", {**f.env.variables, **variables})


def _torch(f: Facts, version: str, cuda: str | None) -> Facts:
    build = "cu" + cuda.replace(".", "") if cuda else "cpu"
    return edit(f, "torch", dataclasses.replace(f.torch, version=version, cuda=cuda, build=build))


def _v100(f: Facts) -> Facts:
    return with_gpus(f, gpu(f, name="Tesla V100-SXM2-16GB", compute_capability="7.0"))


def _two_gpus(f: Facts, **second: object) -> Facts:
    return with_gpus(f, gpu(f), gpu(f, index=1, pci_bus_id="0000:43:00.0", **second))


def _in_container(f: Facts) -> Facts:
    return edit(f, "system.container", ContainerFacts(detected=True, runtime="docker"))


def _host(f: Facts) -> Facts:
    return edit(f, "system.container", ContainerFacts(detected=False))


UP_TO_SM86 = ["sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86"]
SYSTEM_CUDNN = "/usr/lib/x86_64-linux-gnu/libcudnn.so.9.13.1"
CUDA12_LIBS = LibDirFacts(
    path="/usr/local/cuda-12.4/lib64",
    libraries=["libcublas.so.12", "libcusparse.so.12", "libnvJitLink.so.12"],
)
NCCL_CU12 = WheelFacts(name="nvidia-nccl-cu12", version="2.21.5", cuda_major=12)
CUDART_CU12 = WheelFacts(
    name="nvidia-cuda-runtime-cu12",
    version="12.8.90",
    cuda_major=12,
    required_by=["cupy-cuda12x"],
)
COMPAT_LIBCUDA = LibcudaFacts(
    path="/usr/local/cuda-13.0/compat/libcuda.so.580.65.06", driver_version="13.0", compat=True
)


def _loaded_from_cuda12(f: Facts) -> Facts:
    """LD_LIBRARY_PATH = CUDA12_LIBS, and torch's libnvJitLink loaded from it."""
    assert f.torch.live is not None
    libs = [
        LoadedLibFacts(name=lib.name, path=CUDA12_LIBS.path + "/libnvJitLink.so.12")
        if lib.name.startswith("libnvJitLink")
        else lib
        for lib in f.torch.live.loaded_libraries
    ]
    return _live(edit(f, "cuda.ld_library_path", [CUDA12_LIBS]), loaded_libraries=libs)


def _loaded_cudnn(f: Facts, path: str, version: str | None) -> Facts:
    assert f.torch.live is not None
    libs = [lib for lib in f.torch.live.loaded_libraries if not lib.name.startswith("libcudnn")]
    libs.append(LoadedLibFacts(name=path.rsplit("/", 1)[-1], path=path))
    return _live(f, loaded_libraries=libs, cudnn_version=version)


def _python_image() -> Facts:
    return Facts.from_dict(load_fixture_json("facts.image-python-by-digest.json"))


def _image(f: Facts, env: dict[str, str]) -> Facts:
    return edit(f, "image", ImageFacts(reference="vllm/vllm-openai:v0.8.5", env=env))


def _driver(f: Facts, version: str, cuda: str) -> Facts:
    f = edit(f, "driver.version", version)
    f = edit(f, "driver.nvml_library_version", version)
    f = edit(f, "driver.kernel_module_version", version)
    return edit(f, "driver.cuda_version", cuda)


CASES = [
    # 1: arch coverage under the real binary-compatibility rule
    Case("EL-ARCH-UNSUPPORTED", "h100 host as built (sm_90 in torch's flags)", h100_host, False),
    Case(
        "EL-ARCH-UNSUPPORTED",
        "h100, torch flags edited to sm_50..sm_86 without PTX",
        lambda: _live(h100_host(), arch_flags=UP_TO_SM86),
        True,
        Severity.ERROR,
        says="9.0",
    ),
    Case(
        "EL-ARCH-UNSUPPORTED",
        "gpu edited to RTX 4090 (8.9), flags edited to ..sm_86",
        lambda: _live(
            with_gpus(
                h100_host(),
                gpu(h100_host(), name="NVIDIA GeForce RTX 4090", compute_capability="8.9"),
            ),
            arch_flags=UP_TO_SM86,
        ),
        False,
    ),
    Case(
        "EL-ARCH-UNSUPPORTED",
        "gpu edited to V100 (7.0) on the recorded cu130 flags",
        lambda: _v100(h100_host()),
        True,
        Severity.ERROR,
        says="7.0",
    ),
    Case(
        "EL-ARCH-UNSUPPORTED",
        "torch edited to 2.0.1+cu117, no live facts: matrix arch list",
        lambda: edit(_torch(h100_host(), "2.0.1+cu117", "11.7"), "torch.live", None),
        True,
        Severity.ERROR,
        says="2.0.1",
    ),
    Case("EL-ARCH-PTX-ONLY", "h100 host as built", h100_host, False),
    Case(
        "EL-ARCH-PTX-ONLY",
        "flags edited to sm_80 sm_86 compute_86",
        lambda: _live(h100_host(), arch_flags=["sm_80", "sm_86", "compute_86"]),
        True,
        Severity.WARNING,
        says="compute_86",
    ),
    # 2: driver vs torch's CUDA
    Case("EL-DRIVER-TOO-OLD", "h100 host as built (580.65.06, torch cu130)", h100_host, False),
    Case(
        "EL-DRIVER-TOO-OLD",
        "driver edited to 570.133.20 / CUDA 12.8",
        lambda: _driver(h100_host(), "570.133.20", "12.8"),
        True,
        Severity.ERROR,
        says="580.65.06",
    ),
    Case(
        "EL-DRIVER-TOO-OLD",
        "driver version unknown, NVML CUDA edited to 12.8",
        lambda: edit(
            edit(_driver(h100_host(), "x", "12.8"), "driver.version", None),
            "driver.kernel_module_version",
            None,
        ),
        True,
        Severity.ERROR,
        says=">= 580.65.06",  # the driver to install still comes from the matrix
    ),
    Case(
        "EL-DRIVER-TOO-OLD",
        "torch edited to a CUDA 14.0 build the matrix does not know; driver CUDA 13.0",
        lambda: _torch(h100_host(), "2.14.1+cu140", "14.0"),
        True,
        Severity.ERROR,
        says="the matrix does not know CUDA 14.0",
    ),
    Case(
        "EL-DRIVER-TOO-OLD",
        "driver 570 but a cuda-compat 13.0 libcuda loaded",
        lambda: edit(_driver(h100_host(), "570.133.20", "12.8"), "cuda.libcuda", COMPAT_LIBCUDA),
        False,
    ),
    Case("EL-DRIVER-MINOR-COMPAT", "h100 host as built", h100_host, False),
    Case(
        "EL-DRIVER-MINOR-COMPAT",
        "torch edited to 2.14.1+cu132 (needs 595.45.04) on 580: torch alone, SASS for the H100",
        lambda: _torch(h100_host(), "2.14.1+cu132", "13.2"),
        True,
        Severity.INFO,
        says="minor-version compatibility",
    ),
    Case(
        "EL-DRIVER-MINOR-COMPAT",
        "the same with vLLM installed (kernels of its own toolchain)",
        lambda: edit(
            _torch(h100_host(), "2.14.1+cu132", "13.2"),
            "packages.distributions",
            {**h100_host().packages.distributions, "vllm": "0.19.0"},
        ),
        True,
        Severity.WARNING,
        says="vllm 0.19.0 ship kernels",
    ),
    Case(
        "EL-DRIVER-MINOR-COMPAT",
        "torch cu132 on a 570 driver: too old, not minor compat",
        lambda: _torch(_driver(h100_host(), "570.133.20", "12.8"), "2.14.1+cu132", "13.2"),
        False,
    ),
    # 3: CPU-only torch on a GPU machine
    Case("EL-TORCH-CPU-ONLY", "cpu venv as recorded (no GPU)", cpu_venv, False),
    Case(
        "EL-TORCH-CPU-ONLY",
        "h100 with the torch section of the CPU venv recording",
        lambda: edit(h100_host(), "torch", cpu_venv().torch),
        True,
        Severity.ERROR,
        says="CPU-only",
    ),
    # 4: container without GPU devices
    Case(
        "EL-CONTAINER-NO-GPU",
        "cuda venv as recorded (Docker, no /dev/nvidia*)",
        cuda_venv,
        True,
        Severity.ERROR,
        says="CUDA 13.0 build",
    ),
    Case("EL-CONTAINER-NO-GPU", "cpu venv as recorded (Docker, CPU torch)", cpu_venv, False),
    Case(
        "EL-CONTAINER-NO-GPU",
        "h100 edited into a container (device nodes present)",
        lambda: _in_container(h100_host()),
        False,
    ),
    Case(
        "EL-CONTAINER-NO-GPU",
        "cpu venv + image with GPUs requested (edited in)",
        lambda: edit(
            cpu_venv(),
            "image",
            ImageFacts(reference="nvidia/cuda:12.4.1-base-ubuntu22.04", gpus_requested="all"),
        ),
        True,
        Severity.ERROR,
        says="requested",
    ),
    Case(
        "EL-CONTAINER-NO-GPU",
        "... and the request failed: EL-GPU-REQUEST-FAILED says so",
        lambda: edit(
            cpu_venv(),
            "image",
            ImageFacts(
                reference="nvidia/cuda:12.4.1-base-ubuntu22.04",
                gpus_requested="all",
                gpu_request_error='could not select device driver "" with capabilities: [[gpu]]',
            ),
        ),
        False,
    ),
    # 5: NVIDIA_REQUIRE_CUDA of an image (recorded vllm-openai env) vs the host driver
    Case(
        "EL-IMAGE-REQUIRE-CUDA",
        "vllm image env, host h100 driver 580 (CUDA 13.0)",
        lambda: _image(cuda_venv(), VLLM_ENV),
        False,
        host=h100_host,
    ),
    Case(
        "EL-IMAGE-REQUIRE-CUDA",
        "vllm image env, host driver edited to 530.30.02 / 12.1",
        lambda: _image(cuda_venv(), VLLM_ENV),
        True,
        Severity.ERROR,
        host=lambda: _driver(h100_host(), "530.30.02", "12.1"),
        says="cuda>=12.4",
    ),
    Case(
        "EL-IMAGE-REQUIRE-CUDA",
        "host driver 535.104.05 / 12.2, brand edited to nvidia: "
        "the image's brand=nvidia,driver>=535 clause admits it (cuda-compat)",
        lambda: _image(cuda_venv(), VLLM_ENV),
        False,
        host=lambda: with_gpus(
            _driver(h100_host(), "535.104.05", "12.2"), gpu(h100_host(), brand="nvidia")
        ),
    ),
    Case(
        "EL-IMAGE-REQUIRE-CUDA",
        "as the failing case but NVIDIA_DISABLE_REQUIRE=1",
        lambda: _image(cuda_venv(), {**VLLM_ENV, "NVIDIA_DISABLE_REQUIRE": "1"}),
        False,
        host=lambda: _driver(h100_host(), "530.30.02", "12.1"),
    ),
    # 6: forward compatibility on unsupported hardware
    Case(
        "EL-FORWARD-COMPAT-UNSUPPORTED",
        "compat libcuda, GPU brand edited to nvidia (H100)",
        lambda: edit(
            with_gpus(h100_host(), gpu(h100_host(), brand="nvidia")), "cuda.libcuda", COMPAT_LIBCUDA
        ),
        False,
    ),
    Case(
        "EL-FORWARD-COMPAT-UNSUPPORTED",
        "compat libcuda, GPU edited to a GeForce RTX 4090",
        lambda: edit(
            with_gpus(
                h100_host(),
                gpu(
                    h100_host(),
                    name="NVIDIA GeForce RTX 4090",
                    compute_capability="8.9",
                    brand="geforce_rtx",
                ),
            ),
            "cuda.libcuda",
            COMPAT_LIBCUDA,
        ),
        True,
        Severity.ERROR,
        says="804",
    ),
    # 7: kernel module vs NVML library
    Case("EL-DRIVER-LIBRARY-MISMATCH", "h100 host as built", h100_host, False),
    Case(
        "EL-DRIVER-LIBRARY-MISMATCH",
        "kernel module edited to 570.133.20",
        lambda: edit(h100_host(), "driver.kernel_module_version", "570.133.20"),
        True,
        Severity.ERROR,
        says="570.133.20",
    ),
    Case(
        "EL-DRIVER-LIBRARY-MISMATCH",
        "nvml_error edited to LIB_RM_VERSION_MISMATCH",
        lambda: edit(h100_host(), "driver.nvml_error", "NVML_ERROR_LIB_RM_VERSION_MISMATCH"),
        True,
        Severity.ERROR,
    ),
    # 8, 10: cuDNN
    Case(
        "EL-CUDNN-INCOMPATIBLE",
        "cuda venv as recorded (9.24.0 loaded, 9.24 built)",
        cuda_venv,
        False,
    ),
    Case(
        "EL-CUDNN-INCOMPATIBLE",
        "loaded cuDNN edited to 9.13.1",
        lambda: _live(cuda_venv(), cudnn_version="9.13.1"),
        True,
        Severity.ERROR,
        says="9.13.1",
    ),
    Case(
        "EL-CUDNN-INCOMPATIBLE",
        "cudnn version unreadable, system libcudnn.so.9.13.1 loaded",
        lambda: _loaded_cudnn(cuda_venv(), SYSTEM_CUDNN, None),
        True,
        Severity.ERROR,
    ),
    Case("EL-CUDNN-SHADOWED", "cuda venv as recorded (wheel's libcudnn loaded)", cuda_venv, False),
    Case(
        "EL-CUDNN-SHADOWED",
        "libcudnn path edited to /usr/lib/x86_64-linux-gnu (9.24.0)",
        lambda: _loaded_cudnn(
            cuda_venv(), "/usr/lib/x86_64-linux-gnu/libcudnn.so.9.24.0", "9.24.0"
        ),
        True,
        Severity.WARNING,
        says="/usr/lib",
    ),
    Case("EL-CUDNN-GPU-UNSUPPORTED", "h100 host as built", h100_host, False),
    Case(
        # the build keeps sm_70 kernels (a V100 without kernels is EL-ARCH-UNSUPPORTED's,
        # which says the cuDNN side too: one cause, one finding)
        "EL-CUDNN-GPU-UNSUPPORTED",
        "gpu edited to V100 (7.0), arch flags to sm_70 and up: cuDNN 9.24 needs 7.5",
        lambda: _live(_v100(h100_host()), arch_flags=["sm_70", "sm_80", "sm_90"]),
        True,
        Severity.ERROR,
        says="7.5",
    ),
    Case(
        "EL-LD-LIBRARY-PATH-SHADOW",
        "cuda venv as recorded (LD_LIBRARY_PATH empty)",
        cuda_venv,
        False,
    ),
    Case(
        "EL-LD-LIBRARY-PATH-SHADOW",
        "LD_LIBRARY_PATH edited to a CUDA 12.4 lib64; torch loaded all from its wheels",
        lambda: edit(cuda_venv(), "cuda.ld_library_path", [CUDA12_LIBS]),
        True,
        Severity.INFO,
        says="harmless for torch",
    ),
    Case(
        "EL-LD-LIBRARY-PATH-SHADOW",
        "LD_LIBRARY_PATH edited to a CUDA 12.4 lib64, libnvJitLink loaded from there",
        lambda: _loaded_from_cuda12(cuda_venv()),
        True,
        Severity.WARNING,
        says="/usr/local/cuda-12.4/lib64/libnvJitLink.so.12",
    ),
    Case(
        "EL-LD-LIBRARY-PATH-SHADOW",
        "LD_LIBRARY_PATH edited to a CUDA 12.4 lib64, torch live facts removed",
        lambda: edit(edit(cuda_venv(), "cuda.ld_library_path", [CUDA12_LIBS]), "torch.live", None),
        True,
        Severity.WARNING,
        says="search path and torch's live facts are unknown",
    ),
    Case(
        "EL-LD-LIBRARY-PATH-SHADOW",
        "CUDA 12.4 lib64 on LD_LIBRARY_PATH, no live facts, libtorch_cuda.so edited to RUNPATH",
        lambda: edit(
            edit(edit(cuda_venv(), "cuda.ld_library_path", [CUDA12_LIBS]), "torch.live", None),
            "torch.lib_search_path",
            "runpath",
        ),
        True,
        Severity.WARNING,
        says="DT_RUNPATH, searched after LD_LIBRARY_PATH",
    ),
    Case(
        "EL-LD-LIBRARY-PATH-SHADOW",
        "CUDA 12.4 lib64 on LD_LIBRARY_PATH, no live facts, libtorch_cuda.so with DT_RPATH "
        "(as the real 2.14.1+cu130 wheel)",
        lambda: edit(
            edit(edit(cuda_venv(), "cuda.ld_library_path", [CUDA12_LIBS]), "torch.live", None),
            "torch.lib_search_path",
            "rpath",
        ),
        True,
        Severity.INFO,
        says="searches before LD_LIBRARY_PATH",
    ),
    Case(
        "EL-LD-LIBRARY-PATH-SHADOW",
        "same LD_LIBRARY_PATH edit on the CPU venv",
        lambda: edit(cpu_venv(), "cuda.ld_library_path", [CUDA12_LIBS]),
        False,
    ),
    # 11: wheels of several CUDA majors, two NCCLs
    Case("EL-WHEELS-MIXED-CUDA", "cuda venv as recorded (all CUDA 13)", cuda_venv, False),
    Case(
        "EL-WHEELS-MIXED-CUDA",
        "nvidia-nccl-cu12 2.21.5 added",
        lambda: edit(cuda_venv(), "cuda.wheels", [*cuda_venv().cuda.wheels, NCCL_CU12]),
        True,
        Severity.ERROR,
        says="nvidia-nccl-cu12",
    ),
    Case(
        "EL-WHEELS-MIXED-CUDA",
        "nvidia-cuda-runtime-cu12 added, required by cupy-cuda12x: other sonames, torch "
        "does not load them",
        lambda: edit(cuda_venv(), "cuda.wheels", [*cuda_venv().cuda.wheels, CUDART_CU12]),
        True,
        Severity.INFO,
        says="torch does not load them (nvidia-cuda-runtime-cu12 required by cupy-cuda12x)",
    ),
    Case("EL-NCCL-MULTIPLE", "cuda venv as recorded", cuda_venv, False),
    Case(
        "EL-NCCL-MULTIPLE",
        "nvidia-nccl-cu12 2.21.5 added",
        lambda: edit(cuda_venv(), "cuda.wheels", [*cuda_venv().cuda.wheels, NCCL_CU12]),
        True,
        Severity.ERROR,
    ),
    Case(
        "EL-NCCL-MULTIPLE",
        "torch's NCCL edited to 2.21.5 (wheel is 2.30.7)",
        lambda: _live(cuda_venv(), nccl_version="2.21.5"),
        True,
        Severity.ERROR,
        says="2.21.5",
    ),
    # 12: nvcc
    Case("EL-NVCC-MISMATCH", "cuda venv as recorded (nvcc 13.0.88, torch 13.0)", cuda_venv, False),
    Case("EL-NVCC-MISMATCH", "cpu venv as recorded (nvcc 13.0.88, CPU torch)", cpu_venv, False),
    Case(
        "EL-NVCC-MISMATCH",
        # a note where nothing is built from source here (a warning where something is:
        # tests/checks/test_nvcc_on_a_healthy_machine.py)
        "nvcc edited to 12.4.131",
        lambda: edit(cuda_venv(), "cuda.toolkit.nvcc_version", "12.4.131"),
        True,
        Severity.INFO,
        says="12.4.131",
    ),
    # 13, 14: /dev/shm
    Case("EL-SHM-SMALL", "cuda venv as recorded (container, 25 GB shm)", cuda_venv, False),
    Case(
        "EL-SHM-SMALL",
        "container shm edited to Docker's default 64 MiB",
        lambda: edit(cuda_venv(), "system.shm_total_bytes", 64 << 20),
        True,
        Severity.WARNING,
        says="64 MiB",
    ),
    Case(
        "EL-SHM-SMALL",
        "64 MiB shm on a host (not a container)",
        lambda: edit(h100_host(), "system.shm_total_bytes", 64 << 20),
        False,
    ),
    # 15: nvidia_uvm
    Case("EL-UVM-MISSING", "h100 host as built (device nodes edited in)", h100_host, False),
    Case(
        "EL-UVM-MISSING",
        "/dev/nvidia-uvm removed from device nodes",
        lambda: edit(h100_host(), "driver.device_nodes", ["/dev/nvidia0", "/dev/nvidiactl"]),
        True,
        Severity.ERROR,
    ),
    # 16: CUDA_VISIBLE_DEVICES
    Case(
        "EL-VISIBLE-DEVICES-INVALID",
        "CUDA_VISIBLE_DEVICES=0 on the one H100",
        lambda: _env(h100_host(), CUDA_VISIBLE_DEVICES="0"),
        False,
    ),
    Case(
        "EL-VISIBLE-DEVICES-INVALID",
        "CUDA_VISIBLE_DEVICES=1 on the one H100",
        lambda: _env(h100_host(), CUDA_VISIBLE_DEVICES="1"),
        True,
        Severity.ERROR,
        says="index 1",
    ),
    Case(
        "EL-VISIBLE-DEVICES-INVALID",
        "CUDA_VISIBLE_DEVICES empty",
        lambda: _env(h100_host(), CUDA_VISIBLE_DEVICES=""),
        True,
        Severity.ERROR,
    ),
    Case(
        "EL-VISIBLE-DEVICES-INVALID",
        "a UUID no GPU has (uuid edited in)",
        lambda: _env(
            with_gpus(h100_host(), gpu(h100_host(), uuid="GPU-1111aaaa")),
            CUDA_VISIBLE_DEVICES="GPU-2222bbbb",
        ),
        True,
        Severity.ERROR,
    ),
    Case(
        "EL-VISIBLE-DEVICES-INVALID",
        "a UUID prefix of the GPU's (uuid edited in)",
        lambda: _env(
            with_gpus(h100_host(), gpu(h100_host(), uuid="GPU-1111aaaa")),
            CUDA_VISIBLE_DEVICES="GPU-1111",
        ),
        False,
    ),
    # 17: determinism settings
    Case(
        "EL-DETERMINISM-INCOMPLETE",
        "torch 2.14 expecting determinism (no variable needed)",
        cuda_venv,
        False,
        expect=("deterministic",),
    ),
    Case(
        "EL-DETERMINISM-INCOMPLETE",
        "torch edited to 2.9.1+cu128, determinism expected",
        lambda: _torch(cuda_venv(), "2.9.1+cu128", "12.8"),
        True,
        Severity.WARNING,
        expect=("deterministic",),
        says="CUBLAS_WORKSPACE_CONFIG",
    ),
    Case(
        "EL-DETERMINISM-INCOMPLETE",
        "torch 2.9.1 with CUBLAS_WORKSPACE_CONFIG=:4096:8",
        lambda: _env(_torch(cuda_venv(), "2.9.1+cu128", "12.8"), CUBLAS_WORKSPACE_CONFIG=":4096:8"),
        False,
        expect=("deterministic",),
    ),
    Case(
        "EL-DETERMINISM-INCOMPLETE",
        "torch 2.9.1, determinism not expected",
        lambda: _torch(cuda_venv(), "2.9.1+cu128", "12.8"),
        False,
    ),
    Case(
        "EL-DETERMINISM-INCOMPLETE",
        "malformed CUBLAS_WORKSPACE_CONFIG=4096:8",
        lambda: _env(cuda_venv(), CUBLAS_WORKSPACE_CONFIG="4096:8"),
        True,
        Severity.WARNING,
    ),
    # 19: persistence mode (the recording has it off)
    Case("EL-PERSISTENCE-OFF", "one H100 host as built (persistence off)", h100_host, False),
    Case(
        "EL-PERSISTENCE-OFF",
        "a second identical H100 added",
        lambda: _two_gpus(h100_host()),
        True,
        Severity.WARNING,
    ),
    Case(
        "EL-PERSISTENCE-OFF",
        "two H100s, persistence edited on",
        lambda: with_gpus(
            h100_host(),
            gpu(h100_host(), persistence_mode=True),
            gpu(h100_host(), index=1, persistence_mode=True),
        ),
        False,
    ),
    # 20: nouveau
    Case(
        "EL-NOUVEAU-BOUND",
        "pci gpu edited in, bound to nvidia",
        lambda: edit(
            h100_host(), "driver.pci_gpus", [PciGpuFacts(bus_id="0000:42:00.0", driver="nvidia")]
        ),
        False,
    ),
    Case(
        "EL-NOUVEAU-BOUND",
        "pci gpu edited in, bound to nouveau",
        lambda: edit(
            h100_host(), "driver.pci_gpus", [PciGpuFacts(bus_id="0000:42:00.0", driver="nouveau")]
        ),
        True,
        Severity.ERROR,
    ),
    # 21: bf16
    Case("EL-BF16-UNSUPPORTED", "h100 expecting bf16", h100_host, False, expect=("bf16",)),
    Case(
        "EL-BF16-UNSUPPORTED",
        "V100 expecting bf16 (--expect)",
        lambda: _v100(h100_host()),
        True,
        Severity.ERROR,
        expect=("bf16",),
    ),
    Case(
        "EL-BF16-UNSUPPORTED",
        "V100, ACCELERATE_MIXED_PRECISION=bf16",
        lambda: _env(_v100(h100_host()), ACCELERATE_MIXED_PRECISION="bf16"),
        True,
        Severity.ERROR,
    ),
    Case(
        "EL-BF16-UNSUPPORTED",
        "V100, bf16 not expected: a note only",
        lambda: _v100(h100_host()),
        True,
        Severity.INFO,
    ),
    # Python range
    Case("EL-PYTHON-UNSUPPORTED", "cuda venv as recorded (3.11.7, torch 2.14)", cuda_venv, False),
    # torch not installed (python:bookworm image probe, recorded: no torch)
    Case("EL-TORCH-MISSING", "cpu venv as recorded", cpu_venv, False),
    Case(
        "EL-TORCH-MISSING",
        "python image as recorded (no torch)",
        _python_image,
        True,
        Severity.ERROR,
        says="torch is not installed for /usr/bin/python3 (Python 3.11.2)",
    ),
    Case(
        "EL-TORCH-MISSING",
        "python image, marked partial (a fallback that could not look for torch)",
        lambda: edit(_python_image(), "meta.partial", True),
        False,
    ),
    Case(
        "EL-PYTHON-UNSUPPORTED",
        "python edited to 3.9.18",
        lambda: edit(cuda_venv(), "system.python.version", "3.9.18"),
        True,
        Severity.ERROR,
        says="3.10-3.14",
    ),
    # mixed GPU models
    Case("EL-GPU-MIXED-MODELS", "two H100s", lambda: _two_gpus(h100_host()), False),
    Case(
        "EL-GPU-MIXED-MODELS",
        "second GPU edited to A100 (8.0)",
        lambda: _two_gpus(h100_host(), name="NVIDIA A100-SXM4-80GB", compute_capability="8.0"),
        True,
        Severity.WARNING,
        says="A100",
    ),
    # torch sees no CUDA although NVML sees GPUs
    Case("EL-TORCH-CUDA-UNAVAILABLE", "h100 host as built", h100_host, False),
    Case(
        "EL-TORCH-CUDA-UNAVAILABLE",
        "torch's recorded live view (no driver) on the h100",
        lambda: edit(h100_host(), "torch", cuda_venv().torch),
        True,
        Severity.ERROR,
        says="Found no NVIDIA driver",
    ),
    # CUDA torch on a host without a driver
    Case(
        "EL-NO-DRIVER",
        "cuda venv edited to a host (not a container)",
        lambda: _host(cuda_venv()),
        True,
        Severity.WARNING,
        says="13.0",
    ),
    Case("EL-NO-DRIVER", "cpu venv edited to a host", lambda: _host(cpu_venv()), False),
    Case("EL-NO-DRIVER", "h100 host as built", h100_host, False),
    # unobserved sources
    Case(
        "EL-FACTS-UNAVAILABLE",
        "cpu venv as recorded (no NVML)",
        cpu_venv,
        True,
        Severity.INFO,
        says="libnvidia-ml.so.1",
    ),
    Case("EL-FACTS-UNAVAILABLE", "h100 host as built", h100_host, False),
    # compute mode (NVML nvmlDeviceGetComputeMode; the recording has none: not observed)
    Case("EL-GPU-COMPUTE-MODE", "h100 host as built", h100_host, False),
    Case(
        "EL-GPU-COMPUTE-MODE",
        "h100 compute mode edited to default",
        lambda: with_gpus(h100_host(), gpu(h100_host(), compute_mode="default")),
        False,
    ),
    Case(
        "EL-GPU-COMPUTE-MODE",
        "h100 compute mode edited to exclusive_process",
        lambda: with_gpus(h100_host(), gpu(h100_host(), compute_mode="exclusive_process")),
        True,
        Severity.WARNING,
        says="busy or unavailable",
    ),
    Case(
        "EL-GPU-COMPUTE-MODE",
        "h100 compute mode edited to prohibited",
        lambda: with_gpus(h100_host(), gpu(h100_host(), compute_mode="prohibited")),
        True,
        Severity.ERROR,
    ),
]


def _findings(case: Case) -> list[Finding]:
    host = case.host() if case.host else None
    return [
        f
        for f in run_checks(case.build(), host=host, expect=case.expect)
        if f.check_id == case.check_id
    ]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.check_id}:{c.name}")
def test_check(case: Case) -> None:
    found = _findings(case)
    if not case.fires:
        assert found == [], f"{case.check_id} fired: {found[0].message if found else ''}"
        return
    assert len(found) >= 1
    finding = found[0]
    if case.severity is not None:
        assert finding.severity is case.severity
    if case.says is not None:
        assert case.says in finding.message
    assert finding.evidence, "a finding names the facts it used"
    if finding.severity is not Severity.INFO:
        assert finding.fix, "an error or warning says what to change"


# Image checks written with the container probe are tested beside it.
TESTED_ELSEWHERE = {
    # real collect_env reports and real facts, fires and quiet (matrix/triton.toml)
    "EL-TRITON-DRIVER-TOO-OLD": "tests/checks/test_triton_driver.py",
    # Triton's GPU floors on the refusals' own words in real pastes, fires and quiet (issue 21)
    "EL-TRITON-ARCH-UNSUPPORTED": "tests/checks/test_triton_arch.py",
    "EL-FP8-UNSUPPORTED": "tests/checks/test_triton_arch.py",
    # torch's runtime compiler (NVRTC) on real pastes: pytorch-48200, vllm-3771 (issue 21)
    "EL-ARCH-NVRTC-UNSUPPORTED": "tests/checks/test_nvrtc.py",
    "EL-IMAGE-LATEST-TAG": "tests/container/test_container_unit.py",
    "EL-IMAGE-NO-DIGEST": "tests/container/test_container_unit.py",
    "EL-IMAGE-ROOT-USER": "tests/container/test_container_unit.py",
    "EL-GPU-REQUEST-FAILED": "tests/container/test_container_unit.py",
    "EL-IMAGE-PARTIAL-PROBE": "tests/container/test_container_unit.py",
    # extension and family checks read real binaries and wheels (issue 14)
    "EL-EXT-ARCH-UNSUPPORTED": "tests/checks/test_extensions.py",
    "EL-EXT-ARCH-PTX-ONLY": "tests/checks/test_extensions.py",
    "EL-EXT-TORCH-ABI": "tests/checks/test_extensions.py",
    "EL-EXT-CUDA-MAJOR": "tests/checks/test_extensions.py",
    "EL-FAMILY-MISMATCH": "tests/checks/test_family.py",
    # read from real pasted reports' conda and pip lists (issue 21 item 4)
    "EL-TORCH-TWO-INSTALLS": "tests/pasted/test_paste_signals.py",
    "EL-NET-IFNAME-MISSING": "tests/checks/test_network.py",
    "EL-NET-IB-HCA-MISSING": "tests/checks/test_network.py",
    "EL-NET-NO-GPUDIRECT": "tests/checks/test_network.py",
    # a GPU no build or driver serves (issue 21 item 2), beside its fix cases
    "EL-GPU-UNSERVABLE": "tests/checks/test_gpu_needs.py",
    # health an expert checks first (issue 21 item 5): edited NVML answers, replayed
    "EL-GPU-LOST": "tests/checks/test_health.py",
    "EL-GPU-ECC-UNCORRECTED": "tests/checks/test_health.py",
    "EL-GPU-MEMORY-REPAIR-PENDING": "tests/checks/test_health.py",
    "EL-MIG-NO-DEVICE": "tests/checks/test_health.py",
    "EL-FABRIC-MANAGER": "tests/checks/test_health.py",
    "EL-FAMILY-MISSING-DEP": "tests/checks/test_health.py",
    # a build's, the loader's and NCCL's own refusals in real pastes, fires and quiet (issue 21)
    "EL-NVCC-ARCH-TOO-NEW": "tests/checks/test_buildenv.py",
    "EL-EXT-GLIBC-TOO-OLD": "tests/checks/test_buildenv.py",
    "EL-SHM-PERMISSION": "tests/checks/test_buildenv.py",
}


def test_every_check_has_a_firing_and_a_quiet_case() -> None:
    fires = {c.check_id for c in CASES if c.fires}
    quiet = {c.check_id for c in CASES if not c.fires}
    here = set(CHECKS) - TESTED_ELSEWHERE.keys()
    assert here - fires == set()
    assert here - quiet == set()
    repo = Path(__file__).resolve().parents[2]
    for check_id, test_file in TESTED_ELSEWHERE.items():
        assert check_id in CHECKS
        assert check_id in (repo / test_file).read_text(), f"{check_id} untested"


def test_cases_called_recorded_are_recordings() -> None:
    """A case that says "as recorded" runs on a recording itself (a facts file written by
    `envlock probe --json`), not on a base built with edits (h100_host) or edited in place."""
    for case in CASES:
        if "as recorded" in case.name:
            recordings = (*RECORDINGS, _python_image)  # the image probe, loaded unedited
            assert case.build in recordings, f"{case.check_id}: {case.name!r} is not a recording"


def test_h100_host_as_built_is_clean() -> None:
    assert run_checks(h100_host()) == []


def test_arch_fix_names_a_wheel_that_covers_the_gpu() -> None:
    (finding,) = _findings(CASES[1])
    assert finding.fix is not None
    assert "pip install" in finding.fix and "download.pytorch.org/whl/cu" in finding.fix


def test_driver_too_old_fix_offers_an_older_cuda_variant() -> None:
    facts = _driver(h100_host(), "570.133.20", "12.8")
    (finding,) = [f for f in run_checks(facts) if f.check_id == "EL-DRIVER-TOO-OLD"]
    assert finding.fix is not None and "cu126" in finding.fix


def test_ignore_removes_a_finding() -> None:
    facts = edit(cuda_venv(), "system.shm_total_bytes", 64 << 20)
    assert "EL-SHM-SMALL" in {f.check_id for f in run_checks(facts)}
    assert "EL-SHM-SMALL" not in {f.check_id for f in run_checks(facts, ignore=["EL-SHM-SMALL"])}


def test_unknown_ignore_id_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="EL-NOPE"):
        run_checks(h100_host(), ignore=["EL-NOPE"])


def test_unknown_expectation_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="fp8"):
        run_checks(h100_host(), expect=["fp8"])


def test_check_ids_are_stable_strings() -> None:
    for check_id, c in CHECKS.items():
        assert check_id == c.id and check_id.startswith("EL-") and check_id.upper() == check_id


def test_mixed_wheels_fix_never_leaves_a_required_package_broken() -> None:
    """Issue 10, item 7: name who pulled the stray wheel in; no bare uninstall."""
    quiet = edit(cuda_venv(), "cuda.wheels", [*cuda_venv().cuda.wheels, CUDART_CU12])
    (info,) = [f for f in run_checks(quiet) if f.check_id == "EL-WHEELS-MIXED-CUDA"]
    assert info.fix is not None and "pip uninstall" not in info.fix
    assert "keep them: cupy-cuda12x requires them" in info.fix
    assert "resolve to the wrong copy" not in info.message
    nccl = dataclasses.replace(NCCL_CU12, required_by=["some-cu12-extension"])
    clash = edit(cuda_venv(), "cuda.wheels", [*cuda_venv().cuda.wheels, nccl])
    (err,) = [f for f in run_checks(clash) if f.check_id == "EL-WHEELS-MIXED-CUDA"]
    assert err.severity is Severity.ERROR and "same library files" in err.message
    assert err.fix is not None and "some-cu12-extension needs nvidia-nccl-cu12" in err.fix
    assert "pip install --force-reinstall --no-deps nvidia-nccl-cu13==2.30.7" in err.fix

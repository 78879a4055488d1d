"""Which doctor checks had the facts they read: for partial facts (a pasted report, a
shell-fallback probe) a check that finds nothing may simply have had nothing to look at.

`missing_facts(ctx)` -> {check ID: what it needed and did not get}. Checks about
images and containers are listed only when the facts come from one.
"""

from __future__ import annotations

from collections.abc import Callable

from envlock.checks.context import CheckContext
from envlock.facts import Facts

Need = tuple[str, Callable[[CheckContext], bool]]


def _torch_cuda(ctx: CheckContext) -> bool:
    return ctx.torch_cuda is not None or ctx.torch_is_cpu_only


def _driver(ctx: CheckContext) -> bool:
    return ctx.driver_version is not None or ctx.driver_cuda is not None


def _gpus(ctx: CheckContext) -> bool:
    return ctx.driver.gpus is not None or bool(ctx.driver.pci_gpus)


def _capabilities(ctx: CheckContext) -> bool:
    gpus = ctx.gpus()
    return bool(gpus) and all(g.capability is not None for g in gpus)


def _arch_list(ctx: CheckContext) -> bool:
    """The installed torch's own arch flags, or an official wheel whose row says them."""
    live = ctx.facts.torch.live
    return bool(live is not None and live.arch_flags) or ctx.torch_not_official is None


# a vendor or source build is compiled for its own arch list: cannot tell without it
_OWN_ARCH_LIST = (
    "this build's own arch list (torch.cuda.get_arch_list()): a vendor or source build of "
    "torch is not the official wheel, whose list does not apply",
    _arch_list,
)


def _loaded_cudnn(ctx: CheckContext) -> bool:
    live = ctx.facts.torch.live
    return live is not None and (
        live.cudnn_version is not None
        or any(lib.name.startswith("libcudnn") for lib in live.loaded_libraries)
    )


def _loaded_nccl(ctx: CheckContext) -> bool:
    live = ctx.facts.torch.live
    return live is not None and live.nccl_version is not None


def _container(ctx: CheckContext) -> bool:
    return ctx.facts.system.container is not None or ctx.facts.image is not None


NEEDS: dict[str, tuple[Need, ...]] = {
    "EL-ARCH-UNSUPPORTED": (
        ("torch's CUDA build", _torch_cuda),
        ("the GPUs' compute capabilities", _capabilities),
        _OWN_ARCH_LIST,
    ),
    "EL-ARCH-PTX-ONLY": (
        ("torch's CUDA build", _torch_cuda),
        ("the GPUs' compute capabilities", _capabilities),
        _OWN_ARCH_LIST,
    ),
    "EL-CONTAINER-NO-GPU": (("container detection", _container),),
    "EL-CUDNN-INCOMPATIBLE": (("the cuDNN torch loaded", _loaded_cudnn),),
    "EL-CUDNN-SHADOWED": (("the cuDNN torch loaded", _loaded_cudnn),),
    "EL-CUDNN-GPU-UNSUPPORTED": (("the GPUs' compute capabilities", _capabilities),),
    "EL-DRIVER-LIBRARY-MISMATCH": (
        ("the kernel module version", lambda c: c.driver.kernel_module_version is not None),
    ),
    "EL-DRIVER-MINOR-COMPAT": (("torch's CUDA build", _torch_cuda), ("the driver", _driver)),
    "EL-DRIVER-TOO-OLD": (("torch's CUDA build", _torch_cuda), ("the driver", _driver)),
    "EL-FORWARD-COMPAT-UNSUPPORTED": (
        ("the libcuda torch loads", lambda c: c.facts.cuda.libcuda is not None),
    ),
    # the members are judged against torch's release (detectron2-2594: cut before its PyTorch row)
    # and the members' versions: an excerpt cut before the library list (vision-4071) holds none
    "EL-FAMILY-MISMATCH": (
        ("torch's version", lambda c: c.facts.torch.version is not None),
        ("the library list", lambda c: c.facts.packages.unavailable is None),
    ),
    "EL-GPU-MIXED-MODELS": (("the GPU list", _gpus),),
    "EL-GPU-COMPUTE-MODE": (
        ("the GPUs' compute mode", lambda c: any(g.compute_mode for g in c.driver.gpus or [])),
    ),
    "EL-LD-LIBRARY-PATH-SHADOW": (
        (
            "LD_LIBRARY_PATH's libraries",
            lambda c: c.facts.cuda.unavailable is None and c.facts.env.unavailable is None,
        ),
    ),
    "EL-NCCL-MULTIPLE": (("the NCCL torch loaded", _loaded_nccl),),
    "EL-NO-DRIVER": (("torch's CUDA build", _torch_cuda), ("the GPU list", _gpus)),
    "EL-NOUVEAU-BOUND": (("the PCI devices", lambda c: bool(c.driver.pci_gpus)),),
    "EL-NVCC-MISMATCH": (
        (
            "the system nvcc",
            lambda c: (
                c.facts.cuda.toolkit is not None and c.facts.cuda.toolkit.nvcc_version is not None
            ),
        ),
    ),
    "EL-PERSISTENCE-OFF": (
        ("persistence mode", lambda c: any(g.persistence_mode is not None for g in c.gpus())),
    ),
    "EL-PYTHON-UNSUPPORTED": (
        ("the Python version", lambda c: c.python_version is not None),
        ("torch's version", lambda c: c.torch_version is not None),
    ),
    "EL-SHM-SMALL": (
        (
            "/dev/shm's size",
            lambda c: (
                c.facts.system.shm_total_bytes is not None
                or c.facts.system.shm_failure is not None
                or (c.facts.image is not None and c.facts.image.shm_size_bytes is not None)
            ),
        ),
    ),
    # a CPU-only build is said without the GPU list (checks/cpubuild.py)
    "EL-TORCH-CPU-ONLY": (
        ("torch's CUDA build", _torch_cuda),
        ("the GPU list", lambda c: _gpus(c) or c.torch_is_cpu_only),
    ),
    "EL-TORCH-CUDA-UNAVAILABLE": (
        (
            "torch.cuda.is_available()",
            lambda c: (
                c.facts.torch.live is not None and c.facts.torch.live.cuda_available is not None
            ),
        ),
        ("the GPU list", _gpus),
    ),
    "EL-UVM-MISSING": (("the /dev/nvidia* device nodes", lambda c: bool(c.driver.device_nodes)),),
    "EL-VISIBLE-DEVICES-INVALID": (
        ("the environment", lambda c: c.facts.env.unavailable is None),
        ("the GPU list", _gpus),
    ),
    "EL-WHEELS-MIXED-CUDA": (("the nvidia-* wheels", lambda c: c.facts.cuda.unavailable is None),),
}


def missing_facts(ctx: CheckContext, *, skip: frozenset[str] = frozenset()) -> dict[str, str]:
    """{check ID: "needs X, Y"} for each check whose facts are absent."""
    out: dict[str, str] = {}
    for check_id, needs in sorted(NEEDS.items()):
        if check_id in skip:
            continue
        lacking = [what for what, present in needs if not present(ctx)]
        if lacking:
            out[check_id] = "needs " + ", ".join(lacking)
    return out


def missing_for(
    facts: Facts, host: Facts | None = None, *, skip: frozenset[str] = frozenset()
) -> dict[str, str]:
    """missing_facts() for facts (and host facts) with the shipped matrix."""
    from envlock.matrix import load_matrix

    return missing_facts(CheckContext(facts=facts, host=host, matrix=load_matrix()), skip=skip)

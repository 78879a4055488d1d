"""What a build or a load said of the machine under it (issue 21, session 13), from a pasted
log's own words (the notes pasted/nvccarch.py, pasted/glibcneed.py and pasted/nccl_log.py
leave):

- EL-NVCC-ARCH-TOO-NEW: nvcc refused an architecture ("Unsupported gpu architecture
  'compute_89'"): the toolkit predates it. The matrix's first CUDA of each capability
  (gpus.toml, from NVIDIA's release notes: 8.0 11.0, 8.6 11.1, 8.9 and 9.0 11.8, 10.0 and
  12.0 12.8) says which toolkit knows it. nvcc says the same of an architecture a newer
  toolkit dropped (compute_35 on CUDA 12): where the paste shows nvcc's version it decides,
  otherwise only an architecture no toolkit has dropped is judged. Quiet where the facts'
  TORCH_CUDA_ARCH_LIST leaves the architecture out (the build no longer asks for it).
- EL-EXT-GLIBC-TOO-OLD: the loader found no GLIBC_X.Y in the system's libc/libm for a file
  that needs it: a prebuilt extension (or torch's own library) linked on a newer OS. Quiet
  where the facts' glibc is X.Y or newer.
- EL-SHM-PERMISSION: NCCL (or torch's libshm) was refused its segment in /dev/shm: the
  directory is not writable by the user (mode 1777 on a standard system).
"""

from __future__ import annotations

from collections.abc import Iterator

from envlock.checks.context import CheckContext
from envlock.checks.registry import check
from envlock.findings import Finding, Severity
from envlock.matrix import ArchTarget, Capability, Matrix, Version
from envlock.pasted.glibcneed import parse_glibc_note
from envlock.pasted.nccl_log import SHM_DENIED
from envlock.pasted.nvccarch import NVCC_REFUSED

_SITE = ("/site-packages/", "/dist-packages/")


@check("EL-NVCC-ARCH-TOO-NEW")
def nvcc_arch_too_new(ctx: CheckContext) -> Iterator[Finding]:
    toolkit = ctx.facts.cuda.toolkit
    nvcc = Version.of(toolkit.nvcc_version) if toolkit is not None else None
    for note in ctx.facts.meta.notes:
        if not note.startswith(NVCC_REFUSED):
            continue
        arch = note[len(NVCC_REFUSED) :]
        cap = _too_new(ctx, arch, nvcc)
        if cap is None:
            continue
        first = cap.first_cuda
        said = f"nvcc {nvcc}" if nvcc is not None else "the toolkit's nvcc"
        yield Finding(
            check_id="EL-NVCC-ARCH-TOO-NEW",
            severity=Severity.ERROR,
            message=(
                f"{said} does not know compute capability {cap.sm} (it refused '{arch}'): "
                f"nvcc knows sm_{cap.sm.major}{cap.sm.minor} from CUDA {first} on, so an "
                "extension build for this GPU stops there"
            ),
            fix=_nvcc_fix(ctx.matrix, cap),
            evidence={
                "refused": arch,
                "cuda.toolkit.nvcc_version": str(nvcc) if nvcc is not None else None,
                "matrix.first_cuda": str(first),
                "env.TORCH_CUDA_ARCH_LIST": ctx.env("TORCH_CUDA_ARCH_LIST"),
            },
        )


def _too_new(ctx: CheckContext, arch: str, nvcc: Version | None) -> Capability | None:
    """The matrix's row of the refused architecture where nvcc refused it for being older
    than it; None where it may have been too new for it, or the build no longer asks."""
    target = ArchTarget.from_flag(arch)
    cap = ctx.matrix.capability(target.capability) if target is not None else None
    if cap is None:
        return None
    if nvcc is not None and nvcc.truncate(2) >= cap.first_cuda:
        return None  # a toolkit that knows it: refused for being dropped, not unknown
    if nvcc is None and cap.last_cuda is not None:
        return None  # newer toolkits refuse it too: which one this was is not said
    listed = ctx.env("TORCH_CUDA_ARCH_LIST")
    if listed is not None and not _lists(listed, cap.sm):
        return None
    return cap


def _lists(arch_list: str, cc: Version) -> bool:
    """Whether TORCH_CUDA_ARCH_LIST ("8.6;8.9+PTX", "8.6 8.9") asks for capability `cc`."""
    for item in arch_list.replace(";", " ").replace(",", " ").split():
        try:
            targets = ArchTarget.from_arch_list_item(item)
        except ValueError:
            return True  # an item envlock cannot read: cannot say the build left it out
        if any(t.capability == cc for t in targets):
            return True
    return False


def _nvcc_fix(matrix: Matrix, cap: Capability) -> str:
    first = cap.first_cuda
    fix = (
        f"build with a CUDA toolkit {first} or newer (CUDA_HOME pointing at it, its nvcc "
        "first on PATH)"
    )
    without = _arch_list_without(matrix, cap)
    if without is not None:
        arch_list, why = without
        fix += f', or leave {cap.sm} out of the build: TORCH_CUDA_ARCH_LIST="{arch_list}" ({why})'
    return fix


def _arch_list_without(matrix: Matrix, cap: Capability) -> tuple[str, str] | None:
    """An arch list an older nvcc builds that still runs on `cap`: the SASS of a capability
    of its major below it (binary compatible within a major), else the PTX of the newest
    capability below it that toolkit knows (JIT-compiled for the GPU when loaded)."""
    older = [
        c
        for c in matrix.capabilities
        if c.sm < cap.sm and c.first_cuda < cap.first_cuda and not c.tegra and c.last_cuda is None
    ]
    same = [c for c in older if c.sm.major == cap.sm.major]
    if same:
        best = max(same, key=lambda c: c.sm)
        return str(best.sm), f"its sm_{best.sm.major}{best.sm.minor} kernels run on {cap.sm}"
    if older:
        best = max(older, key=lambda c: c.sm)
        return f"{best.sm}+PTX", f"its PTX is compiled for the {cap.sm} GPU when loaded"
    return None


@check("EL-EXT-GLIBC-TOO-OLD")
def ext_glibc_too_old(ctx: CheckContext) -> Iterator[Finding]:
    system = Version.of(ctx.facts.system.glibc)
    for needer, (need, lib) in _glibc_needs(ctx.facts.meta.notes).items():
        if system is not None and system >= need:
            continue
        dist = _distribution(needer)
        what = {None: "the library", "torch": "torch's own library"}.get(dist, f"{dist}'s module")
        have = f" (glibc {system})" if system is not None else ""
        yield Finding(
            check_id="EL-EXT-GLIBC-TOO-OLD",
            severity=Severity.ERROR,
            message=(
                f"{what} {needer} needs glibc {need} or newer, and this system's {lib}"
                f"{have} has no GLIBC_{need}: the dynamic loader refuses it, its import fails "
                "(it was built on a newer OS than this one)"
            ),
            fix=_glibc_fix(dist, needer, need),
            evidence={
                "needed": f"GLIBC_{need}",
                "system_library": lib,
                "file": needer,
                "distribution": dist,
                "system.glibc": ctx.facts.system.glibc,
            },
        )


def _glibc_needs(notes: list[str]) -> dict[str, tuple[Version, str]]:
    """File -> (the newest glibc the loader said it needs, the system library that lacked
    it): ldd lists one line per missing version (pytorch#129555: 2.28 in libc, 2.29 in libm)."""
    out: dict[str, tuple[Version, str]] = {}
    for note in notes:
        said = parse_glibc_note(note)
        need = Version.of(said[0]) if said is not None else None
        if said is None or need is None:
            continue
        known = out.get(said[2])
        if known is None or known[0] < need:
            out[said[2]] = (need, said[1])
    return out


def _distribution(path: str) -> str | None:
    """The installed package a file belongs to: its folder under site-packages (or
    dist-packages); None for a file elsewhere or directly in it (libpyg.so: pyg-lib's)."""
    unix = path.replace("\\", "/")
    for site in _SITE:
        if site in unix:
            folder, slash, _ = unix.split(site, 1)[1].partition("/")
            return folder if slash and folder else None
    return None


def _glibc_fix(dist: str | None, needer: str, need: Version) -> str:
    elsewhere = f"or run on an OS (or a container image) with glibc {need} or newer"
    if dist == "torch":
        return (
            "reinstall torch with pip on this machine (pip install --force-reinstall torch: "
            "pip takes only a wheel whose manylinux tag this glibc meets, where a torch "
            f"copied or installed for another OS does not load), {elsewhere}"
        )
    if dist is None:
        return f"install a build of {needer} made for this glibc, {elsewhere}"
    return (
        f"build {dist} from source on this machine, so it links this glibc "
        f"(pip install --force-reinstall --no-binary {dist} {dist}), {elsewhere}"
    )


@check("EL-SHM-PERMISSION")
def shm_permission(ctx: CheckContext) -> Iterator[Finding]:
    seen = next(
        (n[len(SHM_DENIED) :] for n in ctx.facts.meta.notes if n.startswith(SHM_DENIED)), None
    )
    if seen is None:
        return
    yield Finding(
        check_id="EL-SHM-PERMISSION",
        severity=Severity.ERROR,
        message=(
            f"the user may not create files in /dev/shm ('{seen}'): NCCL's shared-memory "
            "transport (and DataLoader workers' tensors) need it, so NCCL fails with "
            "'unhandled system error'"
        ),
        fix=(
            "make /dev/shm writable by every user as a standard system has it: "
            "sudo chmod 1777 /dev/shm (a container: start it with --ipc=host or its own "
            "--shm-size tmpfs)"
        ),
        evidence={"refused": seen},
    )

"""A Plan as partial Facts, the path pasted reports take (envlock/pasted/draft.py): what
the plan does not state stays "unavailable: not stated in the plan", so the checks skip
it rather than judge an absence. Beside the Facts, where each fact was stated (`Origins`),
so a finding can name file:line and replace that instruction.

torch is the last install of it in build order (pip, uv, conda), else the one a
pytorch/pytorch base image's tag states. Its CUDA variant comes from, in order: the local
version of its pin (`+cu128`), the PyTorch index it is installed from (`--index-url
.../whl/cu128`, or an extra index, which pip prefers for a local version), conda's
`pytorch-cuda=`/`cudatoolkit=`/`cpuonly` or build string, else the variant PyPI's default
wheel of that release carries (matrix: default-variant). An unpinned torch (`torch>=2.4`)
states no version: which one a resolver picks is not in the file.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

from envlock.facts import Facts
from envlock.facts.model import ImageFacts
from envlock.matrix import Matrix, Version, cuda_variant, variant_cuda
from envlock.plan.images import require_cuda
from envlock.plan.model import Install, Plan, Requirement, Span
from envlock.probe.shapes import CudaLibDoc, DriverDoc, FactsDoc, TorchDoc, WheelDoc

NOT_STATED = "not stated in the plan"
_VARIANT_IN_URL = re.compile(r"/whl/(?:nightly/|test/)?(cu\d{2,4}|cpu|rocm[\d.]+)(?:/|$)")
_CONDA_CUDA = re.compile(r"cuda(\d+)\.(\d+)")

# The CUDA wheels a pip torch build's Requires-Dist names, by CUDA major (torch 2.1 on; the
# PyTorch index's older builds bundle their libraries). Named as the probe sees them: CUDA
# 13's unsuffixed wheels install into nvidia/cu13/ (probe/cudalibs.py), as in the recorded
# torch 2.14.1+cu130 venv (cuda-toolkit[...] extras, nvidia-*-cu13).
_CU11_12 = (
    "cublas", "cuda-cupti", "cuda-nvrtc", "cuda-runtime", "cudnn", "cufft", "curand",
    "cusolver", "cusparse", "nccl", "nvtx",
)  # fmt: skip
_CU13_UNSUFFIXED = (
    "nvidia-cublas", "nvidia-cuda-cupti", "nvidia-cuda-nvrtc", "nvidia-cuda-runtime",
    "nvidia-cufft", "nvidia-cufile", "nvidia-curand", "nvidia-cusolver", "nvidia-cusparse",
    "nvidia-nvjitlink", "nvidia-nvtx",
)  # fmt: skip
TORCH_WHEELS: dict[int, tuple[str, ...]] = {
    11: tuple(f"nvidia-{n}-cu11" for n in _CU11_12),
    12: (*(f"nvidia-{n}-cu12" for n in _CU11_12), "nvidia-nvjitlink-cu12"),
    13: (
        *_CU13_UNSUFFIXED,
        "nvidia-cudnn-cu13",
        "nvidia-cusparselt-cu13",
        "nvidia-nccl-cu13",
        "nvidia-nvshmem-cu13",
    ),
}
_WHEELS_FROM = Version((2, 1))
IMPLIED = "implied:"  # origins key prefix: a wheel the planned torch pulls in


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedTorch:
    version: str  # "2.7.0", "2.7" for a conda fuzzy pin
    variant: str | None  # "cu128", "cpu"; None: not known
    span: Span  # the instruction (or requirement line) that installs it
    install: Install | None  # None: the base image's torch
    requirement: Requirement | None
    variant_from: str  # how the variant was decided, for the evidence


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanFacts:
    plan: Plan
    facts: Facts
    torch: PlannedTorch | None
    torch_not_stated: str | None  # why torch is not known, when it is not
    origins: dict[str, Span] = field(default_factory=dict)  # role -> where it is stated


def planned_torch(plan: Plan, matrix: Matrix) -> tuple[PlannedTorch | None, str | None]:
    """The torch the plan installs, or why it is not stated."""
    for install in reversed(plan.installs):
        if install.uninstall:
            continue
        for req in install.requirements:
            if req.name in ("torch", "pytorch"):
                return _from_install(install, req, matrix)
    base = plan.base
    if base is not None and base.torch is not None:
        cuda = base.cuda.value if base.cuda else None
        variant = cuda_variant(Version.parse(cuda)) if cuda else None
        return (
            PlannedTorch(
                version=base.torch.value,
                variant=variant,
                span=base.torch.span,
                install=None,
                requirement=None,
                variant_from="the image tag",
            ),
            None,
        )
    return None, "no install of torch and no base image whose tag states one"


def _from_install(
    install: Install, req: Requirement, matrix: Matrix
) -> tuple[PlannedTorch | None, str | None]:
    pinned = req.pinned
    span = req.span or install.span
    if pinned is None:
        newest = _newest_on_index(install, req, matrix)
        if newest is not None:
            return newest, None
        what = f"{req.name}{req.specifier}" if req.specifier else req.name
        return None, f"{span.where}: {what} pins no version (a resolver picks one)"
    public, _, local = pinned.partition("+")
    variant, why = _variant(install, req, local, public, matrix)
    return (
        PlannedTorch(
            version=public,
            variant=variant,
            span=span,
            install=install,
            requirement=req,
            variant_from=why,
        ),
        None,
    )


def _newest_on_index(install: Install, req: Requirement, matrix: Matrix) -> PlannedTorch | None:
    """An unpinned torch installed from a PyTorch variant index (--index-url .../whl/cu121,
    the only index): the index's newest torch, the newest release the matrix has with that
    variant (old variants' indexes no longer change)."""
    if install.installer == "conda" or req.specifier or install.extra_index_urls:
        return None
    m = _VARIANT_IN_URL.search(install.index_url or "")
    if m is None:
        return None
    releases = [r for r in matrix.torch if r.variant(m[1]) is not None]
    if not releases:
        return None
    newest = max(releases, key=lambda r: r.release)
    return PlannedTorch(
        version=str(newest.release),
        variant=m[1],
        span=req.span or install.span,
        install=install,
        requirement=req,
        variant_from=f"the index {install.index_url} (unpinned: its newest, torch {newest.release})",
    )


def _variant(
    install: Install, req: Requirement, local: str, public: str, matrix: Matrix
) -> tuple[str | None, str]:
    if install.installer == "conda":
        return _conda_variant(install, req)
    if re.fullmatch(r"cu\d{2,4}|cpu|rocm[\d.]+", local):
        return local, f"its local version +{local}"
    backend = install.torch_backend
    if backend is not None:
        if re.fullmatch(r"cu\d{2,4}|cpu|rocm[\d.]+", backend):
            return backend, f"uv's --torch-backend {backend}"
        return None, f"uv's --torch-backend {backend}: the build machine decides"
    for url in (
        req.index,
        install.index_url,
        *install.extra_index_urls,
        *install.find_links,
        req.url,
    ):
        m = _VARIANT_IN_URL.search(url or "")
        if m:
            return m[1], f"the index {url}"
    if install.index_url is not None:
        return None, f"the index {install.index_url} (not a PyTorch index: its variant unknown)"
    release = matrix.torch_release(Version.parse(public)) if Version.of(public) else None
    if release is not None:
        return release.default_variant, f"PyPI's default wheel of torch {release.release}"
    return None, "PyPI's default wheel (a release the matrix does not know)"


def _conda_variant(install: Install, req: Requirement) -> tuple[str | None, str]:
    m = _CONDA_CUDA.search(req.build or "")
    if m:
        return f"cu{m[1]}{m[2]}", f"its conda build string {req.build}"
    for other in install.requirements:
        if other.name == "cpuonly":
            return "cpu", "conda's cpuonly"
        if other.name in ("pytorch-cuda", "cudatoolkit", "cuda-version") and other.pinned:
            cuda = Version.of(other.pinned)
            if cuda is not None:
                return cuda_variant(cuda), f"conda's {other.name}{other.specifier}"
    return None, "conda (no pytorch-cuda, cudatoolkit or cpuonly pin)"


def plan_facts(
    plan: Plan,
    matrix: Matrix,
    *,
    collected_at: str,
    version: str,
    base_facts: Facts | None = None,
) -> PlanFacts:
    """The plan as partial Facts, with where each fact is stated. `base_facts`: the base
    image's own facts, probed (a tag that states nothing, present locally): its torch when
    the plan installs none, and its packages under the plan's."""
    torch, why_not = planned_torch(plan, matrix)
    origins: dict[str, Span] = {}
    packages = _packages(plan, origins)
    probed = _probed_torch(plan, base_facts) if torch is None else None
    if probed is not None:
        torch, why_not = probed, None
        base_packages = base_facts.packages.distributions if base_facts is not None else {}
        packages = {**base_packages, **packages}
    doc: FactsDoc = {
        "facts_version": 1,
        "meta": {
            "envlock_version": version,
            "collected_at": collected_at,
            "target": f"plan:{plan.sources[0]}" + (f" ({plan.name})" if plan.name else ""),
            "partial": True,
            "notes": list(plan.notes)[:50],
        },
        "system": {"unavailable": NOT_STATED},
        "driver": _driver(plan),
        "cuda": _cuda(plan, packages, torch, origins),
        "torch": _torch(torch, why_not, origins),
        "packages": {"distributions": packages} if packages else {"unavailable": NOT_STATED},
        "env": {"variables": {v.name: v.value for v in plan.env}}
        if plan.env
        else {"unavailable": NOT_STATED},
        "toolchain": {"unavailable": NOT_STATED},
    }
    if probed is not None and base_facts is not None:
        doc["torch"] = base_facts.to_dict()["torch"]  # type: ignore[typeddict-item]
        origins["torch"] = probed.span
    facts = Facts.from_dict(doc)
    facts = dataclasses.replace(facts, image=_image(plan, origins))
    for var in plan.env:
        origins[f"env:{var.name}"] = var.span
    return PlanFacts(plan=plan, facts=facts, torch=torch, torch_not_stated=why_not, origins=origins)


def _probed_torch(plan: Plan, base_facts: Facts | None) -> PlannedTorch | None:
    """The torch a probed base image holds, stated by its FROM line."""
    if base_facts is None or plan.base is None or not base_facts.torch.installed:
        return None
    t = base_facts.torch
    return PlannedTorch(
        version=(t.version or "").partition("+")[0],
        variant=t.build,
        span=plan.base.reference.span,
        install=None,
        requirement=None,
        variant_from=f"the image {plan.base.reference.value}, probed",
    )


def _packages(plan: Plan, origins: dict[str, Span]) -> dict[str, str]:
    out: dict[str, str] = {}
    for install in plan.installs:
        for req in install.requirements:
            pinned = req.pinned
            name = "torch" if req.name == "pytorch" else req.name
            if install.uninstall:
                out.pop(name, None)
            elif pinned is not None:
                out[name] = pinned
                origins[f"package:{name}"] = req.span or install.span
    return out


def _driver(plan: Plan) -> DriverDoc:
    # a run that requests GPUs will see device nodes; one that requests none will not
    request = plan.gpu_request.value if plan.gpu_request else None
    nodes = [] if request is not None and request.count == 0 else ["/dev/nvidia0"]
    return {"unavailable": NOT_STATED, "source": "pasted", "device_nodes": nodes}


def _cuda(
    plan: Plan, packages: dict[str, str], torch: PlannedTorch | None, origins: dict[str, Span]
) -> CudaLibDoc:
    wheels: list[WheelDoc] = [
        {"name": name, "version": version, "cuda_major": _wheel_major(name, version)}
        for name, version in sorted(packages.items())
        if name.startswith(("nvidia-", "cuda-"))
    ]
    wheels += _torch_wheels(torch, set(packages), origins)
    base_cuda = plan.base.cuda.value if plan.base and plan.base.cuda else None
    out: CudaLibDoc = {}
    if wheels:
        out["wheels"] = wheels
    if base_cuda:
        out["cudart"] = {"runtime_version": base_cuda, "path": None}
    return out or {"unavailable": NOT_STATED}


def _torch_wheels(
    torch: PlannedTorch | None, pinned: set[str], origins: dict[str, Span]
) -> list[WheelDoc]:
    """The CUDA wheels the planned pip torch pulls in itself (its variant's CUDA major),
    each marked in `origins` as implied by the torch line; a wheel the plan pins is its own."""
    major = torch_wheel_major(torch)
    if torch is None or major is None:
        return []
    version = "(torch's)"  # its exact pin is in torch's metadata, not in the plan
    out: list[WheelDoc] = []
    for name in TORCH_WHEELS[major]:
        if name not in pinned:
            out.append({"name": name, "version": version, "cuda_major": major})
            out[-1]["required_by"] = ["torch"]
            origins[IMPLIED + name] = torch.span
    return out


def torch_wheel_major(torch: PlannedTorch | None) -> int | None:
    """The CUDA major of the wheels a pip-installed torch build pulls in, or None (conda's
    and a base image's torch bring none; a CPU build, an unknown variant, torch < 2.1)."""
    if torch is None or torch.install is None or torch.install.installer == "conda":
        return None
    cuda = variant_cuda(torch.variant) if torch.variant else None
    release = Version.of(torch.version)
    if cuda is None or release is None or release.truncate(2) < _WHEELS_FROM:
        return None
    return cuda.major if cuda.major in TORCH_WHEELS else None


def _wheel_major(name: str, version: str) -> int | None:
    m = re.search(r"-cu(\d+)$", name)
    if m:
        return int(m[1])
    if name in _CU13_UNSUFFIXED:  # the probe: installed into nvidia/cu13/
        return 13
    m = re.match(r"(\d+)\.", version)
    return int(m[1]) if m and name.startswith("cuda-") else None


def _torch(torch: PlannedTorch | None, why_not: str | None, origins: dict[str, Span]) -> TorchDoc:
    if torch is None:
        return {"unavailable": f"{NOT_STATED}: {why_not}"}
    origins["torch"] = torch.span
    cuda = variant_cuda(torch.variant) if torch.variant else None
    local = f"+{torch.variant}" if torch.variant else ""
    doc: TorchDoc = {
        "installed": True,
        "version": f"{torch.version}{local}",
        "build": torch.variant,
        "cuda": str(cuda) if cuda is not None else None,
    }
    if torch.variant is not None and torch.variant.startswith("rocm"):
        doc["hip"] = torch.variant.removeprefix("rocm")
    if torch.variant is None:
        doc["unavailable"] = f"{NOT_STATED}: which CUDA build ({torch.variant_from})"
    return doc


def _image(plan: Plan, origins: dict[str, Span]) -> ImageFacts:
    env = {v.name: v.value for v in plan.env}
    reference = plan.name
    if plan.base is not None:
        reference = plan.base.reference.value
        origins["base"] = plan.base.reference.span
        required = require_cuda(plan.base)
        if required is not None:
            env = {"NVIDIA_REQUIRE_CUDA": required, **env}
    request = plan.gpu_request.value if plan.gpu_request else None
    if plan.gpu_request is not None:
        origins["gpu_request"] = plan.gpu_request.span
    if plan.shm_size_bytes is not None:
        origins["shm"] = plan.shm_size_bytes.span
    return ImageFacts(
        reference=reference,
        kind="image",
        env=env,
        shm_size_bytes=plan.shm_size_bytes.value if plan.shm_size_bytes else None,
        gpus_requested=_requested(request.count) if request is not None else None,
    )


def _requested(count: int | None) -> str | None:
    if count == 0:
        return None
    return "all" if count is None else str(count)

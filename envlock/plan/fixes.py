"""A plan finding's fix as the replacement text of the instruction that states the fact:
the whole `FROM ...`, the whole `RUN pip install ... --index-url ...` (every line of it),
a requirements line. The build is the one the matrix picks for the host's GPUs and driver
(matrix/advice.py: the same release first, then the nearest that runs); the use case
applies the replacement to the file and re-checks it before offering it.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from envlock.facts import Facts
from envlock.matrix import Matrix, TorchVariant, Version
from envlock.matrix.advice import INDEX_URL, Fit, evaluate, remedy
from envlock.matrix.family import PAIRED, load_family
from envlock.plan.images import CudaImage, image_table, repository_kind
from envlock.plan.model import Replacement, Span
from envlock.plan.tofacts import TORCH_WHEELS, PlanFacts, PlannedTorch, torch_wheel_major

_PYTORCH_URL = re.compile(
    r"(https?://[^\s\"']*/whl/(?:nightly/|test/)?)(cu\d{2,4}|cpu)(?=[/\s\"']|$)"
)
_TAG = re.compile(r"(?P<name>[^\s:@]+):(?P<tag>[\w][\w.-]*)")


@dataclass(frozen=True, slots=True, kw_only=True)
class Build:
    """A torch build to plan instead: a release's version and its variant."""

    version: str  # "2.7.0"
    variant: TorchVariant
    same_release: bool


def capabilities(host: Facts | None) -> list[Version]:
    gpus = host.driver.gpus if host is not None else []
    return [
        v.truncate(2) for g in gpus or [] if (v := Version.of(g.compute_capability)) is not None
    ]


def driver_of(host: Facts | None) -> Version | None:
    return Version.of(host.driver.version) if host is not None else None


# (a fit, the version a fix would name) -> the published version to name, or None where
# the artifact the fix names (a pytorch/pytorch image, a conda build) was never published
Published = Callable[[Fit, str], "str | None"]


def build_for_host(
    torch: PlannedTorch | None,
    host: Facts | None,
    matrix: Matrix,
    *,
    published: Published | None = None,
) -> Build | None:
    """The build the matrix picks for the host: nearest the planned one (its release, then
    the closest that runs), full driver support before minor-version compatibility. With
    `published`, only builds whose artifact was published (images.toml)."""
    caps, driver = capabilities(host), driver_of(host)
    if not caps and driver is None:
        return None
    planned = Version.of(torch.version) if torch is not None else None
    named = functools.partial(_named_version, torch.version if torch is not None else None)
    fits = _cuda_fits(matrix, caps, driver)
    if published is not None:  # kept, not dropped: remedy measures nearness over them all
        fits = [
            f if published(f, named(f)) is not None else dataclasses.replace(f, runs=False)
            for f in fits
        ]
    chosen = remedy(
        fits,
        installed=planned,
        installed_variant=torch.variant if torch is not None else None,
        exclude_installed=False,
    ).build
    if chosen is None:
        return None
    version = published(chosen, named(chosen)) if published is not None else None
    same = planned is not None and planned.truncate(2) == chosen.release.release
    return Build(version=version or named(chosen), variant=chosen.variant, same_release=same)


def _named_version(planned: str | None, fit: Fit) -> str:
    """The version a fix names for `fit`: the planned one within its release, else X.Y.0."""
    release = fit.release.release
    p = Version.of(planned) if planned is not None else None
    if planned and p is not None and p.truncate(2) == release and planned.count(".") >= 2:
        return planned
    return f"{release}.0"


def _image_version(fit: Fit, wanted: str) -> str | None:
    """The torch version of a published pytorch/pytorch image of `fit`'s release and CUDA:
    `wanted` where it was published, else the release's lowest published one."""
    cuda = fit.variant.cuda
    word = f"{cuda.major}.{cuda.minor}"
    rows = image_table().pytorch_images
    return _pick(fit, wanted, [v for r in rows if word in r.cuda for v in r.versions])


def _conda_version(fit: Fit, wanted: str) -> str | None:
    """The torch version of a pytorch conda channel build of `fit`'s release and CUDA."""
    cuda = fit.variant.cuda
    return _pick(fit, wanted, image_table().conda_versions(f"{cuda.major}.{cuda.minor}"))


def _cuda_fits(matrix: Matrix, caps: list[Version], driver: Version | None) -> list[Fit]:
    """The CUDA builds judged for the host, those with the GPUs' own kernels only where
    one of them runs (a build that runs them through PTX JIT only is the last resort)."""
    fits = [
        f
        for f in evaluate(matrix, capabilities=caps, driver=driver)
        if f.variant.cuda is not None and not f.variant.name.startswith("cpu")
    ]
    clean = [f for f in fits if not f.caveats]
    return clean if any(f.runs for f in clean) else fits


def _pick(fit: Fit, wanted: str, versions: list[str]) -> str | None:
    found = sorted(
        (v for v in versions if Version.parse(v).truncate(2) == fit.release.release),
        key=Version.parse,
    )
    return wanted if wanted in found else (found[0] if found else None)


def _publisher(torch: PlannedTorch) -> Published | None:
    """What a fix of this instruction names and must find published: a pytorch/pytorch
    image (a FROM), a pytorch conda channel build, or (None) a wheel of the matrix."""
    if torch.install is None:
        return _image_version
    return _conda_version if torch.install.installer == "conda" else None


def planned_build(pf: PlanFacts, host: Facts | None, matrix: Matrix) -> Build | None:
    """The build a fix of the plan's torch instruction names (matrix --plan's why-line)."""
    torch = pf.torch
    if torch is None:
        return None
    return build_for_host(torch, host, matrix, published=_publisher(torch))


def torch_replacement(pf: PlanFacts, host: Facts | None, matrix: Matrix) -> Replacement | None:
    """The planned torch's instruction, rewritten for the build the host runs."""
    torch = pf.torch
    if torch is None:
        return None
    if torch.install is not None and torch.install.installer == "conda":
        return _conda_torch(torch, host, matrix)
    build = planned_build(pf, host, matrix)
    if build is None:
        return None
    if torch.install is None:
        return _image_torch(torch.span, build)
    if torch.requirement is not None and torch.requirement.span is not None:
        return _requirement_line(torch.requirement.span, build)
    text = _rewrite_pip(torch.span.text, build, has_index=torch.install.index_url is not None)
    return Replacement(span=torch.span, text=text) if text != torch.span.text else None


_CONDA_CUDA = re.compile(r"(?<![\w-])(pytorch-cuda\s*==?\s*)(\d+\.\d+)")
_CONDA_TORCH = re.compile(r"(?<![\w-])(pytorch\s*==?\s*)(\d+(?:\.\d+)*)(?![\w.])")


def _conda_torch(torch: PlannedTorch, host: Facts | None, matrix: Matrix) -> Replacement | None:
    """A conda line's pytorch and pytorch-cuda pins moved to a build the pytorch channel
    published (images.toml [[conda-pytorch]]); None where the line pins no pytorch-cuda or
    no channel build runs here (conda_note says which)."""
    text = torch.span.text
    if _CONDA_CUDA.search(text) is None or _CONDA_TORCH.search(text) is None:
        return None
    build = build_for_host(torch, host, matrix, published=_conda_version)
    if build is None:
        return None
    cuda = f"{build.variant.cuda.major}.{build.variant.cuda.minor}"
    new = _CONDA_CUDA.sub(lambda m: m[1] + cuda, text, 1)
    new = _CONDA_TORCH.sub(lambda m: f"{m[1]}{build.version}", new, 1)
    row = load_family().row_for_torch(Version.parse(build.version))
    if row is not None and not build.same_release:
        for member in PAIRED:  # conda's fuzzy pin: member=0.16 is any 0.16.x
            series = row.members.get(member)
            if series is not None:
                pattern = rf"(?<![\w-]){member}\s*==?\s*[\w.*]+"
                new = re.sub(pattern, f"{member}={series}", new)
    return Replacement(span=torch.span, text=new) if new != text else None


def conda_note(pf: PlanFacts, host: Facts | None, matrix: Matrix) -> str | None:
    """Why a conda torch line gets no replacement, said in its finding's fix."""
    torch = pf.torch
    if torch is None or torch.install is None or torch.install.installer != "conda":
        return None
    if _CONDA_CUDA.search(torch.span.text) is None:
        return (
            "no conda replacement: this line pins no pytorch-cuda (the pytorch channel's "
            "CUDA selector from 1.13 on) to move"
        )
    if build_for_host(torch, host, matrix, published=_conda_version) is None:
        last = max((v for r in image_table().conda_builds for v in r.versions), key=Version.parse)
        return (
            f"no conda replacement: the pytorch conda channel published builds up to {last} "
            "and none of them runs on these GPUs and driver; install torch with pip instead"
        )
    return None


def _pin(build: Build, local: bool) -> str:
    return f"torch=={build.version}+{build.variant.name}" if local else f"torch=={build.version}"


def _rewrite_pip(text: str, build: Build, *, has_index: bool) -> str:
    """A pip/uv install instruction with torch's pin, its index and its family moved."""
    url = f"{INDEX_URL}{build.variant.name}"
    moved = _PYTORCH_URL.sub(lambda m: m[1] + build.variant.name, text)
    token = _requirement_token("torch")
    if _PYTORCH_URL.search(text) is not None:  # its PyTorch index moves to the variant
        return _family(token.sub(lambda m: m[1] + _pin(build, "+" in m[0]) + m[1], moved, 1), build)
    option = "--extra-index-url" if has_index else "--index-url"
    return _family(
        token.sub(lambda m: f"{m[1]}{_pin(build, has_index)}{m[1]} {option} {url}", text, 1), build
    )


def _requirement_token(name: str) -> re.Pattern[str]:
    """A requirement word for `name` as written in a shell line (quoted or not)."""
    return re.compile(
        rf"(?<![\w./=-])([\"']?){re.escape(name)}(?:\[[^\]\s]*\])?"
        r"(?:\s*(?:===|==|~=|>=|<=|!=|<|>)[^\s\"';&|\\]*)?\1(?=[\s;&|\\]|$)"
    )


def _family(text: str, build: Build) -> str:
    """torchvision/torchaudio/torchtext pins moved to the release the build pairs with."""
    row = load_family().row_for_torch(Version.parse(build.version))
    if row is None or build.same_release:
        return _local_tags(text, build)
    for member in PAIRED:
        series = row.members.get(member)
        if series is not None:
            text = _requirement_token(member).sub(_member_pin(member, series), text)
    return text


def _member_pin(member: str, series: Version) -> Callable[[re.Match[str]], str]:
    def pin(m: re.Match[str]) -> str:
        return f"{m[1]}{member}=={series}.*{m[1]}" if "==" in m[0] else m[0]

    return pin


def _local_tags(text: str, build: Build) -> str:
    """Family pins with a local CUDA tag (+cu121) follow the new variant."""
    return re.sub(
        r"(\b(?:torchvision|torchaudio|torchtext)==[\w.]+)\+(?:cu\d{2,4}|cpu)\b",
        lambda m: f"{m[1]}+{build.variant.name}",
        text,
    )


def _requirement_line(span: Span, build: Build) -> Replacement:
    """A requirements-file line: the pin, and the PyPI-index line that carries it."""
    url = f"{INDEX_URL}{build.variant.name}"
    return Replacement(span=span, text=f"--extra-index-url {url}\n{_pin(build, local=True)}")


def _image_torch(span: Span, build: Build) -> Replacement | None:
    """A pytorch/pytorch FROM moved to the published tag of the build (images.toml: its
    cuDNN major is the published image's)."""
    cuda = build.variant.cuda
    cudnn = image_table().pytorch_cudnn(build.version, f"{cuda.major}.{cuda.minor}")
    if cudnn is None:
        return None
    m = re.search(
        r"pytorch/pytorch:(\d+\.\d+\.\d+)-cuda[\d.]+-cudnn(\d+)-(runtime|devel)", span.text
    )
    if m is not None:
        tag = f"{build.version}-cuda{cuda.major}.{cuda.minor}-cudnn{cudnn}-{m[3]}"
        new = span.text[: m.start()] + f"pytorch/pytorch:{tag}" + span.text[m.end() :]
        return Replacement(span=span, text=new)
    if not re.match(r"\s*FROM\s", span.text, re.IGNORECASE):
        return None
    # the tag written with build arguments (pytorch/pytorch:${PYTORCH}-cuda${CUDA}-...):
    # the FROM names the image literally
    flavor = "devel" if "devel" in span.text else "runtime"
    tag = f"{build.version}-cuda{cuda.major}.{cuda.minor}-cudnn{cudnn}-{flavor}"
    return Replacement(span=span, text=_from_with(span.text, f"pytorch/pytorch:{tag}"))


def base_replacement(pf: PlanFacts, host: Facts | None, matrix: Matrix) -> Replacement | None:
    """An nvidia/cuda FROM moved to the newest CUDA image the host driver fully supports,
    keeping its flavor, cuDNN and (where that version has it) its OS."""
    base = pf.plan.base
    driver = driver_of(host)
    if base is None or base.cuda is None or driver is None:
        return None
    if repository_kind(base.reference.value) != "nvidia-cuda":
        return None
    from envlock.matrix import DriverSupport

    current = matrix.driver_support(driver, Version.parse(base.cuda.value))
    if current.support is DriverSupport.FULL:
        return None  # the image runs on this driver as it is
    chosen = _cuda_image(driver, matrix)
    if chosen is None:
        return None
    parts = [chosen.version]
    if base.cudnn_major is not None:
        parts.append(chosen.cudnn)
    parts.append(base.flavor.value if base.flavor else "runtime")
    os_tag = base.os.value if base.os and base.os.value in chosen.os else chosen.os[0]
    parts.append(os_tag)
    old_ref = base.reference.value
    new_ref = f"{old_ref.rsplit(':', 1)[0]}:{'-'.join(parts)}"
    text = base.reference.span.text
    if old_ref in text:  # as written (a compose image: line, a literal FROM)
        return Replacement(span=base.reference.span, text=text.replace(old_ref, new_ref, 1))
    if pf.plan.kind != "dockerfile":
        return None
    return Replacement(span=base.reference.span, text=_from_with(text, new_ref))


def _cuda_image(driver: Version, matrix: Matrix) -> CudaImage | None:
    from envlock.matrix import DriverSupport

    for image in sorted(
        image_table().cuda_images, key=lambda c: Version.parse(c.version), reverse=True
    ):
        cuda = Version.parse(image.version).truncate(2)
        if matrix.driver_support(driver, cuda).support is DriverSupport.FULL:
            return image
    return None


def _from_with(text: str, reference: str) -> str:
    """A FROM instruction with its image word replaced (flags and AS name kept)."""
    m = re.match(r"(\s*FROM\s+(?:--\S+\s+)*)(\S+)(.*)", text, re.IGNORECASE | re.S)
    if m is None:
        return f"FROM {reference}"
    return f"{m[1]}{reference}{m[3]}"


def family_replacement(pf: PlanFacts) -> Replacement | None:
    """The torchvision/torchaudio/torchtext pins of the instruction that states them, moved
    to the series the planned torch pairs with (family.toml)."""
    torch = pf.torch
    if torch is None or Version.of(torch.version) is None:
        return None
    row = load_family().row_for_torch(Version.parse(torch.version))
    if row is None:
        return None
    for member in PAIRED:
        span = pf.origins.get(f"package:{member}")
        series = row.members.get(member)
        if span is None or series is None:
            continue
        text = _requirement_token(member).sub(_member_pin(member, series), span.text)
        if text == span.text and span.end_line == span.line and "==" in span.text:
            text = f"{member}=={series}.*"  # a requirements line written another way
        if text != span.text:
            return Replacement(span=span, text=text)
    return None


def stray_wheels(pf: PlanFacts) -> list[tuple[str, Span]]:
    """(name, where pinned) of the plan's pinned wheels of another CUDA major than the
    wheels its torch pulls in."""
    major = torch_wheel_major(pf.torch)
    if major is None:
        return []
    return [
        (w.name, span)
        for w in pf.facts.cuda.wheels
        if w.cuda_major not in (None, major)
        and (span := pf.origins.get(f"package:{w.name}")) is not None
    ]


def _counterpart(name: str, major: int) -> str | None:
    """nvidia-cublas-cu12 -> nvidia-cublas (CUDA 13's), nvidia-nccl-cu13 -> nvidia-nccl-cu12:
    the wheel of torch's CUDA major that torch itself pins, None where torch has none."""
    base = re.sub(r"-cu\d+$", "", name)
    return next((w for w in TORCH_WHEELS[major] if re.sub(r"-cu\d+$", "", w) == base), None)


def _renamed(name: str, m: re.Match[str]) -> str:
    return f"{m[1]}{name}{m[1]}"  # the quotes kept, the version dropped


def wheels_replacement(pf: PlanFacts) -> Replacement | None:
    """The instruction pinning a stray wheel, its pin moved to torch's CUDA major unpinned
    (torch's own pin decides the version), or dropped where torch has no such wheel."""
    strays = stray_wheels(pf)
    major = torch_wheel_major(pf.torch)
    if not strays or major is None:
        return None
    span = strays[0][1]
    text = span.text
    for name, where in strays:
        if where != span:
            continue
        other = _counterpart(name, major)
        token = _requirement_token(name)
        if other is not None:
            text = token.sub(functools.partial(_renamed, other), text)
        else:  # the word and the blank before it
            text = re.sub(r"[ \t]+" + token.pattern, "", text)
    # dropping the only package leaves `pip install` with nothing: no replacement then
    if re.search(r"\binstall(?:\s+-\S+)*\s*(?:$|&&|;|\|)", text):
        return None
    return Replacement(span=span, text=text) if text != span.text else None

"""Is the torch wheel a fix recommends really on its index, for this Python, CPU and glibc?

The matrix says which (release, CUDA variant) runs on a GPU and driver; that the index
holds a wheel of it for the machine's interpreter and platform is a separate fact, read
from the variant index's PEP 691 page (the client of install/fetch.py, under its deadline
and bounds). What `uv --torch-backend=auto` lacks (astral-sh/uv#14742). Offline, or when
the index does not answer, the check is skipped with a note: never an error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from envlock.errors import RestoreError
from envlock.install.fetch import Budget, fetch_page, opener
from envlock.install.files import platform_tags
from envlock.install.indexurl import Index

# the variants' index (download.pytorch.org/whl/<variant>); a mirror or a test's fake
# index replaces it through ENVLOCK_TORCH_INDEX
TORCH_INDEX = "https://download.pytorch.org/whl/"
TIMEOUT_S = 10.0


@dataclass(frozen=True, kw_only=True, slots=True)
class WheelCheck:
    """found: True (a wheel fits), False (the index has none for this platform), None
    (not checked: the index did not answer); note: what was found or why not."""

    found: bool | None
    note: str


def torch_index() -> str:
    base = os.environ.get("ENVLOCK_TORCH_INDEX", "").strip() or TORCH_INDEX
    return base if base.endswith("/") else base + "/"


def confirm_torch_wheel(
    release: str,
    variant: str,
    *,
    python: str,
    arch: str,
    glibc: str | None,
    timeout: float = TIMEOUT_S,
) -> WheelCheck:
    """Whether `torch==<release>.*` of `variant` (cu128, cpu) has a wheel on its index
    that an installer on CPython `python`, `arch` and `glibc` accepts."""
    where = _index_url(release, variant)
    if isinstance(where, WheelCheck):
        return where
    try:
        index = Index.parse(where, where="ENVLOCK_TORCH_INDEX")
        accepted = platform_tags(python, arch, glibc)
        budget = Budget(timeout)
        page, _ = fetch_page(opener(budget), budget, index, "torch")
    except (RestoreError, OSError) as exc:
        return WheelCheck(found=None, note=f"not confirmed on the index (offline?): {exc}")
    platform = f"Python {python}, {arch}" + (f", glibc {glibc}" if glibc else "")
    fits = _fitting(page, release, variant, accepted)
    if fits:
        return WheelCheck(found=True, note=f"on {index.shown}: {fits[-1]} ({platform})")
    return WheelCheck(
        found=False,
        note=f"{index.shown} has no torch {release} wheel for {platform}",
    )


def _index_url(release: str, variant: str) -> str | WheelCheck:
    """The index pytorch.org's install command names for torch `release`'s `variant`
    build (matrix/indexes.toml, through family.index_for), under ENVLOCK_TORCH_INDEX's
    base; or the answer where there is none to read: a ROCm or XPU tag the table does
    not hold is never fetched from an invented URL (whl/rocm6.2.3), and a release
    pytorch.org installs from a find-links page (-f torch_stable.html) has no PEP 691
    index. A CUDA or CPU build of a release the table does not cover: its variant index."""
    from envlock.matrix.advice import INDEX_URL
    from envlock.matrix.family import index_for, load_indexes
    from envlock.matrix.versions import Version

    version = Version.of(release)
    index = index_for(version, variant) if version is not None else None
    if index is None and variant.lower().startswith(("rocm", "xpu")):
        if version is not None and load_indexes().recorded(version):
            return WheelCheck(
                found=False,
                note=f"torch {release} {variant} is not a download.pytorch.org build",
            )
        return WheelCheck(
            found=None,
            note=f"not checked: envlock records no index for torch {release} {variant}",
        )
    if index is None:
        return f"{torch_index()}{variant}"
    if index.form == "find-links":
        return WheelCheck(
            found=None,
            note=f"not checked: pytorch.org installs torch {release} {variant} with "
            f"{index.option} (a find-links page, no PEP 691 index)",
        )
    return torch_index() + index.url.removeprefix(INDEX_URL)


def _fitting(page: dict[str, object], release: str, variant: str, accepted: set[str]) -> list[str]:
    """The wheel names of torch <release>.* on the page whose local tag is `variant` (or
    none: a variant index's default build) and whose tags the platform accepts."""
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    want = tuple(int(p) for p in release.split("."))
    files = page.get("files")
    out = []
    for entry in files if isinstance(files, list) else ():
        name = entry.get("filename") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name.endswith(".whl"):
            continue
        if entry.get("yanked") not in (None, False):
            continue
        try:
            project, version, _, tags = parse_wheel_filename(name)
        except InvalidWheelFilename:
            continue
        if project != "torch" or version.release[: len(want)] != want:
            continue
        if version.local not in (None, variant) or not any(str(t) in accepted for t in tags):
            continue
        out.append(name)
    return sorted(out)

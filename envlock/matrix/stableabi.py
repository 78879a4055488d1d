"""Extensions built against torch's stable ABI: a build for torch X runs on X and on every
later torch, so only an older torch than its build is another ABI.

- xFormers from 0.0.34 on: its CHANGELOG (0.0.34, 2026-01-23) says "Migrated xFormers to the
  PyTorch stable API/ABI, which means that binary builds targeting PyTorch 2.10+ will be
  compatible with any later version"; its setup.py passes -DTORCH_STABLE_ONLY and
  -DTORCH_TARGET_VERSION=0x020a000000000000 (torch 2.10) for CUDA builds only ("For now we
  enforce the PyTorch stable ABI only for CUDA builds (not HIP)").

torchaudio's stable ABI (from 2.11) is a torch family pairing: matrix/family.toml [stable_abi].
"""

from __future__ import annotations

from envlock.matrix.versions import Version

# distribution -> (its first version built against the stable ABI, the first torch targeted)
_STABLE_SINCE: dict[str, tuple[str, str]] = {"xformers": ("0.0.34", "2.10")}


def runs_on_later_torch(distribution: str, version: str | None, built_for: str | None) -> bool:
    """Whether a CUDA build of `distribution` `version`, made for torch `built_for`, runs on
    every torch release from `built_for` on (False where that is not known)."""
    since = _STABLE_SINCE.get(distribution.lower())
    v, built = Version.of(version), Version.of(built_for)
    if since is None or v is None or built is None:
        return False
    first, target = (Version.of(x) for x in since)
    return first is not None and target is not None and v >= first and built >= target


def other_abi(
    distribution: str, version: str | None, built_for: str | None, torch: str | None
) -> bool:
    """Whether a build made for torch `built_for` needs another torch release's C++ ABI than
    `torch`'s (major.minor: a patch release keeps the ABI; a stable-ABI build runs forward)."""
    b, t = Version.of(built_for), Version.of(torch)
    if b is None or t is None or b.truncate(2) == t.truncate(2):
        return False
    return not (runs_on_later_torch(distribution, version, built_for) and t > b)

"""Version numbers and CUDA arch targets for the matrix and the checks.

`Version` wraps a PEP 440 version (`envlock.versions`): release segments
compare as integers ("12.10" > "12.9", "12.0" == "12.0.0"), never as floats;
a pre-release sorts before its release ("2.6.0a0" < "2.6"), a local tag after
it ("2.14.1+cu130" > "2.14.1"). `truncate()` keeps release segments only, so
matrix look-ups by major.minor read NGC's "2.6.0a0+ecf3bae40a" as torch 2.6.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from envlock import versions
from envlock.versions import Pep440


class Version:
    """A version as envlock compares it; `text` is as written ("575.51.03"), for display."""

    __slots__ = ("pep440", "text")

    def __init__(self, parts: tuple[int, ...] | Pep440, text: str = "") -> None:
        if not isinstance(parts, Pep440):
            parts = Pep440(".".join(str(p) for p in parts))
        self.pep440: Pep440 = parts
        self.text = text

    @classmethod
    def parse(cls, text: str) -> Version:
        """PEP 440 ("2.14.1+cu130", "570.124.06"), else the first dotted integers; ValueError."""
        return cls(*versions.read(text))

    @classmethod
    def of(cls, text: str | None) -> Version | None:
        """parse(), or None for a missing or unreadable value (facts may carry either)."""
        if text is None:
            return None
        try:
            return cls.parse(text)
        except ValueError:
            return None

    @property
    def parts(self) -> tuple[int, ...]:
        """The release segments as written: "12.0" -> (12, 0), "2.6.0a0+x" -> (2, 6, 0)."""
        return self.pep440.release

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self.pep440 == other.pep440

    def __hash__(self) -> int:
        return hash(self.pep440)

    def __lt__(self, other: Version) -> bool:
        return self.pep440 < other.pep440

    def __le__(self, other: Version) -> bool:
        return self.pep440 <= other.pep440

    def __gt__(self, other: Version) -> bool:
        return self.pep440 > other.pep440

    def __ge__(self, other: Version) -> bool:
        return self.pep440 >= other.pep440

    def __str__(self) -> str:
        return self.text or str(self.pep440)

    def __repr__(self) -> str:
        return f"Version('{self}')"

    @property
    def major(self) -> int:
        return self.parts[0]

    @property
    def minor(self) -> int:
        return self.parts[1] if len(self.parts) > 1 else 0

    def truncate(self, n: int) -> Version:
        """The first n release segments, zero-padded; pre-release and local tag dropped."""
        return Version((self.parts + (0,) * n)[:n])

    def within(self, low: Version | None, high: Version | None) -> bool:
        """low <= self, and self <= high at high's own precision (high "12" admits 12.9.1)."""
        if low is not None and self < low:
            return False
        return high is None or self.truncate(len(high.parts)) <= high


def cuda_variant(cuda: Version) -> str:
    """The wheel variant tag of a CUDA version: 12.8 -> cu128, 13.0 -> cu130."""
    return f"cu{cuda.major}{cuda.minor}"


def variant_cuda(name: str) -> Version | None:
    """cu128 -> 12.8, cu130 -> 13.0; None for cpu, rocm6.2 and the like."""
    m = re.fullmatch(r"cu(\d+)(\d)", name)
    return Version((int(m.group(1)), int(m.group(2)))) if m else None


# ASCII digits, at most 3 for the major: sm_120 is real, sm_9999...9 (or "sm_\u0661\u0662") is not.
_FLAG = re.compile(r"^(sm|compute)_([0-9]{1,3})([0-9])([af]?)$")


@dataclass(frozen=True, kw_only=True, slots=True)
class ArchTarget:
    """One compiled target of a binary: SASS (sm_XY) or PTX (compute_XY).

    variant "a" (sm_90a) runs only on exactly that capability; "f" (sm_100f)
    on the same major with a minor at least as high.
    """

    capability: Version
    ptx: bool = False
    variant: str = ""

    @classmethod
    def from_flag(cls, flag: str) -> ArchTarget | None:
        """torch arch flags: "sm_86", "compute_120", "sm_90a"; None for anything else."""
        m = _FLAG.match(flag.strip())
        if m is None:
            return None
        return cls(
            capability=Version((int(m.group(2)), int(m.group(3)))),
            ptx=m.group(1) == "compute",
            variant=m.group(4),
        )

    @classmethod
    def from_arch_list_item(cls, item: str) -> list[ArchTarget]:
        """TORCH_CUDA_ARCH_LIST items: "8.6" -> SASS 8.6; "12.0+PTX" -> SASS and PTX 12.0."""
        text = item.strip()
        with_ptx = text.upper().endswith("+PTX")
        if with_ptx:
            text = text[: -len("+PTX")]
        cap = Version.parse(text).truncate(2)
        out = [cls(capability=cap)]
        if with_ptx:
            out.append(cls(capability=cap, ptx=True))
        return out

    def __str__(self) -> str:
        kind = "compute" if self.ptx else "sm"
        return f"{kind}_{self.capability.major}{self.capability.minor}{self.variant}"


def parse_arch_flags(flags: list[str]) -> list[ArchTarget]:
    """Arch flags as torch reports them; a single space-separated string is split too."""
    out: list[ArchTarget] = []
    for flag in flags:
        for token in flag.split():
            target = ArchTarget.from_flag(token)
            if target is not None:
                out.append(target)
    return out

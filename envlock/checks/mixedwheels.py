"""EL-WHEELS-MIXED-CUDA's finding: nvidia-* wheels of several CUDA majors.

What really breaks: suffixed wheels of two CUDA majors (nvidia-nccl-cu12 and -cu13) install
files at the same paths (nvidia/nccl/lib/libnccl.so.2), so the copy on disk is the last one
installed and uninstalling either deletes it. Other wheels of another major hold other
sonames (libcudart.so.12 beside a cu13 stack): torch never loads them; they are there for
the package that requires them. What requires a wheel is read from Requires-Dist by the
probe; a paste never says it, so there a removal waits for `pip show` (vllm#44335's
nvidia-cutlass-dsl-libs-cu13, which nvidia-cutlass-dsl needs, was once called unneeded).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from envlock.checks.context import CheckContext
from envlock.facts import WheelFacts
from envlock.findings import Finding, Severity


def mixed_wheels(ctx: CheckContext) -> Finding | None:
    wheels = ctx.facts.cuda.wheels
    by_major = _by_major(wheels)
    if len(by_major) < 2:
        return None
    torch_major = ctx.torch_cuda.major if ctx.torch_cuda else None
    if torch_major is None or torch_major not in by_major:
        # torch's CUDA unknown, or none of its wheels here: the major most wheels are for
        torch_major = max(by_major, key=lambda m: len(by_major[m]))
    strays = [w for w in wheels if w.cuda_major not in (None, torch_major)]
    clashes = _same_files(wheels, strays, torch_major)
    pulled = {w.name: w.required_by for w in strays}
    # a paste (partial facts) lists versions, never Requires-Dist
    observed = not (ctx.facts.meta.partial and ctx.driver.source == "pasted")
    mixed = Mixed(
        listing="; ".join(f"CUDA {m}: {', '.join(n)}" for m, n in sorted(by_major.items())),
        torch_major=torch_major,
        strays=strays,
        clashes=clashes,
        observed=observed,
    )
    severity, message, fix = mixed.clash() if clashes else mixed.apart()
    return Finding(
        check_id="EL-WHEELS-MIXED-CUDA",
        severity=severity,
        message=message,
        fix=fix,
        evidence={
            "cuda.wheels": {str(m): n for m, n in sorted(by_major.items())},
            "torch.cuda": ctx.facts.torch.cuda,
            "same_files": [[w.name, o.name] for w, o in clashes],
            "required_by (Requires-Dist)": pulled if observed else "not in the pasted text",
        },
    )


def _by_major(wheels: list[WheelFacts]) -> dict[int, list[str]]:
    """CUDA major -> "name version" of its wheels, in install order."""
    by_major: dict[int, list[str]] = {}
    for w in wheels:
        if w.cuda_major is not None:
            by_major.setdefault(w.cuda_major, []).append(f"{w.name} {w.version}")
    return by_major


# Suffixed wheels whose builds for each CUDA major install into a directory of that major,
# read from the wheels' file lists: nvidia-cutlass-dsl-libs-cu12/-cu13 4.7.1 install
# nvidia_cutlass_dsl/cu12/... and nvidia_cutlass_dsl/cu13/... (nvidia-cutlass-dsl requires
# the first always and the second with its cu13 extra); nvidia-nccl-cu12 2.27.3 and -cu13
# 2.29.7 both install nvidia/nccl/lib/libnccl.so.2, as the other CUDA library wheels do.
_OWN_DIRECTORY_PER_MAJOR = frozenset({"nvidia-cutlass-dsl-libs"})


def _suffix_base(name: str) -> str | None:
    """nvidia-nccl-cu12 -> nvidia-nccl; None for names without a -cuNN suffix, or whose
    builds for each major install apart."""
    m = re.fullmatch(r"(.+)-cu\d+", name)
    return m.group(1) if m and m.group(1) not in _OWN_DIRECTORY_PER_MAJOR else None


def _same_files(
    wheels: list[WheelFacts], strays: list[WheelFacts], torch_major: int
) -> list[tuple[WheelFacts, WheelFacts]]:
    """(stray, torch's) pairs of suffixed wheels that install the same library files."""
    ours = {w.name: w for w in wheels if w.cuda_major == torch_major}
    return [
        (w, o)
        for w in strays
        if (base := _suffix_base(w.name)) is not None
        for o in ours.values()
        if _suffix_base(o.name) == base
    ]


@dataclass(frozen=True, kw_only=True, slots=True)
class Mixed:
    """Wheels of several CUDA majors, and the two ways to say it."""

    listing: str  # "CUDA 12: name version, ...; CUDA 13: ..."
    torch_major: int
    strays: list[WheelFacts]  # of another CUDA major than torch's
    clashes: list[tuple[WheelFacts, WheelFacts]]  # (stray, torch's) installing the same files
    observed: bool  # Requires-Dist was read (not a paste)

    @property
    def who(self) -> str:
        """Which package pulled in each stray wheel, or that the facts do not say."""
        if not self.observed:
            return "what requires them is not in the pasted text"
        return "; ".join(
            f"{w.name} required by {', '.join(w.required_by) or 'no installed package'}"
            for w in self.strays
        )

    def _unless_required(self, names: list[str]) -> str:
        """On a paste, the condition a removal waits for."""
        if self.observed:
            return ""
        return f"if `pip show {' '.join(names)}` gives each an empty Required-by: "

    def clash(self) -> tuple[Severity, str, str]:
        pairs = ", ".join(f"{w.name} and {o.name}" for w, o in self.clashes)
        message = (
            f"nvidia-* wheels for several CUDA majors are installed ({self.listing}): {pairs} "
            "install the same library files, so the copy on disk is whichever was installed last and "
            f"uninstalling either deletes it ({self.who})"
        )
        gone = [w.name for w, _ in self.clashes]
        back = " ".join(f"{o.name}=={o.version}" for _, o in self.clashes)
        needs = sorted({r for w, _ in self.clashes for r in w.required_by})
        need = (
            f"{', '.join(needs)} needs {', '.join(w.name for w, _ in self.clashes if w.required_by)}"
            f": install its CUDA {self.torch_major} build or run it in its own environment, then "
            if needs
            else self._unless_required(gone)
        )
        fixes = [
            f"{need}pip uninstall -y {' '.join(gone)} && pip install --force-reinstall --no-deps "
            f"{back} (the uninstall removes the shared files, the reinstall puts torch's copies "
            "back)"
        ]
        # the strays that share no files with torch's wheels and that nothing requires go
        # too: left alone, the wheels of two majors stay (vllm#18580's nvidia-nvjitlink-cu12
        # beside torch's cu118 stack), and this check fires again on what the fix left
        unneeded = [w.name for w in self.strays if w.name not in gone and not w.required_by]
        if unneeded:
            why = " (no installed package requires them)" if self.observed else ""
            fixes.append(
                f"{self._unless_required(unneeded)}pip uninstall -y {' '.join(unneeded)}{why}"
            )
        return Severity.ERROR, message, "; ".join(fixes)

    def apart(self) -> tuple[Severity, str, str]:
        message = (
            f"nvidia-* wheels for several CUDA majors are installed ({self.listing}): their "
            f"libraries carry other sonames than torch's CUDA {self.torch_major} ones, so torch "
            f"does not load them ({self.who}); two CUDA runtimes in one process work, but each "
            "package uses its own"
        )
        names = [w.name for w in self.strays]
        required = sorted({r for w in self.strays for r in w.required_by})
        if required:
            fix = f"nothing to do for torch; keep them: {', '.join(required)} requires them"
        elif self.observed:
            fix = f"pip uninstall -y {' '.join(names)} frees the space: no installed package requires them"
        else:
            fix = (
                f"nothing to do for torch; {self._unless_required(names)}"
                f"pip uninstall -y {' '.join(names)} frees the space"
            )
        return Severity.INFO, message, fix

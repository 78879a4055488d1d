"""Which official torch wheels run on given GPUs and driver: `envlock matrix` and fix hints."""

from __future__ import annotations

from dataclasses import dataclass, field

from envlock.matrix.model import (
    Coverage,
    DriverSupport,
    DriverVerdict,
    Matrix,
    TorchRelease,
    TorchVariant,
)
from envlock.matrix.versions import Version

INDEX_URL = "https://download.pytorch.org/whl/"


@dataclass(frozen=True, kw_only=True, slots=True)
class Fit:
    """One torch release + CUDA variant judged against GPUs, a driver and a Python."""

    release: TorchRelease
    variant: TorchVariant
    runs: bool | None  # None: cannot tell (arch list UNVERIFIED or unknown)
    driver: DriverVerdict | None  # None: no driver given
    coverage: dict[str, Coverage] = field(default_factory=dict)  # by capability
    problems: list[str] = field(default_factory=list)  # why it does not run
    caveats: list[str] = field(default_factory=list)  # runs, but ...
    needs_driver: Version | None = None  # driver unknown: runs with a driver >= this
    arch_unknown: bool = False  # GPU coverage rests on an unknown or UNVERIFIED arch list

    @property
    def runs_if_driver(self) -> bool:
        """Nothing but the unknown driver stands in the way."""
        return (
            self.runs is None
            and self.needs_driver is not None
            and not self.problems
            and not self.arch_unknown
        )

    @property
    def full(self) -> bool:
        """Runs with no caveat about the driver (no minor-version compatibility)."""
        return bool(self.runs) and (
            self.driver is None or self.driver.support is DriverSupport.FULL
        )

    def pip_command(self) -> str:
        return pip_command(self.release.release, self.variant.name)


def pip_command(release: Version, variant: str) -> str:
    return f'pip install "torch=={release}.*" --index-url {INDEX_URL}{variant}'


def evaluate(
    matrix: Matrix,
    *,
    capabilities: list[Version],
    driver: Version | None,
    os_name: str = "linux",
    python: Version | None = None,
) -> list[Fit]:
    """Every (release, variant) in the matrix, newest release and CUDA first."""
    fits: list[Fit] = []
    for release in sorted(matrix.torch, key=lambda r: r.release, reverse=True):
        for variant in sorted(release.variants, key=lambda v: v.cuda, reverse=True):
            fits.append(_judge(matrix, release, variant, capabilities, driver, os_name, python))
    return fits


def best(fits: list[Fit]) -> Fit | None:
    """The newest release that runs; within it the highest CUDA with full driver support,
    else the highest CUDA that runs through minor-version compatibility. With the driver
    unknown, the same among the builds that run given a new enough driver."""
    running = [f for f in fits if f.runs] or [f for f in fits if f.runs_if_driver]
    if not running:
        return None
    newest = max(f.release.release for f in running)
    same = sorted(
        (f for f in running if f.release.release == newest),
        key=lambda f: f.variant.cuda,
        reverse=True,
    )
    return next((f for f in same if f.full), same[0])


def _judge(
    matrix: Matrix,
    release: TorchRelease,
    variant: TorchVariant,
    capabilities: list[Version],
    driver: Version | None,
    os_name: str,
    python: Version | None,
) -> Fit:
    problems: list[str] = []
    caveats: list[str] = []
    unknown = False
    coverage: dict[str, Coverage] = {}
    targets = variant.targets
    arch_unknown = targets is None and bool(capabilities)
    for cc in capabilities:
        if targets is None:
            unknown = True
            continue
        cov = matrix.coverage(cc, targets)
        coverage[str(cc)] = cov
        if not cov.runs:
            problems.append(
                f"no kernels for compute capability {cc} "
                f"(wheel has {';'.join(variant.arch_list or ())})"
            )
        elif cov.sass is None and cov.ptx is not None:
            if "arch-list" in variant.unverified:
                # the PTX target is what a build script lists, not what a wheel was seen to hold
                unknown = arch_unknown = True
                caveats.append(
                    f"capability {cc} would run only through PTX JIT of {cov.ptx}, and this "
                    "wheel's PTX target is UNVERIFIED"
                )
            else:
                caveats.append(
                    f"capability {cc} only through PTX JIT of {cov.ptx} (slow first start)"
                )
    if targets is None and capabilities:
        caveats.append("arch list of this wheel is UNVERIFIED")
    cudnn = matrix.cudnn_range(variant.cudnn) if variant.cudnn is not None else None
    for cc in capabilities:
        if cudnn is not None and not cudnn.supports_capability(cc):
            problems.append(f"its cuDNN {variant.cudnn} does not support compute capability {cc}")
    verdict = None
    needs_driver = None
    if driver is None:
        # never "runs: yes" without a driver: it runs only on one new enough for its CUDA
        needs_driver = matrix.minor_floor(variant.cuda.major, os_name) or matrix.toolkit_driver(
            variant.cuda, os_name
        )
        unknown = True
        caveats.append(
            f"depends on the driver: needs >= {needs_driver}"
            + (
                f" ({matrix.toolkit_driver(variant.cuda, os_name)} for full CUDA "
                f"{variant.cuda} support)"
                if needs_driver != matrix.toolkit_driver(variant.cuda, os_name)
                else ""
            )
            if needs_driver
            else f"depends on the driver: CUDA {variant.cuda} is not in the matrix"
        )
    else:
        verdict = matrix.driver_support(driver, variant.cuda, os_name)
        if verdict.support is DriverSupport.TOO_OLD:
            problems.append(
                f"driver {driver} too old for CUDA {variant.cuda} "
                f"(needs >= {verdict.needed_minor or verdict.needed_full})"
            )
        elif verdict.support is DriverSupport.MINOR_COMPAT:
            jit_only = [cc for cc, cov in coverage.items() if cov.sass is None and cov.runs]
            if jit_only:
                # minor-version compatibility cannot JIT PTX from a newer toolkit
                problems.append(
                    f"capability {', '.join(jit_only)} needs PTX JIT, which a driver older "
                    f"than {verdict.needed_full} cannot do for CUDA {variant.cuda}"
                )
            caveats.append(
                f"driver {driver} runs CUDA {variant.cuda} only through minor-version "
                f"compatibility (toolkit driver {verdict.needed_full}; PTX JIT unavailable)"
            )
        elif verdict.support is DriverSupport.UNKNOWN:
            unknown = True
    if python is not None and not release.supports_python(python):
        problems.append(
            f"Python {python.truncate(2)} not supported ({release.python_min}-{release.python_max})"
        )
    runs: bool | None = False if problems else (None if unknown else True)
    return Fit(
        release=release,
        variant=variant,
        runs=runs,
        driver=verdict,
        coverage=coverage,
        problems=problems,
        caveats=caveats,
        needs_driver=needs_driver,
        arch_unknown=arch_unknown,
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class Remedy:
    """The roads out of a finding, computed by the matrix: another build that runs here as
    the machine is (the nearest release to the installed one), and/or a newer driver (with
    the build it then runs: the installed one where that is all it lacks)."""

    build: Fit | None = None
    driver_at_least: Version | None = None
    driver_build: Fit | None = None

    def roads(self) -> list[dict[str, str]]:
        """As data (a finding's evidence "fix.roads"): what to change, road by road."""
        out: list[dict[str, str]] = []
        if self.build is not None:
            out.append(
                {"torch": str(self.build.release.release), "variant": self.build.variant.name}
            )
        if self.driver_at_least is not None and self.driver_build is not None:
            out.append(
                {
                    "driver_at_least": str(self.driver_at_least),
                    "torch": str(self.driver_build.release.release),
                    "variant": self.driver_build.variant.name,
                }
            )
        return out


def _driver_only(f: Fit) -> bool:
    """It fails only because the driver is too old for its CUDA."""
    return (
        f.runs is False
        and f.driver is not None
        and f.driver.support is DriverSupport.TOO_OLD
        and f.driver.needed_full is not None
        and len(f.problems) == 1
        and f.problems[0].startswith("driver ")
        and not f.arch_unknown
    )


def remedy(
    fits: list[Fit],
    *,
    installed: Version | None,
    installed_variant: str | None,
    exclude_installed: bool = True,
    full_only: bool = False,
) -> Remedy:
    """Nearest first: the installed release, then the closest releases (the newer of two
    equally close); within a release full driver support first, then the highest CUDA."""
    releases = sorted({f.release.release for f in fits})
    here = installed.truncate(2) if installed is not None else None

    def distance(f: Fit) -> tuple[int, int]:
        r = f.release.release
        if here is None or here not in releases:
            return (0, -releases.index(r))  # nothing installed to stay near: the newest
        return (abs(releases.index(r) - releases.index(here)), -releases.index(r))

    def key(f: Fit) -> tuple[int, int, int, tuple[int, ...]]:
        d = distance(f)
        return (d[0], d[1], 0 if f.full else 1, tuple(-p for p in f.variant.cuda.parts))

    def same(f: Fit) -> bool:
        return (
            exclude_installed
            and here is not None
            and f.release.release == here
            and f.variant.name == installed_variant
        )

    running = [f for f in fits if f.runs and not same(f) and (f.full or not full_only)] or [
        f for f in fits if f.runs_if_driver and not same(f)
    ]
    build = min(running, key=key) if running else None
    # the driver road: the installed build itself when the driver is all it lacks, else the
    # nearest build that a newer driver would run, when it is nearer than the build road
    by_driver = [f for f in fits if _driver_only(f)]
    driver_build = next((f for f in by_driver if same(f) or _is(f, here, installed_variant)), None)
    if driver_build is None and by_driver:
        cand = min(by_driver, key=key)
        if build is None or key(cand) < key(build):
            driver_build = cand
    needed = (
        driver_build.driver.needed_full
        if driver_build is not None and driver_build.driver is not None
        else None
    )
    return Remedy(build=build, driver_at_least=needed, driver_build=driver_build)


def _is(f: Fit, release: Version | None, variant: str | None) -> bool:
    return release is not None and f.release.release == release and f.variant.name == variant

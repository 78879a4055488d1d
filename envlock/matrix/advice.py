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
    # driver known and all that stands in the way: the driver that clears it, one that
    # exists for these GPUs (None: no driver upgrade makes it run)
    driver_needed: Version | None = None
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


@dataclass(frozen=True, kw_only=True, slots=True)
class _Part:
    """What one concern (kernels, cuDNN, driver, Python) adds to a Fit, in Fit's order."""

    problems: tuple[str, ...] = ()
    caveats: tuple[str, ...] = ()
    unknown: bool = False  # this concern cannot be judged from what is known


def _judge(
    matrix: Matrix,
    release: TorchRelease,
    variant: TorchVariant,
    capabilities: list[Version],
    driver: Version | None,
    os_name: str,
    python: Version | None,
) -> Fit:
    coverage, kernels = _kernels(matrix, variant, capabilities)
    drv = _driver_part(matrix, variant, capabilities, driver, os_name, coverage)
    other = [
        *kernels.problems,
        *_dropped_problems(matrix, variant, capabilities),
        *_cudnn_problems(matrix, variant, capabilities),
        *_python_problems(release, python),
    ]
    problems = [*other, *drv.part.problems]
    unknown = kernels.unknown or drv.part.unknown
    runs: bool | None = False if problems else (None if unknown else True)
    return Fit(
        release=release,
        variant=variant,
        runs=runs,
        driver=drv.verdict,
        coverage=coverage,
        problems=problems,
        caveats=[*kernels.caveats, *drv.part.caveats],
        needs_driver=drv.needs_driver,
        # a driver upgrade is the whole road only when nothing else stands in the way
        driver_needed=None if other else drv.driver_needed,
        # the GPUs' coverage rests on an arch list that is unknown or UNVERIFIED
        arch_unknown=kernels.unknown,
    )


def _kernels(
    matrix: Matrix, variant: TorchVariant, capabilities: list[Version]
) -> tuple[dict[str, Coverage], _Part]:
    """The wheel's kernels (SASS, else PTX) for each GPU capability."""
    targets = variant.targets
    if targets is None:
        unverified = ("arch list of this wheel is UNVERIFIED",) if capabilities else ()
        return {}, _Part(caveats=unverified, unknown=bool(capabilities))
    coverage: dict[str, Coverage] = {}
    problems: list[str] = []
    caveats: list[str] = []
    unknown = False
    for cc in capabilities:
        cov = matrix.coverage(cc, targets)
        coverage[str(cc)] = cov
        if not cov.runs:
            problems.append(
                f"no kernels for compute capability {cc} "
                f"(wheel has {';'.join(variant.arch_list or ())})"
            )
        elif cov.sass is None and cov.ptx is not None:
            # the PTX target is what a build script lists, not what a wheel was seen to hold
            ptx_unverified = "arch-list" in variant.unverified
            unknown = unknown or ptx_unverified
            caveats.append(_ptx_caveat(cc, cov, ptx_unverified))
    return coverage, _Part(problems=tuple(problems), caveats=tuple(caveats), unknown=unknown)


def _ptx_caveat(cc: Version, cov: Coverage, unverified: bool) -> str:
    if unverified:
        return (
            f"capability {cc} would run only through PTX JIT of {cov.ptx}, and this "
            "wheel's PTX target is UNVERIFIED"
        )
    return f"capability {cc} only through PTX JIT of {cov.ptx} (slow first start)"


def _cudnn_problems(
    matrix: Matrix, variant: TorchVariant, capabilities: list[Version]
) -> list[str]:
    cudnn = matrix.cudnn_range(variant.cudnn) if variant.cudnn is not None else None
    return [
        f"its cuDNN {variant.cudnn} does not support compute capability {cc}"
        for cc in capabilities
        if cudnn is not None and not cudnn.supports_capability(cc)
    ]


def _dropped_problems(
    matrix: Matrix, variant: TorchVariant, capabilities: list[Version]
) -> list[str]:
    """CUDA majors drop architectures (12 dropped Kepler, 13 needs 7.5+): a build for a
    newer CUDA than the last toolkit of a GPU's capability cannot run on it."""
    out = []
    for cc in capabilities:
        cap = matrix.capability(cc)
        if cap is not None and cap.last_cuda is not None and variant.cuda > cap.last_cuda:
            out.append(
                f"CUDA {variant.cuda} no longer supports compute capability {cc} "
                f"(CUDA {cap.last_cuda} was its last toolkit)"
            )
    return out


@dataclass(frozen=True, kw_only=True, slots=True)
class _DriverPart:
    part: _Part
    verdict: DriverVerdict | None = None  # None: no driver given
    needs_driver: Version | None = None  # driver unknown: the one it would need
    driver_needed: Version | None = None  # driver known: the upgrade that clears it


def _driver_part(
    matrix: Matrix,
    variant: TorchVariant,
    capabilities: list[Version],
    driver: Version | None,
    os_name: str,
    coverage: dict[str, Coverage],
) -> _DriverPart:
    if driver is None:
        needs, part = _driver_unknown(matrix, variant, capabilities, os_name)
        return _DriverPart(part=part, needs_driver=needs)
    verdict = matrix.driver_support(driver, variant.cuda, os_name)
    cuda = _driver_known(verdict, driver, variant, coverage)
    gpus = [p for cc in capabilities if (p := matrix.driver_gpu_problem(driver, cc, os_name))]
    return _DriverPart(
        part=_Part(problems=(*cuda.problems, *gpus), caveats=cuda.caveats, unknown=cuda.unknown),
        verdict=verdict,
        driver_needed=_upgrade_clears(matrix, verdict, driver, capabilities, os_name)
        if cuda.problems or gpus
        else None,
    )


def _upgrade_clears(
    matrix: Matrix,
    verdict: DriverVerdict,
    driver: Version,
    capabilities: list[Version],
    os_name: str,
) -> Version | None:
    """The driver that clears every driver problem of a build: the newest of its CUDA's
    toolkit driver and each GPU architecture's first driver; None when the problem is not
    the driver's age, or no driver that new runs these GPUs (a legacy architecture)."""
    needs: list[Version] = []
    if verdict.support is DriverSupport.TOO_OLD:
        if verdict.needed_full is None:
            return None
        needs.append(verdict.needed_full)
    elif verdict.support is DriverSupport.MINOR_COMPAT:
        return None  # PTX JIT under minor-version compatibility: not a driver-only road
    for cc in capabilities:
        if matrix.driver_gpu_problem(driver, cc, os_name) is None:
            continue
        first = matrix.gpu_min_driver(cc, os_name)
        if first is None or first <= driver:  # past the architecture's last branch
            return None
        needs.append(first)
    need = max(needs) if needs else None
    if need is None or not matrix.driver_exists_for(need, capabilities, os_name):
        return None
    return need


def _driver_unknown(
    matrix: Matrix, variant: TorchVariant, capabilities: list[Version], os_name: str
) -> tuple[Version | None, _Part]:
    """No driver given: never "runs: yes"; it runs only on one new enough for its CUDA
    and for the GPUs' architectures, and never past an architecture's last driver."""
    needs_driver = matrix.minor_floor(variant.cuda.major, os_name) or matrix.toolkit_driver(
        variant.cuda, os_name
    )
    full = matrix.toolkit_driver(variant.cuda, os_name)
    firsts = [d for cc in capabilities if (d := matrix.gpu_min_driver(cc, os_name))]
    if needs_driver is not None and firsts:
        needs_driver = max(needs_driver, *firsts)
    if needs_driver is not None and not matrix.driver_exists_for(
        needs_driver, capabilities, os_name
    ):
        return None, _Part(
            problems=(_past_last_branch(matrix, variant, needs_driver, capabilities),)
        )
    caveat = (
        f"depends on the driver: needs >= {needs_driver}"
        + (f" ({full} for full CUDA {variant.cuda} support)" if needs_driver != full else "")
        if needs_driver
        else f"depends on the driver: CUDA {variant.cuda} is not in the matrix"
    )
    return needs_driver, _Part(caveats=(caveat,), unknown=True)


def _past_last_branch(
    matrix: Matrix, variant: TorchVariant, needs: Version, capabilities: list[Version]
) -> str:
    archs = [a for cc in capabilities if (a := matrix.architecture(cc)) is not None]
    last = min((a for a in archs if a.last_branch is not None), key=lambda a: a.last_branch or 0)
    return (
        f"CUDA {variant.cuda} needs a driver >= {needs}, but R{last.last_branch} is the last "
        f"driver branch for {last.name} GPUs"
    )


def _driver_known(
    verdict: DriverVerdict, driver: Version, variant: TorchVariant, coverage: dict[str, Coverage]
) -> _Part:
    if verdict.support is DriverSupport.TOO_OLD:
        return _Part(
            problems=(
                f"driver {driver} too old for CUDA {variant.cuda} "
                f"(needs >= {verdict.needed_minor or verdict.needed_full})",
            )
        )
    if verdict.support is DriverSupport.MINOR_COMPAT:
        jit_only = [cc for cc, cov in coverage.items() if cov.sass is None and cov.runs]
        # minor-version compatibility cannot JIT PTX from a newer toolkit
        problems = (
            (
                f"capability {', '.join(jit_only)} needs PTX JIT, which a driver older "
                f"than {verdict.needed_full} cannot do for CUDA {variant.cuda}",
            )
            if jit_only
            else ()
        )
        caveat = (
            f"driver {driver} runs CUDA {variant.cuda} only through minor-version "
            f"compatibility (toolkit driver {verdict.needed_full}; PTX JIT unavailable)"
        )
        return _Part(problems=problems, caveats=(caveat,))
    return _Part(unknown=verdict.support is DriverSupport.UNKNOWN)


def _python_problems(release: TorchRelease, python: Version | None) -> list[str]:
    if python is None or release.supports_python(python):
        return []
    return [
        f"Python {python.truncate(2)} not supported ({release.python_min}-{release.python_max})"
    ]


@dataclass(frozen=True, kw_only=True, slots=True)
class Remedy:
    """The roads out of a finding, computed by the matrix: another build that runs here as
    the machine is (the nearest release to the installed one), and/or a newer driver (with
    the build it then runs: the installed one where that is all it lacks)."""

    build: Fit | None = None
    driver_at_least: Version | None = None
    driver_build: Fit | None = None
    installed: Version | None = None  # the installed release (X.Y)

    @property
    def driver_first(self) -> bool:
        """Roads by cost: another build of the installed release first, then a driver
        upgrade, then another release; so the driver comes first when the build road
        changes the release and the driver road does not."""
        return (
            self.build is not None
            and self.driver_build is not None
            and self.driver_at_least is not None
            and self.build.release.release != self.installed
            and self.driver_build.release.release == self.installed
        )

    def roads(self) -> list[dict[str, str]]:
        """As data (a finding's evidence "fix.roads"): what to change, road by road, in
        the order of their cost."""
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
        return out[::-1] if self.driver_first else out


def _driver_only(f: Fit) -> bool:
    """It fails only because the driver is too old (for its CUDA or for the GPUs), and a
    driver that clears it exists for these GPUs."""
    return f.runs is False and f.driver_needed is not None and not f.arch_unknown


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
    near = _Nearness(
        releases=sorted({f.release.release for f in fits}),
        here=installed.truncate(2) if installed is not None else None,
        variant=installed_variant,
        exclude_installed=exclude_installed,
    )
    build = _build_road(fits, near, full_only)
    driver_build = _driver_road(fits, near, build)
    needed = driver_build.driver_needed if driver_build is not None else None
    return Remedy(
        build=build, driver_at_least=needed, driver_build=driver_build, installed=near.here
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class _Nearness:
    """How near a build is to the installed one (remedy's order)."""

    releases: list[Version]  # every release judged, oldest first
    here: Version | None  # the installed release (X.Y)
    variant: str | None  # the installed variant
    exclude_installed: bool

    def distance(self, f: Fit) -> tuple[int, int]:
        r = f.release.release
        if self.here is None or self.here not in self.releases:
            return (0, -self.releases.index(r))  # nothing installed to stay near: the newest
        return (
            abs(self.releases.index(r) - self.releases.index(self.here)),
            -self.releases.index(r),
        )

    def key(self, f: Fit) -> tuple[int, int, int, tuple[int, ...]]:
        d = self.distance(f)
        return (d[0], d[1], 0 if f.full else 1, tuple(-p for p in f.variant.cuda.parts))

    def same(self, f: Fit) -> bool:
        return (
            self.exclude_installed
            and self.here is not None
            and f.release.release == self.here
            and f.variant.name == self.variant
        )


def _build_road(fits: list[Fit], near: _Nearness, full_only: bool) -> Fit | None:
    """The nearest other build that runs here as the machine is (with the driver unknown:
    that would run given a new enough driver)."""
    running = [f for f in fits if f.runs and not near.same(f) and (f.full or not full_only)] or [
        f for f in fits if f.runs_if_driver and not near.same(f)
    ]
    return min(running, key=near.key) if running else None


def _driver_road(fits: list[Fit], near: _Nearness, build: Fit | None) -> Fit | None:
    """The installed build itself when the driver is all it lacks, else the nearest build
    that a newer driver would run, when it is nearer than the build road."""
    by_driver = [f for f in fits if _driver_only(f)]
    driver_build = next(
        (f for f in by_driver if near.same(f) or _is(f, near.here, near.variant)), None
    )
    if driver_build is None and by_driver:
        cand = min(by_driver, key=near.key)
        if build is None or near.key(cand) < near.key(build):
            driver_build = cand
    return driver_build


def _is(f: Fit, release: Version | None, variant: str | None) -> bool:
    return release is not None and f.release.release == release and f.variant.name == variant


@dataclass(frozen=True, kw_only=True, slots=True)
class Unservable:
    """A GPU no official build runs on with any driver that exists for it: why, and the
    last toolkit that still compiles for it (what a source build must use)."""

    capability: Version
    reason: str
    last_cuda: Version | None


def unservable(matrix: Matrix, cc: Version, os_name: str = "linux") -> Unservable | None:
    """None when some build of the matrix runs on `cc` given the right driver, or when
    that cannot be ruled out (an unknown arch list); else why none does."""
    fits = evaluate(matrix, capabilities=[cc], driver=None, os_name=os_name)
    if not fits or any(not f.problems for f in fits):
        return None
    with_kernels = [f for f in fits if (c := f.coverage.get(str(cc))) is not None and c.runs]
    cap = matrix.capability(cc)
    if not with_kernels:
        reason = f"no official torch wheel has kernels for compute capability {cc}"
    else:
        reason = (
            "every official torch wheel with its kernels fails here: " + with_kernels[0].problems[0]
        )
    return Unservable(
        capability=cc, reason=reason, last_cuda=cap.last_cuda if cap is not None else None
    )

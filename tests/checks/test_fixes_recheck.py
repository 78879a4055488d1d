"""Issue 10, item 5: every fix that names a build or a driver is re-checked; issue 21:
also over every pasted report of the corpus, and every class of fix a paste can raise.

For every scenario the check tests hold (tests/checks/test_checks.py CASES, the
recorded and derived fixtures) and the scenarios of the issue, each finding
that names a build or a driver carries its roads as data (evidence
"fix.roads", computed by envlock.matrix.advice). Each road is applied to the
facts as pip or a driver upgrade would change them (torch version, CUDA,
arch flags, cuDNN, NCCL and their wheels; driver version and its CUDA), the
checks run again, and the finding must be gone with no new error.

The pasted reports (tests/fixtures/collect_env/corpus.json, its tuning part, read when the
tests are collected so reports added later flow in) raise fixes of other classes too: a
family member to reinstall, a CPU wheel, one of two torch installs to remove, a toolkit to
point CUDA_HOME at, the GPUs to pin. Each class has an applier below that changes the
facts as following the printed fix would (pip lines are read from the fix text itself);
a class with none fails the test until it gets one.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import shlex
from collections.abc import Callable
from typing import Any

import pytest

from envlock.checks.registry import run_checks
from envlock.checks.triage import top_finding
from envlock.facts import Facts, GpuFacts, ToolkitFacts, WheelFacts
from envlock.findings import Finding, Severity
from envlock.matrix import Version, cuda_variant, load_matrix
from envlock.matrix.family import PAIRED
from envlock.pasted import facts_from_texts
from envlock.pasted.glibcneed import GLIBC_MISSING
from envlock.pasted.nccl_log import SHM_DENIED
from tests.checks.test_checks import CASES, _driver, _env, _live, _torch
from tests.conftest import FIXTURES
from tests.facts_builders import cpu_venv, cuda_venv, edit, gpu, h100_host, with_gpus

_WHEEL_LIBS = ("nvidia-cudnn", "nvidia-nccl")


def _flags(variant: Any) -> list[str]:
    return [str(t) for t in variant.targets]


def apply_road(facts: Facts, road: dict[str, str]) -> Facts:
    """The facts after following one road of a fix."""
    m = load_matrix()
    if road.get("python"):  # a Python the build supports first (EL-TORCH-MISSING on Python 2.7)
        facts = edit(facts, "system.python.version", f"{road['python']}.0")
    if road.get("conda_remove"):  # conda's torch family removed before pip installs
        facts = _conda_remove(facts, road["conda_remove"].split())
    if "driver_at_least" in road:
        v = road["driver_at_least"]
        cuda = m.newest_cuda_for_driver(Version.parse(v))
        assert cuda is not None, v
        facts = _driver(facts, v, str(cuda))
        if not road.get("torch") or _keeps_unreleased(facts, road):
            return facts
    if road["variant"] == "cpu":  # the CPU wheel (issue 21: no build serves the GPU)
        facts = _cpu_build(facts, f"{road['torch']}.0+cpu")
        pins = {m: f"{road[m]}.0+cpu" for m in PAIRED if m in road}
        return edit(facts, "packages.distributions", {**facts.packages.distributions, **pins})
    release = m.torch_release(Version.parse(road["torch"]))
    assert release is not None
    variant = release.variant(road["variant"])
    assert variant is not None
    installed = Version.of(facts.torch.version) if facts.torch.installed else None
    if road.get("exact"):  # an exact pin ("torch==1.9.1+cu111", pytorch.org's old lines)
        base = road["exact"]
    elif installed is not None and installed.truncate(2) == release.release:
        base = ".".join(str(p) for p in installed.parts)
    else:
        base = f"{release.release}.0"
    if facts.torch.version == f"{base}+{variant.name}":
        return facts  # the road keeps this build (a driver upgrade)
    assert variant.targets is not None  # a road to a build never rests on an unknown list
    facts = edit(facts, "torch.installed", True)
    facts = _torch(facts, f"{base}+{variant.name}", str(variant.cuda))
    major = variant.cuda.major
    wheels = [w for w in facts.cuda.wheels if not w.name.startswith(_WHEEL_LIBS)]
    if variant.cudnn is not None:
        cudnn = variant.cudnn_pypi or variant.cudnn
        wheels.append(
            WheelFacts(name=f"nvidia-cudnn-cu{major}", version=str(cudnn), cuda_major=major)
        )
    if variant.nccl is not None:
        wheels.append(
            WheelFacts(name=f"nvidia-nccl-cu{major}", version=str(variant.nccl), cuda_major=major)
        )
    wheels = [w for w in wheels if w.cuda_major in (None, major)]  # pip replaces the stack
    facts = edit(facts, "cuda.wheels", wheels)
    dists = {n: v for n, v in facts.packages.distributions.items() if not n.startswith("nvidia-")}
    dists.update({w.name: w.version for w in wheels if w.name.startswith("nvidia-")})
    if "torch" in dists:
        dists["torch"] = f"{base}+{variant.name}"
    # the family members the fix reinstalls with torch (pip leaves the others as they are)
    dists.update({m: f"{road[m]}.0+{variant.name}" for m in PAIRED if m in road})
    facts = _pip_listed_by_conda(edit(facts, "packages.distributions", dists))
    if facts.torch.live is not None:
        cudnn_v = variant.cudnn.truncate(3) if variant.cudnn is not None else None
        facts = _live(
            facts,
            arch_flags=_flags(variant),
            # torch's floor: the least of the new build's list, as its probe reads it
            min_capability=str(min(t.capability for t in variant.targets)),
            cudnn_version=str(cudnn_v) if cudnn_v else None,
            nccl_version=str(variant.nccl) if variant.nccl else None,
            loaded_libraries=[],
            # not observable before the new build runs: the checks that need it stay quiet
            cuda_available=None,
            cuda_unavailable_reason=None,
        )
    return facts


def _keeps_unreleased(facts: Facts, road: dict[str, str]) -> bool:
    """A driver road that keeps an installed build of no release the matrix holds
    (NVIDIA's 1.14.0a0 of pytorch#91351): nothing to install."""
    installed, cuda = Version.of(facts.torch.version), Version.of(facts.torch.cuda)
    return (
        load_matrix().torch_release(Version.parse(road["torch"])) is None
        and installed is not None
        and cuda is not None
        and str(installed.truncate(2)) == road["torch"]
        and cuda_variant(cuda) == road["variant"]
    )


def _conda_remove(facts: Facts, names: list[str]) -> Facts:
    """`conda remove --force NAMES`: conda's records of them go, and pip's list with them
    where pip listed conda's install (its torchvision)."""
    conda = dict(facts.toolchain.conda_packages)
    assert all(n in conda for n in names), (names, conda)  # the fix names what conda lists
    for name in names:
        conda.pop(name)
    facts = edit(facts, "toolchain.conda_packages", conda)
    # pip's record of conda's torch stays: the pip line installs torch again (apply_road)
    dists = {n: v for n, v in facts.packages.distributions.items() if n not in names}
    return edit(facts, "packages.distributions", dists)


def _pip_listed_by_conda(facts: Facts) -> Facts:
    """conda lists what pip installed into its environment ("1.3.1 pypi_0", older conda's
    "1.6.0 <pip>") from pip's own records: after pip's install, at the version pip has."""
    dists = facts.packages.distributions
    conda = {
        n: f"{dists[n]} {v.partition(' ')[2]}"
        if n in dists and v.partition(" ")[2].startswith(("pypi", "<pip>"))
        else v
        for n, v in facts.toolchain.conda_packages.items()
    }
    return edit(facts, "toolchain.conda_packages", conda)


def _cpu_build(facts: Facts, version: str) -> Facts:
    """pip's CPU wheel: no CUDA, no nvidia-* wheels, no GPU arch flags."""
    facts = _torch(edit(facts, "torch.installed", True), version, None)
    facts = edit(facts, "cuda.wheels", [])
    dists = {n: v for n, v in facts.packages.distributions.items() if not n.startswith("nvidia-")}
    facts = edit(facts, "packages.distributions", dists)
    if facts.torch.live is not None:
        facts = _live(
            facts,
            arch_flags=[],
            min_capability=None,
            cudnn_version=None,
            nccl_version=None,
            loaded_libraries=[],
            cuda_available=None,
            cuda_unavailable_reason=None,
        )
    return facts


def _subject(f: Finding) -> tuple[object, ...]:
    """What a finding is about: its check, and the family member or GPU it names where the
    check raises one finding each (a fix for torchaudio leaves torchvision's own finding)."""
    return (f.check_id, f.evidence.get("package"), f.evidence.get("gpu.index"))


def _errors(found: list[Finding]) -> set[str]:
    return {f.check_id for f in found if f.severity is Severity.ERROR}


def _recheck(
    facts: Facts, host: Facts | None = None, expect: tuple[str, ...] = ()
) -> list[tuple[str, dict[str, str]]]:
    """Every (finding, road) re-checked; returns what was checked."""
    before = run_checks(facts, host=host, expect=expect)
    checked = []
    for finding in before:
        roads = finding.evidence.get("fix.roads")
        if finding.fix and "download.pytorch.org/whl/cu" in finding.fix:  # a CUDA build
            assert roads, f"{finding.check_id} names a build not computed by the matrix"
        for road in roads or []:
            # the driver is the host's: a driver road changes the host facts too
            new_host = host
            if host is not None and "driver_at_least" in road:
                new_host = apply_road(host, {**road, "torch": "", "variant": ""})
            after = run_checks(apply_road(facts, road), host=new_host, expect=expect)
            subjects = {_subject(f) for f in after}
            assert _subject(finding) not in subjects, (finding.check_id, road, finding.fix)
            new = _errors(after) - _errors(before)
            assert not new, (finding.check_id, road, [f.message for f in after])
            checked.append((finding.check_id, road))
    return checked


# ------------------------------------------------------------- the issue's scenarios
CU117_FLAGS = ["sm_37", "sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86"]
CU128_FLAGS = ["sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120"]


def h100_torch_2_0_cu117() -> Facts:
    """h100_host edited: torch 2.0.1+cu117 and that wheel's arch flags (matrix 2.0 cu117)."""
    return _live(_torch(h100_host(), "2.0.1+cu117", "11.7"), arch_flags=CU117_FLAGS)


def h100_cpu_torch_2_13() -> Facts:
    """h100_host edited: the CPU venv's torch (2.13.0+cpu, no live CUDA facts)."""
    f = _torch(h100_host(), cpu_venv().torch.version or "", None)
    return _live(f, arch_flags=[], cudnn_version=None, nccl_version=None, loaded_libraries=[])


def driver_520_torch_cu128() -> Facts:
    """h100_host edited: torch 2.7.1+cu128 on driver 520.61.05 (CUDA 11.8)."""
    f = _live(_torch(h100_host(), "2.7.1+cu128", "12.8"), arch_flags=CU128_FLAGS)
    return _driver(f, "520.61.05", "11.8")


def rtx5090_torch_2_6_cu126() -> Facts:
    """h100_host edited: an RTX 5090 (12.0), torch 2.6.0+cu126 with cuDNN 9.5.1."""
    g: GpuFacts = gpu(h100_host(), name="NVIDIA GeForce RTX 5090", compute_capability="12.0")
    f = _torch(with_gpus(h100_host(), g), "2.6.0+cu126", "12.6")
    return _live(
        f,
        arch_flags=["sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"],
        cudnn_version="9.5.1",
        devices=[],
    )


def _one(facts: Facts, check_id: str) -> Finding:
    (finding,) = [f for f in run_checks(facts) if f.check_id == check_id]
    return finding


def test_h100_torch_2_0_cu117_gets_2_0_cu118_not_the_newest() -> None:
    f = _one(h100_torch_2_0_cu117(), "EL-ARCH-UNSUPPORTED")
    assert f.evidence["fix.roads"][0] == {"torch": "2.0", "variant": "cu118"}
    assert 'torch==2.0.*" --index-url https://download.pytorch.org/whl/cu118' in (f.fix or "")


def test_cpu_torch_2_13_on_an_h100_gets_2_13_cu130() -> None:
    f = _one(h100_cpu_torch_2_13(), "EL-TORCH-CPU-ONLY")
    assert f.evidence["fix.roads"][0] == {"torch": "2.13", "variant": "cu130"}


def test_driver_520_with_cu128_offers_both_roads() -> None:
    f = _one(driver_520_torch_cu128(), "EL-DRIVER-TOO-OLD")
    roads = f.evidence["fix.roads"]
    assert {"driver_at_least": "570.26", "torch": "2.7", "variant": "cu128"} in roads
    # the other road: the nearest cu118 build, 2.7's (torch.toml flags its list UNVERIFIED:
    # no 2.7 build script was read; it is the builder's cu118 list, with 9.0 since 2.0)
    assert {"torch": "2.7", "variant": "cu118"} in roads
    assert "upgrade the NVIDIA driver to >= 570.26" in (f.fix or "") and "cu118" in (f.fix or "")


def test_rtx_5090_cudnn_fix_never_recommends_a_build_without_sm_120() -> None:
    # no sm_120 kernels and a cuDNN without sm_120: one finding, the arch one (session 7)
    found = {f.check_id for f in run_checks(rtx5090_torch_2_6_cu126())}
    assert "EL-CUDNN-GPU-UNSUPPORTED" not in found, found
    f = _one(rtx5090_torch_2_6_cu126(), "EL-ARCH-UNSUPPORTED")
    assert "cuDNN 9.5.1" in f.message
    roads = f.evidence["fix.roads"]
    assert roads and all(r["variant"] != "cu126" for r in roads)
    assert "cu126" not in (f.fix or "")


ISSUE_SCENARIOS: list[Callable[[], Facts]] = [
    h100_torch_2_0_cu117,
    h100_cpu_torch_2_13,
    driver_520_torch_cu128,
    rtx5090_torch_2_6_cu126,
]


@pytest.mark.parametrize("build", ISSUE_SCENARIOS, ids=lambda b: b.__name__)
def test_the_issue_scenarios_fixes_hold(build: Callable[[], Facts]) -> None:
    assert _recheck(build())  # each has at least one road, and each road holds


@pytest.mark.parametrize("build", [cpu_venv, cuda_venv, h100_host], ids=lambda b: b.__name__)
def test_recorded_facts_fixes_hold(build: Callable[[], Facts]) -> None:
    _recheck(build())


def test_every_check_case_fix_holds() -> None:
    checked = []
    for case in CASES:
        host = case.host() if case.host else None
        checked += _recheck(case.build(), host=host, expect=case.expect)
    # the check cases hold findings with roads (arch, CPU-only, driver): not a vacuous pass
    assert {c for c, _ in checked} >= {"EL-ARCH-UNSUPPORTED", "EL-DRIVER-TOO-OLD"}


# ------------------------------------------------------------- pasted reports (issue 21)
CE = FIXTURES / "collect_env"
# the tuning reports envlock reads (a report marked unreadable, with why, gives no facts yet)
TUNING = [
    e["file"]
    for e in json.loads((CE / "corpus.json").read_text())["reports"]
    if "unreadable" not in e
]

_PIN = re.compile(r'"([A-Za-z0-9_.-]+)==([0-9][0-9.]*)\.\*"')
_INDEX = re.compile(
    r"(?:--index-url|--extra-index-url) https://download\.pytorch\.org/whl/"
    r"(?:nightly/|lts/[0-9.]+/)?([a-z0-9.]+)"
)
# a member built for torch's own build, from the place torch came from (family.elsewhere),
# or as its +tag build from the find-links page pytorch.org gives for an old release
_SAME_PLACE = re.compile(
    r"built for torch \S+\+([a-z0-9.]+) from the same place as torch"
    r"|as their \+([a-z0-9.]+) builds from https://download\.pytorch\.org/\S+torch_stable\.html"
)
# pytorch.org's exact pins for a release its page installs so: tagged ("torch==1.9.1+cu111",
# from the -f page), or untagged: PyPI's own build, or a download page's files (1.0-1.1)
_EXACT = re.compile(r'"([A-Za-z0-9_.-]+)==([0-9]+(?:\.[0-9]+)*)(?:\+([a-z0-9.]+))?"')
_FIND_LINKS = re.compile(
    r"(?:-f|for this Python from) https://download\.pytorch\.org/whl/(?:([a-z0-9.]+)/)?"
    r"torch_stable\.html"
)
# one night's build from the nightly index ('"torchvision==0.15.0.dev20221202"')
_NIGHTLY_PIN = re.compile(r'"([A-Za-z0-9_.-]+)==([0-9][0-9.]*\.dev[0-9]{8})"')
_UNINSTALL = re.compile(r"pip uninstall -y ([A-Za-z0-9_.-]+)")
# `a && b`, or on Windows one command a line (checks/shells.py)
_CONDA_REMOVE = re.compile(r"conda remove --force ([^&;\n]+?)(?: && |\n)")


def apply_pip_line(facts: Facts, text: str) -> Facts:
    """`pip install "torch==X.*" "torchvision==Y.*" --index-url .../<variant>` (a nightly
    index's exact "member==X.Y.Z.devDATE" as that build of the variant) or `pip
    uninstall -y NAME`, as pip would leave the environment: torch through apply_road (the
    build the matrix holds for that variant), each other pin at its series; a `conda remove
    --force NAMES && ` before it removes conda's torch family first (shell words: shlex)."""
    removal = _CONDA_REMOVE.search(text)
    if removal:
        facts = _conda_remove(facts, shlex.split(removal.group(1)))
    exact = {name: (v, tag) for name, v, tag in _EXACT.findall(text)}
    named = _INDEX.search(text) or _SAME_PLACE.search(text)
    if "torch" in exact and (exact["torch"][1] or not named):
        return _apply_exact(facts, text, exact)
    index = _INDEX.search(text) or _SAME_PLACE.search(text)
    variant = next((g for g in index.groups() if g), None) if index else None
    if variant is None and facts.system.os is not None and facts.system.os.id == "macos":
        variant = "cpu"  # PyPI's macOS wheels are the CPU builds (hints.install_command)
    pins = dict(_PIN.findall(text))
    if "torch" in pins:
        assert variant is not None, text  # a torch line names its index (issue 21 item 6)
        road = {"torch": pins.pop("torch"), "variant": variant}
        facts = apply_road(facts, {**road, **{m: v for m, v in pins.items() if m in PAIRED}})
        pins = {m: v for m, v in pins.items() if m not in PAIRED}
    dists = dict(facts.packages.distributions)
    # pip runs the line in order: an uninstall before the install removes what the install
    # then puts back ("pip uninstall -y torchvision && pip install torchvision==0.24.*")
    install_at = text.find("pip install")
    uninstalls = [(m.start(), m.group(1)) for m in _UNINSTALL.finditer(text)]
    for _, name in (u for u in uninstalls if install_at < 0 or u[0] < install_at):
        if name != "torch":
            dists.pop(name, None)
    for name, series in pins.items():
        dists[name] = f"{series}.0" + (f"+{variant}" if variant else "")
    for name, night in _NIGHTLY_PIN.findall(text):
        dists[name] = night + (f"+{variant}" if variant else "")
    for _, name in (u for u in uninstalls if 0 <= install_at < u[0]):
        if name != "torch":
            dists.pop(name, None)
    return edit(facts, "packages.distributions", dists)


def _apply_exact(facts: Facts, text: str, exact: dict[str, tuple[str, str]]) -> Facts:
    """pytorch.org's line for an old release: each exact pin installs that version, a
    tagged one that build ("torch==1.9.1+cu111" from the -f page); an untagged torch is the
    build of the page it is downloaded from, else PyPI's own (macOS: its CPU wheel, else
    torch.toml's default variant of the release). Untagged members stay untagged; `pip
    uninstall -y` before the install and the PyPI members after it as apply_pip_line."""
    torch, tag = exact.pop("torch")
    series = Version.parse(torch).truncate(2)
    page = _FIND_LINKS.search(text)
    macos = facts.system.os is not None and facts.system.os.id == "macos"
    entry = load_matrix().torch_release(series)
    assert entry is not None, text
    variant = tag or (page.group(1) if page else None)
    variant = variant or ("cpu" if macos else entry.default_variant)
    assert variant is not None, text
    install_at = text.find("pip install")
    for name in (u.group(1) for u in _UNINSTALL.finditer(text) if u.start() < install_at):
        facts = edit(facts, "packages.distributions", _without(facts, name))
    have = facts.torch.version if facts.torch.installed else None
    # the installed torch satisfies an untagged pin: pip keeps it (a member fix's kept torch,
    # familyfix.kept_torch) and installs the members beside it
    kept = not tag and have is not None and have.partition("+")[0] == torch
    if not kept:
        road = {"torch": str(series), "variant": variant, "exact": torch}
        paired = {m: v for m, v in exact.items() if m in PAIRED}
        road |= {m: str(Version.parse(v).truncate(2)) for m, (v, _) in paired.items()}
        facts = apply_road(facts, road)
    if not tag and not kept:  # PyPI's and the download pages' wheels carry no local label
        facts = edit(facts, "torch", dataclasses.replace(facts.torch, version=torch))
    dists = dict(facts.packages.distributions)
    if "torch" in dists and not kept:  # pip's list names torch where the paste's did
        exact["torch"] = (torch, tag)
    dists.update({m: v + (f"+{t}" if t else "") for m, (v, t) in exact.items()})
    for name, series_pin in _PIN.findall(text):  # members the page's line does not name
        dists[name] = f"{series_pin}.0"
    return edit(facts, "packages.distributions", dists)


def _without(facts: Facts, name: str) -> dict[str, str]:
    return {n: v for n, v in facts.packages.distributions.items() if n != name}


def _pip_ways(facts: Facts, finding: Finding) -> list[Facts]:
    """Each '; or' alternative of the fix that holds a pip line, applied."""
    ways = [
        w
        for w in (finding.fix or "").split("; or ")
        if "pip install" in w or "uninstall" in w or _SAME_PLACE.search(w)
    ]
    assert ways, finding.fix
    return [apply_pip_line(facts, w) for w in ways]


def _no_driver(facts: Facts, finding: Finding) -> list[Facts]:
    """For CPU-only work, the CPU wheel; under vLLM, whose kernels need the CUDA build, no
    pip line: the road is a GPU machine (or a container started with --gpus all), which no
    edit of a paste's facts can follow."""
    if "pip install" not in (finding.fix or ""):
        if finding.evidence.get("accelerator"):  # torch's CUDA side unused (Neuron, TPU), or
            # the vendor's own build (Gaudi): no pip line a paste's facts could follow
            assert "nothing to change" in (finding.fix or "") or "own" in (finding.fix or "")
            return []
        if finding.evidence.get("torch_said"):  # torch's own word, its version not given: no
            # CPU wheel to name; the job's own device choice leaves CUDA, no facts edit follows it
            assert "--gpus all" in (finding.fix or "") and "run the job on the CPU" in (
                finding.fix or ""
            ), finding.fix
            return []
        assert "--gpus all" in (finding.fix or "") and "vLLM" in (finding.fix or ""), finding.fix
        return []
    return _pip_ways(facts, finding)


def _two_installs(facts: Facts, finding: Finding) -> list[Facts]:
    """pip's torch removed and conda's reinstalled (pip then lists conda's version), or
    conda's removed and pip's torch reinstalled alone."""
    conda = dict(facts.toolchain.conda_packages)
    if "pytorch" not in conda:  # the conda environment's own pip torch beside this Python's
        conda.pop("torch")  # 'pip uninstall -y torch' there: this Python's torch is the one
        return [edit(facts, "toolchain.conda_packages", conda)]
    kept_conda = conda.pop("pytorch").split(" ", 1)[0]
    conda.pop("torch", None)  # conda's record of the pip install goes with it
    dists = {**facts.packages.distributions, "torch": kept_conda}
    conda_only = edit(facts, "packages.distributions", dists)
    conda_only = edit(conda_only, "toolchain.conda_packages", {**conda, "pytorch": kept_conda})
    pip_only = edit(facts, "toolchain.conda_packages", conda)
    return [conda_only, pip_only]


def _without_wheels(facts: Facts, names: set[str]) -> Facts:
    """pip uninstall NAMES: gone from pip's list and from the CUDA wheels."""
    dists = {n: v for n, v in facts.packages.distributions.items() if n not in names}
    facts = edit(facts, "packages.distributions", dists)
    return edit(facts, "cuda.wheels", [w for w in facts.cuda.wheels if w.name not in names])


def _one_nccl(facts: Facts, finding: Finding) -> list[Facts]:
    """The nvidia-nccl wheel of torch's CUDA major kept, the others uninstalled, and no
    libnccl left on LD_LIBRARY_PATH."""
    major = Version.of(facts.torch.cuda)
    assert major is not None, finding.message
    others = {
        w.name
        for w in facts.cuda.wheels
        if w.name.startswith("nvidia-nccl") and w.cuda_major != major.major
    }
    facts = _without_wheels(facts, others)
    dirs = [
        dataclasses.replace(d, libraries=[x for x in d.libraries if not x.startswith("libnccl")])
        for d in facts.cuda.ld_library_path
    ]
    return [edit(facts, "cuda.ld_library_path", dirs)]


_PIP_UNINSTALL = re.compile(r"pip uninstall (?:-y )?((?:[A-Za-z0-9_.-]+ ?)+)")
_REINSTALL = re.compile(r"pip install --force-reinstall --no-deps ((?:[A-Za-z0-9_.-]+==\S+ ?)+)")
_NAME_VERSION = re.compile(r"([A-Za-z0-9_.-]+)==(\S+)")


def _wheel_lines(facts: Facts, finding: Finding) -> list[Facts]:
    """`pip uninstall NAMES` (then `pip install --force-reinstall --no-deps NAME==V`, which
    puts that wheel's own files back), as pip leaves the environment."""
    gone = {n for m in _PIP_UNINSTALL.findall(finding.fix or "") for n in m.split()}
    assert gone, finding.fix
    facts = _without_wheels(facts, gone)
    dists = dict(facts.packages.distributions)
    for names in _REINSTALL.findall(finding.fix or ""):
        dists.update(dict(_NAME_VERSION.findall(names)))
    return [edit(facts, "packages.distributions", dists)]


def _ext_rebuilt(facts: Facts, finding: Finding) -> list[Facts]:
    """The extension installed (or rebuilt) for torch's CUDA major: it links that
    major's runtime."""
    torch_cuda = Version.of(facts.torch.cuda)
    assert torch_cuda is not None, finding.message
    major = torch_cuda.major
    name = finding.evidence["extension.file"]
    items = [
        dataclasses.replace(e, cuda_major=major, links=[f"libcudart.so.{major}"])
        if e.file == name
        else e
        for e in facts.extensions.items
    ]
    return [edit(facts, "extensions.items", items)]


def _ext_arch_rebuilt(facts: Facts, finding: Finding) -> list[Facts]:
    """The extension rebuilt with TORCH_CUDA_ARCH_LIST=X.Y (the fix): it carries sm_XY too
    (detectron2's arch flags read from its collect_env table)."""
    m = re.search(r"TORCH_CUDA_ARCH_LIST=(\d+)\.(\d+)", finding.fix or "")
    assert m is not None, finding.fix
    sm, name = f"sm_{m.group(1)}{m.group(2)}", finding.evidence["extension.file"]
    items = [
        dataclasses.replace(e, sass=[*e.sass, sm]) if e.file == name else e
        for e in facts.extensions.items
    ]
    return [edit(facts, "extensions.items", items)]


def _toolkit(facts: Facts, finding: Finding) -> list[Facts]:
    """CUDA_HOME pointed at a toolkit of torch's CUDA major (the one it was built with);
    where the fix follows EL-DRIVER-TOO-OLD's first road (another build), that road taken
    first, then this nvcc kept ('keep this nvcc') or moved to the new build's CUDA."""
    if "EL-DRIVER-TOO-OLD's fix" in (finding.fix or ""):
        (driver,) = [f for f in run_checks(facts) if f.check_id == "EL-DRIVER-TOO-OLD"]
        facts = apply_road(facts, driver.evidence["fix.roads"][0])
        if (finding.fix or "").startswith("keep this nvcc"):
            return [facts]
    toolkit = facts.cuda.toolkit
    assert toolkit is not None and facts.torch.cuda is not None
    moved = dataclasses.replace(toolkit, nvcc_version=facts.torch.cuda)
    return [edit(facts, "cuda.toolkit", moved)]


def _one_model(facts: Facts, finding: Finding) -> list[Facts]:
    """The job pinned to the first model's GPUs, in PCI bus order."""
    gpus = facts.driver.gpus or []
    first = [g.index for g in gpus if g.name == gpus[0].name]
    pinned = ",".join(str(i) for i in first)
    return [_env(facts, CUDA_VISIBLE_DEVICES=pinned, CUDA_DEVICE_ORDER="PCI_BUS_ID")]


# NVIDIA's torch wheels for Jetson, by JetPack's CUDA: JetPack 5.1.1 (CUDA 11.4, cp38:
# torch-2.0.0+nv23.05), JetPack 6.1 (CUDA 12.6: torch 2.5.0a0+872d972e41.nv24.08)
_JETPACK_TORCH = {"11.4": "2.0.0+nv23.05", "12.6": "2.5.0a0+872d972e41.nv24.08"}


def _jetpack_torch(torch: Any, cuda: str) -> Any:
    """torch as NVIDIA's JetPack wheel for the CUDA the paste's JetPack holds."""
    major_minor = ".".join(cuda.split(".")[:2])
    assert major_minor in _JETPACK_TORCH, cuda
    return dataclasses.replace(
        torch, installed=True, version=_JETPACK_TORCH[major_minor], cuda=major_minor, build=None
    )


def _torch_installed(facts: Facts, finding: Finding) -> list[Facts]:
    """`python -m pip install torch` into the interpreter collect_env ran in (torchchat-1408,
    'PyTorch version: N/A'): torch is there."""
    if "no torch wheel for" in (finding.fix or ""):  # riscv64 (vllm-8996): a CPU source build
        assert "from source" in (finding.fix or ""), finding.fix
        built = dataclasses.replace(
            facts.torch, installed=True, version="2.5.0a0+gitabc", cuda=None
        )
        return [edit(facts, "torch", built)]
    if "JetPack" in (finding.fix or ""):  # a Jetson: NVIDIA's wheel for the paste's JetPack
        assert "pip install torch" not in (finding.fix or ""), finding.fix
        toolkit = facts.cuda.toolkit  # JetPack's CUDA ('CUDA runtime version: 11.4.315')
        if toolkit is None or toolkit.nvcc_version is None:
            # the paste names no CUDA, so no JetPack release (pytorch-120186): the fix names
            # none either (no placeholder) and starts from why torch does not import
            assert (finding.fix or "").startswith("first see why"), finding.fix
            assert "for its JetPack release" in (finding.fix or ""), finding.fix
            return []
        return [edit(facts, "torch", _jetpack_torch(facts.torch, toolkit.nvcc_version))]
    assert "pip install torch" in (finding.fix or ""), finding.fix
    # PyPI's default Linux wheel is a CUDA build (cu124 beside the paste's CUDA 12.4)
    torch = dataclasses.replace(
        facts.torch, installed=True, version="2.6.0", cuda="12.4", build="cu124"
    )
    return [edit(facts, "torch", torch)]


def _cudnn_bundled(facts: Facts, finding: Finding) -> list[Facts]:
    """The other cuDNN off LD_LIBRARY_PATH (kohya_ss-1096): torch loads the cuDNN its wheel was
    built against, the matrix's, which the fix names by its major; or the one torch's own
    message names (gladia-928, a paste without torch's version), by its release."""
    stated = finding.evidence.get("cudnn_compiled (torch's message)")
    compiled = str(stated or finding.evidence["cudnn_compiled (matrix)"])
    named = f"cuDNN {compiled} or a later" if stated else f"cuDNN {compiled.split('.')[0]}.x"
    assert named in (finding.fix or ""), finding.fix
    assert facts.torch.live is not None, facts.torch
    live = dataclasses.replace(facts.torch.live, cudnn_version=compiled)
    return [edit(facts, "torch", dataclasses.replace(facts.torch, live=live))]


def _shm_size(facts: Facts, finding: Finding) -> list[Facts]:
    """--shm-size=16g (transformers-11658): the container's /dev/shm measured at 16 GiB."""
    assert "--shm-size=16g" in (finding.fix or ""), finding.fix
    return [edit(facts, "system.shm_total_bytes", 16 << 30)]


def _ext_built_for_torch(facts: Facts, finding: Finding) -> list[Facts]:
    """An extension built for another torch release, installed or rebuilt for the installed
    torch as the fix says (alltalk_tts-111: DeepSpeed's ops built for torch 2.1 under 2.2):
    built against this torch, it needs only the symbols this torch exports (detectron2-3710's
    pasted 'undefined symbol' gone)."""
    assert "rebuild it here" in (finding.fix or ""), finding.fix
    name = finding.evidence["extension.file"]
    items = [
        dataclasses.replace(
            e,
            built_for_torch=facts.torch.version,
            missing_torch_symbols=[],
            missing_torch_symbols_total=0,
        )
        if e.file == name
        else e
        for e in facts.extensions.items
    ]
    return [edit(facts, "extensions.items", items)]


def _triton_ways(facts: Facts, finding: Finding) -> list[Facts]:
    """torch.compile's Triton refused the GPU (EL-TRITON-ARCH-UNSUPPORTED): the job run
    without torch.compile (TORCH_COMPILE_DISABLE=1: the refusal is no longer printed), or on
    a GPU of the capability the fix names, from the matrix's GPU table (torch's kernels too)."""
    from envlock.pasted.tritonmsg import TRITON_TOO_OLD

    fix = finding.fix or ""
    assert "TORCH_COMPILE_DISABLE=1" in fix and "no torch build change helps" in fix, fix
    cc = finding.evidence["fix.gpu_capability_at_least"]
    assert f"compute capability >= {cc}" in fix, fix
    return [_without_notes(facts, TRITON_TOO_OLD), _gpus_of_capability(facts, cc)]


def _without_notes(facts: Facts, prefix: str) -> Facts:
    """The facts without the notes a refusal left: the job no longer prints it."""
    notes = [n for n in facts.meta.notes if not n.startswith(prefix)]
    return edit(facts, "meta", dataclasses.replace(facts.meta, notes=notes))


def _gpus_of_capability(facts: Facts, cc: str) -> Facts:
    """Every GPU replaced by the first model of capability `cc` the matrix's GPU table names
    by itself (NVML's list and torch's devices alike)."""
    model = next(g for g in load_matrix().gpus if str(g.capability) == cc and not g.ambiguous)
    named = {"name": model.name, "compute_capability": cc}
    moved = edit(facts, "driver.gpus", [dataclasses.replace(g, **named) for g in facts.driver.gpus])
    live = facts.torch.live
    if live is not None:
        devices = [dataclasses.replace(d, **named) for d in live.devices]
        moved = edit(moved, "torch.live", dataclasses.replace(live, devices=devices))
    return moved


def _unservable(facts: Facts, finding: Finding) -> list[Facts]:
    """A GPU no official build serves, named by torch's own old-GPU warning with no torch
    version given (demucs-116: a GTX 765M, 3.0): the fix's three ways are the job's device
    (the CPU), another GPU or a source build, none of which an edit of a paste's facts can
    follow; each must be named (where torch's version is known, fix.roads are applied)."""
    fix = finding.fix or ""
    assert "run on CPU" in fix and "newer GPU" in fix and "build torch from source" in fix, fix
    return []


def _nvcc_knows_it(facts: Facts, finding: Finding) -> list[Facts]:
    """A toolkit of the architecture's first CUDA (the matrix's) as nvcc, or the build's arch
    list as the fix writes it (DeepSpeed-3299: 11.8, or "8.6", whose SASS runs on 8.9)."""
    fix = finding.fix or ""
    first = str(finding.evidence["matrix.first_cuda"])
    assert f"CUDA toolkit {first} or newer" in fix, fix
    toolkit = facts.cuda.toolkit or ToolkitFacts()
    ways = [edit(facts, "cuda.toolkit", dataclasses.replace(toolkit, nvcc_version=first))]
    listed = re.search(r'TORCH_CUDA_ARCH_LIST="([^"]+)"', fix)
    if listed is not None:
        ways.append(_env(facts, TORCH_CUDA_ARCH_LIST=listed.group(1)))
    return ways


def _glibc_met(facts: Facts, finding: Finding) -> list[Facts]:
    """The OS's glibc at the version the loader asked for; or the module rebuilt here (or
    torch reinstalled by pip here), so the loader no longer refuses it (ColossalAI-2402)."""
    fix = finding.fix or ""
    needed = str(finding.evidence["needed"]).removeprefix("GLIBC_")
    assert f"glibc {needed} or newer" in fix, fix
    newer = edit(facts, "system", dataclasses.replace(facts.system, glibc=needed))
    file = str(finding.evidence["file"])
    notes = [n for n in facts.meta.notes if not (n.startswith(GLIBC_MISSING) and n.endswith(file))]
    rebuilt = edit(facts, "meta", dataclasses.replace(facts.meta, notes=notes))
    return [newer, rebuilt]


def _shm_writable(facts: Facts, finding: Finding) -> list[Facts]:
    """/dev/shm made writable (chmod 1777): NCCL no longer refused (pytorch-37004)."""
    assert "chmod 1777 /dev/shm" in (finding.fix or ""), finding.fix
    return [_without_notes(facts, SHM_DENIED)]


APPLIERS: dict[str, Callable[[Facts, Finding], list[Facts]]] = {
    "EL-TORCH-MISSING": _torch_installed,
    "EL-FAMILY-MISMATCH": _pip_ways,
    "EL-NO-DRIVER": _no_driver,  # the CPU wheel, or no pip line (vLLM)
    "EL-TORCH-TWO-INSTALLS": _two_installs,
    "EL-NVCC-MISMATCH": _toolkit,
    "EL-GPU-MIXED-MODELS": _one_model,
    "EL-NCCL-MULTIPLE": _one_nccl,
    "EL-WHEELS-MIXED-CUDA": _wheel_lines,
    "EL-EXT-CUDA-MAJOR": _ext_rebuilt,
    "EL-EXT-ARCH-UNSUPPORTED": _ext_arch_rebuilt,
    "EL-CUDNN-INCOMPATIBLE": _cudnn_bundled,
    "EL-EXT-TORCH-ABI": _ext_built_for_torch,
    "EL-SHM-SMALL": _shm_size,
    "EL-TRITON-ARCH-UNSUPPORTED": _triton_ways,
    "EL-GPU-UNSERVABLE": _unservable,
    "EL-NVCC-ARCH-TOO-NEW": _nvcc_knows_it,
    "EL-EXT-GLIBC-TOO-OLD": _glibc_met,
    "EL-SHM-PERMISSION": _shm_writable,
}
# Fixes that change no environment fact, each with why; the test checks the why.
NOT_APPLIED = {
    # the job's dtype (fp16 instead of bf16), not the environment: the GPUs stay as they are
    "EL-BF16-UNSUPPORTED": lambda f: f.severity is not Severity.ERROR or "fp16" in (f.fix or ""),
    # points at the other findings: it must be gone once the first of those is followed
    "EL-TORCH-CUDA-UNAVAILABLE": lambda f: (f.fix or "").startswith("see the other findings"),
    # the paste lists no GPU: the fix names no build (no placeholder), only `envlock matrix`
    "EL-TORCH-CPU-ONLY": lambda f: "download.pytorch.org" not in (f.fix or ""),
}


def _ways(facts: Facts, finding: Finding) -> list[Facts]:
    roads = finding.evidence.get("fix.roads")
    if roads:
        return [apply_road(facts, road) for road in roads]
    applier = APPLIERS.get(finding.check_id)
    assert applier is not None, f"{finding.check_id} prints a fix with no applier: {finding.fix}"
    return applier(facts, finding)


def _recheck_pasted(facts: Facts) -> list[str]:
    """Every fix the doctor prints for this paste, followed, then the checks again."""
    before = run_checks(facts)
    checked = []
    for finding in before:
        if not finding.fix:
            continue
        if "download.pytorch.org/whl/cu" in finding.fix and "torch==" in finding.fix:
            assert finding.evidence.get("fix.roads") or finding.check_id in APPLIERS, finding.fix
        if finding.check_id in NOT_APPLIED and not finding.evidence.get("fix.roads"):
            assert NOT_APPLIED[finding.check_id](finding), (finding.check_id, finding.fix)
            continue
        for after_facts in _ways(facts, finding):
            after = run_checks(after_facts)
            assert _subject(finding) not in {_subject(f) for f in after}, (
                finding.check_id,
                finding.fix,
            )
            new = _errors(after) - _errors(before)
            assert not new, (finding.check_id, finding.fix, [f.message for f in after])
            checked.append(finding.check_id)
    return checked


def _consequence_clears(facts: Facts) -> bool:
    """EL-TORCH-CUDA-UNAVAILABLE is gone once the first way of the error the doctor reads
    first (its top finding among the others) is taken."""
    before = run_checks(facts)
    causes = [
        f
        for f in before
        if f.severity is Severity.ERROR
        and f.fix
        and f.check_id not in NOT_APPLIED
        and f.check_id != "EL-TORCH-CUDA-UNAVAILABLE"
    ]
    if not causes:
        return False
    first = top_finding(causes)
    assert first is not None
    after = run_checks(_ways(facts, first)[0])
    return "EL-TORCH-CUDA-UNAVAILABLE" not in {f.check_id for f in after}


def _pasted(name: str) -> Facts:
    return facts_from_texts(collect_env=(CE / name).read_text())


@functools.cache
def _rechecked(name: str) -> tuple[str, ...]:
    """The classes re-checked for this report (once a session: two tests read it)."""
    return tuple(_recheck_pasted(_pasted(name)))


# documented misses whose cause no check finds (tests/pasted/test_corpus.py holds the list):
# CUDA unavailable is there the only error, so no first way can clear it
_CAUSE_MISSED = {
    # maskrcnn_benchmark's old collect_env: the imported 1.0.0 nightly beside pip's and
    # conda's torch 1.4.0, two installs that layout does not let envlock compare
    "remote_sensing_object_detection_2019-23.txt",
}


@pytest.mark.parametrize("name", TUNING)
def test_every_fix_printed_for_a_pasted_report_holds(name: str) -> None:
    facts = _pasted(name)
    _rechecked(name)
    if "EL-TORCH-CUDA-UNAVAILABLE" in {f.check_id for f in run_checks(facts)}:
        assert _consequence_clears(facts) != (name in _CAUSE_MISSED), name


def test_the_pasted_reports_exercise_every_class_of_fix() -> None:
    """Not a vacuous pass: the tuning reports raise roads of each kind (a build, a driver,
    the CPU wheel) and every applier's class."""
    checked: set[str] = set()
    for name in TUNING:
        checked |= set(_rechecked(name))
    want = {"EL-ARCH-UNSUPPORTED", "EL-DRIVER-TOO-OLD", "EL-TORCH-CPU-ONLY"}
    # EL-CUDNN-GPU-UNSUPPORTED: every paste's case is a GPU without kernels too, one
    # finding since session 7 (its own fix is re-checked over the check cases)
    want |= {"EL-DRIVER-MINOR-COMPAT"} | set(APPLIERS)
    assert checked >= want, want - checked


# The classes a build decides: after `envlock matrix`'s build is installed, none may stand.
_BUILD_CLASSES = {
    "EL-ARCH-UNSUPPORTED",
    "EL-ARCH-PTX-ONLY",
    "EL-DRIVER-TOO-OLD",
    "EL-CUDNN-GPU-UNSUPPORTED",
    "EL-TORCH-CPU-ONLY",
    "EL-NO-DRIVER",
}


@pytest.mark.parametrize("name", TUNING)
def test_the_matrix_build_for_a_pasted_report_runs_there(name: str) -> None:
    """`envlock matrix --collect-env REPORT`'s build (the newest that runs on the paste's
    GPUs and driver), installed as its pip line says: no error of the classes a build
    decides, and no new error at all."""
    from envlock.api import matrix_advice
    from envlock.collect import Source
    from envlock.errors import EnvlockError

    facts = _pasted(name)
    try:
        advice = matrix_advice(Source(collect_env=str(CE / name)))
    except EnvlockError:
        return  # the paste names no GPU the matrix can judge (asserted in tests/commands)
    if advice.best is None:
        return
    before = run_checks(facts)
    after = run_checks(apply_pip_line(facts, advice.best.pip))
    built_for_another = {e.file for e in facts.extensions.items if e.built_for_torch}
    # a package compiled for the torch being replaced (k2 +torch1.14.0a0, an xFormers whose
    # build information names it: ComfyUI-Manager-926) needs its own build for the new one,
    # from its own index: no torch line installs it
    errors = {
        f.check_id
        for f in after
        if f.severity is Severity.ERROR
        and f.evidence.get("found_by") != ["built for (local version label)"]
        and f.evidence.get("extension.file") not in built_for_another
    }
    assert not errors & _BUILD_CLASSES, (advice.best.pip, [f.message for f in after])
    # the paste's torchvision is reinstalled with it (it stayed paired with the old torch
    # before: 6 tuning reports, pytorch#37320 first)
    new = errors - _errors(before)
    assert not new, (advice.best.pip, [f.message for f in after])


# ------------------------------------------------------------- verify's fix for a torch change
_PIP_ONE = re.compile(r"pip install '([A-Za-z0-9_.-]+)==([^']+)'")


def _follow_verify_fix(facts: Facts, fix: str, build: Facts) -> Facts:
    """As pip leaves the environment after verify's fix: each `pip install 'name==V'`
    installs that version (torch: the recorded facts of that very build, `build`, with the
    wheels it pins), each `pip uninstall -y ...` removes what it names; pip removes
    nothing else."""
    from envlock.lock.closure import follows_variant

    dists = dict(facts.packages.distributions)
    for name, version in _PIP_ONE.findall(fix):
        dists[name] = version
        if name == "torch":
            assert build.packages.distributions["torch"] == version, version
            facts = edit(facts, "torch", build.torch)
            # torch's Requires-Dist pins its CUDA wheels and triton exactly: pip brings them
            brought = build.packages.distributions.items()
            dists.update({n: v for n, v in brought if follows_variant(n)})
    for names in re.findall(r"pip uninstall -y ([A-Za-z0-9_. -]+)", fix):
        for name in names.split():
            dists.pop(name, None)
    return edit(facts, "packages.distributions", dists)


@pytest.mark.parametrize(
    ("locked", "observed"),
    [(cpu_venv, cuda_venv), (cuda_venv, cpu_venv)],
    ids=["to-cpu", "to-cuda"],
)
def test_following_verifys_fix_for_a_torch_change_leaves_no_drift(
    locked: Callable[[], Facts], observed: Callable[[], Facts]
) -> None:
    """The recorded venvs: a lock of one, the other observed. verify's one torch finding
    printed a pip line; followed (pip keeps the CUDA wheels and triton the other torch
    brought), verify must find nothing, --strict included (it left 19 warnings before)."""
    from envlock.lock.build import build_lock
    from envlock.verify import verify

    lock = build_lock(locked())
    (finding,) = [f for f in verify(lock, observed()) if f.severity is Severity.ERROR]
    assert finding.field == "torch.version" and finding.fix
    after = _follow_verify_fix(observed(), finding.fix, build=locked())
    left = verify(lock, after)
    assert left == [], [(f.check_id, f.field, f.fix) for f in left]


def test_the_cpu_road_for_a_gpu_no_build_serves_takes_torchvision_along() -> None:
    """A GeForce GTX 680 (3.0: no official build serves it) with torch 2.3.0+cu121 and its
    torchvision 0.18.0+cu121: the CPU road reinstalls torchvision from the CPU index too
    (a +cu121 torchvision beside a +cpu torch is a family mismatch)."""
    kepler = gpu(h100_host(), name="NVIDIA GeForce GTX 680", compute_capability="3.0")
    facts = _torch(with_gpus(h100_host(), kepler), "2.3.0+cu121", "12.1")
    dists = {**facts.packages.distributions, "torchvision": "0.18.0+cu121"}
    facts = edit(facts, "packages.distributions", dists)
    (finding,) = [f for f in run_checks(facts) if f.check_id == "EL-GPU-UNSERVABLE"]
    assert '"torchvision==0.18.*" --index-url https://download.pytorch.org/whl/cpu' in (
        finding.fix or ""
    )
    assert _recheck(facts)


# ------------------------------------------------- every index a fix names exists (R1)
# ROCm pastes beside the corpus's own: legacy-rocm-build#4729 as recorded (AMD's
# +rocm6.2.3 torch) and with torch at the +rocm6.0 build pytorch.org's 2.3.0 command names
_ROCM_4729 = (CE / "legacy-rocm-build-4729.txt").read_text()
ROCM_PASTES = {
    "4729": _ROCM_4729,
    "4729-rocm6.0": _ROCM_4729.replace("torch==2.3.0+rocm6.2.3", "torch==2.3.0+rocm6.0"),
}
_OPTION = re.compile(
    r"(?:--index-url|--extra-index-url|-f|builds from) (https://download\.pytorch\.org/\S+)"
)
_TORCH_PIN = re.compile(r'"torch==([0-9][0-9.]*?)(?:\.\*|\+[a-z0-9.]+)?"')
_TAGGED = re.compile(r"\+(cpu|[a-z]+[0-9][a-z0-9.]*)")


def _named_indexes(facts: Facts) -> list[tuple[str, str, str]]:
    """(fix way, torch release it pins or keeps, URL) for every download.pytorch.org URL
    the doctor's fixes print for these facts."""
    found = []
    for finding in run_checks(facts):
        for way in (finding.fix or "").split("; or "):
            pinned = _TORCH_PIN.search(way)
            torch = pinned.group(1) if pinned else (facts.torch.version or "").partition("+")[0]
            # no pin and no torch version (torch's own warning alone, demucs-116): pip takes
            # the newest release the index holds
            torch = torch or str(max(r.release for r in load_matrix().torch))
            found += [(way, torch, url.rstrip(").,;")) for url in _OPTION.findall(way)]
    return found


def _exists(way: str, torch: str, url: str) -> bool:
    from envlock.matrix.family import index_for, load_indexes

    if "/whl/nightly/" in url:
        return load_indexes().nightly_index(url.rsplit("/", 1)[1]) == url
    release = Version.parse(torch)
    tags = {url.rsplit("/", 1)[1]} | set(_TAGGED.findall(way))
    if any((ix := index_for(release, t)) is not None and ix.url == url for t in tags):
        return True
    # the variant index of a CUDA or CPU build torch.toml holds for the release (the matrix
    # roads of hints.install_line: a release the page installs with -f included)
    entry = load_matrix().torch_release(release.truncate(2))
    held = {"cpu", *(v.name for v in entry.variants)} if entry is not None else set()
    return any(url == f"https://download.pytorch.org/whl/{t}" for t in tags & held)


@pytest.mark.parametrize("name", [*TUNING, *ROCM_PASTES])
def test_every_index_a_fix_names_is_one_pytorch_org_names_for_its_release(name: str) -> None:
    """issue 21 item 6 (R1): each --index-url/--extra-index-url/-f URL a fix prints is one
    matrix/indexes.toml (with torch.toml's CUDA builds) holds for the release the line pins
    (or, with no torch pin, the installed torch's): no made-up /whl/rocm6.2.3."""
    text = ROCM_PASTES.get(name)
    facts = facts_from_texts(collect_env=text) if text is not None else _pasted(name)
    bad = [(w, t, u) for w, t, u in _named_indexes(facts) if not _exists(w, t, u)]
    assert bad == []


def test_the_rocm_pastes_name_indexes_where_one_exists() -> None:
    """Not vacuous: the +rocm6.0 variant's fix names whl/rocm6.0; AMD's build, none."""
    urls = {
        n: [u for _, _, u in _named_indexes(facts_from_texts(collect_env=t))]
        for n, t in ROCM_PASTES.items()
    }
    assert "https://download.pytorch.org/whl/rocm6.0" in urls["4729-rocm6.0"]
    assert not any("rocm6.2.3" in u for u in urls["4729"])


def test_the_fp8_fix_holds_on_its_gpu_and_in_e5m2() -> None:
    """EL-FP8-UNSUPPORTED (vllm-project/vllm#18182, 4xA100): no tuning report raises it, so its
    two ways are followed here: the job in e5m2 (Triton's refusal no longer printed), or the
    GPUs replaced by a model of the capability the fix names (the matrix's GPU table)."""
    from envlock.pasted.tritonmsg import FP8_REFUSED
    from tests.checks.test_triton_arch import VLLM_18182

    facts = facts_from_texts(collect_env=VLLM_18182)
    (finding,) = [f for f in run_checks(facts) if f.check_id == "EL-FP8-UNSUPPORTED"]
    cc = finding.evidence["fix.gpu_capability_at_least"]
    assert "fp8_e5m2" in (finding.fix or "") and f">= {cc}" in (finding.fix or "")
    for after_facts in (_without_notes(facts, FP8_REFUSED), _gpus_of_capability(facts, cc)):
        after = run_checks(after_facts)
        assert "EL-FP8-UNSUPPORTED" not in {f.check_id for f in after}
        assert not _errors(after) - _errors(run_checks(facts)), [f.message for f in after]

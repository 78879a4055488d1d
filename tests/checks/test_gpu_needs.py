"""Issue 21 items 2 and 6 in the doctor: a GPU no build or driver can serve gets its own
finding, a fix never names a driver past the GPU's last branch nor a placeholder index,
and roads come by cost (another build of the same release before a driver upgrade).

Facts are the recorded H100 host (tests/facts_builders.py) edited to each case; every
case's roads are re-applied by the fix property test (tests/checks/test_fixes_recheck.py).
"""

from __future__ import annotations

import dataclasses
import re

import pytest

from envlock.checks.context import CheckContext
from envlock.checks.registry import run_checks
from envlock.facts import Facts
from envlock.findings import Finding, Severity
from envlock.matrix import Version, load_matrix
from tests.checks.test_checks import _driver, _live, _torch
from tests.checks.test_fixes_recheck import _recheck
from tests.facts_builders import edit, gpu, h100_host, with_gpus

CU117_FLAGS = ["sm_37", "sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86"]
CU118_FLAGS = [*CU117_FLAGS, "sm_90"]


def _on(name: str, cc: str, facts: Facts) -> Facts:
    """The host's GPU replaced by `name` (NVML's compute capability `cc`)."""
    return _live(with_gpus(facts, gpu(facts, name=name, compute_capability=cc)), devices=[])


def fermi_torch_2_0_cu117() -> Facts:
    """A GTX 560 Ti (Fermi, 2.1) on its last driver (R390), torch 2.0.1+cu117."""
    f = _live(_torch(h100_host(), "2.0.1+cu117", "11.7"), arch_flags=CU117_FLAGS)
    return _driver(_on("NVIDIA GeForce GTX 560 Ti", "2.1", f), "390.157", "9.1")


def k80_470_torch_2_0_cu118() -> Facts:
    """A Tesla K80 (3.7) on R470, torch 2.0.1+cu118: CUDA 11.8's own driver (520.61.05)
    does not exist for Kepler; minor-version compatibility is all there is."""
    f = _live(_torch(h100_host(), "2.0.1+cu118", "11.8"), arch_flags=CU118_FLAGS)
    return _driver(_on("Tesla K80", "3.7", f), "470.82.01", "11.4")


def k80_418_torch_2_0_cu118() -> Facts:
    """A Tesla K80 on R418: too old for CUDA 11; the upgrade that exists is R450-R470."""
    return _driver(k80_470_torch_2_0_cu118(), "418.87.01", "10.1")


def h100_570_torch_2_9_cu130() -> Facts:
    """Driver 570.26 (CUDA 12.8) and torch 2.9.0+cu130: 2.9 cu128 runs as the machine is."""
    f = _torch(h100_host(), "2.9.0+cu130", "13.0")
    return _driver(f, "570.26", "12.8")


def cpu_torch_unknown_gpu() -> Facts:
    """A CPU build of torch on a GPU the name table does not know, capability unreported."""
    f = _torch(h100_host(), "2.9.0+cpu", None)
    f = _live(f, arch_flags=[], devices=[])
    return with_gpus(f, gpu(f, name="NVIDIA Mystery GPU", compute_capability=None))


def cpu_torch_on_fermi() -> Facts:
    f = _live(_torch(h100_host(), "2.9.0+cpu", None), arch_flags=[])
    return _driver(_on("NVIDIA GeForce GTX 480", "2.0", f), "390.157", "9.1")


def _by_id(facts: Facts) -> dict[str, Finding]:
    return {f.check_id: f for f in run_checks(facts)}


def test_a_gpu_no_build_serves_gets_its_own_finding() -> None:
    found = _by_id(fermi_torch_2_0_cu117())
    f = found["EL-GPU-UNSERVABLE"]
    assert f.severity is Severity.ERROR
    assert "2.1" in f.message and "Fermi" in f.message
    assert "whl/cpu" in (f.fix or "") and "TORCH_CUDA_ARCH_LIST=2.1" in (f.fix or "")
    assert "CUDA 8.0" in (f.fix or "")  # the last toolkit that compiles sm_21
    # instead of an impossible fix: no build to install, no driver to upgrade to
    assert "EL-ARCH-UNSUPPORTED" not in found
    for other in found.values():
        assert "upgrade the NVIDIA driver to >=" not in (other.fix or ""), other


def test_a_gpu_a_build_serves_is_not_unservable() -> None:
    assert "EL-GPU-UNSERVABLE" not in _by_id(h100_host())
    # a K80 still runs torch 2.0 cu118 (sm_37) through R470's minor-version compatibility
    assert "EL-GPU-UNSERVABLE" not in _by_id(k80_470_torch_2_0_cu118())


def test_a_cpu_build_on_an_unservable_gpu_is_right() -> None:
    found = _by_id(cpu_torch_on_fermi())
    assert "EL-TORCH-CPU-ONLY" not in found  # no CUDA build would run there
    assert "EL-GPU-UNSERVABLE" not in found  # nothing to change: torch runs on the CPU


def test_minor_compat_on_kepler_never_offers_a_driver_past_r470() -> None:
    f = _by_id(k80_470_torch_2_0_cu118())["EL-DRIVER-MINOR-COMPAT"]
    assert "520.61.05" not in (f.fix or "")
    assert not any("driver_at_least" in r for r in f.evidence["fix.roads"])


def test_too_old_on_kepler_offers_the_driver_that_exists() -> None:
    f = _by_id(k80_418_torch_2_0_cu118())["EL-DRIVER-TOO-OLD"]
    assert "upgrade the NVIDIA driver to >= 520.61.05" not in (f.fix or "")
    roads = [r for r in f.evidence["fix.roads"] if "driver_at_least" in r]
    assert roads and all(int(r["driver_at_least"].split(".")[0]) <= 470 for r in roads)


def test_another_build_of_the_same_release_comes_before_a_driver_upgrade() -> None:
    f = _by_id(h100_570_torch_2_9_cu130())["EL-DRIVER-TOO-OLD"]
    fix = f.fix or ""
    assert fix.startswith("install torch built for an older CUDA"), fix
    assert 'torch==2.9.*" --index-url https://download.pytorch.org/whl/cu12' in fix
    assert fix.index("whl/cu12") < fix.index("upgrade the NVIDIA driver")


def test_cpu_build_fix_is_never_a_placeholder() -> None:
    f = _by_id(cpu_torch_unknown_gpu())["EL-TORCH-CPU-ONLY"]
    assert "cuXYZ" not in (f.fix or "")
    assert 'envlock matrix --gpu "NVIDIA Mystery GPU" --driver 580.65.06' in (f.fix or "")


def test_a_name_two_chips_share_gives_no_capability() -> None:
    """GT 730 is Kepler 3.5 or Fermi 2.1: from the name alone the doctor does not guess,
    and says why."""
    f = h100_host()
    f = with_gpus(f, gpu(f, name="NVIDIA GeForce GT 730", compute_capability=None))
    (g,) = CheckContext(facts=f, host=None, matrix=load_matrix()).gpus()
    assert g.capability is None
    assert "3.5 or 2.1" in g.capability_from


def test_every_new_case_fix_holds() -> None:
    """The fix property test over these cases: each road applied, the finding gone."""
    checked = []
    for build in (
        fermi_torch_2_0_cu117,
        k80_418_torch_2_0_cu118,
        k80_470_torch_2_0_cu118,
        h100_570_torch_2_9_cu130,
        cpu_torch_unknown_gpu,
    ):
        checked += _recheck(build())
    ids = {c for c, _ in checked}
    assert {"EL-GPU-UNSERVABLE", "EL-DRIVER-TOO-OLD"} <= ids  # not a vacuous pass
    assert {"torch": "2.0", "variant": "cpu"} in [r for _, r in checked]


def cpu_torch_2_9_on_driver_520() -> Facts:
    """torch 2.9.0+cpu on the H100 with driver 520.61.05 (CUDA 11.8): no 2.9 CUDA build
    runs on that driver; an R580 driver runs 2.9 cu130, an older release runs as it is."""
    f = _live(_torch(h100_host(), "2.9.0+cpu", None), arch_flags=[])
    return _driver(f, "520.61.05", "11.8")


def test_a_driver_upgrade_that_keeps_the_release_comes_before_another_release() -> None:
    f = _by_id(cpu_torch_2_9_on_driver_520())["EL-TORCH-CPU-ONLY"]
    roads = f.evidence["fix.roads"]
    assert roads[0].get("torch") == "2.9" and "driver_at_least" in roads[0], roads
    assert any(r.get("torch") != "2.9" for r in roads[1:]), roads  # the other release, after
    assert (f.fix or "").startswith("upgrade the NVIDIA driver to >= "), f.fix
    _recheck(cpu_torch_2_9_on_driver_520())


# ------------------------------------------------- issue 21 item 6: an audit of the fixes
def _no_driver(f: Facts) -> Facts:
    d = dataclasses.replace(
        f.driver,
        version=None,
        nvml_library_version=None,
        kernel_module_version=None,
        cuda_version=None,
        gpus=None,
        pci_gpus=[],
        device_nodes=[],
    )
    return edit(f, "driver", d)


def test_without_a_driver_the_fix_names_the_cpu_index() -> None:
    f = _by_id(_no_driver(h100_host()))["EL-NO-DRIVER"]
    fix = f.fix or ""
    assert "--index-url https://download.pytorch.org/whl/cpu" in fix, fix
    assert 'torch==2.14.*"' in fix, fix


_INSTALL = re.compile(
    r'torch==(\d+\.\d+)\.\*".*?--index-url https://download\.pytorch\.org/whl/(\w+)'
)
_DRIVER = re.compile(r"driver to >= (\d+)")


@pytest.mark.slow  # ~100 doctor runs
@pytest.mark.parametrize("cc", ["3.5", "5.0", "7.0", "8.6", "12.0"])
def test_every_fix_names_a_build_that_exists_and_a_driver_this_gpu_can_have(cc: str) -> None:
    """Over old and new GPUs, drivers and the default build of releases from 1.0 to 2.14:
    no placeholder, every (torch, variant) a fix installs is in the matrix (or the CPU
    index), no driver upgrade past the GPU's last branch. (An audit: it found no gap.)"""
    m = load_matrix()
    arch = m.architecture(Version.parse(cc))
    last = arch.last_branch if arch is not None else None
    fixes = 0
    for drv in ("470.82.01", "580.65.06"):
        for rel in m.torch[::3]:
            v = rel.variant(rel.default_variant)
            assert v is not None
            f = _on("GPU", cc, _driver(h100_host(), drv, "12.0"))
            f = _torch(f, f"{rel.release}.0+{v.name}", str(v.cuda))
            for x in run_checks(f):
                fix = x.fix or ""
                fixes += bool(fix)
                assert not re.search(r"XYZ|\{|\}|None", fix), fix
                for torch, variant in _INSTALL.findall(fix):
                    row = m.torch_release(Version.parse(torch))
                    assert variant == "cpu" or (row and row.variant(variant)), fix
                for needed in _DRIVER.findall(fix):
                    assert last is None or int(needed) <= last, (cc, fix)
    assert fixes  # not vacuous

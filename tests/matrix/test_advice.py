"""Which official torch wheel fits a GPU, driver and Python."""

from __future__ import annotations

from dataclasses import replace

from envlock.matrix import DriverSupport, Version, load_matrix
from envlock.matrix.advice import best, evaluate

V = Version.parse


def _best(cc: str, driver: str | None, python: str | None = None) -> tuple[str, str] | None:
    fits = evaluate(
        load_matrix(),
        capabilities=[V(cc)],
        driver=V(driver) if driver else None,
        python=V(python) if python else None,
    )
    b = best(fits)
    return (str(b.release.release), b.variant.name) if b else None


def test_rtx_5090_on_570_gets_the_newest_cu128_release() -> None:
    # 2.12+ ship cu126 (no 12.0) and cu130/132 (need 580+); 2.11 cu128 covers 12.0.
    assert _best("12.0", "570.86") == ("2.11", "cu128")


def test_rtx_5090_on_580_gets_the_newest_release() -> None:
    assert _best("12.0", "580.65.06") == ("2.14", "cu130")


def test_v100_keeps_cu126() -> None:
    assert _best("7.0", "580.65.06") == ("2.14", "cu126")


def test_minor_compat_is_accepted_when_nothing_runs_fully() -> None:
    fits = evaluate(load_matrix(), capabilities=[V("9.0")], driver=V("535.104.05"))
    b = best(fits)
    assert b is not None and (str(b.release.release), b.variant.name) == ("2.14", "cu126")
    assert b.driver is not None and b.driver.support is DriverSupport.MINOR_COMPAT
    assert any("minor-version" in c for c in b.caveats)


def test_ptx_only_under_minor_compat_does_not_run() -> None:
    # torch 2.9 cu130 reaches a hypothetical 12.1-only GPU through sm_120 SASS, fine;
    # a GPU newer than 12.0 on cu129 (12.0+PTX) on a 570 driver would need PTX JIT.
    fits = evaluate(load_matrix(), capabilities=[V("12.1")], driver=V("570.86"))
    cu129 = next(f for f in fits if f.variant.name == "cu129")
    assert cu129.coverage["12.1"].sass is not None  # sm_120 SASS runs on 12.1
    # no PTX/driver problem; its cuDNN 9.10.2 stops at 12.0 (N6), which the doctor's
    # EL-CUDNN-GPU-UNSUPPORTED reports too, so that is its one problem
    assert [p for p in cu129.problems if "cuDNN" not in p] == []
    assert cu129.problems == ["its cuDNN 9.10.2.21 does not support compute capability 12.1"]


def test_a_build_whose_cudnn_lacks_the_gpu_does_not_run() -> None:
    """Issue 10, item 5: RTX 5090 (12.0) and cu126 (cuDNN 9.10.2 covers it, no sm_120
    kernels) or cuDNN 9.1 builds: the matrix never calls them runnable."""
    fits = evaluate(load_matrix(), capabilities=[V("12.0")], driver=V("580.65.06"))
    assert all(not f.runs for f in fits if f.variant.name == "cu126")


def test_python_filter() -> None:
    assert _best("9.0", "580.65.06", "3.9") == ("2.8", "cu129")
    # Python 3.7: only torch 1.x; an H100 runs the newest of them with PTX (1.5's 3.7+PTX)
    assert _best("9.0", "580.65.06", "3.7") == ("1.5", "cu102")
    assert _best("9.0", "580.65.06", "3.4") is None


def test_no_driver_judges_kernels_only() -> None:
    assert _best("12.0", None) == ("2.14", "cu132")


def test_unverified_arch_list_is_unknown_not_yes() -> None:
    """A variant without an arch list (no source gives one): every row has one today, so the
    2.6 row is read with its lists taken away."""
    m = load_matrix()
    r26 = m.torch_release(V("2.6"))
    assert r26 is not None
    unknown = replace(r26, variants=tuple(replace(v, arch_list=None) for v in r26.variants))
    fits = evaluate(replace(m, torch=(unknown,)), capabilities=[V("9.0")], driver=V("580.65.06"))
    f26 = next(f for f in fits if str(f.release.release) == "2.6" and f.variant.name == "cu126")
    assert f26.runs is None and any("UNVERIFIED" in c for c in f26.caveats)

"""Issue 21 item 2: what each GPU needs from the driver and what it can never have.

The matrix answers for the issue's examples (an RTX 5090 on driver 535, an RTX 4090 on
515), the legacy branches' bound (Kepler's last driver is R470, Maxwell-Volta's R580),
the CUDA majors that dropped an architecture, and the names people paste.
"""

from __future__ import annotations

import pytest

from envlock.matrix import Version, load_matrix
from envlock.matrix.advice import best, evaluate, remedy

V = Version.parse


def _fits(cc: str, driver: str | None) -> list:  # type: ignore[type-arg]
    return evaluate(
        load_matrix(), capabilities=[V(cc)], driver=V(driver) if driver else None, python=None
    )


@pytest.mark.parametrize(
    ("gpu", "driver", "branch"),
    [("RTX 5090", "535", "R570"), ("RTX 4090", "515", "R520"), ("B200", "560.35.03", "R570")],
)
def test_a_driver_older_than_the_architecture_runs_nothing(
    gpu: str, driver: str, branch: str
) -> None:
    model = load_matrix().gpu_by_name(gpu)
    assert model is not None
    fits = _fits(str(model.capability), driver)
    assert best(fits) is None
    assert all(any(branch in p for p in f.problems) for f in fits)


def test_a_driver_new_enough_for_the_architecture_still_runs() -> None:
    assert best(_fits("8.9", "525.60.13")) is not None  # RTX 4090 on R525
    assert best(_fits("12.0", "570.26")) is not None  # RTX 5090 on R570


def test_the_road_for_an_rtx_5090_on_535_is_an_r570_driver() -> None:
    r = remedy(_fits("12.0", "535.104.05"), installed=None, installed_variant=None)
    assert r.build is None
    assert r.driver_at_least is not None and r.driver_at_least >= V("570.26")


def test_min_driver_is_a_version_of_the_architectures_first_branch() -> None:
    m = load_matrix()
    assert m.gpu_min_driver(V("12.0")) == V("570.26")
    assert m.gpu_min_driver(V("8.9")) == V("520.61.05")
    assert m.gpu_min_driver(V("7.0")) is None  # no minimum this table's drivers miss


def test_kepler_never_gets_a_driver_past_r470() -> None:
    m = load_matrix()
    assert not m.driver_exists_for(V("525.60.13"), [V("3.7")], "linux")
    assert m.driver_exists_for(V("450.80.02"), [V("3.7")], "linux")
    assert m.driver_exists_for(V("580.65.06"), [V("6.1")], "linux")  # R580: Pascal's last
    assert not m.driver_exists_for(V("590.44.01"), [V("6.1")], "linux")
    assert m.driver_gpu_problem(V("535.104.05"), V("3.7"), "linux") is not None
    assert m.driver_gpu_problem(V("470.82.01"), V("3.7"), "linux") is None


def test_a_cuda_12_build_is_never_offered_to_a_kepler_gpu() -> None:
    """Driver unknown: a CUDA 12 build needs >= 525.60.13, past Kepler's last (R470)."""
    for f in _fits("3.7", None):
        if f.variant.cuda.major >= 12:
            assert f.runs is False and not f.runs_if_driver, f.variant.name


def test_a_driver_road_past_the_last_branch_is_never_offered() -> None:
    # a K80 on R470 with torch 2.0 cu118: full CUDA 11.8 support needs 520.61.05, which no
    # Kepler driver reaches; only minor-version compatibility (>= 450.80.02) is possible
    r = remedy(_fits("3.7", "470.82.01"), installed=V("2.0.1"), installed_variant="cu118")
    assert r.driver_at_least is None or r.driver_at_least.major <= 470


def test_cuda_13_dropped_pascal() -> None:
    for f in _fits("6.1", "580.65.06"):
        if f.variant.cuda.major >= 13:
            assert any("CUDA 13" in p and "6.1" in p for p in f.problems), f.problems


@pytest.mark.parametrize(
    ("name", "cc"),
    [
        ("NVIDIA GeForce GTX 1650 with Max-Q Design", "7.5"),
        ("NVIDIA GeForce RTX 3060 Laptop GPU", "8.6"),
        ("NVIDIA GeForce RTX 4090 D", "8.9"),
        ("NVIDIA A100-SXM4-80GB", "8.0"),
        ("NVIDIA H100 80GB HBM3", "9.0"),
        ("Tesla V100-SXM2-16GB", "7.0"),
        ("Tesla K80", "3.7"),
        ("Quadro P4000", "6.1"),
        ("NVIDIA GeForce GTX 780 Ti", "3.5"),
        ("GeForce GTX 680", "3.0"),
        ("GeForce GTX 480", "2.0"),
        ("GeForce GTX 560 Ti", "2.1"),
        ("GeForce GTX 280", "1.3"),
        ("GeForce 8800 GTX", "1.0"),
        ("GeForce 8800 GTS 512", "1.1"),
        ("NVIDIA GeForce MX250", "6.1"),
        ("NVIDIA GeForce GT 1030", "6.1"),
        ("NVIDIA GeForce RTX 2050", "8.6"),
    ],
)
def test_names_as_people_paste_them(name: str, cc: str) -> None:
    model = load_matrix().gpu_by_name(name)
    assert model is not None and model.capability == V(cc) and not model.ambiguous, model


@pytest.mark.parametrize(("name", "ccs"), [("GeForce GT 730", {"3.5", "2.1"}), ("GT 640", None)])
def test_a_name_sold_under_two_capabilities_says_so(name: str, ccs: set[str] | None) -> None:
    model = load_matrix().gpu_by_name(name)
    assert model is not None and model.ambiguous
    if ccs is not None:
        assert {str(c) for c in (model.capability, *model.also)} == ccs


def test_every_capability_of_the_name_table_has_its_driver_bounds() -> None:
    """Each non-Tegra capability a name maps to has its architecture's driver row."""
    m = load_matrix()
    for g in m.gpus:
        cap = m.capability(g.capability)
        assert cap is not None
        if not cap.tegra:
            assert m.architecture(g.capability) is not None, g

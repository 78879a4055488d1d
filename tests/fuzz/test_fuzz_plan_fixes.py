"""A plan's torch fix fuzzed over hosts and planned builds: for a random GPU (a compute
capability of gpus.toml) and driver, and a planned pytorch/pytorch FROM or conda line of a
random release and CUDA of the matrix, the replacement fixes.torch_replacement writes
names only what was published (images.toml: a pytorch/pytorch tag, a pytorch conda
channel build with its pytorch-cuda), and the build it names has the GPU's own kernels
(SASS) whenever any build that runs there has them."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envlock.facts import Facts
from envlock.matrix import Version, load_matrix
from envlock.plan import dockerfile
from envlock.plan.fixes import torch_replacement
from envlock.plan.images import image_table
from envlock.plan.model import ReadOptions, Replacement
from envlock.plan.tofacts import plan_facts
from tests.facts_builders import edit, gpu, h100_host, with_gpus
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ

pytestmark = pytest.mark.fuzz

PLAN_FIXES = settings(FUZZ, deadline=None, max_examples=max(25, EXAMPLES // 4))
MATRIX = load_matrix()
CAPABILITIES = ["3.7", "5.0", "6.1", "7.0", "7.5", "8.0", "8.6", "8.9", "9.0", "10.0", "12.0"]
DRIVERS = ["450.80.02", "470.57.02", "525.60.13", "535.104.05", "550.54.15", "570.86.15"]
DRIVERS += ["580.65.06"]
BUILDS = [
    (str(r.release), f"{v.cuda.major}.{v.cuda.minor}")
    for r in MATRIX.torch
    if r.release >= Version.parse("1.13")
    for v in r.variants
]


def _host(capability: str, driver: str) -> Facts:
    h = h100_host()
    facts = with_gpus(h, gpu(h, compute_capability=capability, mig_mode=False))
    for path in ("driver.version", "driver.kernel_module_version"):
        facts = edit(facts, path, driver)
    return facts


def _replacement(text: str, host: Facts) -> Replacement | None:
    (plan,) = dockerfile.read(text, "/plan/Dockerfile", ReadOptions())
    pf = plan_facts(plan, MATRIX, collected_at="2026-01-01T00:00:00+00:00", version="0")
    return torch_replacement(pf, host, MATRIX)


def _sass(torch: str, cuda: str, capability: str) -> bool:
    release = MATRIX.torch_release(Version.parse(torch))
    variant = release.variant(f"cu{cuda.replace('.', '')}") if release else None
    targets = variant.targets if variant is not None else None
    return bool(targets) and MATRIX.coverage(Version.parse(capability), targets).sass is not None


def _any_sass_runs(capability: str, driver: str) -> bool:
    from envlock.matrix.advice import evaluate

    fits = evaluate(MATRIX, capabilities=[Version.parse(capability)], driver=Version.parse(driver))
    return any(f.runs and not f.caveats and f.variant.name.startswith("cu") for f in fits)


@PLAN_FIXES
@given(
    capability=st.sampled_from(CAPABILITIES),
    driver=st.sampled_from(DRIVERS),
    build=st.sampled_from(BUILDS),
    flavor=st.sampled_from(["runtime", "devel"]),
)
def test_an_image_fix_names_a_published_tag_with_the_gpus_kernels(
    capability: str, driver: str, build: tuple[str, str], flavor: str
) -> None:
    release, cuda = build
    text = f"FROM pytorch/pytorch:{release}.0-cuda{cuda}-cudnn9-{flavor}\n"
    replacement = _replacement(text, _host(capability, driver))
    if replacement is None:
        return
    m = re.fullmatch(r"FROM pytorch/pytorch:(\S+)", replacement.text)
    assert m is not None, replacement.text
    assert image_table().published("docker.io/pytorch/pytorch", m[1]), m[1]
    assert m[1].endswith(f"-{flavor}")
    torch, named_cuda = re.findall(r"^([\d.]+)-cuda([\d.]+)-", m[1])[0]
    if _any_sass_runs(capability, driver):
        assert _sass(torch, named_cuda, capability), (m[1], capability)


@PLAN_FIXES
@given(
    capability=st.sampled_from(CAPABILITIES),
    driver=st.sampled_from(DRIVERS),
    build=st.sampled_from([b for b in BUILDS if image_table().conda_versions(b[1])]),
)
def test_a_conda_fix_names_a_build_the_channel_published(
    capability: str, driver: str, build: tuple[str, str]
) -> None:
    release, cuda = build
    text = (
        f"FROM continuumio/miniconda3\nRUN conda install -y pytorch=={release}.0 "
        f"pytorch-cuda={cuda} -c pytorch -c nvidia\n"
    )
    replacement = _replacement(text, _host(capability, driver))
    if replacement is None:
        return
    m = re.search(r"pytorch==(\S+) pytorch-cuda=(\S+) ", replacement.text)
    assert m is not None, replacement.text
    assert m[1] in image_table().conda_versions(m[2]), replacement.text

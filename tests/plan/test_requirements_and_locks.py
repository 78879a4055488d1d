"""Requirements files, pylock.toml, uv.lock, pyproject.toml (envlock/plan/reqs.py and the
readers over it), the image tag table (plan/images.py) and what a plan's torch is
(plan/tofacts.py)."""

from __future__ import annotations

import pytest
import tomllib

from envlock.matrix import load_matrix
from envlock.plan import images, pylock, pyproject, requirements, uvlock
from envlock.plan.model import Plan, PlanError, ReadOptions, Span
from envlock.plan.reqs import conda_requirement, pip_requirement
from envlock.plan.tofacts import planned_torch
from tests.plan.test_dockerfile import _plan

MATRIX = load_matrix()


def _torch(plan: Plan) -> tuple[str | None, str | None]:
    torch, why = planned_torch(plan, MATRIX)
    return (torch.version, torch.variant) if torch is not None else (None, why)


def test_a_requirements_file_in_pips_grammar() -> None:
    text = (
        "# comment\n"
        "--index-url https://download.pytorch.org/whl/cu126\n"
        "numpy<2 ; python_version < '3.12'  # trailing comment\n"
        "torch==2.6.0 \\\n"
        "    --hash=sha256:0123456789abcdef\n"
        "torchvision[extra]==0.21.0 # a comment\n"
        "wheelpkg @ https://example.org/wheelpkg-1.0-py3-none-any.whl#sha256=00\n"
        "-e ./local\n"
    )
    plan = requirements.read(text, "requirements.txt", ReadOptions())[0]
    reqs = {r.name: r for r in plan.installs[0].requirements}
    assert set(reqs) == {"numpy", "torch", "torchvision", "wheelpkg"}
    assert reqs["wheelpkg"].url == "https://example.org/wheelpkg-1.0-py3-none-any.whl#sha256=00"
    assert reqs["numpy"].markers == 'python_version < "3.12"'
    torch_span = reqs["torch"].span
    assert torch_span is not None and (torch_span.line, torch_span.end_line) == (4, 5)
    assert plan.installs[0].index_url == "https://download.pytorch.org/whl/cu126"
    assert _torch(plan) == ("2.6.0", "cu126")


def test_requirement_words() -> None:
    wheel = pip_requirement(
        "https://download.pytorch.org/whl/cu121/torch-2.1.0%2Bcu121-cp311-cp311-linux_x86_64.whl",
        span=None,
    )
    assert wheel is not None and (wheel.name, wheel.specifier) == ("torch", "==2.1.0+cu121")
    assert pip_requirement(".", span=None) is None
    assert pip_requirement("torch==${V}", span=None) is None
    spec = conda_requirement("pytorch=1.2.0=py3.7_cuda9.2.148_cudnn7.6.2_0", span=None)
    assert spec is not None and (spec.specifier, spec.build) == (
        "==1.2.0.*",
        "py3.7_cuda9.2.148_cudnn7.6.2_0",
    )
    assert conda_requirement("::torch", span=None) is None


def test_an_empty_requirements_file_is_one_plan_error() -> None:
    with pytest.raises(PlanError, match="no requirement pip would read"):
        requirements.read("# nothing\n\n", "requirements.txt", ReadOptions())


PYLOCK = """\
lock-version = "1.0"
created-by = "uv"
requires-python = ">=3.11"

[[packages]]
name = "numpy"
version = "2.1.0"
index = "https://pypi.org/simple"
wheels = [{ url = "https://files.pythonhosted.org/numpy-2.1.0-cp311-none-any.whl", hashes = { sha256 = "00" } }]

[[packages]]
name = "torch"
version = "2.7.0+cu128"
index = "https://download.pytorch.org/whl/cu128"
wheels = [
  { url = "https://download.pytorch.org/whl/cu128/torch-2.7.0%2Bcu128-cp311-cp311-linux_x86_64.whl", hashes = { sha256 = "0" } },
]
"""


def test_pylock_each_package_pinned_with_its_block() -> None:
    assert pylock.detect(PYLOCK)
    plan = pylock.read(PYLOCK, "pylock.toml", ReadOptions())[0]
    torch = next(r for r in plan.installs[0].requirements if r.name == "torch")
    assert torch.span is not None and (torch.span.line, torch.span.end_line) == (11, 17)
    assert _torch(plan) == ("2.7.0", "cu128")
    with pytest.raises(PlanError, match=r"not a pylock\.toml packaging reads"):
        pylock.read('lock-version = "9.0"\n', "pylock.toml", ReadOptions())


UVLOCK = """\
version = 1
requires-python = ">=3.11"

[[package]]
name = "torch"
version = "2.7.0"
source = { registry = "https://pypi.org/simple" }
wheels = [{ url = "https://files.pythonhosted.org/torch-2.7.0-cp311-none-macosx_11_0_arm64.whl" }]

[[package]]
name = "torch"
version = "2.7.0+cu126"
source = { registry = "https://download.pytorch.org/whl/cu126" }
wheels = [{ url = "https://download.pytorch.org/whl/cu126/torch-2.7.0%2Bcu126-cp311-cp311-manylinux_2_28_x86_64.whl" }]
"""


def test_uv_lock_holds_a_forked_torch_by_its_linux_build() -> None:
    assert uvlock.detect(UVLOCK)
    plan = uvlock.read(UVLOCK, "uv.lock", ReadOptions())[0]
    assert _torch(plan) == ("2.7.0", "cu126")
    assert any("locked more than once" in n for n in plan.notes)


def test_pyproject_uv_sources_point_torch_at_an_index() -> None:
    text = (
        "[project]\nname = 'app'\ndependencies = [\n  'numpy',\n  'torch==2.8.0',\n]\n\n"
        "[tool.uv.sources]\ntorch = [\n"
        "  { index = 'pytorch-cpu', marker = \"sys_platform == 'darwin'\" },\n"
        "  { index = 'pytorch-cu129', marker = \"sys_platform == 'linux'\" },\n]\n\n"
        "[[tool.uv.index]]\nname = 'pytorch-cpu'\nurl = 'https://download.pytorch.org/whl/cpu'\n\n"
        "[[tool.uv.index]]\nname = 'pytorch-cu129'\nurl = 'https://download.pytorch.org/whl/cu129'\n"
    )
    tomllib.loads(text)  # the test's own text is TOML
    plan = pyproject.read(text, "pyproject.toml", ReadOptions())[0]
    assert plan.name == "app"
    assert _torch(plan) == ("2.8.0", "cu129")
    torch = next(r for r in plan.installs[0].requirements if r.name == "torch")
    assert torch.span is not None and torch.span.line == 5
    with pytest.raises(PlanError, match="not TOML"):
        pyproject.read("[project\n", "pyproject.toml", ReadOptions())


@pytest.mark.parametrize(
    "reference, cuda, cudnn, flavor, os_tag, torch",
    [
        (
            "nvidia/cuda:12.1.0-cudnn8-runtime-ubuntu22.04",
            "12.1",
            8,
            "runtime",
            "ubuntu22.04",
            None,
        ),
        (
            "nvcr.io/nvidia/cuda:12.6.3-cudnn-devel-ubuntu24.04",
            "12.6",
            9,
            "devel",
            "ubuntu24.04",
            None,
        ),
        ("docker.io/nvidia/cuda:11.8.0-base-ubi8", "11.8", None, "base", "ubi8", None),
        ("pytorch/pytorch:2.7.0-cuda12.8-cudnn9-runtime", "12.8", 9, "runtime", None, "2.7.0"),
        ("pytorch/pytorch:latest", None, None, None, None, None),
        ("python:3.11", None, None, None, None, None),
        ("nvcr.io/nvidia/pytorch:24.05-py3", None, None, None, None, None),
        ("Not A Reference!", None, None, None, None, None),
    ],
)
def test_what_an_image_tag_states(
    reference: str,
    cuda: str | None,
    cudnn: int | None,
    flavor: str | None,
    os_tag: str | None,
    torch: str | None,
) -> None:
    span = Span(file="Dockerfile", line=1, end_line=1, text=f"FROM {reference}")
    base = images.base_image(reference, span)
    got = (
        base.cuda.value if base.cuda else None,
        base.cudnn_major.value if base.cudnn_major else None,
        base.flavor.value if base.flavor else None,
        base.os.value if base.os else None,
        base.torch.value if base.torch else None,
    )
    assert got == (cuda, cudnn, flavor, os_tag, torch)


def test_every_image_row_is_sourced() -> None:
    from importlib import resources

    sources = tomllib.loads(resources.files("envlock.matrix").joinpath("sources.toml").read_text())
    table = tomllib.loads(resources.files("envlock.matrix").joinpath("images.toml").read_text())
    rows = [*table["repository"], *table["nvidia-cuda"], *table["nvidia-cuda-require"]]
    rows += table["pytorch-image"] + table["conda-pytorch"]
    assert rows and all(r["source"] and set(r["source"]) <= set(sources["sources"]) for r in rows)


@pytest.mark.parametrize(
    "run, expected",
    [
        # the pin's local version, the index, find-links, an extra index, PyPI's default
        ("pip install torch==2.5.1+cu118", ("2.5.1", "cu118")),
        (
            "pip install torch==2.5.1 --index-url https://download.pytorch.org/whl/cu121",
            ("2.5.1", "cu121"),
        ),
        (
            "pip install torch==1.10 -f https://download.pytorch.org/whl/cu111/torch_stable.html",
            ("1.10", "cu111"),
        ),
        (
            "pip install torch==2.0.1 --extra-index-url https://download.pytorch.org/whl/cu118",
            ("2.0.1", "cu118"),
        ),
        ("pip install torch==2.7.0", ("2.7.0", "cu126")),
        ("pip install torch==2.4.0 --index-url https://mirror.example/simple", ("2.4.0", None)),
        # unpinned from a variant index: that index's newest; from PyPI: not stated
        ("pip install torch --index-url https://download.pytorch.org/whl/cu121", ("2.5", "cu121")),
        (
            "pip install 'torch>=2.4'",
            (None, "Dockerfile:2: torch>=2.4 pins no version (a resolver picks one)"),
        ),
        # uv's --torch-backend names the PyTorch index; auto is the build machine's driver
        ("uv pip install --system torch==2.7.0 --torch-backend=cu118", ("2.7.0", "cu118")),
        ("uv pip install torch==2.7.0 --torch-backend auto", ("2.7.0", None)),
        ("conda install pytorch=2.1.0 pytorch-cuda=12.1", ("2.1.0", "cu121")),
        ("conda install pytorch==1.2.0=py3.7_cuda9.2.148_cudnn7.6.2_0", ("1.2.0", "cu92")),
        (
            "pip install torch==2.3.0 && pip uninstall -y torch && pip install torch==2.2.0+cpu",
            ("2.2.0", "cpu"),
        ),
    ],
)
def test_which_torch_a_plan_installs(run: str, expected: tuple[str | None, str | None]) -> None:
    assert _torch(_plan(f"FROM ubuntu:22.04\nRUN {run}\n")) == expected


def test_a_pytorch_image_states_its_torch_and_an_install_overrides_it() -> None:
    image = "FROM pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime\n"
    assert _torch(_plan(image)) == ("2.5.1", "cu124")
    assert _torch(_plan(image + "RUN pip install torch==2.7.0+cu128\n")) == ("2.7.0", "cu128")

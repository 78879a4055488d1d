"""envlock/plan/condaenv.py on the corpus's conda environment files and on constructed and
hostile ones."""

from __future__ import annotations

import pytest

from envlock.plan import condaenv
from envlock.plan.model import Install, Plan, PlanError
from tests.plan.yamlcase import read_corpus, read_text


def _by_installer(plan: Plan) -> dict[str, Install]:
    return {i.installer: i for i in plan.installs}


def _pins(install: Install) -> dict[str, str]:
    return {r.name: r.specifier for r in install.requirements}


# ---------------------------------------------------------------------- the corpus
def test_stable_diffusion_environment() -> None:
    [plan] = read_corpus("compvis-stable-diffusion/environment.yaml")
    assert (plan.kind, plan.name) == ("conda-env", "ldm")
    installs = _by_installer(plan)
    conda = installs["conda"]
    assert conda.channels == ("pytorch", "defaults")
    pins = _pins(conda)
    # conda's `=X` is the fuzzy X.* match
    assert pins["pytorch"] == "==1.11.0.*" and pins["cudatoolkit"] == "==11.3.*"
    assert pins["torchvision"] == "==0.12.0.*" and pins["python"] == ">=3.9"
    torch = next(r for r in conda.requirements if r.name == "pytorch")
    assert torch.span is not None and torch.span.line == 10
    assert torch.span.text.strip() == "- pytorch=1.11.0"
    pip = installs["pip"]
    assert _pins(pip)["transformers"] == "==4.19.2"
    assert pip.span.line == 14 and pip.span.end_line == 20  # the pip: items, as written
    assert sum("names no distribution" in n for n in plan.notes) == 2  # the two -e lines


def test_latent_diffusion_environment() -> None:
    [plan] = read_corpus("compvis-latent-diffusion/environment.yaml")
    pins = _pins(_by_installer(plan)["conda"])
    assert pins["pytorch"] == "==1.7.0.*" and pins["cudatoolkit"] == "==11.0.*"


# ---------------------------------------------------------------------- constructed
def test_channels_build_strings_pip_options_and_variables() -> None:
    text = """\
name: train
channels: [pytorch, nvidia, conda-forge]
dependencies:
  - pytorch::pytorch==2.1.0=py3.10_cuda12.1_cudnn8.9.2_0
  - pytorch-cuda=12.1
  - pip
  - pip:
      - --index-url https://download.pytorch.org/whl/cu121
      - --extra-index-url=https://pypi.org/simple
      - -f https://data.pyg.org/whl/torch-2.1.0+cu121.html
      - -r extra.txt
      - torch-scatter
variables:
  NCCL_DEBUG: INFO
"""
    extra = "accelerate==0.25.0\n"
    [plan] = read_text(
        "condaenv",
        text,
        "env.yml",
        read_beside=lambda _f, name: extra if name == "extra.txt" else None,
    )
    conda, pip = plan.installs
    torch = conda.requirements[0]
    assert (torch.name, torch.index, torch.build) == (
        "pytorch",
        "pytorch",
        "py3.10_cuda12.1_cudnn8.9.2_0",
    )
    assert _pins(conda)["pytorch-cuda"] == "==12.1.*"
    assert pip.index_url == "https://download.pytorch.org/whl/cu121"
    assert pip.extra_index_urls == ("https://pypi.org/simple",)
    assert pip.find_links == ("https://data.pyg.org/whl/torch-2.1.0+cu121.html",)
    assert pip.requirement_files == ("extra.txt",)
    assert set(_pins(pip)) == {"accelerate", "torch-scatter"}
    assert [(e.name, e.value, e.span.line) for e in plan.env] == [("NCCL_DEBUG", "INFO", 14)]


def test_a_missing_requirements_file_and_a_bad_spec_are_notes() -> None:
    text = "dependencies:\n  - '!!!'\n  - pip:\n      - -r missing.txt\n"
    [plan] = read_text("condaenv", text)
    assert any("'!!!' is not a conda match spec" in n for n in plan.notes)
    assert any("-r missing.txt: not found" in n for n in plan.notes)


@pytest.mark.parametrize("text", ["name: x\n", "dependencies:\n", "# nothing\n"])
def test_no_dependencies_is_a_plan_without_installs(text: str) -> None:
    [plan] = read_text("condaenv", text)
    assert all(not i.requirements for i in plan.installs)


# ---------------------------------------------------------------------- detection, hostile
def test_detect() -> None:
    assert condaenv.detect("name: a\nchannels: [pytorch]\ndependencies:\n  - pytorch\n")
    assert not condaenv.detect("services:\n  a:\n    image: x\n")


def test_a_dependency_list_bomb_ends_in_one_line() -> None:
    levels = ["d0: &d0 [pytorch]"]
    for n in range(1, 12):
        levels.append(f"d{n}: &d{n} [" + ", ".join([f"*d{n - 1}"] * 9) + "]")
    # `pip:` holds the last level: walking it whole would be 9**11 items
    text = "\n".join(levels) + "\ndependencies:\n  - pip: *d11\n"
    [plan] = read_text("condaenv", text)
    assert all(not i.requirements for i in plan.installs)  # nested lists are no requirements


def test_not_yaml_is_one_line() -> None:
    with pytest.raises(PlanError, match="not valid YAML"):
        read_text("condaenv", "dependencies:\n  - [\n")

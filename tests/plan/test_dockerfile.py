"""The Dockerfile reader (envlock/plan/dockerfile.py, dockerlex.py, shellcmd.py) on BuildKit's
grammar: small hand-written files, one rule each, and real files of the corpus
(tests/fixtures/plan/, sources in its sources.toml)."""

from __future__ import annotations

import pytest

from envlock.plan.dockerfile import detect, read
from envlock.plan.model import Install, Plan, PlanError, ReadOptions
from tests.conftest import FIXTURES

CORPUS = FIXTURES / "plan"


def _plan(text: str, **options: object) -> Plan:
    return read(text, "Dockerfile", ReadOptions(**options))[0]  # type: ignore[arg-type]


def _torch(plan: Plan) -> tuple[str, Install]:
    for install in reversed(plan.installs):
        for req in install.requirements:
            if req.name in ("torch", "pytorch"):
                return req.specifier, install
    raise AssertionError("no torch install")


def test_continuations_join_lines_and_skip_comments_and_blank_lines_inside() -> None:
    plan = _plan(
        "FROM python:3.11\n"
        "RUN apt-get update && \\\n"
        "    # a comment inside the instruction\n"
        "\n"
        "    pip install torch==2.4.1 \\   \n"
        "      --index-url https://download.pytorch.org/whl/cu124\n"
        "RUN echo done\n"
    )
    spec, install = _torch(plan)
    assert spec == "==2.4.1"
    assert install.index_url == "https://download.pytorch.org/whl/cu124"
    # the span is the whole instruction as written: every line of it
    assert (install.span.line, install.span.end_line) == (2, 6)
    assert install.span.text.startswith("RUN apt-get update") and "cu124" in install.span.text


def test_the_escape_directive_makes_the_backtick_the_continuation() -> None:
    text = "# escape=`\nFROM python:3.11\nRUN pip install `\n    torch==2.3.0\n"
    assert _torch(_plan(text))[0] == "==2.3.0"
    # a directive after a comment is a comment: the backslash stays the escape
    late = "# a comment\n# escape=`\nFROM python:3.11\nRUN pip install \\\n    torch==2.3.0\n"
    assert _torch(_plan(late))[0] == "==2.3.0"


def test_an_invalid_escape_directive_is_one_plan_error() -> None:
    with pytest.raises(PlanError, match="invalid escape token"):
        _plan("# escape=x\nFROM python:3.11\n")


def test_arg_before_from_substitutes_in_from_in_each_form() -> None:
    text = (
        "ARG CUDA=12.1.1\n"
        "ARG FLAVOR\n"
        "ARG OS\n"
        "FROM nvidia/cuda:${CUDA}-${FLAVOR:-runtime}-$OS${OS:+}${MISSING-ubuntu22.04}\n"
    )
    base = _plan(text).base
    assert base is not None
    assert base.reference.value == "nvidia/cuda:12.1.1-runtime-ubuntu22.04"
    assert base.cuda is not None and base.cuda.value == "12.1"
    assert base.flavor is not None and base.flavor.value == "runtime"


def test_build_args_override_defaults_and_the_target_picks_a_stage() -> None:
    text = (
        "ARG TORCH=2.1.0\n"
        "ARG BASE=pytorch/pytorch:2.1.0-cuda12.1-cudnn8-runtime\n"
        "FROM ${BASE} AS train\n"
        "ARG TORCH\n"
        "RUN pip install torch==${TORCH}\n"
        "FROM python:3.11-slim AS serve\n"
        "RUN pip install torch==${TORCH}\n"
    )
    serve = _plan(text, build_args={"TORCH": "2.5.1"})
    # an ARG declared before FROM is not in a stage until the stage declares it again
    assert [i.requirements for i in serve.installs] == [()]
    assert any("names a variable the file does not set" in n for n in serve.notes)
    train = _plan(text, build_args={"TORCH": "2.5.1"}, target="TRAIN")
    assert _torch(train)[0] == "==2.5.1"
    assert train.build_target == "train"
    assert train.base is not None and train.base.torch is not None
    assert train.base.torch.value == "2.1.0"


def test_an_unknown_target_is_one_plan_error_naming_the_stages() -> None:
    with pytest.raises(PlanError, match=r"no build stage named 'gpu' \(stages: base\)"):
        _plan("FROM python:3.11 AS base\n", target="gpu")


def test_a_stage_built_from_an_earlier_one_inherits_its_base_env_and_installs() -> None:
    plan = _plan(
        "FROM nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04 AS build\n"
        "ENV NCCL_DEBUG=INFO LD_LIBRARY_PATH=/usr/local/cuda/lib64\n"
        "RUN pip install torch==2.5.1 --index-url https://download.pytorch.org/whl/cu124\n"
        "FROM build AS final\n"
        'ENV NCCL_DEBUG="WARN"\n'
    )
    assert plan.base is not None and plan.base.cudnn_major is not None
    assert plan.base.cudnn_major.value == 9  # "cudnn" without a number: cuDNN 9 (IC2)
    assert _torch(plan)[0] == "==2.5.1"
    nccl = plan.env_value("NCCL_DEBUG")
    assert nccl is not None and nccl.value == "WARN" and nccl.span.line == 5


def test_from_platform_and_the_legacy_env_form() -> None:
    plan = _plan("FROM --platform=linux/arm64 ubuntu:22.04\nENV CUDA_HOME /usr/local/cuda 12\n")
    assert plan.platform == "linux/arm64"
    assert plan.base is not None and plan.base.cuda is None  # ubuntu's tag states no CUDA
    var = plan.env_value("CUDA_HOME")
    assert var is not None and var.value == "/usr/local/cuda 12"


def test_heredocs_are_scripts_and_stdin_is_not() -> None:
    plan = _plan(
        "FROM python:3.11\n"
        "RUN <<EOF\n"
        "set -e\n"
        "pip install torch==2.6.0 \\\n"
        "  --extra-index-url https://download.pytorch.org/whl/cu126\n"
        "EOF\n"
        "RUN python3 <<'PY'\n"
        "import os; os.system('pip install torch==1.0')\n"
        "PY\n"
        "RUN <<-EOF bash\n"
        "\tpip3 install torchvision==0.21.0\n"
        "\tEOF\n"
    )
    spec, install = _torch(plan)
    assert spec == "==2.6.0"
    assert install.extra_index_urls == ("https://download.pytorch.org/whl/cu126",)
    assert (install.span.line, install.span.end_line) == (2, 6)
    assert any(r.name == "torchvision" for i in plan.installs for r in i.requirements)


def test_an_unterminated_heredoc_is_one_plan_error() -> None:
    with pytest.raises(PlanError, match="unterminated heredoc <<EOF"):
        _plan("FROM python:3.11\nRUN <<EOF\npip install torch\n")


def test_json_form_runs_without_a_shell_unless_it_names_one() -> None:
    plan = _plan(
        'FROM python:3.11\nRUN ["pip", "install", "torch==2.2.2"]\n'
        'RUN ["/bin/bash", "-c", "uv pip install --system torchaudio==2.2.2 && true"]\n'
    )
    installers = [(i.installer, i.requirements[0].name) for i in plan.installs]
    assert installers == [("pip", "torch"), ("uv", "torchaudio")]


@pytest.mark.parametrize(
    "line",
    [
        "pip3 install --no-cache-dir torch==2.4.0",
        "python3 -m pip install -U 'torch==2.4.0'",
        "python -m pip install torch==2.4.0 -i https://download.pytorch.org/whl/cu121",
        "uv pip install --system torch==2.4.0",
        "sudo -H pip3.10 install torch==2.4.0",
        "PIP_NO_CACHE_DIR=1 pip install torch==2.4.0",
        "cd /app; pip install -q torch==2.4.0 || exit 1",
        "RUN --mount=type=cache,target=/root/.cache pip install torch==2.4.0".removeprefix("RUN "),
    ],
)
def test_every_installer_spelling_is_read(line: str) -> None:
    assert _torch(_plan(f"FROM python:3.11\nRUN {line}\n"))[0] == "==2.4.0"


def test_conda_specs_and_channels() -> None:
    plan = _plan(
        "FROM continuumio/miniconda3\n"
        "RUN conda install -y -c pytorch -c nvidia pytorch=2.1.0 pytorch-cuda=12.1 "
        "'pytorch::torchvision==0.16.0=py311_cu121'\n"
    )
    spec, install = _torch(plan)
    assert spec == "==2.1.0.*"
    assert install.installer == "conda" and install.channels == ("pytorch", "nvidia")
    vision = next(r for r in install.requirements if r.name == "torchvision")
    assert (vision.specifier, vision.index, vision.build) == ("==0.16.0", "pytorch", "py311_cu121")


def test_requirement_files_beside_the_dockerfile_are_read_with_their_own_lines() -> None:
    files = {"requirements.txt": "numpy\n-r gpu.txt\n", "gpu.txt": "# gpu\ntorch==2.7.0+cu128\n"}

    def beside(from_file: str, name: str) -> str | None:
        return files.get(name)

    plan = _plan(
        "FROM python:3.11\nCOPY requirements.txt .\nRUN pip install -r /app/requirements.txt\n",
        read_beside=beside,
    )
    torch = next(r for i in plan.installs for r in i.requirements if r.name == "torch")
    assert torch.pinned == "2.7.0+cu128"
    assert torch.span is not None and (torch.span.file, torch.span.line) == ("gpu.txt", 2)
    missing = _plan("FROM python:3.11\nRUN pip install -r other.txt\n", read_beside=beside)
    assert any("-r other.txt: not found" in n for n in missing.notes)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "no FROM instruction"),
        ("# only a comment\n", "no FROM instruction"),
        ("RUN pip install torch\nFROM python\n", "RUN before the first FROM"),
        ("FROM\n", "FROM names no image"),
    ],
)
def test_not_a_dockerfile_is_one_plan_error(text: str, message: str) -> None:
    with pytest.raises(PlanError, match=message):
        _plan(text)


def test_detection_by_content() -> None:
    assert detect("# syntax=docker/dockerfile:1\nFROM python:3.11\nRUN true\n")
    assert not detect("services:\n  app:\n    image: python\nfrom: x\n")
    assert not detect("[project]\nname = 'x'\n")


def test_real_files_of_the_corpus() -> None:
    # mmdetection: FROM pytorch/pytorch:${PYTORCH}-cuda${CUDA}-cudnn${CUDNN}-devel, ARG defaults
    mmdet = read((CORPUS / "mmdetection" / "Dockerfile").read_text(), "Dockerfile", ReadOptions())
    base = mmdet[0].base
    assert (
        base is not None and base.reference.value == "pytorch/pytorch:1.6.0-cuda10.1-cudnn7-devel"
    )
    assert base.torch is not None and base.torch.value == "1.6.0"
    # detectron2: torch==1.10 from the cu111 find-links page
    d2 = read((CORPUS / "detectron2" / "Dockerfile").read_text(), "Dockerfile", ReadOptions())
    spec, install = _torch(d2[0])
    assert spec == "==1.10"
    assert any("cu111" in link for link in install.find_links)

"""envlock/plan/compose.py on the corpus's compose files and on constructed and hostile ones."""

from __future__ import annotations

import pytest

from envlock.plan import compose
from envlock.plan.model import PlanError
from tests.plan.yamlcase import read_corpus, read_text

GIB = 1 << 30


def _torch(plan_installs: object) -> list[tuple[str, str]]:
    from envlock.plan.model import Install

    assert isinstance(plan_installs, tuple)
    return [
        (r.name, r.specifier)
        for i in plan_installs
        if isinstance(i, Install)
        for r in i.requirements
        if r.name in ("torch", "torchvision")
    ]


# ---------------------------------------------------------------------- the corpus
def test_detectron2_service_builds_its_dockerfile_with_gpus_and_8g_shm() -> None:
    [plan] = read_corpus("detectron2/docker-compose.yml")
    assert plan.kind == "compose" and plan.name == "detectron2"
    assert plan.sources[1].endswith("detectron2/Dockerfile")
    assert plan.base is not None
    assert plan.base.reference.value == "nvidia/cuda:11.1.1-cudnn8-devel-ubuntu18.04"
    assert _torch(plan.installs) == [("torch", "==1.10"), ("torchvision", "==0.11.1")]
    assert plan.gpu_request is not None
    gpu = plan.gpu_request
    assert (gpu.value.count, gpu.value.source) == (None, "deploy.resources.reservations.devices")
    assert gpu.value.capabilities == ("gpu",)
    # the devices block, as written, from its key's line to its last item
    assert (gpu.span.line, gpu.span.end_line) == (13, 15)
    assert gpu.span.text.splitlines()[-1].strip() == "- gpu"
    assert plan.shm_size_bytes is not None
    assert plan.shm_size_bytes.value == 8 * GIB and plan.shm_size_bytes.span.line == 16
    env = plan.env_value("NVIDIA_VISIBLE_DEVICES")
    assert env is not None and env.value == "all"
    assert plan.env_value("FORCE_CUDA") is not None  # the Dockerfile's ENV, then the service's
    assert any("USER_ID comes from the shell" in n for n in plan.notes)


def test_anchors_and_merge_keys_give_each_service_its_own_gpu_request() -> None:
    plans = {p.name: p for p in read_corpus("abdbarho-sd-webui-docker/docker-compose.yml")}
    assert list(plans) == ["download", "auto", "auto-cpu", "invoke", "sygil", "sygil-sl"]
    for name in ("auto", "invoke", "sygil", "sygil-sl"):
        gpu = plans[name].gpu_request
        assert gpu is not None and gpu.value.count == 1 and gpu.value.device_ids == ("0",)
        # stated in the x-base_service anchor every one of them merges
        assert gpu.span.line == 14
    for name in ("download", "auto-cpu"):  # auto-cpu's own `deploy: {}` wins over the merge
        gpu = plans[name].gpu_request
        assert gpu is not None and (gpu.value.count, gpu.value.source) == (0, "none")
    assert plans["auto"].base is None  # image: names what the build produces, not a base
    assert any("services/AUTOMATIC1111/Dockerfile: not found" in n for n in plans["auto"].notes)
    sl = plans["sygil-sl"]
    assert [(e.name, e.value) for e in sl.env] == [("USE_STREAMLIT", "1")]


def test_multi_stage_build_counts_the_last_stage() -> None:
    [plan] = read_corpus("oobabooga-nvidia/docker-compose.yml")
    assert plan.base is not None
    assert plan.base.reference.value == "nvidia/cuda:12.1.1-runtime-ubuntu22.04"
    assert plan.gpu_request is not None and plan.gpu_request.value.count is None
    assert plan.shm_size_bytes is None  # not stated: no 64 MiB guess
    assert any("env_file" in n for n in plan.notes)


def test_overlay_without_image_states_only_its_gpus() -> None:
    [plan] = read_corpus("whales-identification/docker-compose.gpu.yml")
    assert plan.base is None and plan.installs == ()
    assert plan.gpu_request is not None and plan.gpu_request.value.count == 1


# ---------------------------------------------------------------------- constructed
DOCKERFILE = """\
ARG CUDA=12.1.1
FROM nvidia/cuda:${CUDA}-runtime-ubuntu22.04 AS base
FROM pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime AS torch
"""


def _files(name: str) -> str | None:
    return {"Dockerfile": DOCKERFILE, "ctx/Dockerfile.gpu": DOCKERFILE}.get(name)


def _beside(from_file: str, relative: str) -> str | None:
    del from_file
    return _files(relative)


def test_build_args_target_and_context() -> None:
    text = """\
services:
  a:
    build:
      context: ctx
      dockerfile: Dockerfile.gpu
      target: base
      args: [CUDA=12.4.1, "FROM_SHELL=${HOME}"]
  b:
    build: .
"""
    a, b = read_text("compose", text, read_beside=_beside)
    assert a.base is not None and a.base.reference.value == "nvidia/cuda:12.4.1-runtime-ubuntu22.04"
    assert a.build_target == "base"
    assert any("FROM_SHELL comes from the shell" in n for n in a.notes)
    assert b.base is not None and b.base.torch is not None and b.base.torch.value == "2.5.1"
    # --build-arg given to envlock wins over the file's
    [a2, _] = read_text("compose", text, read_beside=_beside, build_args={"CUDA": "11.8.0"})
    assert a2.base is not None and "11.8.0" in a2.base.reference.value


@pytest.mark.parametrize(
    ("service", "count", "source", "ids"),
    [
        ("gpus: all", None, "gpus", ()),
        ("gpus:\n      - driver: nvidia\n        count: 2", 2, "gpus", ()),
        ("runtime: nvidia", None, "runtime: nvidia", ()),
        (
            "deploy:\n      resources:\n        reservations:\n          devices:\n"
            "            - driver: nvidia\n              device_ids: ['0', '3']",
            2,
            "deploy.resources.reservations.devices",
            ("0", "3"),
        ),
        (
            "deploy:\n      resources:\n        reservations:\n          devices:\n"
            "            - capabilities: [gpu]\n              count: all",
            None,
            "deploy.resources.reservations.devices",
            (),
        ),
        # a device that is no GPU (another driver, no gpu capability) reserves none
        (
            "deploy:\n      resources:\n        reservations:\n          devices:\n"
            "            - driver: other\n              capabilities: [tpu]",
            0,
            "none",
            (),
        ),
        ("image: x", 0, "none", ()),
    ],
)
def test_gpu_requests(service: str, count: int | None, source: str, ids: tuple[str, ...]) -> None:
    [plan] = read_text("compose", f"services:\n  s:\n    {service}\n")
    assert plan.gpu_request is not None
    value = plan.gpu_request.value
    assert (value.count, value.source, value.device_ids) == (count, source, ids)


@pytest.mark.parametrize(
    ("written", "size"),
    [
        ("67108864", 64 << 20),
        ("64m", 64 << 20),
        ("8gb", 8 * GIB),
        ("1.5g", 3 * GIB // 2),
        ("'16G'", 16 * GIB),
        ("2k", 2048),
    ],
)
def test_shm_sizes(written: str, size: int) -> None:
    [plan] = read_text("compose", f"services:\n  s:\n    image: x\n    shm_size: {written}\n")
    assert plan.shm_size_bytes is not None and plan.shm_size_bytes.value == size


def test_a_bad_shm_size_is_a_note_and_ipc_is_read() -> None:
    text = "services:\n  s:\n    image: pytorch/pytorch:latest\n    shm_size: lots\n    ipc: host\n"
    [plan] = read_text("compose", text)
    assert plan.shm_size_bytes is None and any("'lots' is not a size" in n for n in plan.notes)
    assert plan.ipc is not None and plan.ipc.value == "host" and plan.ipc.span.line == 5
    assert plan.base is not None and plan.base.reference.value == "pytorch/pytorch:latest"


def test_environment_mapping_and_list_forms() -> None:
    text = """\
services:
  m:
    image: x
    environment:
      NVIDIA_VISIBLE_DEVICES: "0,1"
      FROM_SHELL:
  l:
    image: x
    environment:
      - CUDA_VISIBLE_DEVICES=1
      - FROM_SHELL
"""
    m, l_ = read_text("compose", text)
    assert [(e.name, e.value, e.span.line) for e in m.env] == [("NVIDIA_VISIBLE_DEVICES", "0,1", 5)]
    assert [(e.name, e.value, e.span.line) for e in l_.env] == [("CUDA_VISIBLE_DEVICES", "1", 10)]


def test_remote_context_and_inline_dockerfile() -> None:
    text = """\
services:
  r:
    build: https://github.com/org/repo.git#main
  i:
    build:
      dockerfile_inline: |
        FROM pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime
"""
    r, i = read_text("compose", text)
    assert r.base is None and any("is remote" in n for n in r.notes)
    assert i.base is not None and i.base.torch is not None and i.base.torch.value == "2.7.1"


def test_a_broken_dockerfile_is_a_note_of_its_service_only() -> None:
    text = "services:\n  bad:\n    build: .\n  good:\n    image: x\n"
    bad, good = read_text("compose", text, read_beside=lambda _f, _r: "RUN pip install torch\n")
    assert bad.base is None and any("before the first FROM" in n for n in bad.notes)
    assert good.base is not None


# ---------------------------------------------------------------------- detection, hostile
def test_detect() -> None:
    assert compose.detect("version: '3'\nservices:\n  a:\n    image: x\n")
    assert not compose.detect("apiVersion: v1\nkind: Pod\nspec:\n  services: []\n")
    assert not compose.detect("name: env\ndependencies:\n  - pytorch\n")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("services: [unclosed\n", "not valid YAML"),
        ("services:\n  a: !!python/object:os.system {}\n", ""),  # a tag constructs nothing
    ],
)
def test_hostile_yaml_is_one_plan_error_or_nothing_run(text: str, says: str) -> None:
    try:
        plans = read_text("compose", text)
    except PlanError as e:
        assert says and says in str(e) and "\n" not in str(e)
    else:
        assert not says and [p.name for p in plans] == ["a"]


def test_deep_nesting_is_read_or_one_line() -> None:
    # libyaml composes it; the pure-Python loader recurses: either way no traceback
    text = "services:\n  a: " + "[" * 5000 + "]" * 5000 + "\n"
    try:
        plans = read_text("compose", text)
    except PlanError as e:
        assert "nested too deeply" in str(e)
    else:
        assert [p.name for p in plans] == ["a"]


def test_aliases_are_never_expanded_by_the_compose_reader() -> None:
    # 9**9 environment entries and merged keys if expanded; the reader reads what a service
    # key holds, one level, so the bomb is a few dozen visits
    levels = ["x0: &x0 {image: x}"]
    for n in range(1, 10):
        levels.append(f"x{n}: &x{n} [" + ", ".join([f"*x{n - 1}"] * 9) + "]")
    text = "\n".join(levels) + "\nservices:\n  s:\n    environment: *x9\n    <<: *x9\n"
    [plan] = read_text("compose", text)
    assert plan.env == () and plan.base is None


def test_a_merge_chain_is_bounded() -> None:
    # every mapping merges the one before it: 3000 levels would recurse past Python's limit
    lines = ["m0: &m0 {k0: 0}"]
    lines += [f"m{n}: &m{n} {{<<: *m{n - 1}, k{n}: {n}}}" for n in range(1, 3000)]
    text = "\n".join(lines) + "\nservices:\n  s:\n    <<: *m2999\n"
    with pytest.raises(PlanError, match="merge keys nested over 64 deep"):
        read_text("compose", text)
    # 60 levels read, every key merged in
    shallow = "\n".join(lines[:60]) + "\nservices:\n  s:\n    <<: *m59\n    image: x\n"
    [plan] = read_text("compose", shallow)
    assert plan.base is not None and plan.base.reference.value == "x"


def test_not_a_mapping_at_the_top_reads_as_no_services() -> None:
    assert read_text("compose", "- services\n- a\n") == []
    assert read_text("compose", "services:\n") == []


def test_compose_file_format_v1_has_its_services_at_the_top() -> None:
    # the legacy format (docker-compose 1.x): no `services:` key, no `version:`
    text = "train:\n  image: pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime\n  shm_size: 8g\n"
    text += "db:\n  image: postgres:16\nx-note: not a service\n"
    plans = read_text("compose", text)
    assert [p.name for p in plans] == ["train", "db"]
    assert plans[0].shm_size_bytes is not None and plans[0].shm_size_bytes.value == 8 << 30

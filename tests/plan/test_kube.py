"""envlock/plan/kube.py on the corpus's Kubernetes manifests and on constructed and hostile
ones."""

from __future__ import annotations

from decimal import Decimal

import pytest

from envlock.plan import kube, registry
from envlock.plan.model import PlanError
from envlock.plan.yamltree import MAX_DOCUMENTS
from tests.plan.yamlcase import CORPUS, read_corpus, read_text


# ---------------------------------------------------------------------- the corpus
def test_pytorchjob_master_and_worker_each_request_one_gpu() -> None:
    plans = read_corpus("kubeflow-mnist-nccl/pytorch_job_mnist_nccl.yaml")
    assert [p.name for p in plans] == [
        "pytorch-dist-mnist-nccl/Master/pytorch",
        "pytorch-dist-mnist-nccl/Worker/pytorch",
    ]
    for plan, line in zip(plans, (20, 32), strict=True):
        assert plan.kind == "kubernetes" and plan.gpu_request is not None
        gpu = plan.gpu_request
        assert (gpu.value.count, gpu.value.source, gpu.span.line) == (1, "nvidia.com/gpu", line)
        assert gpu.span.text.strip() == "nvidia.com/gpu: 1"
        # a placeholder image: kept as written, its tag states nothing
        assert plan.base is not None and plan.base.cuda is None
        assert plan.base.reference.value == "gcr.io/<your_project>/pytorch_dist_mnist:latest"


def test_a_container_without_a_gpu_limit_requests_none() -> None:
    [plan] = read_corpus("kubeflow-elastic-imagenet/imagenet.yaml")
    assert plan.gpu_request is not None
    assert (plan.gpu_request.value.count, plan.gpu_request.value.source) == (0, "none")
    assert plan.gpu_request.span.line == 19  # the container's first line
    assert [(e.name, e.value) for e in plan.env] == [("LOGLEVEL", "DEBUG")]


def test_a_job_template_is_detected_by_content_and_its_init_container_skipped() -> None:
    path = CORPUS / "thalesgroup-conceptbert/vilbert-job-eval_vqa.tpl"
    assert registry.detect(path.name, path.read_text()).name == "kubernetes"
    [plan] = read_corpus("thalesgroup-conceptbert/vilbert-job-eval_vqa.tpl")
    assert plan.name.endswith("/kilbert-pod")
    assert plan.gpu_request is not None and plan.gpu_request.value.count == 2
    env = plan.env_value("CUDA_VISIBLE_DEVICES")
    assert env is not None and env.value == "0,1"
    # memory-backed /dev/shm without a sizeLimit: not a size this file states
    assert plan.shm_size_bytes is None
    assert any("without a sizeLimit" in n for n in plan.notes)
    assert any("1 init container(s)" in n for n in plan.notes)


# ---------------------------------------------------------------------- constructed
MANIFESTS = """\
apiVersion: v1
kind: Service
metadata: {name: svc}
spec: {ports: [{port: 80}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: serve}
spec:
  template:
    spec:
      hostIPC: true
      volumes:
        - name: dshm
          emptyDir: {medium: Memory, sizeLimit: 80Gi}
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.6.0
          resources:
            requests: {nvidia.com/gpu: "1"}
            limits: {nvidia.com/gpu: "2", memory: 64Gi}
          volumeMounts: [{name: dshm, mountPath: /dev/shm}]
          env:
            - {name: NCCL_DEBUG, value: INFO}
            - name: TOKEN
              valueFrom: {secretKeyRef: {name: s, key: k}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          volumes: [{name: small, emptyDir: {medium: Memory, sizeLimit: 64Mi}}]
          containers:
            - name: train
              image: pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime
              resources: {limits: {nvidia.com/mig-1g.10gb: 1}}
              volumeMounts: [{name: small, mountPath: /dev/shm}]
---
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Pod
    metadata: {name: p}
    spec:
      containers: [{name: c, image: busybox}]
"""


def test_every_kind_of_pod_spec_in_a_multi_document_file() -> None:
    plans = {p.name: p for p in read_text("kube", MANIFESTS)}
    assert list(plans) == ["serve/vllm", "nightly/train", "p/c"]
    serve = plans["serve/vllm"]
    assert serve.gpu_request is not None and serve.gpu_request.value.count == 2  # the limit
    assert serve.shm_size_bytes is not None and serve.shm_size_bytes.value == 80 << 30
    assert serve.ipc is not None and serve.ipc.value == "host"
    assert [e.name for e in serve.env] == ["NCCL_DEBUG"]
    assert any("TOKEN comes from valueFrom" in n for n in serve.notes)
    train = plans["nightly/train"]
    assert train.gpu_request is not None
    assert (train.gpu_request.value.count, train.gpu_request.value.capabilities) == (
        1,
        ("mig-1g.10gb",),
    )
    assert train.shm_size_bytes is not None and train.shm_size_bytes.value == 64 << 20
    assert train.base is not None and train.base.torch is not None
    assert train.base.torch.value == "2.5.1"
    pod = plans["p/c"]
    assert pod.gpu_request is not None and pod.gpu_request.value.count == 0


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2", Decimal(2)),
        ("80Gi", Decimal(80 << 30)),
        ("512M", Decimal(512 * 10**6)),
        ("1e3", Decimal(1000)),
        ("500m", Decimal("0.5")),
        ("1.5Ki", Decimal(1536)),
        ("lots", None),
        ("1" * 40, None),
    ],
)
def test_quantities(text: str, value: Decimal | None) -> None:
    assert kube.quantity(text) == value


def test_a_fractional_gpu_count_is_no_request() -> None:
    text = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: c\n      resources: {limits: {nvidia.com/gpu: 500m}}\n"
    [plan] = read_text("kube", text)
    assert plan.gpu_request is not None and plan.gpu_request.value.source == "none"


# ---------------------------------------------------------------------- detection, hostile
def test_detect() -> None:
    assert kube.detect("---\napiVersion: v1\nkind: Pod\n")
    assert not kube.detect("services:\n  a:\n    image: x\n")
    assert not kube.detect("  apiVersion: v1\n  kind: Pod\n")  # not top-level


def test_a_nested_alias_bomb_ends_in_one_line() -> None:
    # every level maps nine keys to the level below: the pod-spec search would visit 9**9
    levels = ["l0: &l0 {a: 1}"]
    for n in range(1, 10):
        keys = ", ".join(f"k{i}: *l{n - 1}" for i in range(9))
        levels.append(f"l{n}: &l{n} {{{keys}}}")
    text = "apiVersion: v1\nkind: Bomb\n" + "\n".join(levels) + "\nspec: *l9\n"
    with pytest.raises(PlanError, match="expands past") as e:
        read_text("kube", text)
    assert "\n" not in str(e.value)


def test_a_self_referencing_manifest_ends() -> None:
    text = "apiVersion: v1\nkind: Loop\nspec: &s\n  again: *s\n"
    assert read_text("kube", text) == []


def test_too_many_documents() -> None:
    text = "---\napiVersion: v1\nkind: Pod\n" * (MAX_DOCUMENTS + 1)
    with pytest.raises(PlanError, match="more than 1000 YAML documents"):
        read_text("kube", text)


def test_not_yaml_is_one_line() -> None:
    with pytest.raises(PlanError, match="not valid YAML") as e:
        read_text("kube", "apiVersion: v1\nkind: Pod\nspec: {containers: [\n")
    assert "\n" not in str(e.value)

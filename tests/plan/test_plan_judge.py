"""The doctor's findings held to a plan (envlock/plan/judge.py, tofacts.py): which facts a
plan states, which checks apply, and what the container of a plan will see."""

from __future__ import annotations

from envlock.checks import run_checks
from envlock.facts import Facts
from envlock.matrix import load_matrix
from envlock.plan.dockerfile import read
from envlock.plan.judge import locate
from envlock.plan.model import EnvVar, GpuRequest, Plan, ReadOptions, Span, Stated
from envlock.plan.tofacts import plan_facts
from tests.plan import hosts


def _ids(plan: Plan, host: Facts) -> set[str]:
    pf = plan_facts(plan, load_matrix(), collected_at="2026-01-01T00:00:00+00:00", version="0")
    return {item.finding.check_id for item in locate(pf, run_checks(pf.facts, host=host))}


def _dockerfile(text: str) -> Plan:
    return read(text, "Dockerfile", ReadOptions())[0]


def test_a_cuda_image_runs_on_a_data_center_driver_branch_it_lists() -> None:
    # nvidia/cuda:12.x images accept the 470, 535 and 550 branches on data-center brands
    # (forward compatibility through their cuda-compat): a V100 with 535 runs the 12.8 image
    plan = _dockerfile("FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04\n")
    assert "EL-IMAGE-REQUIRE-CUDA" not in _ids(plan, hosts.v100())
    # a GeForce with the same driver has no such clause: the container does not start
    assert "EL-IMAGE-REQUIRE-CUDA" in _ids(plan, hosts.rtx4090_535())


def _service(visible: str, count: int) -> Plan:
    span = Span(file="compose.yml", line=3, end_line=3, text="  trainer:")
    return Plan(
        kind="compose",
        name="trainer",
        sources=("compose.yml",),
        env=(EnvVar(name="CUDA_VISIBLE_DEVICES", value=visible, span=span),),
        gpu_request=Stated(GpuRequest(count=count, source="nvidia.com/gpu"), span),
    )


def test_visible_devices_are_numbered_within_the_gpus_the_plan_requests() -> None:
    # the container of a 2-GPU request sees GPUs 0 and 1, whatever the host it is held against
    assert "EL-VISIBLE-DEVICES-INVALID" not in _ids(_service("0,1", 2), hosts.h100())
    assert "EL-VISIBLE-DEVICES-INVALID" in _ids(_service("0,2", 2), hosts.h100())


def test_a_plan_without_a_base_image_gets_no_image_findings() -> None:
    from envlock.plan.requirements import read as read_requirements

    plan = read_requirements("torch==2.1.0+cu121\n", "requirements.txt", ReadOptions())[0]
    assert _ids(plan, hosts.h100()) == set()
    # a base image referenced without a tag is the moving 'latest': that one is the plan's
    assert "EL-IMAGE-LATEST-TAG" in _ids(_dockerfile("FROM pytorch/pytorch\n"), hosts.h100())


def test_a_family_mismatch_is_fixed_by_pinning_the_member_torch_pairs_with() -> None:
    from envlock.plan.judge import with_replacements

    plan = _dockerfile(
        "FROM ubuntu:22.04\n"
        "RUN pip install torch==2.1.0 torchvision==0.17.0 \\\n"
        "    --index-url https://download.pytorch.org/whl/cu121\n"
    )
    pf = plan_facts(plan, load_matrix(), collected_at="2026-01-01T00:00:00+00:00", version="0")
    located = locate(pf, run_checks(pf.facts, host=hosts.h100()))
    fixed = with_replacements(pf, located, hosts.h100(), load_matrix(), None)
    family = next(item for item in fixed if item.finding.check_id == "EL-FAMILY-MISMATCH")
    assert family.replacement is not None
    assert family.replacement.text == (
        "RUN pip install torch==2.1.0 torchvision==0.16.* \\\n"
        "    --index-url https://download.pytorch.org/whl/cu121"
    )


def test_runtime_findings_of_compose_and_kubernetes_plans_say_what_to_write() -> None:
    from envlock.plan.judge import plan_finding

    span = Span(file="compose.yml", line=3, end_line=3, text="  trainer:")
    for kind, words in (
        ("compose", "deploy.resources.reservations.devices"),
        ("kubernetes", "resources.limits: nvidia.com/gpu"),
    ):
        plan = Plan(
            kind=kind,  # type: ignore[arg-type]
            name="trainer",
            sources=("compose.yml",),
            gpu_request=Stated(GpuRequest(count=0, source="none"), span),
            shm_size_bytes=Stated(64 << 20, span),
        )
        pf = plan_facts(plan, load_matrix(), collected_at="2026-01-01T00:00:00+00:00", version="0")
        fixes = {
            item.finding.check_id: plan_finding(item, None).fix
            for item in locate(pf, run_checks(pf.facts, host=hosts.h100()))
        }
        assert words in str(fixes["EL-CONTAINER-NO-GPU"]), fixes
        assert "docker run" not in str(fixes["EL-CONTAINER-NO-GPU"])
        assert ("shm_size" if kind == "compose" else "medium: Memory") in str(fixes["EL-SHM-SMALL"])


def test_a_torch_fix_gives_the_gpus_own_kernels_not_ptx_jit() -> None:
    from envlock.plan.fixes import torch_replacement
    from tests.conftest import FIXTURES

    # mmdetection: FROM pytorch/pytorch:${PYTORCH}-cuda${CUDA}-cudnn${CUDNN}-devel (1.6 cu101)
    text = (FIXTURES / "plan" / "mmdetection" / "Dockerfile").read_text()
    plan = read(text, "Dockerfile", ReadOptions())[0]
    pf = plan_facts(plan, load_matrix(), collected_at="2026-01-01T00:00:00+00:00", version="0")
    fix = torch_replacement(pf, hosts.h100(), load_matrix())
    assert fix is not None and fix.span.line == 6
    # not 1.5 cu102, which reaches sm_90 only through compute_75 PTX
    assert fix.text.startswith("FROM pytorch/pytorch:2.") and fix.text.endswith("-devel")

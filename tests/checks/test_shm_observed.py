"""EL-SHM-SMALL (checks/container.py) on NCCL's own report that its shared-memory segment
could not be made (Facts system.shm_failure, read from a paste by pasted/nccl_log.py), with
no /dev/shm size measured: it fires inside a container the paste names, saying what was
seen, with the --shm-size / --ipc=host fix; it stays quiet for a healthy paste, for NCCL
failing otherwise, outside a known container, and beside a /dev/shm measured large."""

from __future__ import annotations

import dataclasses

import pytest

from envlock.checks import run_checks
from envlock.checks.triage import top_finding
from envlock.facts import Facts
from envlock.findings import Finding
from envlock.pasted import facts_from_texts
from tests.facts_builders import cuda_venv, edit
from tests.pasted import nccl_logs as logs

_TORCH_LINE = "PyTorch version 1.7.1+cu101 available.\n"  # transformers#11658's log


def _shm(facts: Facts) -> list[Finding]:
    return [f for f in run_checks(facts) if f.check_id == "EL-SHM-SMALL"]


def _pasted(text: str) -> Facts:
    return facts_from_texts(collect_env=text)


def test_transformers_11658_is_read_as_docker_shm() -> None:
    facts = _pasted(logs.TRANSFORMERS_11658)
    [finding] = _shm(facts)
    assert "No space left on device" in finding.message
    assert "--shm-size" in (finding.fix or "") and "--ipc=host" in (finding.fix or "")
    assert finding.evidence["system.shm_failure"] == facts.system.shm_failure
    assert finding.evidence["system.shm_total_bytes"] is None
    top = top_finding(run_checks(facts))
    assert top is not None and top.check_id == "EL-SHM-SMALL"


@pytest.mark.parametrize("log", logs.ROOM, ids=["nccl-290", "nccl-525", "titan-853", "tests-166"])
def test_nccls_own_warning_in_a_docker_list_fires(log: str) -> None:
    [finding] = _shm(_pasted(logs.HAND_LIST + _TORCH_LINE + log))
    assert (_pasted(log + _TORCH_LINE).system.shm_failure or "?") in finding.message


@pytest.mark.parametrize(
    "log",
    logs.NOT_ROOM,
    ids=["cuda-failure", "attaching", "socket", "system-error", "cuda-error", "disk-full"],
)
def test_other_nccl_failures_in_a_docker_list_do_not(log: str) -> None:
    assert _shm(_pasted(logs.HAND_LIST + _TORCH_LINE + log)) == []


def test_a_healthy_docker_list_does_not() -> None:
    assert _shm(_pasted(logs.HAND_LIST + _TORCH_LINE)) == []


def test_outside_a_known_container_it_does_not() -> None:
    host_list = logs.HAND_LIST.replace("docker", "Linux-5.4.0-72-generic-x86_64-with-glibc2.29")
    facts = _pasted(host_list + _TORCH_LINE + logs.TORCHTITAN_853)
    assert facts.system.shm_failure is not None and facts.system.container is None
    assert _shm(facts) == []


def test_a_large_measured_shm_beside_the_failure_does_not() -> None:
    # a failure with /dev/shm measured at 16 GiB is not its size (stale segments, a peer)
    facts = _pasted(logs.TRANSFORMERS_11658)
    system = dataclasses.replace(facts.system, shm_total_bytes=16 << 30)
    assert _shm(edit(facts, "system", system)) == []


def test_the_live_probe_path_is_unchanged() -> None:
    # a container probe measures /dev/shm and never fills shm_failure
    facts = cuda_venv()
    assert facts.system.shm_failure is None and facts.system.shm_total_bytes is not None
    small = edit(facts, "system.shm_total_bytes", 64 << 20)
    [finding] = _shm(small)
    assert finding.message.startswith("/dev/shm is 64 MiB")
    assert _shm(facts) == []


def test_the_container_without_device_nodes_is_no_gpu_finding_for_a_paste() -> None:
    # a paste never lists /dev/nvidia*: its container is no 'container without GPUs'
    ids = {f.check_id for f in run_checks(_pasted(logs.TRANSFORMERS_11658))}
    assert "EL-CONTAINER-NO-GPU" not in ids

"""envlock/pasted/nccl_log.py: NCCL's shared-memory segment failing for want of room in a
pasted log, by NCCL's own warnings of each release (tests/pasted/nccl_logs.py, real pastes)
or the reporter's words; quiet for the same segment failing otherwise and NCCL's other
failures. And the hand-written list's 'Platform: docker' (pasted/hfenv.container_runtime),
which sets the container, never a 'container without GPUs' (a paste lists no /dev/nvidia*)."""

from __future__ import annotations

import pytest

from envlock.checks import run_checks
from envlock.pasted import facts_from_texts
from envlock.pasted.hfenv import container_runtime
from envlock.pasted.nccl_log import MAX_SEEN_CHARS, REPORTED, shm_failure
from tests.pasted import nccl_logs as logs


@pytest.mark.parametrize(
    ("text", "seen"),
    [
        (logs.NCCL_290, "Call to posix_fallocate failed : No space left on device"),
        (logs.NCCL_525, "Call to posix_fallocate failed : No space left on device"),
        (
            logs.TORCHTITAN_853,
            "Error while creating shared memory segment /dev/shm/nccl-1YsMbG (size 7340384)",
        ),
        (logs.NCCL_TESTS_166, "Error: failed to extend /dev/shm/nccl-fjwOOB to 5967876 bytes"),
    ],
    ids=["nccl-290", "nccl-525", "torchtitan-853", "nccl-tests-166"],
)
def test_nccls_own_warning_is_read(text: str, seen: str) -> None:
    assert shm_failure(text) == seen


def test_nccl_2_23_names_its_error_and_no_space_is_read() -> None:
    # shmutils.cc since 2.23 (os/linux.cc since 2.30): the WARN's own format, the errno's text
    line = (
        "host:1:2 [0] misc/shmutils.cc:128 NCCL WARN Error while creating shared memory segment "
        "/dev/shm/nccl-ab12Cd (size 9637888), error: No space left on device (28)\n"
    )
    assert shm_failure(line) == line.split("NCCL WARN ")[1].strip()
    assert (
        shm_failure(line.replace("No space left on device (28)", "Permission denied (13)")) is None
    )


def test_the_reporters_own_words_are_read() -> None:
    assert shm_failure(logs.TRANSFORMERS_11658) == REPORTED == "No space left on device"


def test_a_word_wrap_inside_the_phrase_is_read_across_the_break() -> None:
    # transformers#11658's line word-wrapped at 100 columns (tests/pasted/test_layouts.py),
    # and the same joined back as a column cut, the blank lost ('on' + 'device')
    wrapped = logs.TRANSFORMERS_11658.replace("on device", "on\ndevice")
    assert shm_failure(wrapped) == REPORTED
    assert shm_failure(logs.TRANSFORMERS_11658.replace("on device", "ondevice")) == REPORTED
    # NCCL's INFO line before a disk's own whole error is no such break
    disk = "x:1:2 [0] NCCL INFO Channel 00 : 0[1a000] -> 1[1b000] via direct shared memory\n"
    assert shm_failure(disk + logs.DISK_FULL) is None


@pytest.mark.parametrize(
    "text",
    logs.NOT_ROOM,
    ids=["cuda-failure", "attaching", "socket", "system-error", "cuda-error", "disk-full"],
)
def test_other_failures_are_not_read(text: str) -> None:
    assert shm_failure(text) is None


def test_a_cuda_failure_anywhere_leaves_an_unexplained_segment_unread() -> None:
    assert shm_failure(logs.TORCHTITAN_853) is not None
    assert shm_failure(logs.NCCL_1518 + logs.TORCHTITAN_853) is None


def test_what_is_kept_is_bounded() -> None:
    line = "NCCL WARN Error while creating shared memory segment /dev/shm/" + "x" * 9_000
    seen = shm_failure(line)
    assert seen is not None and len(seen) == MAX_SEEN_CHARS and seen.endswith("...")
    # NCCL's own message ends where it ends, whatever a re-wrapped paste joined on
    joined = "NCCL WARN Call to posix_fallocate failed : No space left on devicegpu2-ru7:2143"
    assert shm_failure(joined) == "Call to posix_fallocate failed : No space left on device"


def test_the_paste_carries_the_failure_and_the_container() -> None:
    system = facts_from_texts(collect_env=logs.TRANSFORMERS_11658).system
    assert system.shm_failure is not None and "No space left on device" in system.shm_failure
    assert system.container is not None and system.container.detected
    assert system.container.runtime == "docker"
    assert system.shm_total_bytes is None  # nothing measured it


def test_a_healthy_paste_has_neither() -> None:
    text = logs.HAND_LIST.replace("docker", "Linux-5.4.0-72-generic-x86_64-with-glibc2.29")
    text += "PyTorch version 1.7.1+cu101 available.\n"  # the log's own line (transformers#11658)
    system = facts_from_texts(collect_env=text + logs.NCCL_SOCKET).system
    assert system.shm_failure is None and system.container is None


@pytest.mark.parametrize(
    ("value", "runtime"),
    [
        ("docker", "docker"),
        ("Ubuntu 22.04 (Docker)", "docker"),
        ("podman on RHEL 9", "podman"),
        ("k8s pod", "kubernetes"),
        ("Linux-5.15.0-91-generic-x86_64-with-glibc2.35", None),
        ("dockerized-linux", None),  # a word of its own only
    ],
)
def test_a_list_names_its_container(value: str, runtime: str | None) -> None:
    assert container_runtime(f"- Python version: 3.8\n- Platform: {value}\n") == runtime


def test_prose_about_docker_is_no_container() -> None:
    # sglang#6160's reporter ran collect_env outside the container the error came from
    text = "I'm using a docker container where I'm getting the error\n- Python version: 3.10\n"
    assert container_runtime(text) is None


def test_a_pastes_container_is_no_container_without_gpus() -> None:
    # a paste never lists /dev/nvidia*: 'Platform: docker' beside a CUDA torch is not
    # EL-CONTAINER-NO-GPU (checks/container.py), which a probe's container without them is
    facts = facts_from_texts(collect_env=logs.TRANSFORMERS_11658)
    assert facts.system.container is not None and facts.torch.cuda == "10.1"
    assert "EL-CONTAINER-NO-GPU" not in {f.check_id for f in run_checks(facts)}

"""Containers against the real Docker engine and the images .ci/build-test-images.sh builds.

Every test runs the real CLI in a subprocess; an autouse fixture fails any test
that leaves a container behind.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from envlock.facts import Facts
from tests.conftest import REPO, clean_env, run_envlock
from tests.container.conftest import (
    BUSYBOX_IMAGE,
    DIGEST_IMAGE,
    PROBE_LABEL,
    PY_IMAGE,
    RUN_LABELS,
    TEST_RUN,
    TEST_RUN_LABEL,
    TORCH_IMAGE,
    containers_of_this_run,
    docker,
    docker_env,
)

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("images")]


def probe(*args: str, env: dict[str, str] | None = None) -> Facts:
    proc = run_envlock(["probe", "--json", *args], env=env)
    assert proc.returncode == 0, proc.stderr
    return Facts.from_json(proc.stdout)


def one_line_error(proc: subprocess.CompletedProcess[str], code: int, *needles: str) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


def doctor(*args: str) -> tuple[int, dict[str, object]]:
    proc = run_envlock(["doctor", "--format", "json", *args])
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def ids(report: dict[str, object]) -> set[str]:
    findings = report["findings"]
    assert isinstance(findings, list)
    return {f["id"] for f in findings}


@pytest.fixture
def scratch_tags() -> Iterator[list[str]]:
    """Image tags a test creates; removed after it."""
    tags: list[str] = []
    yield tags
    if tags:
        docker("rmi", "-f", *tags, check=False)


def derive(
    base: str, tag: str, tags: list[str], *changes: str, files: dict[str, str] | None = None
) -> str:
    """docker create + cp + commit: `base` plus files and Dockerfile-style changes."""
    name = f"envlock-test-derive-{os.getpid()}-{len(tags)}"
    cid = docker("create", *RUN_LABELS, "--network", "none", "--name", name, base, "true").strip()
    try:
        for path, content in (files or {}).items():
            tar_proc = subprocess.run(
                [sys.executable, "-c", _TAR_ONE, path, content], capture_output=True, check=True
            )
            subprocess.run(
                ["docker", "cp", "-", f"{cid}:/"],
                input=tar_proc.stdout,
                check=True,
                capture_output=True,
                env=docker_env(),
            )
        docker("commit", *[a for c in changes for a in ("--change", c)], cid, tag)
    finally:
        docker("rm", "-f", cid)
    tags.append(tag)
    return tag


_TAR_ONE = """
import io, sys, tarfile
path, content = sys.argv[1], sys.argv[2].encode()
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as tar:
    info = tarfile.TarInfo(path.lstrip("/")); info.size = len(content); info.mode = 0o755
    tar.addfile(info, io.BytesIO(content))
sys.stdout.buffer.write(buf.getvalue())
"""


# ------------------------------------------------------------------- probe
def _probe_by_hand(image: str) -> dict[str, object]:
    """The same probe package, copied into a container with docker cp and run by hand."""
    cid = docker(
        "create",
        *RUN_LABELS,
        "--network",
        "none",
        "-w",
        "/by-hand",
        image,
        "python3",
        "-m",
        "envlock.probe",
        "--no-torch-live",
    ).strip()
    try:
        docker("cp", str(REPO / "envlock"), f"{cid}:/by-hand/")
        proc = subprocess.run(
            ["docker", "start", "-a", cid],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env=docker_env(),
        )
        assert proc.returncode == 0, proc.stderr
        data: dict[str, object] = json.loads(proc.stdout)
        return data
    finally:
        docker("rm", "-f", cid)


def test_probe_in_python_image_matches_the_probe_run_by_hand() -> None:
    facts = probe("--image", PY_IMAGE, "--no-torch-live")
    by_hand = Facts.from_dict(_probe_by_hand(PY_IMAGE))
    for section in (
        "os",
        "kernel",
        "arch",
        "glibc",
        "cpu_count",
        "shm_total_bytes",
        "memory_total_bytes",
        "cgroup_version",
    ):
        assert getattr(facts.system, section) == getattr(by_hand.system, section), section
    assert facts.system.python is not None and by_hand.system.python is not None
    assert facts.system.python.version == by_hand.system.python.version
    assert facts.system.python.executable == "/usr/bin/python3"
    assert facts.system.container is not None and facts.system.container.runtime == "docker"
    assert facts.packages.distributions == by_hand.packages.distributions
    assert facts.torch.installed is False and by_hand.torch.installed is False
    assert facts.env.variables == by_hand.env.variables  # nothing of envlock's leaks in
    assert facts.cuda.ldconfig_libraries == by_hand.cuda.ldconfig_libraries
    assert facts.driver.unavailable == by_hand.driver.unavailable
    assert facts.meta.target == f"image:{PY_IMAGE}" and facts.meta.partial is False
    img = facts.image
    assert img is not None
    inspect = json.loads(docker("image", "inspect", PY_IMAGE))[0]
    assert img.id == inspect["Id"] and img.kind == "image" and img.probe_mode == "python"
    assert img.shm_size_bytes == 64 << 20


def test_probe_in_torch_image_runs_the_live_torch_child() -> None:
    facts = probe("--image", TORCH_IMAGE)
    assert facts.torch.installed and facts.torch.version == "2.13.0+cpu"
    assert facts.torch.cuda is None
    live = facts.torch.live
    assert live is not None and live.unavailable is None, live
    assert live.cuda_available is False
    assert facts.packages.distributions.get("torch") == "2.13.0+cpu"


def test_probe_by_digest_records_the_digest() -> None:
    digest = json.loads(docker("image", "inspect", DIGEST_IMAGE))[0]["RepoDigests"][0]
    facts = probe("--image", digest, "--no-torch-live")
    assert facts.image is not None and facts.image.repo_digests[0] == digest
    _, report = doctor("--image", digest, "--no-torch-live")
    assert not {"EL-IMAGE-NO-DIGEST", "EL-IMAGE-LATEST-TAG"} & ids(report)


def test_image_without_python_gives_partial_facts_and_says_why() -> None:
    facts = probe("--image", BUSYBOX_IMAGE)
    assert facts.meta.partial is True
    assert facts.image is not None and facts.image.probe_mode == "shell"
    assert any("no python3 in the image" in n for n in facts.meta.notes)
    assert facts.system.shm_total_bytes == 64 << 20
    proc = run_envlock(["doctor", "--image", BUSYBOX_IMAGE])
    assert "EL-IMAGE-PARTIAL-PROBE" in proc.stdout
    assert "no python3 in the image" in proc.stdout


def test_image_whose_python_probe_fails_falls_back_to_the_shell(scratch_tags: list[str]) -> None:
    image = derive(
        PY_IMAGE,
        "envlock-test/scratch:broken-python",
        scratch_tags,
        files={
            "/usr/local/bin/python3": "#!/bin/sh\necho 'python3: broken on purpose' >&2\nexit 1\n"
        },
    )
    facts = probe("--image", image)
    assert facts.meta.partial is True and facts.image is not None
    assert facts.image.probe_mode == "shell"
    assert any("python3: broken on purpose" in n for n in facts.meta.notes), facts.meta.notes


def test_probe_output_not_json_is_one_line_exit_3(scratch_tags: list[str]) -> None:
    image = derive(
        PY_IMAGE,
        "envlock-test/scratch:garbage-python",
        scratch_tags,
        files={"/usr/local/bin/python3": "#!/bin/sh\necho 'this is not JSON'\n"},
    )
    proc = run_envlock(["probe", "--image", image, "--json"])
    one_line_error(proc, 3, "did not print Facts JSON", "this is not JSON")


def test_a_hung_probe_is_one_line_exit_3(scratch_tags: list[str]) -> None:
    """A python3 that neither reads the probe's package on its stdin nor exits: the probe's
    time limit, and the daemon's grace on top, end it in one line (the autouse fixture
    sees the container removed)."""
    image = derive(
        PY_IMAGE,
        "envlock-test/scratch:hung-python",
        scratch_tags,
        files={"/usr/local/bin/python3": "#!/bin/sh\nexec sleep 600\n"},
    )
    proc = run_envlock(["probe", "--image", image, "--json", "--probe-timeout", "1"], timeout=120)
    one_line_error(proc, 3, "did not finish within 16 s", "removed")


def test_an_image_that_floods_its_output_costs_bounded_memory(scratch_tags: list[str]) -> None:
    """300 MB printed by an image's python3 once cost envlock 877 MB; now the logs are read
    with a cap and the probe ends in one line."""
    image = derive(
        PY_IMAGE,
        "envlock-test/scratch:flood-python",
        scratch_tags,
        files={"/usr/local/bin/python3": "#!/bin/sh\nhead -c 300000000 /dev/zero | tr '\\0' a\n"},
    )
    script = (
        "import resource, subprocess, sys\n"
        "p = subprocess.run([sys.executable, '-m', 'envlock', 'probe', '--image', sys.argv[1],"
        " '--json'], capture_output=True, text=True)\n"
        "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "sys.stderr.write(p.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, image],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=300,
        check=False,
    )
    code, max_rss_kib = map(int, proc.stdout.split())
    assert code == 3, proc.stderr
    assert max_rss_kib < 200 * 1024, max_rss_kib  # well under the 300 MB printed
    assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr


def test_the_probe_container_has_memory_pid_and_filesystem_limits() -> None:
    facts = Facts.from_json(run_envlock(["probe", "--image", PY_IMAGE, "--json"]).stdout)
    assert facts.system.cgroup_memory_limit_bytes == 4 * 1024**3


def test_running_container_is_probed_through_exec() -> None:
    name = f"envlock-test-running-{os.getpid()}"
    docker(
        "run",
        *RUN_LABELS,
        "-d",
        "--rm",
        "--network",
        "none",
        "--name",
        name,
        "--shm-size",
        "256m",
        "-e",
        "NCCL_DEBUG=INFO",
        "-e",
        "HF_TOKEN=fake-token-value",
        PY_IMAGE,
        "sleep",
        "300",
    )
    try:
        proc = run_envlock(["probe", "--json", "--container", name, "--no-torch-live"])
        assert proc.returncode == 0, proc.stderr
        facts = Facts.from_json(proc.stdout)
        assert facts.meta.target == f"container:{name}"
        assert facts.image is not None and facts.image.kind == "container"
        assert facts.image.shm_size_bytes == 256 << 20
        assert facts.system.shm_total_bytes == 256 << 20
        assert facts.env.variables.get("NCCL_DEBUG") == "INFO"
        assert facts.image.env.get("NCCL_DEBUG") == "INFO"
        assert "fake-token-value" not in proc.stdout
        # nothing of the probe is left inside the container
        left = docker("exec", name, "sh", "-c", "ls -a /tmp")
        assert "envlock" not in left
    finally:
        docker("rm", "-f", name, check=False)


# ------------------------------------------------------------------ doctor
def test_doctor_flags_docker_default_shm_and_passes_with_shm_size() -> None:
    _, report = doctor("--image", PY_IMAGE, "--no-torch-live")
    assert "EL-SHM-SMALL" in ids(report)
    _, report = doctor("--image", PY_IMAGE, "--no-torch-live", "--shm-size", "2g")
    assert "EL-SHM-SMALL" not in ids(report)


def test_gpu_request_without_nvidia_runtime_is_retried_and_reported() -> None:
    # This daemon has no NVIDIA runtime: the request fails for real, with Docker's message.
    facts = probe("--image", PY_IMAGE, "--gpus", "all", "--no-torch-live")
    assert facts.image is not None
    assert facts.image.gpus_requested == "all"
    assert facts.image.gpu_request_error is not None
    assert (
        'could not select device driver "" with capabilities: [[gpu]]'
        in facts.image.gpu_request_error
    )
    assert facts.system.python is not None  # probed anyway, without GPUs
    code, report = doctor("--image", PY_IMAGE, "--gpus", "0,1", "--no-torch-live")
    assert code == 1
    finding = next(f for f in report["findings"] if f["id"] == "EL-GPU-REQUEST-FAILED")  # type: ignore[attr-defined]
    assert "NVIDIA Container Toolkit" in finding["message"]
    assert "device=0,1" in finding["message"]


def test_bad_gpus_value_is_a_usage_error() -> None:
    proc = run_envlock(["probe", "--image", PY_IMAGE, "--gpus", "zero"])
    one_line_error(proc, 2, "--gpus")


# ---------------------------------------------------------------- failures
def test_missing_image_with_no_pull_is_one_line_exit_3() -> None:
    proc = run_envlock(["probe", "--image", "envlock-test/does-not-exist:1", "--no-pull"])
    one_line_error(proc, 3, "envlock-test/does-not-exist:1", "--no-pull")


def test_stopped_daemon_is_one_line_exit_3(tmp_path: Path) -> None:
    sock = tmp_path / "no-daemon.sock"
    env = clean_env(DOCKER_HOST=f"unix://{sock}")
    proc = run_envlock(["probe", "--image", PY_IMAGE], env=env)
    one_line_error(proc, 3, "cannot reach the Docker daemon", str(sock))
    proc = run_envlock(["doctor", "--image", PY_IMAGE], env=env)
    one_line_error(proc, 3, "cannot reach the Docker daemon")


def _start_probe_and_wait_for_container(image: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "envlock", "probe", "--json", "--image", image],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
        # as a terminal starts it: CI runs the suite in the background, where SIGINT is
        # ignored and a child would inherit that (Ctrl-C never reaches a background job)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        # this run's probe container: a concurrent run's is not ours to kill
        running = docker(
            "ps",
            "-q",
            "--filter",
            f"label={PROBE_LABEL}",
            "--filter",
            f"label={TEST_RUN_LABEL}={TEST_RUN}",
            "--filter",
            "status=running",
        ).split()
        if running:
            return proc, running[0]
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"no running probe container appeared: {proc.communicate()}")


def _start_paused_probe(image: str) -> tuple[subprocess.Popen[str], str]:
    """A probe container caught running and paused, so that inspecting and listing it
    cannot race its exit (a fast probe finishes and is removed within milliseconds).
    Paused too late, it has already gone: wait for that probe and start another."""
    for _ in range(5):
        proc, cid = _start_probe_and_wait_for_container(image)
        if (
            subprocess.run(
                ["docker", "pause", cid], capture_output=True, env=docker_env()
            ).returncode
            == 0
        ):
            return proc, cid
        proc.communicate(timeout=120)
    raise AssertionError("no probe container could be paused while running")


def test_container_killed_mid_probe_is_one_line_exit_3() -> None:
    # The torch image's probe imports torch in a child (seconds): time to kill it.
    proc, cid = _start_probe_and_wait_for_container(TORCH_IMAGE)
    docker("kill", cid)
    out, err = proc.communicate(timeout=60)
    one_line_error(
        subprocess.CompletedProcess(proc.args, proc.returncode, out, err),
        3,
        "killed mid-probe",
        "137",
    )


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_envlock_removes_its_container(sig: signal.Signals) -> None:
    proc, cid = _start_probe_and_wait_for_container(TORCH_IMAGE)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, err  # 130 for Ctrl-C, 143 for SIGTERM
    assert "Traceback" not in err
    assert docker("ps", "-a", "-q", "--filter", f"id={cid}").strip() == ""


# ------------------------------------------------------------ lock / verify
def test_lock_then_verify_reports_drift_when_the_image_changes(
    tmp_path: Path, scratch_tags: list[str]
) -> None:
    tag = "envlock-test/scratch:drift"
    docker("tag", TORCH_IMAGE, tag)
    scratch_tags.append(tag)
    lock = tmp_path / "image.lock.toml"
    proc = run_envlock(["lock", "--image", tag, "--no-torch-live", "-o", str(lock)])
    assert proc.returncode == 0, proc.stderr
    text = lock.read_text()
    assert "[image]" in text and f'reference = "{tag}"' in text
    proc = run_envlock(["verify", str(lock), "--image", tag, "--no-torch-live"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # Same tag, new content: one more tracked package (a dist-info, as pip leaves it).
    dist = "/usr/local/lib/python3.11/dist-packages/numpy-2.3.1.dist-info"
    derive(
        TORCH_IMAGE,
        tag,
        [],
        files={
            f"{dist}/METADATA": "Metadata-Version: 2.1\nName: numpy\nVersion: 2.3.1\n",
            f"{dist}/RECORD": "",
        },
    )
    proc = run_envlock(["verify", str(lock), "--image", tag, "--no-torch-live", "--format", "json"])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    fields = {f.get("field") for f in report["findings"]}
    assert "image.id" in fields
    assert any(f and f.startswith("packages.numpy") for f in fields), fields


# ------------------------------------------------------ a shared daemon
def test_a_concurrent_runs_containers_are_not_counted_or_removed() -> None:
    """Another test run on the same daemon (its envlock probe container: envlock- name,
    probe label, its own run id) is invisible to this run's leftover check; this run's
    probe containers carry this run's id."""
    foreign = docker(
        "create",
        "--label",
        f"{PROBE_LABEL}=1",
        "--label",
        f"{TEST_RUN_LABEL}=another-run",
        "--name",
        f"envlock-probe-another-run-{os.getpid()}",
        PY_IMAGE,
        "true",
    ).strip()
    try:
        assert foreign not in containers_of_this_run()
        proc, cid = _start_paused_probe(TORCH_IMAGE)
        try:
            assert cid != foreign[: len(cid)]
            labels = json.loads(docker("inspect", "--format", "{{json .Config.Labels}}", cid))
            assert labels.get(TEST_RUN_LABEL) == TEST_RUN
            assert any(c.startswith(cid) for c in containers_of_this_run())
        finally:
            docker("unpause", cid, check=False)
            proc.communicate(timeout=120)
        assert docker("inspect", "--format", "{{.Id}}", foreign).strip() == foreign
    finally:
        docker("rm", "-f", foreign, check=False)

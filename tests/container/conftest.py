"""Fixtures for the container tests: a real Docker engine and the images that
.ci/build-test-images.sh builds. Under CI=true a missing engine or image fails."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import need
from tests.container.labelproxy import LabellingProxy
from tests.container.testrun import DAEMON_SOCKET, DOCKER_HOST, TEST_RUN, TEST_RUN_LABEL
from tests.container.testrun import RUN_LABELS as RUN_LABELS  # for the test modules

DATA = Path(__file__).resolve().parent / "data"
PY_IMAGE = "envlock-test/python:bookworm"
TORCH_IMAGE = "envlock-test/torch-cpu:2.13.0"
BUSYBOX_IMAGE = "envlock-test/busybox"
DIGEST_IMAGE = "127.0.0.1:5055/envlock-test/python:bookworm"
PROBE_LABEL = "org.envlock.probe"  # envlock's own, on every container it creates
# This test run's id, as a label (tests/container/testrun.py): envlock reaches the daemon
# through a proxy that adds it to every container created (LabellingProxy), and every
# container a test creates by hand carries it too (`docker create *RUN_LABELS ...`). The
# docker CLI the tests run talks to the daemon itself (DOCKER_HOST as the session found it).


def docker_env() -> dict[str, str]:
    """The environment for the docker CLI: the daemon itself, not the labelling proxy."""
    env = dict(os.environ)
    if DOCKER_HOST is None:
        env.pop("DOCKER_HOST", None)
    else:
        env["DOCKER_HOST"] = DOCKER_HOST
    return env


@pytest.fixture(scope="session", autouse=True)
def label_this_run() -> Iterator[None]:
    """For the whole session, envlock's DOCKER_HOST is a labelling proxy in front of the
    daemon: the containers the CLI under test creates carry this run's label."""
    if (DOCKER_HOST or "unix://").startswith("unix://") and os.path.exists(DAEMON_SOCKET):
        where = tempfile.mkdtemp(prefix="envlock-test-docker-")
        proxy = LabellingProxy(
            DAEMON_SOCKET, os.path.join(where, "docker.sock"), {TEST_RUN_LABEL: TEST_RUN}
        )
        os.environ["DOCKER_HOST"] = f"unix://{proxy.path}"
        try:
            yield
        finally:
            proxy.close()
            shutil.rmtree(where, ignore_errors=True)
            if DOCKER_HOST is None:
                os.environ.pop("DOCKER_HOST", None)
            else:
                os.environ["DOCKER_HOST"] = DOCKER_HOST
    else:  # a remote daemon: no proxy (and no engine tests against it here)
        yield


def envlock_socket() -> str:
    """The socket envlock reaches the daemon through in this session (the proxy's)."""
    return os.environ.get("DOCKER_HOST", "").removeprefix("unix://") or DAEMON_SOCKET


def docker(*args: str, check: bool = True, timeout: float = 120) -> str:
    proc = subprocess.run(
        ["docker", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=docker_env(),
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout


def load_data_json(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def _engine_answers() -> bool:
    try:
        return (
            subprocess.run(
                ["docker", "info"], capture_output=True, timeout=30, check=False, env=docker_env()
            ).returncode
            == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="session")
def engine() -> None:
    need(_engine_answers(), "no Docker engine answers (.ci/provision-docker.sh starts one)")


@pytest.fixture(scope="session")
def images(engine: None) -> None:
    for image in (PY_IMAGE, TORCH_IMAGE, BUSYBOX_IMAGE, DIGEST_IMAGE):
        present = (
            subprocess.run(
                ["docker", "image", "inspect", image],
                capture_output=True,
                check=False,
                env=docker_env(),
            ).returncode
            == 0
        )
        need(present, f"test image {image} is missing (.ci/build-test-images.sh builds it)")


def containers_of_this_run() -> set[str]:
    """The containers this test run created, and no others: every one carries the run's
    label (envlock's probe containers through the labelling proxy, the tests' own through
    RUN_LABELS). The daemon is shared: a concurrent run's containers, even envlock's
    probe containers with envlock- names, are neither counted nor removed."""
    out = docker("ps", "-a", "--no-trunc", "-q", "--filter", f"label={TEST_RUN_LABEL}={TEST_RUN}")
    return set(out.split())


@pytest.fixture(autouse=True)
def no_container_left_behind(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every docker test: this run's containers after it are exactly those before it."""
    if request.node.get_closest_marker("docker") is None or not _engine_answers():
        yield
        return
    before = containers_of_this_run()
    yield
    left = containers_of_this_run() - before
    if left:
        names = docker(
            "ps",
            "-a",
            "--no-trunc",
            "--filter",
            f"label={TEST_RUN_LABEL}={TEST_RUN}",
            "--format",
            "{{.ID}} {{.Names}} {{.Status}}",
        )
        docker("rm", "-f", *left, check=False)
        pytest.fail(f"{len(left)} container(s) left behind:\n{names}")

"""Dockerfile round trip, for real: lock a small venv -> export requirements and a
Dockerfile -> `docker build --network none` on the Debian base image (the wheels staged
in the build context from a wheelhouse `pip download` filled) -> the build's own last
step verifies -> `envlock verify LOCK --image <built> --scope software` exits 0.

The image is labelled with this run's label and removed afterwards.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import REPO, clean_env, run_envlock
from tests.container.conftest import PY_IMAGE, RUN_LABELS, docker, docker_env

pytestmark = [pytest.mark.docker, pytest.mark.venv]

TINY = ("six==1.17.0", "idna==3.10")
# --force-rm: the legacy builder keeps a failed step's container (the drifted build fails on
# purpose), which carries no run label, so no fixture counts or removes it
BUILD = ("docker", "build", "--force-rm", "--network", "none")


def _pip(*args: str, cwd: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pip", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=clean_env(PIP_DISABLE_PIP_VERSION_CHECK="1"),
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


def _build(
    ctx: Path, tag: str, *options: str, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """`docker build --force-rm --network none OPTIONS` of `ctx`, tagged `tag` and labelled
    with this run's labels."""
    return subprocess.run(
        [*BUILD, *options, *RUN_LABELS, "-t", tag, str(ctx)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=docker_env(),
    )


@pytest.mark.slow
def test_exported_dockerfile_builds_without_network_and_verifies(
    images: None, tmp_path: Path
) -> None:
    # the job: a venv of two tiny packages, on the same Python minor as the base image
    src = tmp_path / "src"
    subprocess.run([sys.executable, "-m", "venv", str(src)], check=True)
    subprocess.run(
        [str(src / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", *TINY],
        check=True,
        env=clean_env(PIP_DISABLE_PIP_VERSION_CHECK="1"),
    )
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    lock = ctx / "envlock.lock.toml"
    made = run_envlock(
        ["lock", "--python", str(src / "bin" / "python"), "--scope", "software",
         "--no-torch-live", "-o", str(lock)]
    )  # fmt: skip
    assert made.returncode == 0, made.stderr

    req = ctx / "requirements.envlock.txt"
    assert run_envlock(["export", str(lock), "-o", str(req)]).returncode == 0
    # the wheelhouse: the job's wheels, pip, and envlock (built from this checkout) with
    # its requirements
    house = ctx / "wheels"
    _pip("download", "-q", "--only-binary=:all:", "--no-deps", "-d", str(house), "-r", str(req),
         cwd=ctx)  # fmt: skip
    _pip("download", "-q", "--only-binary=:all:", "-d", str(house), "pip", cwd=ctx)
    _pip("wheel", "-q", "--no-deps", "-w", str(house), str(REPO), cwd=ctx)
    (envlock_wheel,) = house.glob("torch_envlock-*.whl")
    _pip("download", "-q", "--only-binary=:all:", "-d", str(house), str(envlock_wheel), cwd=ctx)

    dockerfile = ctx / "Dockerfile"
    exported = run_envlock(
        ["export", str(lock), "--format", "dockerfile", "--base", PY_IMAGE,
         "--wheelhouse", "wheels", "-o", str(dockerfile)]
    )  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    text = dockerfile.read_text()
    assert "USER envlock" in text and "--scope software" in text.splitlines()[-1]

    tag = f"envlock-test/restore-13:{uuid.uuid4().hex[:12]}"
    try:
        build = _build(ctx, tag, "-q")
        assert build.returncode == 0, build.stderr[-3000:]
        verify = run_envlock(
            ["verify", str(lock), "--image", tag, "--scope", "software", "--no-determinism"]
        )
        assert verify.returncode == 0, verify.stdout + verify.stderr
        # the build fails when the result drifts: a lock the image cannot satisfy
        drifted = ctx / "envlock.lock.toml"
        drifted.write_text(lock.read_text().replace('six = "1.17.0"', 'six = "1.16.0"'))
        bad = _build(ctx, tag + "-bad")
        assert bad.returncode != 0
        assert "packages.six" in bad.stdout + bad.stderr
        # the failed step's container is not left on the daemon (each run left one)
        steps = re.findall(r"Running in ([0-9a-f]{12})", bad.stdout)
        assert steps, bad.stdout[-3000:]
        assert docker("ps", "-a", "-q", *(f"--filter=id={s}" for s in steps)).split() == []
    finally:
        docker("image", "rm", "-f", tag, tag + "-bad", check=False)


def test_the_engine_sets_each_locked_variable_exactly_whatever_it_holds(
    images: None, tmp_path: Path
) -> None:
    """The lock may hold any variable value without a control character: `$(...)`,
    backticks, quotes, `#`, `${VAR}` and a trailing backslash reach the image's
    environment as they are, in the ENV instructions the engine itself parses (issue
    19: the quoting is proven by Docker, beyond BuildKit's parser in tests/lock/)."""
    from envlock.lock.export import dockerfile_text, plan_install
    from envlock.lock.model import Lock, LockHeader

    values = {
        "NCCL_DEBUG": "a $(touch /tmp/pwned) `id` 'q' \"d\" # c ${HOME} $HOME \\",
        "CUBLAS_WORKSPACE_CONFIG": ":4096:8",
        "TORCH_LOGS": "\\",
    }
    lock = Lock(envlock=LockHeader(), packages={"six": "1.17.0"}, env=values)
    text = dockerfile_text(
        lock,
        plan_install(lock),
        base=PY_IMAGE,
        lock_name="envlock.lock.toml",
        requirements_name="requirements.envlock.txt",
    )
    # FROM and the ENV instructions: what the image's environment is made of
    (tmp_path / "Dockerfile").write_text(text.split("\nRUN ", 1)[0] + "\n")
    tag = f"envlock-test/env-quoting:{uuid.uuid4().hex[:12]}"
    try:
        build = _build(tmp_path, tag, "-q", timeout=300)
        assert build.returncode == 0, build.stderr[-3000:]
        env = json.loads(docker("image", "inspect", "--format", "{{json .Config.Env}}", tag))
        got = dict(e.split("=", 1) for e in env)
        assert {k: got.get(k) for k in values} == values
    finally:
        docker("image", "rm", "-f", tag, check=False)

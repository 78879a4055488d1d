"""`doctor --plan`: a base image whose tag states nothing is probed as `--image` probes it,
by default, when the local engine holds it (the provisioned envlock-test images); never
pulled; `--no-probe-base` skips it; without Docker, or with one that does not answer, it
stays "not stated" with a note, within a bounded wait."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path

from tests.conftest import FIXTURES, clean_env, need, run_envlock

H100 = FIXTURES / "facts.cuda-venv+h100-driver-580-replayed.json"
TORCH_IMAGE = "envlock-test/torch-cpu:2.13.0"  # provisioned by .ci/run (tests/container)


def _present(image: str) -> bool:
    try:
        proc = subprocess.run(
            ["docker", "image", "inspect", image], capture_output=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def _doctor(dockerfile: Path, *extra: str, env: dict[str, str] | None = None) -> dict[str, object]:
    proc = run_envlock(
        ["doctor", "--plan", str(dockerfile), "--facts", str(H100), "--format", "json", *extra],
        env=env,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def test_a_local_image_whose_tag_states_nothing_is_probed(tmp_path: Path) -> None:
    need(_present(TORCH_IMAGE), f"the provisioned image {TORCH_IMAGE}")
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(f"FROM {TORCH_IMAGE}\nRUN pip install numpy\n")
    # the tag states nothing: with --no-probe-base, torch is not stated
    report = _doctor(dockerfile, "--no-probe-base")
    assert report["findings"] == []
    # probed by default (--probe-base: the same): its CPU-only torch on an H100 host,
    # named by the FROM line
    for extra in ((), ("--probe-base",)):
        report = _doctor(dockerfile, *extra)
        found = {f["id"]: f for f in report["findings"]}  # type: ignore[attr-defined]
        message = found["EL-TORCH-CPU-ONLY"]["message"]
        assert message.startswith(f"{dockerfile}:1: torch 2.13.0+cpu")


def test_an_absent_image_is_never_pulled_and_no_docker_is_a_note(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM envlock-test/never-built-here:1\n")
    report = _doctor(dockerfile)
    notes = report["details"]["not_checked"]  # type: ignore[index]
    assert any("never-built-here:1: its tag states nothing, not probed" in n for n in notes)
    # Docker unreachable: the same, not an error
    nowhere = clean_env(DOCKER_HOST=f"unix://{tmp_path}/no.sock")
    report = _doctor(dockerfile, env=nowhere)
    assert report["findings"] == []
    assert any("not probed" in n for n in report["details"]["not_checked"])  # type: ignore[index]
    # --no-probe-base: no engine asked, no note
    report = _doctor(dockerfile, "--no-probe-base", env=nowhere)
    assert not any("probed" in n for n in report["details"]["not_checked"])  # type: ignore[index]


def test_an_engine_that_never_answers_costs_a_bounded_wait(tmp_path: Path) -> None:
    """A socket that takes the connection and never answers (a hung daemon): the check is
    bounded (the probe's own limit would wait 60 s and more), the image not stated."""
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM envlock-test/never-built-here:1\n")
    path = tmp_path / "hung.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as hung:
        hung.bind(str(path))
        hung.listen(8)  # never accepted, never answered
        start = time.monotonic()
        report = _doctor(dockerfile, env=clean_env(DOCKER_HOST=f"unix://{path}"))
        took = time.monotonic() - start
    assert took < 15, took  # generous: the bound is a few seconds, the old wait 75
    notes = report["details"]["not_checked"]  # type: ignore[index]
    assert any("never-built-here:1: its tag states nothing, not probed" in n for n in notes)


def test_either_probe_flag_without_a_plan_is_a_usage_error() -> None:
    for flag in ("--no-probe-base", "--probe-base"):
        proc = run_envlock(["doctor", flag, "--facts", str(H100)])
        assert proc.returncode == 2, proc.stderr
        assert "apply to a --plan file" in proc.stderr

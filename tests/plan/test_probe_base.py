"""`doctor --plan --probe-base`: a base image whose tag states nothing is probed as
`--image` probes it, when the local engine holds it (the provisioned envlock-test images);
never pulled; without Docker it stays "not stated" with a note."""

from __future__ import annotations

import json
import subprocess
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
    # the tag states nothing: without --probe-base, torch is not stated
    report = _doctor(dockerfile)
    assert report["findings"] == []
    # probed: its CPU-only torch on an H100 host, named by the FROM line
    report = _doctor(dockerfile, "--probe-base")
    found = {f["id"]: f for f in report["findings"]}  # type: ignore[attr-defined]
    assert found["EL-TORCH-CPU-ONLY"]["message"].startswith(f"{dockerfile}:1: torch 2.13.0+cpu")


def test_an_absent_image_is_never_pulled_and_no_docker_is_a_note(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM envlock-test/never-built-here:1\n")
    report = _doctor(dockerfile, "--probe-base")
    notes = report["details"]["not_checked"]  # type: ignore[index]
    assert any("never-built-here:1: its tag states nothing, not probed" in n for n in notes)
    # Docker unreachable: the same, not an error
    nowhere = clean_env(DOCKER_HOST=f"unix://{tmp_path}/no.sock")
    report = _doctor(dockerfile, "--probe-base", env=nowhere)
    assert report["findings"] == []
    assert any("not probed" in n for n in report["details"]["not_checked"])  # type: ignore[index]

"""lock and verify through the real CLI, in the real torch virtualenvs."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import tomllib

from tests.conftest import clean_env, run_envlock

SECRETS = {
    "HF_TOKEN": "hf_plantedSecretValue123",
    "WANDB_API_KEY": "wandbPlantedKey456",
    "AWS_SECRET_ACCESS_KEY": "awsPlantedSecret789",
    "PIP_INDEX_URL": "https://user:plantedpw@host.example/simple",
    "NCCL_DEBUG": "INFO",
}


def _one_line_error(proc) -> str:  # type: ignore[no-untyped-def]
    # progress on stderr ("envlock lock: determinism class rng: 1/14", one line a step off
    # a terminal) comes before; what went wrong is one line
    lines = [ln for ln in proc.stderr.strip().splitlines() if not ln.startswith("envlock lock: ")]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


@pytest.mark.venv
def test_lock_then_verify_in_the_same_venv_passes(cpu_python: Path, tmp_path: Path) -> None:
    lock = tmp_path / "envlock.lock.toml"
    proc = run_envlock(["lock", "-o", str(lock)], python=cpu_python)
    assert proc.returncode == 0, proc.stderr
    data = tomllib.loads(lock.read_text())
    assert data["torch"]["version"].startswith("2.13.0")
    assert "cuda" not in data["torch"]
    proc = run_envlock(["verify", str(lock)], python=cpu_python)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("PASS")


@pytest.mark.venv
def test_cpu_lock_verified_in_cuda_venv_names_torch_version_and_cuda(
    cpu_python: Path, cuda_python: Path, tmp_path: Path
) -> None:
    lock = tmp_path / "cpu.lock.toml"
    assert run_envlock(["lock", "-o", str(lock)], python=cpu_python).returncode == 0
    proc = run_envlock(["verify", str(lock), "--format", "json"], python=cuda_python)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert report["verdict"] == "fail"
    fields = {f["field"]: f for f in report["findings"] if "field" in f}
    assert fields["torch.version"]["severity"] == "error"
    assert fields["torch.version"]["observed"].startswith("2.14.1")
    # one torch change is one finding (issue 21 item 7): torch.cuda changed with it
    changed = fields["torch.version"]["evidence"]["changed with torch"]
    assert "torch.cuda: (none) -> 13.0" in changed
    # the text report names them too
    text = run_envlock(["verify", str(lock)], python=cuda_python)
    assert text.returncode == 1
    assert "torch.version" in text.stdout and "torch.cuda: (none) -> 13.0" in text.stdout


@pytest.mark.venv
def test_secrets_never_reach_the_lock(cuda_python: Path, tmp_path: Path) -> None:
    lock = tmp_path / "envlock.lock.toml"
    proc = run_envlock(["lock", "-o", str(lock)], python=cuda_python, env=clean_env(**SECRETS))
    assert proc.returncode == 0, proc.stderr
    text = lock.read_text()
    for value in (
        "hf_plantedSecretValue123",
        "wandbPlantedKey456",
        "awsPlantedSecret789",
        "plantedpw",
        "HF_TOKEN",
        "WANDB_API_KEY",
        "AWS_SECRET",
    ):
        assert value not in text
    assert tomllib.loads(text)["env"]["NCCL_DEBUG"] == "INFO"  # allow-listed, not secret


@pytest.mark.venv
def test_lock_and_verify_from_a_facts_file_with_scopes(cuda_python: Path, tmp_path: Path) -> None:
    facts = tmp_path / "facts.json"
    proc = run_envlock(["probe", "--json"], python=cuda_python)
    assert proc.returncode == 0, proc.stderr
    facts.write_text(proc.stdout)
    lock = tmp_path / "sw.lock.toml"
    assert (
        run_envlock(
            ["lock", "--facts", str(facts), "--scope", "software", "-o", str(lock)]
        ).returncode
        == 0
    )
    assert "driver" not in tomllib.loads(lock.read_text())
    proc = run_envlock(["verify", str(lock), "--facts", str(facts), "--format", "json"])
    assert proc.returncode == 0, proc.stdout
    assert json.loads(proc.stdout)["verdict"] == "pass"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("[envlock\n", "not valid TOML"),
        ("[envlock]\nlock-version = 99\n", "lock-version 99 is not supported"),
        ("", "is empty"),
    ],
)
def test_bad_lock_exits_3_with_one_line(tmp_path: Path, content: str, fragment: str) -> None:
    lock = tmp_path / "envlock.lock.toml"
    lock.write_text(content)
    proc = run_envlock(["verify", str(lock), "--no-torch-live"])
    assert proc.returncode == 3
    assert fragment in _one_line_error(proc)
    assert proc.stdout == ""


def test_missing_lock_and_directory_exit_3(tmp_path: Path) -> None:
    proc = run_envlock(["verify", str(tmp_path / "missing.toml")])
    assert proc.returncode == 3 and "not found" in _one_line_error(proc)
    proc = run_envlock(["verify", str(tmp_path)])
    assert proc.returncode == 3 and "is a directory" in _one_line_error(proc)


def test_verify_without_a_lock_here_is_exit_3_naming_the_default(tmp_path: Path) -> None:
    """verify defaults its lock to envlock.lock.toml, as run does (issue 22 item 6)."""
    proc = run_envlock(["verify"], cwd=tmp_path)
    assert proc.returncode == 3
    assert "lock file not found: envlock.lock.toml" in _one_line_error(proc)


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run_envlock(["verify", "x.toml", "--scope", "galaxy"]).returncode == 2
    lock = tmp_path / "l.toml"
    lock.write_text("[envlock]\nlock-version = 1\nscope='full'\n")
    proc = run_envlock(["verify", str(lock), "--rule", "torch.version=maybe", "--no-torch-live"])
    assert proc.returncode == 2 and "--rule" in _one_line_error(proc)


def test_missing_facts_file_exits_3(tmp_path: Path) -> None:
    proc = run_envlock(
        ["lock", "--facts", str(tmp_path / "nope.json"), "-o", str(tmp_path / "l.toml")]
    )
    assert proc.returncode == 3 and "facts file not found" in _one_line_error(proc)
    assert not (tmp_path / "l.toml").exists()
    bad = tmp_path / "bad.json"
    bad.write_text('{"facts_version": 1, "meta": {"envlock_version": "0", "collected_at": 5}}')
    proc = run_envlock(["lock", "--facts", str(bad), "-o", str(tmp_path / "l.toml")])
    assert proc.returncode == 3 and "meta.collected_at" in _one_line_error(proc)


@pytest.mark.venv
@pytest.mark.slow
def test_lock_refuses_nondeterministic_digests(cpu_python: Path, tmp_path: Path) -> None:
    lock = tmp_path / "envlock.lock.toml"
    env = clean_env(ENVLOCK_DETERMINISM_PERTURB="matmul")
    proc = run_envlock(
        ["lock", "--determinism", "--device", "cpu", "-o", str(lock)], python=cpu_python, env=env
    )
    assert proc.returncode == 3
    assert "not locking nondeterministic digests" in _one_line_error(proc)
    assert "matmul" in proc.stderr
    assert not lock.exists()


@pytest.mark.venv
@pytest.mark.slow
def test_cuda_digests_on_a_machine_without_gpu_are_a_finding(
    cpu_python: Path, tmp_path: Path
) -> None:
    """A lock whose [determinism] table came from the (constructed) H100 digests."""
    import tomli_w

    from envlock.facts import Facts
    from envlock.lock import loads_lock
    from envlock.lock.build import lockable_determinism
    from tests.conftest import load_fixture_json

    lock = tmp_path / "envlock.lock.toml"
    assert run_envlock(["lock", "-o", str(lock)], python=cpu_python).returncode == 0
    doc = {
        "facts_version": 1,
        "meta": {"envlock_version": "t", "collected_at": "t"},
        "determinism": load_fixture_json("determinism.h100-sxm-torch2.14-constructed.json")[
            "determinism"
        ],
    }
    det = Facts.from_dict(doc).determinism
    assert det is not None and det.device == "cuda"
    locked = dataclasses.replace(
        loads_lock(lock.read_text()), determinism=lockable_determinism(det)
    )
    lock.write_text(tomli_w.dumps(locked.to_dict()))
    proc = run_envlock(["verify", str(lock), "--format", "json"], python=cpu_python)
    assert proc.returncode == 1, proc.stderr
    found = [
        f for f in json.loads(proc.stdout)["findings"] if f["id"] == "EL-VERIFY-DETERMINISM-SKIPPED"
    ]
    assert found and found[0]["severity"] == "error" and "CUDA" in found[0]["message"]
    proc = run_envlock(
        ["verify", str(lock), "--scope", "software", "--format", "json"], python=cpu_python
    )
    assert proc.returncode == 0, proc.stdout
    found = [
        f for f in json.loads(proc.stdout)["findings"] if f["id"] == "EL-VERIFY-DETERMINISM-SKIPPED"
    ]
    assert found and found[0]["severity"] == "info"

"""Files envlock did not write are read as hostile: regular files only, bounded, and any
nesting, encoding or number in them ends in one line and exit 3, never a hang or exit 4."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from envlock.errors import LockError
from envlock.lock import dumps_lock, loads_lock, read_lock
from tests.conftest import REPO, clean_env, run_envlock
from tests.lock.facts_fixtures import cuda_venv_facts


def _good_lock_text() -> str:
    from envlock.lock import build_lock

    return dumps_lock(build_lock(cuda_venv_facts()))


def _one_line_exit_3(proc: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert proc.returncode == 3, (proc.returncode, proc.stderr)
    assert fragment in proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr


def test_a_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "envlock.lock.toml"
    os.mkfifo(fifo)
    _one_line_exit_3(run_envlock(["verify", str(fifo)], timeout=30), "not a regular file")
    _one_line_exit_3(run_envlock(["doctor", "--facts", str(fifo)], timeout=30), "regular file")


def test_a_symlink_to_dev_zero_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "envlock.lock.toml"
    link.symlink_to("/dev/zero")
    _one_line_exit_3(run_envlock(["verify", str(link)], timeout=30), "not a regular file")


def test_a_file_over_the_limit_is_refused_and_the_limit_can_be_raised(tmp_path: Path) -> None:
    big = tmp_path / "big.lock.toml"
    big.write_text(_good_lock_text() + "# " + "x" * (2 * 1024 * 1024) + "\n")
    proc = run_envlock(["verify", str(big)], env=clean_env(ENVLOCK_MAX_FILE_MB="1"))
    _one_line_exit_3(proc, "larger than 1 MiB")
    assert read_lock(big).version.major == 1  # within the default limit it reads


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.lock.toml"
    path.write_bytes(b"\xef\xbb\xbf" + _good_lock_text().encode())
    assert read_lock(path).version.major == 1


@pytest.mark.parametrize("version", ['"\u0661"', '"\u0661.0"', '"1.\u00b2"'])
def test_non_ascii_digits_are_not_a_lock_version(version: str) -> None:
    with pytest.raises(LockError, match="lock-version"):
        loads_lock(f"[envlock]\nlock-version = {version}\n")


def test_a_key_holding_a_line_break_is_still_one_line(tmp_path: Path) -> None:
    """Found by the CLI fuzz: a [packages] key "\\r\\n" with a boolean value; the dotted
    path in the error carries the key, escaped (\\x0d\\n), never a second line."""
    lock = tmp_path / "key.lock.toml"
    lock.write_text(_good_lock_text().replace("[packages]\n", '[packages]\n"\\r\\n" = true\n', 1))
    proc = run_envlock(["verify", str(lock), "--facts", str(lock)])
    _one_line_exit_3(proc, "in 'packages.\\x0d\\n': expected a string, got a boolean")


def test_deep_nesting_is_one_error(tmp_path: Path) -> None:
    deep = tmp_path / "deep.lock.toml"
    keys = ".".join(f"k{i}" for i in range(1000))
    deep.write_text(_good_lock_text() + f"\n[torch.{keys}]\nx = 1\n")
    _one_line_exit_3(run_envlock(["verify", str(deep), "--facts", str(deep)]), "nested deeper")
    facts = tmp_path / "deep.json"
    facts.write_text("[" * 100_000 + "]" * 100_000)
    _one_line_exit_3(run_envlock(["doctor", "--facts", str(facts)]), "nested too deeply")


def test_an_undecodable_environment_variable_is_locked_escaped(tmp_path: Path) -> None:
    """CUDA_X=$'a\\xffb' reaches Python as a lone surrogate; lock and verify both work."""
    lock = tmp_path / "envlock.lock.toml"
    env = {os.fsencode(k): os.fsencode(v) for k, v in clean_env().items()}
    env[b"CUDA_X"] = b"a\xffb"
    common = ["--no-torch-live"]

    def envlock(*args: str) -> subprocess.CompletedProcess[str]:
        """`python -m envlock ARGS` under `env` as it is at the call."""
        return subprocess.run(
            [sys.executable, "-m", "envlock", *args],
            env=env,
            capture_output=True,
            text=True,
            cwd=REPO,
            check=False,
            timeout=120,
        )

    made = envlock("lock", *common, "-o", str(lock))
    assert made.returncode == 0, made.stderr
    assert 'CUDA_X = "a\\\\udcffb"' in lock.read_text()
    same = envlock("verify", str(lock), *common, "--scope", "software")
    assert same.returncode == 0, same.stdout
    del env[b"CUDA_X"]
    gone = envlock("verify", str(lock), *common, "--scope", "software", "--format", "json")
    assert gone.returncode == 1 and "env.CUDA_X" in gone.stdout


def test_a_cache_entry_that_is_not_a_file_is_a_miss(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from envlock import livecache

    monkeypatch.setenv("ENVLOCK_CACHE_DIR", str(tmp_path))
    key = "k" * 64
    entry = livecache._entry(key)
    entry.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(entry)
    assert livecache.load(key) is None
    entry.unlink()
    entry.write_text("[" * 100_000)
    assert livecache.load(key) is None


def test_a_newline_in_the_output_path_cannot_inject_toml(tmp_path: Path) -> None:
    """`-o $'x\\n[rules]\\n"*" = "ignore"\\ny'` once wrote a [rules] table into the lock
    header's comment, turning real drift into a pass."""
    out = tmp_path / 'x\n[rules]\n"*" = "ignore"\ny.toml'
    made = run_envlock(["lock", "--no-torch-live", "-o", str(out)])
    assert made.returncode == 0, made.stderr
    lock = read_lock(out)
    assert lock.rules == {} and lock.unknown == {}
    assert all(line.startswith("#") for line in out.read_text().split("\n\n", 1)[0].splitlines())


@pytest.mark.parametrize("what", ["\u00b2", "\u0661\u0663\u0667", "9" * 5000, "-" + "9" * 5000])
def test_explain_odd_numbers_are_not_exit_codes(what: str) -> None:
    proc = run_envlock(["explain", what, "--no-checks"])
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr


def test_huge_and_non_ascii_versions_do_not_crash_at_least() -> None:
    from envlock.versions import at_least, parse_or_none

    assert at_least("9" * 5000, "1") is False
    assert parse_or_none("\u00b2") is None and parse_or_none("1" * 5000) is None
    assert at_least("580.65.06", "570.86.15") and not at_least("535.104.05", "570.86.15")


def test_a_rendezvous_address_is_not_locked() -> None:
    """NCCL_COMM_ID=host:port names a node (and changes per launch): never in a lock."""
    import dataclasses

    from envlock.lock import build_lock

    facts = cuda_venv_facts()
    env = {**facts.env.variables, "NCCL_COMM_ID": "gpu-node-017.cluster.example:29500"}
    facts = facts.replace(env=dataclasses.replace(facts.env, variables=env))
    text = dumps_lock(build_lock(facts))
    assert "gpu-node-017" not in text and "NCCL_COMM_ID" not in text


def test_the_interpreter_path_in_the_header_holds_no_home_directory(tmp_path: Path) -> None:
    home = tmp_path / "home" / "alice"
    py = home / "venvs" / "train" / "bin" / "python"
    py.parent.mkdir(parents=True)
    py.symlink_to(sys.executable)
    project = tmp_path / "project"
    project.mkdir()
    out = project / "envlock.lock.toml"
    proc = run_envlock(
        ["lock", "--no-torch-live", "--python", str(py), "-o", str(out)],
        env=clean_env(HOME=str(home)),
        cwd=project,
    )
    assert proc.returncode == 0, proc.stderr
    header = out.read_text().split("\n\n", 1)[0]
    # ~/ outside the quotes: the line is copied into a shell, which expands it
    assert "alice" not in header and "--python ~/venvs/train/bin/python" in header


def test_lone_surrogates_in_a_facts_file_do_not_break_the_lock(tmp_path: Path) -> None:
    doc = cuda_venv_facts().to_dict()
    doc["torch"]["version"] = "2.14.1+cu130\udcff"
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps(doc))  # json escapes the surrogate as \\udcff
    out = tmp_path / "envlock.lock.toml"
    proc = run_envlock(["lock", "--facts", str(facts), "-o", str(out)])
    assert proc.returncode == 0, proc.stderr
    assert read_lock(out).torch is not None


def test_lock_refuses_to_replace_what_is_not_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    _one_line_exit_3(run_envlock(["lock", "--no-torch-live", "-o", str(fifo)]), "regular file")
    assert fifo.is_fifo()
    _one_line_exit_3(run_envlock(["lock", "--no-torch-live", "-o", "/dev/null"]), "regular file")
    assert Path("/dev/null").is_char_device()


def test_a_symlinked_lock_updates_its_target_and_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "locks" / "real.lock.toml"
    real.parent.mkdir()
    real.write_text("# old\n")
    link = tmp_path / "envlock.lock.toml"
    link.symlink_to(real)
    proc = run_envlock(["lock", "--no-torch-live", "-o", str(link)])
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and real.read_text().startswith("# envlock.lock.toml")


def test_an_overlong_output_name_is_one_line(tmp_path: Path) -> None:
    out = tmp_path / ("x" * 300 + ".toml")
    _one_line_exit_3(run_envlock(["lock", "--no-torch-live", "-o", str(out)]), "too long")


def test_lock_to_stdout(tmp_path: Path) -> None:
    proc = run_envlock(["lock", "--no-torch-live", "-o", "-"], cwd=tmp_path)
    assert proc.returncode == 0 and loads_lock(proc.stdout).version.major == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_a_million_gpus_is_refused_before_it_is_built(tmp_path: Path) -> None:
    doc = cuda_venv_facts().to_dict()
    gpu = {"index": 0, "name": "NVIDIA H100 80GB HBM3", "compute_capability": "9.0"}
    doc["driver"]["gpus"] = [dict(gpu, index=i) for i in range(1_000_000)]
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps(doc))
    proc = run_envlock(
        ["doctor", "--facts", str(facts)], env=clean_env(ENVLOCK_MAX_FILE_MB="512"), timeout=120
    )
    _one_line_exit_3(proc, "1000000 GPUs in one machine")


def test_a_wheel_with_a_non_numeric_version_does_not_crash_the_doctor(tmp_path: Path) -> None:
    from tests.facts_builders import h100_host

    doc = h100_host().to_dict()
    assert doc["cuda"]["wheels"]
    for w in doc["cuda"]["wheels"]:
        w["version"] = "custom-build"
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps(doc))
    proc = run_envlock(["doctor", "--facts", str(facts), "--format", "json"])
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr

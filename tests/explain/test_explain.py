"""envlock explain: exit codes, known messages, and the checks that confirm them here."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from envlock.checks import CHECKS
from envlock.explain import explain_exit_code, explain_message, messages
from tests.conftest import FIXTURES, clean_env, run_envlock
from tests.facts_builders import h100_host


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        (137, "SIGKILL"),
        (139, "SIGSEGV"),
        (134, "SIGABRT"),
        (143, "SIGTERM"),
        (126, "not executable"),
        (127, "not found"),
        (-9, "SIGKILL"),
        (135, "SIGBUS"),
    ],
)
def test_exit_codes(code: int, fragment: str) -> None:
    assert fragment in explain_exit_code(code).title + explain_exit_code(code).cause


def test_every_referenced_check_exists() -> None:
    referenced = {c for e in messages() for c in e.checks}
    for code in (127, 134, 135, 137, 139, 143):
        referenced |= set(explain_exit_code(code).checks)
    assert referenced <= set(CHECKS), referenced - set(CHECKS)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (
            "RuntimeError: CUDA error: no kernel image is available for execution on the device",
            "no-kernel-image",
        ),
        ("The NVIDIA driver on your system is too old (found version 12080)", "driver-too-old"),
        ("AssertionError: Torch not compiled with CUDA enabled", "cpu-only-torch"),
        ("Failed to initialize NVML: Driver/library version mismatch", "nvml-mismatch"),
        (
            "ERROR: Unexpected bus error encountered in worker. DataLoader worker (pid 123) is killed by signal: Bus error.",
            "shm",
        ),
        (
            "libcusparse.so.12: undefined symbol: __nvJitLinkComplete_12_4, version libnvJitLink.so.12",
            "undefined-symbol",
        ),
    ],
)
def test_known_messages(text: str, key: str) -> None:
    assert key in [e.key for e in explain_message(text)]


def test_unknown_message() -> None:
    assert explain_message("the printer is on fire") == []


def test_explain_runs_the_confirming_check_on_facts(tmp_path: Path) -> None:
    """A V100 (7.0) with the recorded torch 2.14 cu130 arch flags: the check fires."""
    facts = h100_host()
    assert facts.driver.gpus
    v100 = facts.replace(
        driver=dataclasses.replace(
            facts.driver,
            gpus=[
                dataclasses.replace(
                    facts.driver.gpus[0], name="Tesla V100-SXM2-32GB", compute_capability="7.0"
                )
            ],
        )
    )
    path = tmp_path / "facts.v100-edited.json"
    path.write_text(v100.to_json())
    msg = "CUDA error: no kernel image is available for execution on the device"
    proc = run_envlock(["explain", msg, "--facts", str(path), "--format", "json"])
    assert proc.returncode == 1, proc.stderr
    out = json.loads(proc.stdout)
    assert out["explanations"][0]["key"] == "no-kernel-image"
    assert [f["id"] for f in out["findings"]] == ["EL-ARCH-UNSUPPORTED"]
    # the recorded H100 is covered: explained, nothing fires, exit 0
    h100 = tmp_path / "facts.h100.json"
    h100.write_text(facts.to_json())
    proc = run_envlock(["explain", msg, "--facts", str(h100)])
    assert proc.returncode == 0 and "none of" in proc.stdout


def test_explain_137_reports_memory_evidence() -> None:
    proc = run_envlock(["explain", "137", "--format", "json", "--no-torch-live"])
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert "SIGKILL" in out["explanations"][0]["title"]
    assert "machine memory" in out["evidence"] and "dmesg" in out["evidence"]
    # the cause promises the cgroup memory limit: it is always shown, "none set" included
    limit = out["evidence"]["cgroup memory limit"]
    assert limit.endswith("GiB") or limit.startswith(("none set (cgroup v", "unknown ("))


def _fake_dmesg(tmp_path: Path) -> dict[str, str]:
    """A `dmesg` first on PATH that prints a recognisable OOM-killer line (root may read
    the real log here, and it may hold no such line)."""
    import os

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "dmesg"
    fake.write_text("#!/bin/sh\necho '[12.3] Out of memory: Killed process 4242 (python3)'\n")
    fake.chmod(0o755)
    return clean_env(PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def test_explain_137_reads_this_machines_kernel_log(tmp_path: Path) -> None:
    env = _fake_dmesg(tmp_path)
    proc = run_envlock(["explain", "137", "--format", "json", "--no-torch-live"], env=env)
    assert proc.returncode == 0, proc.stderr
    assert "Killed process 4242" in json.loads(proc.stdout)["evidence"]["dmesg"]


def test_explain_137_of_other_facts_never_shows_this_machines_kernel_log(tmp_path: Path) -> None:
    """Reading the kernel log is collection for this host: the facts of another machine
    (a file, a pasted report) get no line of this machine's log."""
    env = _fake_dmesg(tmp_path)
    facts = FIXTURES / "facts.cuda-venv+h100-driver-580-replayed.json"
    proc = run_envlock(["explain", "137", "--format", "json", "--facts", str(facts)], env=env)
    assert proc.returncode == 0, proc.stderr
    dmesg = json.loads(proc.stdout)["evidence"]["dmesg"]
    assert "4242" not in dmesg and dmesg.startswith("not read: the facts come from facts:")


def test_explain_strict_fails_on_a_confirming_warning() -> None:
    """A 64 MB /dev/shm in a recorded image probe: EL-SHM-SMALL is a warning, so explain
    passes by default and fails under --strict (it ignored --strict before)."""
    facts = FIXTURES / "facts.image-python-by-digest.json"
    msg = "RuntimeError: DataLoader worker (pid 123) is killed by signal: Bus error"
    proc = run_envlock(["explain", msg, "--facts", str(facts), "--format", "json"])
    assert proc.returncode == 0, proc.stderr
    assert [(f["id"], f["severity"]) for f in json.loads(proc.stdout)["findings"]] == [
        ("EL-SHM-SMALL", "warning")
    ]
    strict = run_envlock(["explain", msg, "--facts", str(facts), "--strict"])
    assert strict.returncode == 1, strict.stdout
    assert "EL-SHM-SMALL" in strict.stdout


def test_a_message_row_with_an_unknown_key_is_refused() -> None:
    from envlock.explain import _explanation

    row = {"key": "k", "title": "t", "cause": "c", "fix": "f", "pattern": ["typo"]}
    with pytest.raises(ValueError, match="unknown \\['pattern'\\]"):
        _explanation(row)
    fixed = {k: v for k, v in row.items() if k != "pattern"} | {"patterns": ["typo"]}
    assert _explanation(fixed).patterns == ("typo",)

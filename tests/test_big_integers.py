"""Integers and versions with thousands of digits (issue 19, item 7): CPython's int()
refuses more than 4,300 digits with a ValueError that is neither a JSON error nor a
version error, and that once escaped as exit 4. A facts file holding one is exit 3 in one
line; in a fleet it is that node's EL-FLEET-NODE-UNREADABLE while the others are
compared; a Python version of 5,000 digits leaves the markers that name it unknown.
(compress_hostlist's case is in tests/fleet/test_hostlist.py.)"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from envlock.checks import run_checks
from envlock.errors import FactsError
from envlock.facts import MAX_INT_DIGITS, Facts, RequiresFacts
from tests.conftest import FIXTURES, run_envlock
from tests.facts_builders import cpu_venv, edit
from tests.fleet.nodes import write_fleet

HUGE = "9" * 5000
FIXTURE = FIXTURES / "facts.cuda-venv+h100-driver-580-replayed.json"


def _with_number(text: str, key: str, digits: str) -> str:
    """`text` with the first `"key": <number>` holding `digits` instead."""
    out, n = re.subn(rf'("{key}": )-?[0-9][0-9.eE+-]*', rf"\g<1>{digits}", text, count=1)
    assert n == 1, key
    return out


@pytest.mark.parametrize(
    "digits", [HUGE, "-" + HUGE, "1" * (MAX_INT_DIGITS + 1)], ids=["5000", "-5000", "101"]
)
def test_a_facts_file_with_a_huge_integer_is_exit_3_in_one_line(
    tmp_path: Path, digits: str
) -> None:
    path = tmp_path / "facts.json"
    path.write_text(_with_number(FIXTURE.read_text(), "memory_total_bytes", digits))
    for args in (["doctor", "--facts", str(path)], ["probe", "--facts", str(path), "--json"]):
        proc = run_envlock(args)
        assert proc.returncode == 3, proc.stderr[-800:]
        assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
        width = len(digits.lstrip("-"))
        assert f"facts JSON holds an integer of {width} digits (at most {MAX_INT_DIGITS})" in (
            proc.stderr
        )


def test_integers_up_to_the_bound_still_read() -> None:
    text = _with_number(FIXTURE.read_text(), "memory_total_bytes", "1" * MAX_INT_DIGITS)
    assert Facts.from_json(text).system.memory_total_bytes == int("1" * MAX_INT_DIGITS)
    with pytest.raises(FactsError, match="not valid JSON"):
        Facts.from_json(FIXTURE.read_text()[:-5])


@pytest.mark.parametrize(
    ("key", "digits"),
    [
        ("memory_total_bytes", HUGE),  # a value the summaries compare
        ("import_seconds", HUGE),  # a per-node value (files share a summary past it)
        ("import_seconds", "7" * 150),  # int() reads it; a facts file may not hold it
    ],
    ids=["compared-value", "per-node-value", "per-node-150-digits"],
)
def test_a_fleet_file_with_a_huge_integer_is_that_nodes_finding(
    tmp_path: Path, key: str, digits: str
) -> None:
    write_fleet(tmp_path, 3)
    bad = tmp_path / "gpu-node-001.json"
    bad.write_text(_with_number(bad.read_text(), key, digits))
    proc = run_envlock(["fleet", "report", str(tmp_path), "--format", "json"])
    assert proc.returncode == 1, proc.stderr[-800:]
    report = json.loads(proc.stdout)
    (finding,) = report["findings"]
    assert finding["id"] == "EL-FLEET-NODE-UNREADABLE"
    assert finding["message"].startswith("gpu-node-001.json:")
    assert "facts JSON holds an integer of" in finding["message"]
    assert report["details"]["nodes"] == ["gpu-node-000", "gpu-node-002"]


def _with_python(version: str) -> Facts:
    facts = cpu_venv()
    assert facts.system.python is not None
    facts = edit(facts, "system.python", dataclasses.replace(facts.system.python, version=version))
    req = RequiresFacts(
        distribution="torchvision",
        version="0.29.1",
        requires=['torch==2.14.0; python_version >= "3.8"', "torch>=2.14.0"],
    )
    facts = edit(facts, "packages.requires", [*facts.packages.requires, req])
    return edit(
        facts, "packages.distributions", {**facts.packages.distributions, "torchvision": "0.29.1"}
    )


@pytest.mark.parametrize(
    "version", ["3." + HUGE, HUGE, "3.11." + HUGE], ids=["minor", "major", "micro"]
)
def test_a_python_version_of_5000_digits_leaves_its_markers_unknown(version: str) -> None:
    found = [f for f in run_checks(_with_python(version)) if f.check_id == "EL-FAMILY-MISMATCH"]
    (tv,) = [f for f in found if f.evidence["package"] == "torchvision"]
    # the requirement without a marker is still checked; the one behind a marker is not
    assert "torchvision requires torch>=2.14.0, installed torch 2.13.0+cpu" in tv.message
    assert "torch==2.14.0" not in tv.message
    # a real version: both are
    (real,) = [
        f
        for f in run_checks(_with_python("3.11.7"))
        if f.check_id == "EL-FAMILY-MISMATCH" and f.evidence["package"] == "torchvision"
    ]
    assert "torchvision requires torch==2.14.0" in real.message


def test_doctor_on_facts_with_a_5000_digit_python_is_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "facts.json"
    path.write_text(_with_python("3." + HUGE).to_json())
    proc = run_envlock(["doctor", "--facts", str(path), "--format", "json"])
    assert proc.returncode == 1, proc.stderr[-800:]
    ids = {f["id"] for f in json.loads(proc.stdout)["findings"]}
    assert "EL-FAMILY-MISMATCH" in ids


def test_an_installed_version_of_5000_digits_is_not_compared() -> None:
    """torchvision requires torchaudio==2.14.0; the torchaudio installed is 2.<5,000 9s>."""
    facts = _with_python("3.11.7")
    facts = edit(
        facts,
        "packages.distributions",
        {**facts.packages.distributions, "torchaudio": "2." + HUGE},
    )
    req = RequiresFacts(
        distribution="torchvision", version="0.29.1", requires=["torchaudio==2.14.0"]
    )
    facts = edit(facts, "packages.requires", [*facts.packages.requires[:-1], req])
    found = [f for f in run_checks(facts) if f.check_id == "EL-FAMILY-MISMATCH"]
    assert not any("requires torchaudio" in f.message for f in found)


# ------------------------------------------- the other readers of numbers from outside
def test_a_cuda_oom_message_with_a_400_digit_size_is_explained_not_a_crash() -> None:
    from envlock.explain import oom_evidence

    text = f"CUDA out of memory. Tried to allocate {'9' * 400} GiB"
    assert "fragmentation" not in oom_evidence(text, None, observed=False)
    real = "Tried to allocate 2.00 GiB. 3.50 GiB is reserved by PyTorch but unallocated."
    assert oom_evidence(real, None, observed=False)["fragmentation"].startswith("likely")


def test_a_suite_result_with_a_huge_integer_is_one_determinism_error() -> None:
    from envlock.determinism import RESULT_MARK
    from envlock.determinism.runner import parse_suite_output
    from envlock.errors import DeterminismError

    out = f'{RESULT_MARK}{{"seed": {HUGE}}}\n'
    with pytest.raises(DeterminismError, match="digits"):
        parse_suite_output(out, "", 0, "python3")


def test_a_probe_printing_a_huge_integer_is_exit_3_in_one_line(tmp_path: Path) -> None:
    fake = tmp_path / "python3"
    fake.write_text(f"#!/bin/sh\necho '{{\"facts_version\": {HUGE}}}'\n")
    fake.chmod(0o755)
    proc = run_envlock(["doctor", "--python", str(fake)])
    assert proc.returncode == 3, proc.stderr
    assert "printed no facts JSON" in proc.stderr and "digits" in proc.stderr
    assert proc.stderr.strip().count("\n") == 0


def test_a_wheel_naming_a_huge_cuda_major_is_not_a_crash(tmp_path: Path) -> None:
    from envlock.probe._dists import Dist
    from envlock.probe.cudalibs import wheel_cuda_major

    info = tmp_path / "x.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Name: x\nRequires-Dist: nvidia-foo-cu{HUGE}\n\n")
    (info / "RECORD").write_text(f"nvidia/cu{HUGE}/lib/x.so,,\n")
    assert wheel_cuda_major(Dist(f"nvidia-x-cu{HUGE}", f"{HUGE}.0", str(info))) is None
    assert wheel_cuda_major(Dist("nvidia-cublas-cu12", "12.4.5", str(info))) == 12


@pytest.mark.parametrize("glibc", ["2.1000000000", "2.x", f"2.{HUGE}"])
def test_a_locked_glibc_that_is_no_small_version_is_one_error(glibc: str) -> None:
    """A glibc minor of 10**9 would make a billion platform tags (a hang), 5,000 digits
    crashed int()."""
    from envlock.errors import RestoreError
    from envlock.install.files import platform_tags

    with pytest.raises(RestoreError, match="glibc version"):
        platform_tags("3.11", "x86_64", glibc)
    assert "cp311-cp311-manylinux_2_17_x86_64" in platform_tags("3.11", "x86_64", "2.36")


def test_a_rank_sending_a_huge_integer_is_a_fleet_error() -> None:
    from envlock.fleet import FleetError
    from envlock.fleet.rendezvous import _peer_json

    with pytest.raises(FleetError, match="unreadable facts"):
        _peer_json(f'{{"rank": {HUGE}}}', "facts")
    assert _peer_json('{"rank": 3}', "facts") == {"rank": 3}

"""export and the hardware hold, from recorded facts (no install here: see
tests/commands/test_restore.py for the real round trips).

- the torch-cuda venv recording: torch 2.14.1 from the default index (cu130, untagged)
- h100_facts: that recording with the H100 / driver 580.65.06 NVML recording replayed
- driver 570: the same host with the driver version edited to 570.172.08 (constructed:
  no 570 machine was recorded), which cannot run CUDA 13.0
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from envlock.errors import RestoreError
from envlock.facts import Facts
from envlock.lock import build_lock, dumps_lock
from envlock.lock.closure import DEFAULT_INDEX
from envlock.lock.export import (
    dockerfile_text,
    plan_install,
    pylock_document,
    requirements_text,
)
from envlock.lock.model import LockedFile
from envlock.matrix import load_matrix
from envlock.usecases.hold import default_variant, hold_variant
from tests.conftest import run_envlock
from tests.lock.facts_fixtures import cuda_venv_facts, h100_facts

SHA = "0" * 63 + "1"


def driver_570() -> Facts:
    facts = h100_facts()
    return facts.replace(driver=dataclasses.replace(facts.driver, version="570.172.08"))


def test_requirements_pin_the_closure_and_leave_the_index_to_the_default() -> None:
    lock = build_lock(cuda_venv_facts())
    text = requirements_text(plan_install(lock))
    lines = [ln for ln in text.splitlines() if not ln.startswith("#")]
    assert "torch==2.14.1" in lines and "nvidia-nccl-cu13==2.30.7" in lines
    assert not any(ln.startswith("--") for ln in lines)  # untagged: the default index
    # envlock's own requirements are installed too (they are in pip freeze), envlock not
    assert "nvidia-ml-py==13.615.71" in lines and not any("envlock" in ln for ln in lines)


def test_a_tagged_torch_needs_its_variants_index_and_a_mirror_replaces_it() -> None:
    facts = cuda_venv_facts()
    facts = facts.replace(
        packages=dataclasses.replace(
            facts.packages, distributions={"torch": "2.13.0+cpu", "sympy": "1.14.0"}
        ),
        torch=dataclasses.replace(facts.torch, version="2.13.0+cpu", cuda=None),
    )
    lock = build_lock(facts)
    text = requirements_text(plan_install(lock))
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in text.splitlines()
    mirror = requirements_text(plan_install(lock, torch_index="https://mirror.example/cpu"))
    assert "--extra-index-url https://mirror.example/cpu" in mirror.splitlines()
    assert "--extra-index-url" not in requirements_text(plan_install(lock, torch_index="none"))


def test_editable_installs_are_comments_and_hashes_become_hash_lines() -> None:
    from envlock.facts import PackageSourceFacts

    facts = cuda_venv_facts()
    facts = facts.replace(
        packages=dataclasses.replace(
            facts.packages,
            distributions={"torch": "2.14.1", "mine": "0.1"},
            sources={"mine": PackageSourceFacts(kind="editable", url="file:///src/mine")},
        )
    )
    lock = build_lock(facts)
    plan = plan_install(lock)
    assert "# not restorable: mine==0.1: an editable install" in requirements_text(plan)
    hashed = dataclasses.replace(
        lock, files={"torch": (LockedFile(name="torch.whl", url="https://x/t.whl", sha256=SHA),)}
    )
    assert f"torch==2.14.1 \\\n    --hash=sha256:{SHA}" in requirements_text(plan_install(hashed))


def test_pylock_needs_hashes_and_validates_with_packaging() -> None:
    from packaging.pylock import Pylock

    lock = build_lock(cuda_venv_facts())
    with pytest.raises(RestoreError, match=r"needs file hashes.*envlock lock --hashes"):
        pylock_document(lock, plan_install(lock), created_by="envlock test")
    small = dataclasses.replace(
        lock,
        packages={"six": "1.17.0"},
        tools={},
        files={
            "six": (
                LockedFile(
                    name="six-1.17.0-py2.py3-none-any.whl",
                    url="https://files.example/six-1.17.0-py2.py3-none-any.whl",
                    sha256=SHA,
                ),
            )
        },
    )
    doc = pylock_document(small, plan_install(small), created_by="envlock test")
    parsed = Pylock.from_dict(doc)
    assert [(p.name, str(p.version)) for p in parsed.packages] == [("six", "1.17.0")]
    assert str(parsed.requires_python) == "==3.11.*"


def test_dockerfile_sets_locked_variables_user_and_a_final_verify() -> None:
    from tests.lock.facts_fixtures import rich_facts

    lock = build_lock(rich_facts())
    text = dockerfile_text(
        lock,
        plan_install(lock),
        base="python:3.11-slim@sha256:" + "a" * 64,
        lock_name="envlock.lock.toml",
        requirements_name="requirements.envlock.txt",
    )
    lines = text.splitlines()
    assert lines[1] == "FROM python:3.11-slim@sha256:" + "a" * 64
    assert 'CUBLAS_WORKSPACE_CONFIG=":4096:8"' in text and 'NCCL_DEBUG="WARN"' in text
    assert "USER envlock" in lines
    assert lines[-1].startswith("RUN /home/envlock/.envlock/bin/envlock verify")
    assert "--scope software" in lines[-1]
    with pytest.raises(Exception, match="not an image reference"):
        dockerfile_text(
            lock,
            plan_install(lock),
            base="x y",
            lock_name="l",
            requirements_name="r",
        )


# ----------------------------------------------------------------- hardware hold
def test_the_locked_cu130_build_runs_on_the_recorded_driver_580_host() -> None:
    lock = build_lock(h100_facts())
    hold = hold_variant(lock, h100_facts(), load_matrix())
    assert (hold.variant, hold.runs) == ("cu130", True)


def test_a_driver_570_host_cannot_run_cu130_and_is_told_the_variant_that_would() -> None:
    lock = build_lock(h100_facts())
    hold = hold_variant(lock, driver_570(), load_matrix())
    assert hold.runs is False and "driver 570.172.08 too old for CUDA 13.0" in hold.reason
    # computed from the matrix: the newest CUDA of torch 2.14 that driver 570 runs
    assert hold.instead == "cu126"
    chosen = hold_variant(lock, driver_570(), load_matrix(), requested="cu126")
    assert (chosen.variant, chosen.runs) == ("cu126", True)


def test_another_variant_is_pinned_from_its_index_and_names_what_will_differ() -> None:
    lock = build_lock(h100_facts())
    default = default_variant(lock, load_matrix(), requested="cu126")
    assert default == "cu130"
    plan = plan_install(lock, variant="cu126", default_variant=default)
    text = requirements_text(plan)
    assert "torch==2.14.1+cu126" in text.splitlines()
    assert "--extra-index-url https://download.pytorch.org/whl/cu126" in text.splitlines()
    assert not any(ln.startswith("nvidia-cublas") for ln in text.splitlines())
    assert {"torch.variant", "torch.cuda", "packages.torch", "packages.nvidia-cublas"} <= set(
        plan.differs
    )
    assert plan.complete is False  # the installer resolves the variant's CUDA wheels
    # back to the default variant: untagged, from the default index
    back = plan_install(lock, variant="cu130", default_variant=default)
    assert back.differs == () and DEFAULT_INDEX not in back.indexes


def test_unknown_variant_and_empty_lock_are_refused() -> None:
    lock = build_lock(h100_facts())
    with pytest.raises(RestoreError, match=r"not a variant of torch 2\.14\.1 \(known: cpu, cu126"):
        hold_variant(lock, h100_facts(), load_matrix(), requested="cu999")
    with pytest.raises(RestoreError, match="holds no \\[packages\\]"):
        plan_install(dataclasses.replace(lock, packages={}))


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_restore_dry_run_from_recorded_facts_of_a_driver_570_host(tmp_path: Path) -> None:
    lock = _write(tmp_path / "envlock.lock.toml", dumps_lock(build_lock(h100_facts())))
    host = _write(tmp_path / "host.json", json.dumps(driver_570().to_dict()))
    base = ["restore", str(lock), "--venv", str(tmp_path / "v"), "--dry-run"]
    blocked = run_envlock([*base, "--host-facts", str(host)])
    assert blocked.returncode == 1, blocked.stderr
    assert "cannot run here" in blocked.stderr and "--variant cu126" in blocked.stderr
    assert blocked.stdout == ""
    ok = run_envlock([*base, "--host-facts", str(host), "--variant", "cu126"])
    assert ok.returncode == 0, ok.stderr
    assert "these lock fields will differ: torch.variant" in ok.stderr
    assert "--variant cu126" in ok.stdout.splitlines()[0]  # the export that makes the file
    assert not (tmp_path / "v").exists()  # nothing run
    bad = run_envlock([*base, "--host-facts", str(host), "--variant", "cu999"])
    assert bad.returncode == 3 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
    assert "not a variant of torch" in bad.stderr

"""verify rules over recorded facts, each edited only in the field a case is about."""

from __future__ import annotations

import dataclasses
import re

import pytest

from envlock.errors import LockError, UsageError
from envlock.facts import Facts
from envlock.findings import Severity
from envlock.lock import Lock, LockVersion, build_lock
from envlock.lock.model import LockHeader
from envlock.verify import parse_rule_override, verify
from tests.lock.facts_fixtures import cuda_venv_facts, h100_facts


def _by_field(findings: list) -> dict:
    return {f.field: f for f in findings}


def _with_torch(facts: Facts, **changes: object) -> Facts:
    return facts.replace(torch=dataclasses.replace(facts.torch, **changes))


def _with_driver(facts: Facts, **changes: object) -> Facts:
    return facts.replace(driver=dataclasses.replace(facts.driver, **changes))


def test_same_facts_verify_clean() -> None:
    for facts in (cuda_venv_facts(), h100_facts()):
        assert verify(build_lock(facts), facts) == []


def test_torch_version_drift_is_an_error_naming_the_field() -> None:
    facts = h100_facts()
    lock = build_lock(facts)
    found = _by_field(verify(lock, _with_torch(facts, version="2.13.0+cu130")))
    f = found["torch.version"]
    assert f.severity is Severity.ERROR and f.check_id == "EL-VERIFY-DRIFT"
    assert (f.locked, f.observed) == (facts.torch.version, "2.13.0+cu130")
    assert f.why
    # the fix installs the locked build from the index the lock names: torch 2.14.1 from
    # the default index is the cu130 build (its distribution version has no +cu130)
    assert facts.packages.distributions["torch"] == "2.14.1"
    assert f.fix == "pip install 'torch==2.14.1'"


def test_torch_fix_names_the_variants_index() -> None:
    cpu = _with_torch(cuda_venv_facts(), version="2.13.0+cpu", build="cpu", cuda=None)
    cpu = cpu.replace(
        packages=dataclasses.replace(
            cpu.packages, distributions={**cpu.packages.distributions, "torch": "2.13.0+cpu"}
        )
    )
    found = _by_field(verify(build_lock(cpu), cuda_venv_facts()))
    assert found["torch.version"].fix == (
        "pip install 'torch==2.13.0+cpu' --index-url https://download.pytorch.org/whl/cpu"
    )


def test_cpu_lock_against_cuda_torch_names_version_and_cuda() -> None:
    cuda = cuda_venv_facts()
    cpu_like = _with_torch(cuda, version="2.14.1+cpu", build="cpu", cuda=None)
    found = _by_field(verify(build_lock(cpu_like), cuda))
    assert found["torch.version"].severity is Severity.ERROR
    # one torch change is one finding (issue 21 item 7): torch.cuda changed with it
    assert "torch.cuda" not in found
    assert "torch.cuda: (none) -> 13.0" in found["torch.version"].evidence["changed with torch"]


def test_driver_is_at_least() -> None:
    facts = h100_facts()
    lock = build_lock(facts)
    newer = _with_driver(facts, version="590.48.01", cuda_version="13.1")
    assert verify(lock, newer) == []
    older = _with_driver(facts, version="575.57.08", cuda_version="12.9")
    found = _by_field(verify(lock, older))
    assert found["driver.version"].severity is Severity.ERROR
    assert found["driver.cuda-version"].severity is Severity.ERROR


def test_versions_compare_as_integer_tuples_not_floats() -> None:
    facts = h100_facts()
    lock = build_lock(_with_driver(facts, cuda_version="12.9"))
    assert verify(lock, _with_driver(facts, cuda_version="12.10")) == []
    assert "driver.cuda-version" in _by_field(
        verify(lock, _with_driver(facts, cuda_version="12.1"))
    )


def test_gpu_count_and_model_are_same_rules() -> None:
    facts = h100_facts()
    gpus = facts.driver.gpus
    assert gpus
    lock = build_lock(facts)
    fewer = _with_driver(facts, gpus=gpus[:-1]) if len(gpus) > 1 else _with_driver(facts, gpus=[])
    assert _by_field(verify(lock, fewer))["hardware.gpu-count"].severity is Severity.ERROR
    other = _with_driver(
        facts,
        gpus=[
            dataclasses.replace(gpus[0], name="NVIDIA A100-SXM4-80GB", compute_capability="8.0"),
            *gpus[1:],
        ],
    )
    found = _by_field(verify(lock, other))
    assert found["hardware.gpus[0].name"].severity is Severity.ERROR
    assert found["hardware.gpus[0].compute-capability"].severity is Severity.ERROR


def test_software_scope_ignores_driver_and_gpu_fields() -> None:
    gpu = h100_facts()
    nodriver = cuda_venv_facts()
    lock = build_lock(gpu)
    full = _by_field(
        verify(
            lock,
            nodriver.replace(
                torch=gpu.torch,
                packages=gpu.packages,
                env=gpu.env,
                system=gpu.system,
                cuda=gpu.cuda,
            ),
        )
    )
    assert "driver.version" in full and full["driver.version"].check_id == "EL-VERIFY-UNOBSERVED"
    assert "hardware.gpu-count" in full
    soft = verify(
        lock,
        nodriver.replace(
            torch=gpu.torch, packages=gpu.packages, env=gpu.env, system=gpu.system, cuda=gpu.cuda
        ),
        scope="software",
    )
    assert soft == []


def test_env_drift_and_extra_variable_are_errors() -> None:
    facts = cuda_venv_facts()
    base_env = dict(facts.env.variables, CUBLAS_WORKSPACE_CONFIG=":4096:8")
    locked = facts.replace(env=dataclasses.replace(facts.env, variables=base_env))
    lock = build_lock(locked)
    changed = facts.replace(
        env=dataclasses.replace(
            facts.env, variables=dict(base_env, CUBLAS_WORKSPACE_CONFIG=":16:8")
        )
    )
    f = _by_field(verify(lock, changed))["env.CUBLAS_WORKSPACE_CONFIG"]
    assert f.severity is Severity.ERROR and f.observed == ":16:8"
    extra = facts.replace(
        env=dataclasses.replace(
            facts.env, variables=dict(base_env, LD_LIBRARY_PATH="/usr/local/cuda-12.4/lib64")
        )
    )
    f = _by_field(verify(lock, extra))["env.LD_LIBRARY_PATH"]
    assert f.severity is Severity.ERROR and f.check_id == "EL-VERIFY-NOT-LOCKED"
    # scheduler-assigned variables are not locked
    moved = facts.replace(
        env=dataclasses.replace(facts.env, variables=dict(base_env, CUDA_VISIBLE_DEVICES="3"))
    )
    assert verify(lock, moved) == []


def test_package_change_missing_and_new() -> None:
    facts = cuda_venv_facts()
    dists = facts.packages.distributions
    name = "numpy" if "numpy" in dists else next(iter(dists))
    lock = build_lock(facts)
    changed = facts.replace(
        packages=dataclasses.replace(facts.packages, distributions=dict(dists, **{name: "0.0.1"}))
    )
    assert _by_field(verify(lock, changed))[f"packages.{name}"].severity is Severity.ERROR
    gone = facts.replace(
        packages=dataclasses.replace(
            facts.packages, distributions={k: v for k, v in dists.items() if k != name}
        )
    )
    assert _by_field(verify(lock, gone))[f"packages.{name}"].check_id == "EL-VERIFY-MISSING"
    new = facts.replace(
        packages=dataclasses.replace(
            facts.packages, distributions=dict(dists, **{"flash-attn": "2.8.3"})
        )
    )
    f = _by_field(verify(lock, new))["packages.flash-attn"]
    assert f.severity is Severity.WARNING and f.check_id == "EL-VERIFY-NOT-LOCKED"


def test_rules_from_lock_and_command_line_override_defaults() -> None:
    facts = cuda_venv_facts()
    changed = _with_torch(facts, version="2.14.0+cu130")
    lock = build_lock(facts)
    assert _by_field(verify(lock, changed))["torch.version"].severity is Severity.ERROR
    lock_with_rules = dataclasses.replace(lock, rules={"torch.version": "warn"})
    assert _by_field(verify(lock_with_rules, changed))["torch.version"].severity is Severity.WARNING
    assert verify(lock, changed, rules=[parse_rule_override("torch.*=ignore")]) == []
    with pytest.raises(UsageError):
        parse_rule_override("torch.version=sometimes")
    with pytest.raises(LockError, match=re.escape("rules.torch.version")):
        Lock.from_dict({**lock.to_dict(), "rules": {"torch.version": "sometimes"}})


def test_unobserved_live_torch_fields_are_not_reported_as_absent() -> None:
    facts = cuda_venv_facts()
    assert facts.torch.live and facts.torch.live.cudnn_version
    lock = build_lock(facts)
    found = _by_field(verify(lock, _with_torch(facts, live=None)))
    assert found["torch.cudnn"].check_id == "EL-VERIFY-UNOBSERVED"
    assert "--no-torch-live" in found["torch.cudnn"].message


def test_newer_minor_lock_is_a_warning_and_its_unknown_fields_are_compared() -> None:
    facts = cuda_venv_facts()
    lock = build_lock(facts)
    newer = dataclasses.replace(lock, envlock=LockHeader(lock_version=LockVersion(1, 3)))
    (f,) = verify(newer, facts)
    assert f.check_id == "EL-LOCK-NEWER-MINOR" and f.severity is Severity.WARNING
    assert verify(lock, facts) == []  # the current version is not noted
    table = lock.to_dict()
    table["envlock"]["lock-version"] = "1.3"
    table["torch"]["compile-backend"] = "inductor"
    found = _by_field(verify(Lock.from_dict(table), facts))
    assert found["torch.compile-backend"].check_id == "EL-VERIFY-MISSING"
    assert found["torch.compile-backend"].severity is Severity.ERROR  # torch.* is exact


def _edit_system(facts: Facts, **changes: object) -> Facts:
    return facts.replace(system=dataclasses.replace(facts.system, **changes))


@pytest.mark.parametrize(
    ("field", "edit", "severity"),
    [
        (
            "system.python",
            lambda f: _edit_system(
                f, python=dataclasses.replace(f.system.python, version="3.12.1")
            ),
            Severity.ERROR,
        ),
        ("system.arch", lambda f: _edit_system(f, arch="aarch64"), Severity.ERROR),
        ("system.glibc", lambda f: _edit_system(f, glibc="2.31"), Severity.WARNING),
        (
            "system.os",
            lambda f: _edit_system(f, os=dataclasses.replace(f.system.os, version_id="13")),
            Severity.WARNING,
        ),
        (
            "cuda.toolkit",
            lambda f: f.replace(
                cuda=dataclasses.replace(
                    f.cuda, toolkit=dataclasses.replace(f.cuda.toolkit, nvcc_version="12.4.131")
                )
            ),
            Severity.WARNING,
        ),
        (
            "hardware.gpus[0].memory-mib",
            lambda f: _with_driver(
                f, gpus=[dataclasses.replace(f.driver.gpus[0], memory_total_bytes=40 * 2**30)]
            ),
            Severity.WARNING,
        ),
        (
            "env.OMP_NUM_THREADS",
            lambda f: f.replace(
                env=dataclasses.replace(
                    f.env, variables={**f.env.variables, "OMP_NUM_THREADS": "1"}
                )
            ),
            Severity.INFO,
        ),
    ],
)
def test_default_rule_severities(field: str, edit, severity: Severity) -> None:  # type: ignore[no-untyped-def]
    facts = h100_facts()
    found = _by_field(verify(build_lock(facts), edit(facts)))
    assert found[field].severity is severity
    if severity is Severity.WARNING:  # warnings do not fail a plain verify
        assert all(f.severity is not Severity.ERROR for f in found.values())


def test_newer_glibc_passes_older_warns() -> None:
    facts = h100_facts()
    lock = build_lock(facts)
    assert verify(lock, _edit_system(facts, glibc="2.99")) == []


def test_indexed_rule_patterns_match_every_gpu() -> None:
    facts = h100_facts()
    gpus = facts.driver.gpus
    assert gpus
    other = _with_driver(facts, gpus=[dataclasses.replace(gpus[0], name="NVIDIA H200")])
    lock = build_lock(facts)
    assert "hardware.gpus[0].name" in _by_field(verify(lock, other))
    assert verify(lock, other, rules=[parse_rule_override("hardware.gpus[*].name=ignore")]) == []
    # a GPU appearing where the lock listed none is information, not drift
    no_gpu_lock = build_lock(_with_driver(facts, gpus=[]))
    found = _by_field(verify(no_gpu_lock, facts))
    assert found["hardware.gpus[0].name"].severity is Severity.INFO

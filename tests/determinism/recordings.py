"""Determinism facts from fixture files: *-recorded (real runs) and *-constructed (GPU, by hand)."""

from __future__ import annotations

import dataclasses
from typing import Any

from envlock.facts import DeterminismFacts, DigestClassFacts, _build
from tests.conftest import load_fixture_json

# Recorded on the 2-core AMD EPYC dev machine (AVX512), see record_fixture.py.
CPU_2_13 = "cpu-avx512-torch2.13-recorded"
CPU_2_14 = "cpu-avx512-torch2.14-recorded"  # the torch-cuda venv, no driver: ran on CPU
CPU_AVX2 = "cpu-avx2-torch2.13-recorded"  # ATEN_CPU_CAPABILITY=avx2
CPU_INTEL = "cpu-avx512-intel-xeon-torch2.13-recorded"  # CPU_2_13's venv on an Intel Xeon
CPU_1_THREAD = "cpu-1thread-torch2.13-recorded"  # OMP_NUM_THREADS=1
CPU_PERTURBED = "cpu-perturb-matmul-torch2.13-recorded"  # ENVLOCK_DETERMINISM_PERTURB=matmul
# Constructed by construct_gpu_fixtures.py: no GPU machine was available.
H100 = "h100-sxm-torch2.14-constructed"
H200 = "h200-torch2.14-constructed"
A100 = "a100-sxm-torch2.14-constructed"


def load(name: str) -> DeterminismFacts:
    doc = load_fixture_json(f"determinism.{name}.json")
    return _build(DeterminismFacts, doc["determinism"], "determinism")


def with_class(d: DeterminismFacts, name: str, **changes: Any) -> DeterminismFacts:
    """A copy of `d` with fields of one class changed (an edited lock, a drifted run)."""
    classes: dict[str, DigestClassFacts] = dict(d.classes)
    classes[name] = dataclasses.replace(classes[name], **changes)
    return dataclasses.replace(d, classes=classes)


def flip_digest(digest: str) -> str:
    last = digest[-1]
    return digest[:-1] + ("0" if last != "0" else "1")

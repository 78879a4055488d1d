"""Facts for lock/verify tests: a recording, and facts built from it (replayed, edited).

- cuda_venv_facts: `envlock probe --json` recorded in the torch 2.14.1+cu130 venv
  on the dev machine (no driver).
- h100_facts: the same, with the driver section produced by the real NVML parsing
  code (envlock.probe.nvml) replaying the H100 / driver 580.65.06 recording.
- rich_facts: h100_facts with two variables edited in, plus recorded image facts,
  determinism digests and extensions where recordings exist, so every lock table is
  exercised.
"""

from __future__ import annotations

import dataclasses
from functools import cache

from envlock.facts import Facts
from tests.conftest import FIXTURES, load_fixture_json
from tests.facts_builders import cuda_venv, h100_host

cuda_venv_facts = cuda_venv
h100_facts = h100_host


@cache
def rich_facts() -> Facts:
    facts = h100_facts()
    # Edited: the recording's environment held no lockable variable; a training
    # launch typically sets these.
    facts = facts.replace(
        env=dataclasses.replace(
            facts.env,
            variables={
                **facts.env.variables,
                "CUBLAS_WORKSPACE_CONFIG": ":4096:8",
                "NCCL_DEBUG": "WARN",
            },
        )
    )
    image = sorted(FIXTURES.glob("facts.image-*.json"))
    if image:
        recorded = Facts.from_dict(load_fixture_json(image[0].name))
        if recorded.image is not None:
            facts = facts.replace(image=recorded.image)
    det = sorted(FIXTURES.glob("determinism.*recorded*.json"))
    if det:
        recorded = load_fixture_json(det[0].name)["determinism"]
        doc = {
            "facts_version": 1,
            "meta": {"envlock_version": "t", "collected_at": "t"},
            "determinism": recorded,
        }
        facts = facts.replace(determinism=Facts.from_dict(doc).determinism)
    # the extensions section recorded with torchvision 0.29.1 beside the CUDA venv's torch
    ext = load_fixture_json(EXTENSIONS_FILE)["extensions"]
    doc = {"facts_version": 1, "meta": {"envlock_version": "t", "collected_at": "t"}}
    facts = facts.replace(extensions=Facts.from_dict({**doc, "extensions": ext}).extensions)
    return facts


EXTENSIONS_FILE = "extensions.torchvision-0.29.1-cuda-venv-recorded.json"

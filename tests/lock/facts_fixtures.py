"""Facts for lock/verify tests, from recordings only.

- cuda_venv_facts: `envlock probe --json` recorded in the torch 2.14.1+cu130 venv
  on the dev machine (no driver).
- h100_facts: the same, with the driver section produced by the real NVML parsing
  code (envlock.probe.nvml) replaying the H100 / driver 580.65.06 recording.
- rich_facts: h100_facts plus recorded image facts and determinism digests where
  recordings exist, so every lock table is exercised.
"""

from __future__ import annotations

import dataclasses
from functools import cache

from envlock.facts import Facts
from envlock.probe import nvml
from tests.conftest import FIXTURES, load_fixture_json
from tests.probe.fakes import build_fake_pynvml


@cache
def cuda_venv_facts() -> Facts:
    return Facts.from_dict(load_fixture_json("facts.cuda-venv-nodriver.json"))


@cache
def h100_facts() -> Facts:
    fake = build_fake_pynvml(load_fixture_json("nvml.h100-driver-580.json")["nvml"])
    driver = nvml.collect(nvml_module=fake)
    base = cuda_venv_facts().to_dict()
    base["driver"] = driver
    facts = Facts.from_dict(base)
    # Edited: the published recording has no UUID; one is set so the lock's
    # "no UUIDs" rule has something to leave out.
    assert facts.driver.gpus
    gpus = [
        dataclasses.replace(g, uuid=f"GPU-00000000-0000-0000-0000-00000000000{g.index}")
        for g in facts.driver.gpus
    ]
    return facts.replace(
        driver=dataclasses.replace(facts.driver, gpus=gpus),
        system=dataclasses.replace(facts.system, hostname="gpu-node-17"),
    )


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
    return facts

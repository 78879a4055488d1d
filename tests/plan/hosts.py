"""The three hosts the plan tests hold plans against: h100_host() (tests/facts_builders.py)
and two edits of its GPU 0 and driver section, as tests/fixtures/plan/expected.toml names
them: an RTX 5090 (sm_120, geforce_rtx) with driver 570.86.15 and a V100 (sm_70, tesla)
with driver 535.104.05."""

from __future__ import annotations

import json
from pathlib import Path

from envlock.facts import Facts
from tests.facts_builders import edit, gpu, h100_host, with_gpus


def _edited(name: str, cc: str, brand: str, driver: str, cuda: str) -> Facts:
    h = h100_host()
    facts = with_gpus(h, gpu(h, name=name, compute_capability=cc, brand=brand))
    facts = edit(facts, "driver.version", driver)
    facts = edit(facts, "driver.kernel_module_version", driver)
    return edit(facts, "driver.cuda_version", cuda)


def h100() -> Facts:
    return h100_host()


def rtx5090() -> Facts:
    return _edited("NVIDIA GeForce RTX 5090", "12.0", "geforce_rtx", "570.86.15", "12.8")


def v100() -> Facts:
    return _edited("Tesla V100-SXM2-16GB", "7.0", "tesla", "535.104.05", "12.2")


def rtx4090_535() -> Facts:
    return _edited("NVIDIA GeForce RTX 4090", "8.9", "geforce_rtx", "535.104.05", "12.2")


def write(facts: Facts, path: Path) -> Path:
    path.write_text(json.dumps(facts.to_dict()))
    return path


def write_three(directory: Path) -> dict[str, Path]:
    """The H100, V100 and RTX 5090 hosts as facts files in `directory`, by name."""
    return {
        name: write(make(), directory / f"{name}.json")
        for name, make in (("h100", h100), ("v100", v100), ("rtx5090", rtx5090))
    }

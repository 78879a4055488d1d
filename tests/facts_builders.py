"""Facts for the tests: two recordings, and an H100 host built from one of them with a
replayed NVML recording and the edits named below. The one place that builds them.

- cpu_venv(): `envlock probe --json` recorded in the torch 2.13.0+cpu venv on the
  dev machine (a Docker container, no NVIDIA driver).
- cuda_venv(): the same in the torch 2.14.1+cu130 venv.
- h100_host(): cuda_venv() with the driver section produced by the real NVML
  parsing code (envlock.probe.nvml) replaying tests/fixtures/nvml.h100-driver-580.json
  (an H100 80GB HBM3, driver 580.65.06, published in NVIDIA's MIG user guide), and
  these edits, each needed to describe a GPU host rather than the dev container:
  kernel module 580.65.06 and /dev/nvidia* nodes (present wherever that driver
  runs), no container, a host name and a GPU UUID (the recording has none; the
  lock's "no UUIDs" rule needs one to leave out), and torch's live view of the
  GPU (is_available, device 0 = that H100 with 132 SMs, the H100 SXM5 count in
  NVIDIA's "H100 Tensor Core GPU Architecture" whitepaper).

tests/fixtures/facts.cuda-venv+h100-driver-580-replayed.json is h100_host() as
written by `python -m tests.facts_builders`; a test keeps it up to date.
Tests derive single-field edits from these with `edit` and say which field
they edited.
"""

from __future__ import annotations

import dataclasses
import json
from functools import cache

from envlock.facts import ContainerFacts, Facts, GpuFacts, TorchDeviceFacts
from envlock.probe import nvml
from tests.conftest import FIXTURES, load_fixture_json
from tests.probe.fakes import build_fake_pynvml

H100_FILE = "facts.cuda-venv+h100-driver-580-replayed.json"
H100_NOTE = (
    "derived by tests/facts_builders.py: facts.cuda-venv-nodriver.json (recorded) with "
    "the driver section from envlock.probe.nvml replaying nvml.h100-driver-580.json; edited: "
    "driver.kernel_module_version, driver.device_nodes, driver.gpus[0].uuid, system.container "
    "(host), system.hostname, torch.live.cuda_available/device_count/devices (the H100)"
)


@cache
def cpu_venv() -> Facts:
    return Facts.from_dict(load_fixture_json("facts.cpu-venv-nodriver.json"))


@cache
def cuda_venv() -> Facts:
    return Facts.from_dict(load_fixture_json("facts.cuda-venv-nodriver.json"))


@cache
def h100_host() -> Facts:
    fake = build_fake_pynvml(load_fixture_json("nvml.h100-driver-580.json")["nvml"])
    base = cuda_venv().to_dict()
    base["driver"] = nvml.collect(nvml_module=fake)
    facts = Facts.from_dict(base)
    assert facts.driver.gpus and facts.driver.version == "580.65.06"
    gpu = facts.driver.gpus[0]
    driver = dataclasses.replace(
        facts.driver,
        gpus=[
            dataclasses.replace(g, uuid=f"GPU-00000000-0000-0000-0000-00000000000{g.index}")
            for g in facts.driver.gpus
        ],
        kernel_module_version="580.65.06",
        device_nodes=["/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia0", "/dev/nvidiactl"],
    )
    assert facts.torch.live is not None
    live = dataclasses.replace(
        facts.torch.live,
        cuda_available=True,
        cuda_unavailable_reason=None,
        device_count=1,
        devices=[
            TorchDeviceFacts(
                index=0,
                name=gpu.name,
                compute_capability=gpu.compute_capability,
                sm_count=132,
                memory_total_bytes=gpu.memory_total_bytes,
            )
        ],
    )
    return facts.replace(
        driver=driver,
        system=dataclasses.replace(
            facts.system, container=ContainerFacts(detected=False), hostname="gpu-node-17"
        ),
        torch=dataclasses.replace(facts.torch, live=live),
        meta=dataclasses.replace(facts.meta, notes=[*facts.meta.notes, H100_NOTE]),
    )


# The facts files written by `envlock probe --json` and used as they are: only cases on
# these may call themselves "recorded" (h100_host is built: replayed and edited).
RECORDINGS = (cpu_venv, cuda_venv)


def h100_json() -> str:
    return json.dumps(h100_host().to_dict(), indent=2, sort_keys=False) + "\n"


def write_h100_fixture() -> None:
    (FIXTURES / H100_FILE).write_text(h100_json())


# ----------------------------------------------------------------- editing helpers
def edit(facts: Facts, path: str, value: object) -> Facts:
    """A copy of `facts` with one dotted field replaced: edit(f, "driver.version", "570.86")."""
    head, _, rest = path.partition(".")
    if not rest:
        return dataclasses.replace(facts, **{head: value})  # type: ignore[arg-type]
    inner = getattr(facts, head)
    return dataclasses.replace(facts, **{head: edit(inner, rest, value)})  # type: ignore[arg-type]


def with_gpus(facts: Facts, *gpus: GpuFacts) -> Facts:
    return edit(facts, "driver.gpus", list(gpus))


def gpu(facts: Facts, **changes: object) -> GpuFacts:
    """GPU 0 of `facts` with some fields edited."""
    assert facts.driver.gpus
    return dataclasses.replace(facts.driver.gpus[0], **changes)  # type: ignore[arg-type]


if __name__ == "__main__":
    write_h100_fixture()

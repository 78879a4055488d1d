"""fleet report runs the doctor on each kind of node (issue 21 item 11): a node whose
driver is too old for its torch is an error naming that node, not only a difference.
Nodes: the recorded H100 probe (torch 2.14.1 cu130, driver 580.65.06), one node edited
to NVIDIA's older R570 driver."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_envlock
from tests.fleet.nodes import OLD_DRIVER, write_fleet


def test_a_node_whose_driver_is_too_old_is_an_error_naming_it(tmp_path: Path) -> None:
    nodes = tmp_path / "nodes"
    write_fleet(nodes, 8, {3: [("driver.version", OLD_DRIVER), ("driver.cuda_version", "12.8")]})
    proc = run_envlock(["fleet", "report", str(nodes), "--format", "json"])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    found = [f for f in json.loads(proc.stdout)["findings"] if f["id"] == "EL-DRIVER-TOO-OLD"]
    assert len(found) == 1, found
    (f,) = found
    assert f["severity"] == "error"
    assert "gpu-node-003" in f["message"] and "gpu-node-000" not in f["message"]
    assert f["evidence"]["nodes"] == "gpu-node-003"
    text = run_envlock(["fleet", "report", str(nodes)]).stdout
    assert "EL-DRIVER-TOO-OLD" in text and "gpu-node-003" in text


def test_healthy_identical_nodes_have_no_doctor_error(tmp_path: Path) -> None:
    nodes = tmp_path / "nodes"
    write_fleet(nodes, 4)
    proc = run_envlock(["fleet", "report", str(nodes), "--format", "json"])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_nodes_differing_in_a_package_and_their_gpu_uuids_are_one_doctor_run(
    tmp_path: Path,
) -> None:
    """Issue 23: 10,000 nodes with another numpy each ran the doctor 10,000 times (the key
    held each node's GPU UUIDs, a per-node value): it runs once per driver, torch and CUDA."""
    from envlock.fleet.doctor import NodeDoctor
    from envlock.fleet.files import _decode, _read

    nodes = tmp_path / "nodes"
    names = write_fleet(
        nodes, 6, {i: [("packages.distributions.numpy", f"2.{i}.0")] for i in range(6)}
    )
    doctor = NodeDoctor()
    for kind, name in enumerate(names):
        path = nodes / f"{name}.json"
        doctor.add(kind, _decode(path, _read(path)))
    assert doctor.runs == 1
    assert len(doctor.by_kind) == 6
    # another driver is another run
    old = tmp_path / "old"
    (name,) = write_fleet(old, 1, {0: [("driver.version", OLD_DRIVER)]})
    doctor.add(6, _decode(old / f"{name}.json", _read(old / f"{name}.json")))
    assert doctor.runs == 2


def test_the_doctor_key_holds_every_driver_and_gpu_field_but_the_uuid() -> None:
    """Nodes share a doctor run only when all the doctor reads is the same: any field of
    the driver or a GPU but the GPU's UUID makes another key."""
    import dataclasses

    from envlock.facts import fast_facts
    from envlock.fleet.doctor import _key
    from tests.fleet.nodes import FIXTURE

    facts = fast_facts(FIXTURE.read_bytes())
    assert facts is not None and facts.driver.gpus
    gpu = facts.driver.gpus[0]

    def with_gpu(**change: object) -> bytes:
        gpus = [dataclasses.replace(gpu, **change), *facts.driver.gpus[1:]]  # type: ignore[arg-type]
        return _key(dataclasses.replace(facts, driver=dataclasses.replace(facts.driver, gpus=gpus)))

    assert with_gpu(uuid="GPU-another") == _key(facts)
    for f in dataclasses.fields(gpu):
        if f.name != "uuid":
            assert with_gpu(**{f.name: "x"}) != _key(facts), f.name
    for f in dataclasses.fields(facts.driver):
        if f.name == "gpus":  # each GPU's fields: above
            continue
        other = dataclasses.replace(facts.driver, **{f.name: "x"})  # type: ignore[arg-type]
        assert _key(dataclasses.replace(facts, driver=other)) != _key(facts), f.name

"""The fleet's facts files (issue 20 item 4): decoded by msgspec, the reference
(`Facts.from_dict`) only for what msgspec refuses or might read differently, and files
of one kind of node sharing one summary through their node view."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from envlock.errors import FactsError
from envlock.facts import MAX_GPUS, MAX_INT_DIGITS, Facts, load_json
from tests.conftest import FIXTURES, clean_env
from tests.fleet.nodes import FIXTURE, node_doc, three_drifts, write_fleet

FACTS_FIXTURES = sorted(FIXTURES.glob("facts.*.json"))


def _reference(raw: bytes) -> Facts:
    return Facts.from_dict(load_json(raw))


def _doc(i: int = 1, name: str = "gpu-node-001") -> dict[str, Any]:
    return node_doc(FIXTURE.read_text(), i, name)


def _raw(doc: Any) -> bytes:
    return json.dumps(doc, indent=2).encode()


@pytest.mark.parametrize("path", FACTS_FIXTURES, ids=lambda p: p.name)
def test_fast_facts_reads_every_recorded_probe_as_the_reference_does(path: Path) -> None:
    from envlock.facts import fast_facts

    raw = path.read_bytes()
    fast = fast_facts(raw)
    assert fast is not None, "msgspec refused a file envlock wrote"
    assert fast == _reference(raw)
    assert fast.to_json() == _reference(raw).to_json()  # float for float, list for list


def _edit(edit: str) -> bytes:
    """The fixture with one thing msgspec reads differently from load_json/from_dict."""
    doc = _doc()
    unknown = b'"system": {"x": %s,'  # a key this envlock does not know
    if edit == "no facts_version":  # Facts has a default; from_dict requires the key
        del doc["facts_version"]
    elif edit == "facts_version 2":
        doc["facts_version"] = 2
    elif edit == "too many GPUs":
        doc["driver"]["gpus"] = [{"index": i} for i in range(MAX_GPUS + 1)]
    elif edit == "NaN":  # json reads it, msgspec does not
        doc["torch"]["live"]["import_seconds"] = float("nan")
    elif edit == "lone surrogate":
        doc["system"]["hostname"] = "\ud800"
    elif edit == "int of 101 digits":  # msgspec reads 4,300 digits
        doc["system"]["memory_total_bytes"] = int("7" * (MAX_INT_DIGITS + 1))
    elif edit == "float field, 150 digits":  # msgspec reads it as a float
        doc["torch"]["live"]["import_seconds"] = int("7" * 150)
    elif edit == "bom":
        return b"\xef\xbb\xbf" + _raw(doc)
    elif edit == "unknown key, 5000 digits":  # msgspec skips it unread
        return _raw(doc).replace(b'"system": {', unknown % (b"7" * 5000), 1)
    elif edit == "unknown key, invalid UTF-8":
        return _raw(doc).replace(b'"system": {', unknown % b'"\xff"', 1)
    elif edit == "unknown key, nested 5000 deep":
        return _raw(doc).replace(b'"system": {', unknown % (b"[" * 5000 + b"]" * 5000), 1)
    return _raw(doc)


EDITS = [
    "no facts_version",
    "facts_version 2",
    "too many GPUs",
    "NaN",
    "lone surrogate",
    "int of 101 digits",
    "float field, 150 digits",
    "bom",
    "unknown key, 5000 digits",
    "unknown key, invalid UTF-8",
    "unknown key, nested 5000 deep",
]


@pytest.mark.parametrize("edit", EDITS)
def test_what_msgspec_would_read_differently_goes_to_the_reference(edit: str) -> None:
    """Each of these is read by msgspec but refused by the reference, or the other way
    round: fast_facts leaves it to the reference, which reads it or raises its error."""
    from envlock.facts import fast_facts
    from envlock.fleet.files import node_view

    raw = _edit(edit)
    assert raw != _raw(_doc())
    assert fast_facts(raw) is None
    assert node_view(raw) is None  # a file sharing a summary must not skip the check either
    with contextlib.suppress(FactsError):  # its one line is what the node's finding says
        _reference(raw)  # and anything else fails here


def test_integers_up_to_the_bound_stay_on_the_fast_path() -> None:
    from envlock.facts import fast_facts

    doc = _doc()
    doc["system"]["memory_total_bytes"] = int("7" * MAX_INT_DIGITS)
    raw = _raw(doc)
    fast = fast_facts(raw)
    assert fast is not None and fast == _reference(raw)


def test_valid_files_never_reach_the_reference_decoder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`Facts.from_dict` costs ~4 ms a file: a fleet of valid files, several kinds of node
    and a file from a newer probe (a key this envlock does not know), is read without it."""
    from envlock.fleet import report_dir

    write_fleet(tmp_path, 64, three_drifts(64))
    newer = tmp_path / "gpu-node-063.json"
    newer.write_text(newer.read_text().replace('"system": {', '"system": {"rack": "r7",', 1))
    calls: list[Any] = []
    reference = Facts.from_dict

    def counting(data: Any) -> Facts:
        calls.append(data)
        return reference(data)

    monkeypatch.setattr(Facts, "from_dict", counting)
    hosts, findings = report_dir(str(tmp_path), None, scope="full")
    assert len(hosts) == 64 and calls == []
    assert {f.field for f in findings if f.field is not None} == {
        "driver.version",
        "env.NCCL_IB_DISABLE",
        "torch.version",
    }
    # and the doctor on each kind of node: the old driver is too old for torch cu130
    assert "EL-DRIVER-TOO-OLD" in {f.check_id for f in findings if f.field is None}


def _kind(doc: Any) -> bytes:
    from envlock.fleet.files import node_view

    view = node_view(_raw(doc))
    assert view is not None
    return view.kind


def test_files_equal_but_for_per_node_values_are_one_kind() -> None:
    a, b = _doc(1, "gpu-node-001"), _doc(2, "gpu-node-002")
    assert a != b
    assert _kind(a) == _kind(b)
    reordered = dict(reversed(list(b.items())))  # key order is not content
    assert _kind(reordered) == _kind(a)
    b["system"]["rack"] = "r7"  # an unknown key: Facts skips it, so does the kind
    assert _kind(b) == _kind(a)


@pytest.mark.parametrize(
    "path",
    [
        ("system", "kernel"),
        ("driver", "version"),
        ("driver", "gpus", 0, "name"),
        ("torch", "live", "cudnn_version"),
        ("packages", "distributions", "numpy"),
        ("meta", "target"),
    ],
)
def test_any_other_value_makes_another_kind(path: tuple[Any, ...]) -> None:
    doc = _doc()
    *parents, last = path
    d: Any = doc
    for p in parents:
        d = d[p]
    d[last] = "something else"
    assert _kind(doc) != _kind(_doc())


def test_the_node_view_names_the_host() -> None:
    from envlock.fleet.files import node_view

    view = node_view(_raw(_doc(5, "gpu-node-005")))
    assert view is not None and view.host == "gpu-node-005"
    doc = _doc()
    del doc["system"]["hostname"]
    view = node_view(_raw(doc))
    assert view is not None and view.host is None


PREFLIGHT_THEN_FLEET = """
import sys
import envlock
from envlock.facts import Facts

# the reference decoder: reading a facts file (--facts) may load msgspec, preflight must not
with open(sys.argv[1], encoding="utf-8") as fh:
    lock = envlock.make_lock(facts=Facts.from_json(fh.read()))
try:
    envlock.preflight(lock, doctor=False, use_cache=False)
except envlock.EnvironmentDriftError:
    pass
assert "msgspec" not in sys.modules, "preflight imported msgspec"
envlock.fleet_report(sys.argv[2])
assert "msgspec" in sys.modules, "the fleet report did not decode with msgspec"
print("ok")
"""


def test_preflight_does_not_import_msgspec_the_fleet_report_does(tmp_path: Path) -> None:
    """msgspec is host side and loaded on first use: preflight, which runs in a training
    script, never imports it; the fleet report does (the check can fail)."""
    write_fleet(tmp_path / "nodes", 2)
    proc = subprocess.run(
        [sys.executable, "-c", PREFLIGHT_THEN_FLEET, str(FIXTURE), str(tmp_path / "nodes")],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=300,
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]


def test_files_that_are_not_facts_files_are_each_one_line(tmp_path: Path) -> None:
    """DIR opened once and its files read by name: a FIFO, a directory, a dangling link and
    a file over ENVLOCK_MAX_FILE_MB are each named on one line (no wait on the FIFO), the
    other nodes compared."""
    import os

    write_fleet(tmp_path, 2)
    os.mkfifo(tmp_path / "a-fifo.json")
    (tmp_path / "b-dir.json").mkdir()
    (tmp_path / "c-link.json").symlink_to(tmp_path / "nowhere.json")
    (tmp_path / "d-big.json").write_bytes(b" " * (2 << 20))
    proc = subprocess.run(
        [sys.executable, "-m", "envlock", "fleet", "report", str(tmp_path), "--format", "json"],
        capture_output=True,
        text=True,
        env=clean_env(ENVLOCK_MAX_FILE_MB="1"),
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    messages = sorted(
        f["message"] for f in doc["findings"] if f["id"] == "EL-FLEET-NODE-UNREADABLE"
    )
    assert [m.split(":", 1)[0] for m in messages] == [
        "a-fifo.json",
        "b-dir.json",
        "c-link.json",
        "d-big.json",
    ]
    assert all("\n" not in m for m in messages)
    assert "not a regular file" in messages[0] and "directory" in messages[1]
    assert "not found" in messages[2] and "larger than 1 MiB" in messages[3]
    assert doc["details"]["nodes"] == ["gpu-node-000", "gpu-node-001"]

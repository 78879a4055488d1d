"""The [determinism] lock table: TOML-safe, kebab-case, round-trips, bad data named by path."""

from __future__ import annotations

import copy
import dataclasses
import socket
from typing import Any

import pytest
import tomli_w
import tomllib

from envlock.errors import LockError
from envlock.facts import DeterminismFacts
from envlock.lock import Lock
from envlock.lock.build import lockable_determinism
from envlock.lock.model import LockHeader
from tests.determinism.recordings import CPU_2_13, CPU_PERTURBED, H100, load


def to_lock_table(d: DeterminismFacts) -> dict[str, Any]:
    """The [determinism] table the lock writes for these digests."""
    table = Lock(envlock=LockHeader(), determinism=lockable_determinism(d)).to_dict()
    return dict(table["determinism"])


def from_lock_table(table: Any) -> DeterminismFacts | None:
    """The digests the lock reader makes of a [determinism] table."""
    return Lock.from_dict({"envlock": {"lock-version": "1.0"}, "determinism": table}).determinism


def _without_timings(d: DeterminismFacts) -> DeterminismFacts:
    classes = {k: dataclasses.replace(v, seconds=None) for k, v in d.classes.items()}
    return dataclasses.replace(d, classes=classes, seconds=None)


def _walk(value: Any, path: str = "determinism") -> list[tuple[str, Any]]:
    out = [(path, value)]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _walk(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _walk(v, f"{path}[{i}]")
    return out


@pytest.mark.parametrize("name", [CPU_2_13, CPU_PERTURBED, H100])
def test_round_trip_through_toml(name: str) -> None:
    d = load(name)
    text = tomli_w.dumps({"determinism": to_lock_table(d)})
    back = from_lock_table(tomllib.loads(text)["determinism"])
    assert back == _without_timings(d)


def test_table_is_toml_safe_kebab_case_and_without_timings() -> None:
    table = to_lock_table(load(CPU_2_13))
    for path, value in _walk(table):
        assert value is not None, path
    own_keys = [
        *table,
        *table["context"],
        *table["settings"],
        *table["classes"]["matmul"],
        *table["classes"]["matmul"]["summary"],
    ]
    assert all("_" not in k for k in own_keys), own_keys
    assert "seconds" not in str(own_keys)
    assert table["context"]["num-threads"] == "2"
    assert list(table["classes"]) == [
        "rng",
        "elementwise",
        "reduction",
        "matmul",
        "conv",
        "attention",
        "train",
    ]


def test_table_holds_no_hostname() -> None:
    text = tomli_w.dumps({"determinism": to_lock_table(load(CPU_2_13))})
    assert socket.gethostname() not in text


def test_failed_and_skipped_survive_the_round_trip() -> None:
    d = load(CPU_2_13)
    matmul = dataclasses.replace(d.classes["matmul"], skipped={"fp16": "RuntimeError: no fp16"})
    d = dataclasses.replace(
        d, classes={**d.classes, "matmul": matmul}, failed={"attention": "RuntimeError: no kernel"}
    )
    table = to_lock_table(d)
    assert table["failed"] == {"attention": "RuntimeError: no kernel"}
    assert table["classes"]["matmul"]["skipped"] == {"fp16": "RuntimeError: no fp16"}
    assert from_lock_table(tomllib.loads(tomli_w.dumps(table))) == _without_timings(d)


def _edited(edit: Any) -> dict[str, Any]:
    table = copy.deepcopy(to_lock_table(load(CPU_2_13)))
    edit(table)
    return table


@pytest.mark.parametrize(
    ("edit", "path"),
    [
        (lambda t: t["classes"]["matmul"].pop("digest"), "determinism.classes.matmul.digest"),
        (
            lambda t: t["classes"]["matmul"].__setitem__("digest", 12),
            "determinism.classes.matmul.digest",
        ),
        (
            lambda t: t["classes"]["conv"].__setitem__("digest", "md5:abc"),
            "determinism.classes.conv.digest",
        ),
        (
            lambda t: t["classes"]["rng"]["summary"].__setitem__("max-abs", "big"),
            "determinism.classes.rng.summary.max-abs",
        ),
        (
            lambda t: t["classes"]["rng"]["summary"]["samples"].__setitem__(2, "x"),
            "determinism.classes.rng.summary.samples[2]",
        ),
        (
            lambda t: t["classes"]["train"].__setitem__("tensors", True),
            "determinism.classes.train.tensors",
        ),
        (lambda t: t.__setitem__("seed", "0"), "determinism.seed"),
        (lambda t: t.__setitem__("device", "tpu"), "determinism.device"),
        (lambda t: t["context"].__setitem__("torch", 2.13), "determinism.context.torch"),
        (lambda t: t.__setitem__("classes", []), "determinism.classes"),
        (lambda t: t.pop("suite-version"), "determinism.suite-version"),
    ],
)
def test_bad_table_names_the_dotted_path(edit: Any, path: str) -> None:
    with pytest.raises(LockError) as err:
        from_lock_table(_edited(edit))
    assert f"'{path}'" in str(err.value)
    assert "\n" not in str(err.value)


def test_not_a_table() -> None:
    with pytest.raises(LockError, match="'determinism': expected a table"):
        from_lock_table("digests")  # type: ignore[arg-type]

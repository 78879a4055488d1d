"""`envlock matrix --torch VERSION`: only that release's builds (or one build), each with
why it does or does not run, and where none runs the roads out, cheapest first."""

from __future__ import annotations

import json
from typing import Any

import pytest

from envlock import api
from envlock.errors import UsageError
from tests.conftest import run_envlock


def _json(*args: str) -> tuple[int, dict[str, Any]]:
    proc = run_envlock(["matrix", *args, "--format", "json"])
    assert proc.returncode in (0, 1), proc.stderr
    out: dict[str, Any] = json.loads(proc.stdout)
    return proc.returncode, out


def test_a_release_with_a_build_that_runs() -> None:
    """RTX 5090 on torch 2.7: cu128 (sm_120 kernels) runs, cu118 and cu126 do not."""
    code, doc = _json("--gpu", "RTX 5090", "--driver", "570.86", "--torch", "2.7")
    assert code == 0 and doc["torch"] == "2.7"
    assert {f["torch"] for f in doc["fits"]} == {"2.7"}
    runs = {f["variant"]: f["runs"] for f in doc["fits"]}
    assert runs == {"cu128": True, "cu126": False, "cu118": False}
    assert doc["best"]["variant"] == "cu128" and "other_release" not in doc
    for f in doc["fits"]:
        if f["variant"] != "cu128":
            assert "no kernels for compute capability 12.0" in " ".join(f["problems"])


def test_a_release_none_of_whose_builds_runs() -> None:
    """RTX 5090 on torch 2.6: no build has sm_120 kernels; the nearest release that runs is
    2.7 (cu128), not the newest (2.14)."""
    code, doc = _json("--gpu", "RTX 5090", "--driver", "570.86", "--torch", "2.6")
    assert code == 1 and doc["best"] is None
    assert {f["variant"] for f in doc["fits"]} == {"cu118", "cu124", "cu126"}
    assert all(f["runs"] is False for f in doc["fits"])
    assert (doc["other_release"]["torch"], doc["other_release"]["variant"]) == ("2.7", "cu128")
    text = run_envlock(["matrix", "--gpu", "RTX 5090", "--driver", "570.86", "--torch", "2.6"])
    assert text.returncode == 1
    assert "no build of torch 2.6 runs here" in text.stdout
    assert "nearest release that runs: torch 2.7 cu128" in text.stdout
    # every build of the release is listed with its reason, without --all
    assert text.stdout.count("no kernels for compute capability 12.0") == 3


def test_a_patch_release_and_the_driver_road() -> None:
    """A100 with driver 450.80 on torch 1.8.1: its cu10x wheels stop at sm_70 (no driver
    helps), its cu111 wheel needs a newer driver: the driver road names the release's own
    build first, then the nearest release that runs as the machine is (1.7 cu110)."""
    code, doc = _json(
        "--gpu", "A100", "--driver", "450.80", "--python-version", "3.8", "--torch", "1.8.1"
    )
    assert code == 1 and doc["torch"] == "1.8"
    assert doc["upgrade_driver_for_newest"]["torch"] == "1.8"
    assert doc["upgrade_driver_for_newest"]["variant"] == "cu111"
    assert (doc["other_release"]["torch"], doc["other_release"]["variant"]) == ("1.7", "cu110")


def test_one_build() -> None:
    code, doc = _json("--gpu", "RTX 3090", "--driver", "580.65.06", "--torch", "2.7.0+cu118")
    assert code == 0 and doc["torch"] == "2.7+cu118"
    assert [(f["torch"], f["variant"], f["runs"]) for f in doc["fits"]] == [("2.7", "cu118", True)]


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("0.4", "torch 0.4 is not an official release"),
        ("2.6.0+cu128", "has no cu128 build"),
        ("two", "not a version number"),
    ],
)
def test_bad_values_are_one_usage_line(value: str, said: str) -> None:
    proc = run_envlock(["matrix", "--gpu", "A100", "--driver", "580.65.06", "--torch", value])
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and said in lines[0] and "Traceback" not in proc.stderr


def test_the_api_takes_it() -> None:
    advice = api.matrix_advice(capability="12.0", driver="570.86", torch="2.6")
    assert advice.torch == "2.6" and not advice.runs
    assert advice.other_release is not None and advice.other_release.torch == "2.7"
    with pytest.raises(UsageError):
        api.matrix_advice(capability="12.0", driver="570.86", torch="3.0")


def test_help_names_it() -> None:
    out = run_envlock(["matrix", "--help"]).stdout
    assert "--torch VERSION" in out and "2.7.0+cu128" in out

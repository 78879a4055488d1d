"""The Slurm and Kubernetes recipes (docs/fleet-recipes.md) run: the manifests are valid YAML of the kinds
they claim, and every envlock command they run is accepted by envlock's own parser."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from envlock.cli import build_parser

RECIPES = (Path(__file__).resolve().parents[2] / "docs" / "fleet-recipes.md").read_text()


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```$", RECIPES, re.M | re.S)


def _envlock_argv(script: str) -> list[list[str]]:
    """Each `envlock ...` command in a shell line, without redirections."""
    out = []
    for part in re.split(r"&&|;|\|", script):
        words = shlex.split(part.split(">")[0])
        if words and words[0] == "envlock":
            out.append(words[1:])
    return out


def _parses(argv: list[str]) -> None:
    try:
        build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse's way of refusing
        pytest.fail(f"`envlock {' '.join(argv)}` is refused by envlock's parser ({exc.code})")


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return list(doc["spec"]["template"]["spec"]["containers"])


def test_kubernetes_manifests_are_jobs_that_run_envlock() -> None:
    blocks = [b for b in _blocks("yaml") if "kind: Job" in b]  # (the CI section has YAML too)
    docs = [d for block in blocks for d in yaml.safe_load_all(block) if d]
    assert [d["metadata"]["name"] for d in docs] == ["envlock-facts", "envlock-fleet-report"]
    commands = []
    for doc in docs:
        assert doc["apiVersion"] == "batch/v1" and doc["kind"] == "Job"
        pod = doc["spec"]["template"]["spec"]
        assert pod["restartPolicy"] == "Never"
        mounts = {m["name"] for c in _containers(doc) for m in c.get("volumeMounts", ())}
        assert mounts == {v["name"] for v in pod["volumes"]}
        for c in _containers(doc):
            cmd = c["command"]
            argvs = _envlock_argv(cmd[2]) if cmd[:2] == ["sh", "-c"] else [cmd[1:]]
            assert cmd[0] in ("sh", "envlock") and argvs, cmd
            commands += argvs
    probe = docs[0]
    assert probe["spec"]["template"]["spec"]["hostNetwork"] is True  # the node's host name
    assert probe["spec"]["completionMode"] == "Indexed"
    assert [c[:2] for c in commands] == [["probe", "--json"], ["fleet", "report"]]
    for argv in commands:
        _parses(argv)


def test_slurm_recipe_runs_envlock() -> None:
    (block,) = [b for b in _blocks("sh") if "srun" in b]
    lines = [ln for ln in block.splitlines() if ln.strip()]
    srun = shlex.split(lines[0])
    assert srun[0] == "srun" and "--ntasks-per-node=1" in srun
    script = srun[srun.index("-c") + 1]
    commands = _envlock_argv(script) + [
        argv for ln in lines[1:] for argv in _envlock_argv(ln.replace('"$SLURM_JOB_NODELIST"', "x"))
    ]
    assert [c[:2] for c in commands] == [["probe", "--json"], ["fleet", "report"]]
    for argv in commands:
        _parses(argv)
    assert "--nodes" in commands[1]  # Slurm's own hostlist names the expected nodes


def test_a_refused_command_would_fail_the_recipe_test() -> None:
    with pytest.raises(pytest.fail.Exception):
        _parses(["fleet", "report", "facts/", "--no-such-option"])

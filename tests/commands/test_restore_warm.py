"""A plain repeat `envlock restore LOCK --venv DIR` answered before the CLI loads
(usecases/warmrestore.py): the install the last run planned runs at once, and the output
a full run printed for the same verify Report key, argv, directory, environment and
interpreter is replayed, without the CLI, the lock's models or verify. Its output is
the full path's byte for byte; any key change verifies again; a failed install leaves
DIR as it was, in one line. Real venvs, real uv."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.commands.test_restore_probe import AUDITED, _six_lock, logged, python_run, run_envlock
from tests.install.test_swap import tree

pytestmark = [pytest.mark.venv, pytest.mark.slow]

WATCHED = '"argparse", "envlock.lock.model", "envlock.verify",'


def six_restore(tmp_path: Path, *more: str) -> tuple[Path, dict[str, str], Path, list[str]]:
    """The six lock (_six_lock's), the environment, the DIR and the argv of `restore LOCK
    --venv DIR --installer uv MORE`."""
    lock, env = _six_lock(tmp_path)
    target = tmp_path / "restored"
    return (
        lock,
        env,
        target,
        ["restore", str(lock), "--venv", str(target), "--installer", "uv", *more],
    )


def bare_restores(
    tmp_path: Path, hook: str
) -> Iterator[tuple[subprocess.CompletedProcess[str], list[str]]]:
    """Three restores of the six lock as the console script runs them (plan; verify,
    stored; replayed), under -S with site-packages on the path and `hook` (BARE or one
    like it) writing each import to a log: each run's process, exit 0, and the log."""
    import sysconfig

    _, env, _, args = six_restore(tmp_path)
    log = tmp_path / "imports.log"
    purelib = sysconfig.get_paths()["purelib"]
    for _ in range(3):
        proc = python_run(["-S", "-c", hook, str(log), purelib, *args], env)
        assert proc.returncode == 0, proc.stderr
        yield proc, log.read_text().splitlines()


def _run(
    args: list[str], target: Path, env: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """`python -m envlock ARGS` under AUDITED's hook: the process and the modules it
    imported of the CLI, the lock's model and verify, with "uv" for each uv started."""
    log = target.parent / "audit.log"
    hook = AUDITED.replace('"envlock.lock.model",', WATCHED)
    proc = python_run(["-c", hook, str(log), *args], env)
    events = logged(log)
    return proc, [argv[0] for what, argv in events if what not in ("open", "mkdir")]


def _stderr(proc: subprocess.CompletedProcess[str]) -> list[str]:
    """restore's stderr without uv's own timings (Resolved 6 packages in 12ms)."""
    timing = re.compile(r"envlock restore:   \w+ \d+ packages? in [\d.]+m?s")
    return [ln for ln in proc.stderr.splitlines() if not timing.fullmatch(ln)]


def test_a_plain_repeat_restore_replays_the_full_paths_output_without_the_cli(
    tmp_path: Path,
) -> None:
    _, env, target, args = six_restore(tmp_path)
    runs = [_run(args, target, env) for _ in range(3)]  # plan; verify, stored; replayed
    uncached, _ = _run([*args, "--no-cache"], target, env)
    assert [p.returncode for p, _ in runs] == [0, 0, 0] and uncached.returncode == 0
    for proc, _ in runs:
        assert proc.stdout == uncached.stdout and "PASS" in proc.stdout
        assert _stderr(proc) == _stderr(uncached)
    assert "argparse" in runs[1][1]  # the second handed over to the CLI, output stored
    assert "uv" in runs[2][1] and not {"argparse", "envlock.lock.model", "envlock.verify"} & set(
        runs[2][1]
    ), runs[2][1]
    # the new venv is DIR's, nothing of the run left
    assert sorted(p.name for p in target.iterdir() if p.name.startswith(".envlock")) == []
    six = subprocess.run(
        [str(target / "bin" / "python"), "-c", "import six; print(six.__version__)"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert six.stdout.strip() == "1.17.0"


@pytest.mark.parametrize(
    "module", ["typing", "venv", "logging", "dataclasses", "inspect", "subprocess", "selectors"]
)
def test_a_repeat_restore_starts_uv_before_it_imports_typing(tmp_path: Path, module: str) -> None:
    """typing (~5 ms of CPU, issue 23's restore row) is imported, if at all, once uv runs:
    the console script's module (cli.py), install/restore.py and the cache modules the
    install's start reads name their types for the type checker only. Nor the venv module
    and its logging (~15-25 ms): install/venvwrite.py writes the venv; nor dataclasses and
    inspect (~10-14 ms): the types built before uv are envlock/frozen.py's; nor subprocess
    and its selectors (~5-8 ms): install/spawn.py starts uv. Run as users run it,
    through the console script's cli.entry(), under -S with site-packages on the path but
    no .pth file run: a user's venv imports no typing at start, where this machine's site
    .pth files do."""
    _, env, _, args = six_restore(tmp_path)
    hook = AUDITED.replace('"envlock.lock.model",', f'"{module}", "envlock.lock.model",').replace(
        'runpy.run_module("envlock", run_name="__main__", alter_sys=True)',
        'import sysconfig\nsys.path.append(sysconfig.get_paths()["purelib"])\n'
        "from envlock.cli import entry\nentry()",
    )
    log = tmp_path / "audit.log"
    for run in range(3):  # plan; verify, stored; replayed
        proc = python_run(["-S", "-c", hook, str(log), *args], env)
        assert proc.returncode == 0, proc.stderr
        seen = [argv[0] for what, argv in logged(log)]
        if run:  # the install started ahead, before the CLI
            assert "uv" in seen, seen
            assert module not in seen[: seen.index("uv")], seen


# A repeat restore's hook, run as the console script runs: `import re` (pip's launcher
# template) before it is watched, then cli.entry(); every module imported from then on is
# logged, and "uv" when uv starts. No import of the hook's own: -S, nothing but sys.
BARE = """
import sys
log = open(sys.argv[1], "w")
sys.path.append(sys.argv[2])  # site-packages (its .pth files not run: -S)
sys.argv = ["envlock", *sys.argv[3:]]
import re
def hook(event, args):
    if event == "import":
        log.write(args[0] + "\\n")
    elif event == "os.posix_spawn" and list(args[1][:1]) == ["uv"]:
        log.write("uv\\n")
        log.flush()
sys.addaudithook(hook)
from envlock.cli import entry
entry()
"""
# What a Python start loads that -S does not (site imports os), and flock's module.
STARTED = {"os", "stat", "_stat", "posixpath", "genericpath", "_collections_abc", "fcntl",
           "__future__"}  # fmt: skip


def test_a_repeat_restore_imports_nothing_before_uv_but_envlocks_own(tmp_path: Path) -> None:
    """install/quick.py: from the console script's start to uv's, no module but
    envlock's own and what any Python start loads (no json, pickle, pathlib, tempfile,
    shutil, threading, contextlib, hashlib: issue 23's restore row)."""
    runs = list(bare_restores(tmp_path, BARE))  # plan; verify, stored; replayed
    for _, seen in runs[1:]:
        assert "uv" in seen, seen
        before = {m for m in seen[: seen.index("uv")] if not m.startswith("envlock")}
        assert before <= STARTED, sorted(before - STARTED)
    assert runs[-1][0].stdout.startswith("PASS")


@pytest.mark.parametrize("change", ["environment", "strict", "lock", "venv's files"])
def test_any_key_change_verifies_again_with_a_cold_verifys_verdict(
    tmp_path: Path, change: str
) -> None:
    lock, env, target, args = six_restore(tmp_path, "--format", "json")
    for _ in range(3):
        proc, seen = _run(args, target, env)
    assert "envlock.verify" not in seen  # replayed
    if change == "environment":
        env = {**env, "ENVLOCK_TEST_SOMETHING": "1"}
    elif change == "strict":
        args = [*args, "--strict"]
    elif change == "lock":
        lock.write_bytes(lock.read_bytes() + b"\n# changed\n")
    else:  # a .pth in the new venv names another directory: its import path differs
        extra = tmp_path / "extra"
        extra.mkdir()
        env = {**env, "PYTHONPATH": f"{env['PYTHONPATH']}:{extra}"}
    proc, seen = _run(args, target, env)
    assert proc.returncode == 0, proc.stderr
    assert "argparse" in seen, seen  # not replayed: the full CLI ran
    # the same facts document (an unknown variable is not among its env), the same verify
    # settings: the report cache's Report; else compared again
    assert ("envlock.verify" in seen) == (change != "environment"), seen
    python = str(target / "bin" / "python")
    options = ("--scope", "software", "--no-cache", "--format", "json")
    cold = run_envlock(["verify", str(lock), "--python", python, *options], env)
    assert json.loads(proc.stdout)["findings"] == json.loads(cold.stdout)["findings"]
    assert (
        json.loads(proc.stdout)["details"]["passed"] == json.loads(cold.stdout)["details"]["passed"]
    )


def test_a_failed_install_on_the_fast_path_leaves_dir_as_it_was_in_one_line(
    tmp_path: Path,
) -> None:
    _, env, target, args = six_restore(tmp_path)
    for _ in range(3):
        proc, seen = _run(args, target, env)
    assert proc.returncode == 0 and "envlock.verify" not in seen
    before = tree(target)
    # uv finds nothing: no cache, offline (the plan's key is unchanged: the guess runs)
    broken = {**env, "UV_NO_CACHE": "1", "UV_OFFLINE": "1"}
    failed, seen = _run(args, target, broken)
    cold, _ = _run([*args, "--no-cache"], target, broken)
    assert "argparse" not in seen and "uv" in seen
    assert failed.returncode == cold.returncode == 3
    assert failed.stderr.splitlines()[-1] == cold.stderr.splitlines()[-1]
    assert failed.stderr.splitlines()[-1].startswith("envlock: error: uv failed")
    assert failed.stdout == cold.stdout == ""
    assert tree(target) == before

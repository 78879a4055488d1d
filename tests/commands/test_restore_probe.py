"""What restore starts, and when (issue 23): its verify reads only what the new venv
changes (its interpreter, packages, torch, extensions, environment), from its files, and
not the machine again under the new interpreter: no NVML, no compilers' `--version`,
no probe child; the venv is built while the lock is read, and a lock that cannot be
restored undoes that in its one line. Real venvs, real installers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import clean_env

pytestmark = pytest.mark.venv

FAKE_GCC = """#!/bin/sh
echo "$0 $*" >> "{log}"
echo "gcc (GCC) 12.2.0"
"""


def python_run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`python ARGV` (this interpreter) in a process of its own with `env`, its output
    captured, 600 s at most."""
    return subprocess.run(
        [sys.executable, *argv], capture_output=True, text=True, env=env, timeout=600, check=False
    )


def run_envlock(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`python -m envlock ARGS` in a process of its own, with `env` (PATH's gcc)."""
    return python_run(["-m", "envlock", *args], env)


def logged(log: Path) -> list[Any]:
    """What a hook wrote to `log`, one JSON value a line (AUDITED's [what, argv] events)."""
    return [json.loads(ln) for ln in log.read_text().splitlines()]


def _lock_of_six(tmp_path: Path, env: dict[str, str]) -> Path:
    """envlock.lock.toml of a new venv (tmp_path/src) holding six 1.17.0, locked under `env`."""
    src = tmp_path / "src"
    subprocess.run([sys.executable, "-m", "venv", str(src)], check=True)
    subprocess.run(
        [str(src / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "six==1.17.0"],
        check=True,
        env=env,
    )
    lock = tmp_path / "envlock.lock.toml"
    made = run_envlock(
        ["lock", "--python", str(src / "bin" / "python"), "--no-torch-live", "-o", str(lock)],
        env=env,
    )
    assert made.returncode == 0, made.stderr
    return lock


@pytest.mark.slow
def test_restore_verifies_the_new_venv_without_probing_the_machine_again(
    tmp_path: Path,
) -> None:
    env = clean_env(PIP_DISABLE_PIP_VERSION_CHECK="1")
    lock = _lock_of_six(tmp_path, env)
    # a gcc first on PATH that says when it is asked: the doctor's toolchain source runs it
    tools = tmp_path / "tools"
    tools.mkdir()
    log = tmp_path / "gcc.log"
    (tools / "gcc").write_text(FAKE_GCC.format(log=log))
    (tools / "gcc").chmod(0o755)
    env["PATH"] = f"{tools}{os.pathsep}{env['PATH']}"
    probe = run_envlock(
        ["probe", "--python", str(tmp_path / "src" / "bin" / "python"), "--json"], env=env
    )
    assert probe.returncode == 0 and log.read_text(), "the fake gcc is not on the probe's PATH"
    log.write_text("")

    proc = run_envlock(
        [
            *("restore", str(lock), "--venv", str(tmp_path / "restored")),
            *("--installer", "pip", "--format", "json"),
        ],
        env=env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["details"]["venv"] == "replaced"
    assert "packages.six" in report["details"]["passed"]
    assert log.read_text() == "", "restore's verify ran the toolchain probe again"


# envlock run with an audit hook that logs what its process starts and when it opens the
# lock: the processes themselves are what the test looks at, nothing is replaced.
AUDITED = """
import json, runpy, sys, threading
log = open(sys.argv[1], "w")
def hook(event, args):
    if event in ("subprocess.Popen", "os.posix_spawn"):  # install/spawn.py spawns installers
        thread = threading.current_thread()
        what = "exec" if thread is threading.main_thread() else "exec@" + thread.name
        print(json.dumps([what, [str(a) for a in args[1]]]), file=log, flush=True)
    elif event == "os.mkdir" and str(args[0]).endswith("/venv"):
        print(json.dumps(["mkdir", [str(args[0])]]), file=log, flush=True)
    elif event == "open" and str(args[0]).endswith(".lock.toml"):
        print(json.dumps(["open", [str(args[0])]]), file=log, flush=True)
    elif event == "import" and args[0] in ("envlock.lock.model", "envlock.matrix.model", "tomllib"):
        print(json.dumps(["import", [args[0]]]), file=log, flush=True)
sys.addaudithook(hook)
sys.argv = ["envlock", *sys.argv[2:]]
runpy.run_module("envlock", run_name="__main__", alter_sys=True)
"""


def _six_lock(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A lock of a venv holding six, and the environment with the provisioned uv first
    on PATH and a cache directory of the test's own."""
    from tests.conftest import VENV_ROOT, need

    uv = VENV_ROOT / "uv-13" / "bin" / "uv"
    need(uv.exists(), f"uv is missing: {uv} (provisioned by .ci/run)")
    env = clean_env(PIP_DISABLE_PIP_VERSION_CHECK="1", ENVLOCK_CACHE_DIR=str(tmp_path / "cache"))
    lock = _lock_of_six(tmp_path, env)
    env["PATH"] = f"{uv.parent}{os.pathsep}{env['PATH']}"
    return lock, env


def _audited(
    lock: Path, target: Path, env: dict[str, str], report: list[dict[str, object]] | None = None
) -> list[list[str]]:
    """restore --venv with uv, its process's events: ["exec", argv] (exec@THREAD when a
    thread other than the main one started it), ["mkdir", [a venv built here]], ["open", [lock]],
    ["import", [the lock's or the matrix's model]]; its JSON report appended to `report`."""
    log = target.parent / "audit.log"
    args = ["restore", str(lock), "--venv", str(target), "--installer", "uv", "--format", "json"]
    proc = python_run(["-c", AUDITED, str(log), *args], env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["details"]["venv"] == "replaced"
    if report is not None:
        report.append(json.loads(proc.stdout))
    return [[what, *argv] for what, argv in logged(log)]


def _kinds(events: list[list[str]]) -> list[str]:
    """exec: the command's first two words; import: "import" for the lock's model, the
    module's name for any other."""
    return [
        " ".join(e[1:3])
        if e[0].startswith("exec")
        else e[1]
        if e[1:] in (["envlock.matrix.model"], ["tomllib"])
        else e[0]
        for e in events
    ]


@pytest.mark.slow
def test_restore_starts_only_the_installers_and_builds_the_venv_while_reading_the_lock(
    tmp_path: Path,
) -> None:
    """restore --venv with uv: the venv is built by envlock's own interpreter (the base)
    before the lock is even opened, and verified from its files: no process under its
    interpreter (the served probe, the ctypes child), only `uv pip sync` (and nvcc
    --version, which a lock with a CUDA toolkit compares, when it is a script the probe's
    cache does not keep)."""
    lock, env = _six_lock(tmp_path)
    target, reports = tmp_path / "restored", []
    events = _audited(lock, target, env, reports)
    # the verdict a cold verify of the new venv gives (its served probe): the same
    python = str(target / "bin" / "python")
    args = ["verify", str(lock), "--python", python, "--scope", "software", "--no-cache"]
    cold = json.loads(run_envlock([*args, "--format", "json"], env=env).stdout)
    assert reports[0]["findings"] == cold["findings"]
    details = reports[0]["details"]
    assert isinstance(details, dict) and details["passed"] == cold["details"]["passed"]
    assert "packages.six" in cold["details"]["passed"]
    execs = [e[1:] for e in events if e[0].startswith("exec")]
    assert [argv[:3] for argv in execs if argv[0] == "uv"] == [["uv", "pip", "sync"]], events
    others = [argv for argv in execs if argv[0] != "uv"]
    assert all(argv[0].endswith("/nvcc") and argv[1:] == ["--version"] for argv in others), events
    kinds = _kinds(events)
    assert kinds.index("mkdir") < kinds.index("open") < kinds.index("uv pip"), events
    # a lock without torch is held against nothing: the compatibility matrix never loads
    assert "envlock.matrix.model" not in kinds, events


@pytest.mark.slow
def test_a_second_restore_of_a_lock_installs_while_reading_it_and_a_wrong_guess_is_redone(
    tmp_path: Path,
) -> None:
    """The plan of the first restore is the next one's guess: its install starts as soon
    as the venv is built (here, in envlock's process: at once, before the lock's model
    loads), whatever the lock's reading and planning still do. A guess the lock's own plan does not
    confirm (an entry changed here to name another six) is stopped, the venv built again
    from scratch, and the result is the lock's, verified."""
    from envlock import picklecache
    from envlock.install import quickplan
    from envlock.install.plancache import Guess

    lock, env = _six_lock(tmp_path)
    target = tmp_path / "restored"
    first = _audited(lock, target, env)
    kinds = _kinds(first)
    assert kinds.index("mkdir") < kinds.index("import") < kinds.index("uv pip"), first
    assert [e[0] for e in first if e[1:3] == ["uv", "pip"]] == ["exec"]  # after planning
    assert "tomllib" in kinds, first  # the lock parsed
    # the second: started once the venv is there, before the lock's model loads; the
    # lock, unchanged, is not parsed again (verify's parsed-lock cache)
    second = _audited(lock, target, env)
    assert "tomllib" not in _kinds(second), second
    assert [e[0] for e in second if e[1:3] == ["uv", "pip"]] == ["exec"], second
    kinds = _kinds(second)
    assert kinds.index("mkdir") < kinds.index("uv pip") < kinds.index("import"), second
    entries = list((tmp_path / "cache").glob("restore/plan-*.pickle"))
    assert len(entries) == 1
    guess = picklecache.load(
        entries[0], Guess, modules={"envlock.install.plancache"}, what="a plan", limit=1 << 20
    )
    assert guess is not None and "six==1.17.0" in guess.requirements
    wrong = Guess(requirements=guess.requirements.replace("1.17.0", "1.16.0"), complete=True)
    picklecache.store(entries[0], wrong, keep=8)
    # and where install/quick.py finds it by the lock file's stat, under the same key
    stored = quickplan.load(str(tmp_path / "cache"), str(lock))
    assert stored is not None and stored[1] == guess
    quickplan.store(str(tmp_path / "cache"), str(lock), os.stat(lock), stored[0], wrong)
    third = _audited(lock, target, env)
    assert _kinds(third).count("mkdir") == 2 and _kinds(third).count("uv pip") == 2, third
    dists = [p.name for p in target.glob("lib/python*/site-packages/six-*.dist-info")]
    assert dists == ["six-1.17.0.dist-info"]
    assert sorted(p.name for p in target.iterdir() if p.name.startswith(".envlock")) == []


@pytest.mark.slow
def test_every_restore_of_a_dir_hands_uv_one_interpreter_path(tmp_path: Path) -> None:
    """uv keys what it learnt of an interpreter by its path: the new venv's at the same
    path in every restore of DIR is known to `uv pip sync` (a new one costs a Python
    start to query it, ~50 ms); the venv names DIR once swapped in."""
    lock, env = _six_lock(tmp_path)
    target = tmp_path / "restored"
    syncs = [
        [e[1:] for e in _audited(lock, target, env) if e[1:4] == ["uv", "pip", "sync"]]
        for _ in range(2)
    ]
    assert syncs[0] == syncs[1] and len(syncs[0]) == 1, syncs
    assert b".envlock-restore" not in (target / "bin" / "activate").read_bytes()


@pytest.mark.parametrize("case", ["unreadable", "no packages", "python", "blocked"])
@pytest.mark.parametrize("existing", [True, False], ids=["existing-venv", "new-dir"])
def test_a_lock_that_cannot_be_restored_undoes_the_venv_begun_meanwhile(
    tmp_path: Path, case: str, existing: bool
) -> None:
    """The venv's building starts before the lock is read; a lock that cannot be
    restored (bad input: exit 3, one line; a build that cannot run here: exit 1) leaves
    DIR exactly as it was, or not there at all, and nothing of the run behind."""
    import dataclasses

    from envlock.lock import build_lock, dumps_lock
    from tests.install.test_swap import tree
    from tests.lock.facts_fixtures import h100_facts
    from tests.lock.test_export import driver_570

    lock = build_lock(h100_facts())
    host = tmp_path / "host.json"
    host.write_text(json.dumps(driver_570().to_dict()))
    text = {
        "unreadable": "[envlock\n",
        "no packages": dumps_lock(dataclasses.replace(lock, packages={})),
        "python": dumps_lock(
            dataclasses.replace(lock, system=dataclasses.replace(lock.system, python="3.8"))
        ),
        "blocked": dumps_lock(lock),
    }[case]
    path = tmp_path / "envlock.lock.toml"
    path.write_text(text)
    venv = tmp_path / "v"
    if existing:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    before = tree(venv)
    args = ["restore", str(path), "--venv", str(venv), "--installer", "pip"]
    args += ["--host-facts", str(host), *(["--variant", "cu126"] if case == "python" else [])]
    proc = run_envlock(args, env=clean_env())
    lines = proc.stderr.strip().splitlines()
    if case == "blocked":
        assert proc.returncode == 1 and "cannot run here" in proc.stderr, proc.stderr
    else:
        assert proc.returncode == 3 and len(lines) == 1, proc.stderr
    assert tree(venv) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["envlock.lock.toml", "host.json", *(["v"] if existing else [])]
    )


@pytest.mark.slow
def test_a_repeat_restore_takes_verifys_report_from_the_cache_and_any_key_change_verifies(
    tmp_path: Path,
) -> None:
    """A restore of the same lock bytes, options and envlock code whose new venv reads as
    the last one did (its facts document is part of the key) takes verify's Report from
    the report cache: the comparison does not run. Its output is the uncached path's,
    byte for byte; changing the lock's bytes or an option (--strict) verifies again, and
    the verdict is a cold `envlock verify --python`'s."""
    lock, env = _six_lock(tmp_path)
    target = tmp_path / "restored"
    first: list[dict[str, object]] = []
    _audited(lock, target, env, first)
    outputs, verified, facts = [], [], []
    for extra in (["--no-cache"], [], ["--strict"]):
        args = ["restore", str(lock), "--venv", str(target), "--installer", "uv", *extra]
        out, events = _audited_args(args, target, env)
        outputs.append(out)
        verified.append(["import", ["envlock.verify"]] in events)
        facts.append(["import", ["envlock.facts.model"]] in events)
    assert outputs[0] == outputs[1]  # uncached, then from the JSON run's entry
    assert verified == [True, False, True]
    assert facts == [True, False, True]  # nor the Facts model (envlock/digestfacts.py)
    lock.write_bytes(lock.read_bytes() + b"\n# changed\n")
    args = ["restore", str(lock), "--venv", str(target), "--installer", "uv", "--format", "json"]
    out, events = _audited_args(args, target, env)
    assert ["import", ["envlock.verify"]] in events
    python = str(target / "bin" / "python")
    cold = run_envlock(["verify", str(lock), "--python", python, "--scope", "software",
                        "--no-cache", "--format", "json"], env=env)  # fmt: skip
    assert json.loads(out)["findings"] == json.loads(cold.stdout)["findings"]
    assert json.loads(out)["details"]["passed"] == json.loads(cold.stdout)["details"]["passed"]


def _audited_args(
    args: list[str], target: Path, env: dict[str, str]
) -> tuple[str, list[list[str]]]:
    """restore's output and its events (_audited's), the imports of the comparison and
    of the Facts model among them."""
    log = target.parent / "audit.log"
    watched = '"envlock.verify", "envlock.facts.model",'
    hook = AUDITED.replace('"envlock.lock.model",', watched)
    proc = python_run(["-c", hook, str(log), *args], env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout, logged(log)


def _audited_cli(args: list[str], target: Path, env: dict[str, str]) -> tuple[str, list[str]]:
    """restore's stdout and its events (_audited's), the CLI's import among them."""
    log = target.parent / "audit.log"
    hook = AUDITED.replace('"envlock.lock.model",', '"envlock.cli",')
    proc = python_run(["-c", hook, str(log), *args], env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    events = logged(log)
    return proc.stdout, [argv[0] if what == "import" else _kinds([[what, *argv]])[0]
                         for what, argv in events]  # fmt: skip


@pytest.mark.slow
def test_a_plain_repeat_restore_starts_its_install_before_the_cli_loads(tmp_path: Path) -> None:
    """`python -m envlock restore LOCK --venv DIR` whose plan an earlier restore left
    builds the venv and starts that install before the CLI's parser loads
    (install/ahead.py); the CLI takes both over: one venv, one sync, the output of
    --no-cache. Another option (--no-cache) starts nothing ahead."""
    lock, env = _six_lock(tmp_path)
    target = tmp_path / "restored"
    _audited(lock, target, env)  # the plan the next restore guesses
    args = ["restore", str(lock), "--venv", str(target), "--installer", "uv"]
    out, kinds = _audited_cli(args, target, env)
    assert kinds.count("mkdir") == 1 and kinds.count("uv pip") == 1, kinds
    assert kinds.index("mkdir") < kinds.index("uv pip") < kinds.index("envlock.cli"), kinds
    uncached, kinds = _audited_cli([*args, "--no-cache"], target, env)
    assert kinds.index("envlock.cli") < kinds.index("mkdir") < kinds.index("uv pip"), kinds
    assert out == uncached and "PASS" in out
    assert sorted(p.name for p in target.iterdir() if p.name.startswith(".envlock")) == []

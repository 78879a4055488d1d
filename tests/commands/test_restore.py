"""From a lock back to an environment, for real: pip, uv, the package index (PyPI),
the torch-cpu venv. Nothing faked.

- torch round trip: lock the torch-cpu venv -> restore --venv with pip (torch 2.13.0+cpu
  comes from the pip configuration's local wheels: --torch-index none) -> verify exit 0,
  and pip freeze of the result equals the source's, line for line (bar envlock itself,
  an editable install of the checkout, which a lock records apart and cannot restore).
- uv round trip (torch-free: uv cannot see this machine's local torch wheels): a small
  venv of tiny PyPI packages -> lock --hashes (PEP 691 JSON from PyPI) -> export pylock
  -> `uv pip sync` into a fresh venv -> verify exit 0; and restore with uv itself.
- bad input: one line, exit 3, nothing installed, an existing venv left as it was.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from envlock.lock import read_lock
from tests.conftest import VENV_ROOT, clean_env, need, run_envlock
from tests.install.test_swap import tree

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TINY = ("six==1.17.0", "idna==3.10")


def _uv() -> Path:
    uv = VENV_ROOT / "uv-13" / "bin" / "uv"
    need(uv.exists(), f"uv is missing: {uv} (provisioned by .ci/run)")
    return uv


def _freeze(python: Path) -> list[str]:
    out = subprocess.check_output(
        [str(python), "-m", "pip", "freeze", "--disable-pip-version-check"], text=True
    )
    return out.splitlines()


def _uv_env(**extra: str) -> dict[str, str]:
    """clean_env with uv on PATH (first), as a user who has uv installed."""
    env = clean_env(**extra)
    env["PATH"] = f"{_uv().parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def _verifies(lock: Path, venv: Path) -> None:
    """`verify LOCK --python VENV --scope software` passes: the venv holds the lock's
    packages."""
    python = str(venv / "bin" / "python")
    proc = run_envlock(["verify", str(lock), "--python", python, "--scope", "software"])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _bare_venv(path: Path) -> Path:
    """A venv without pip at `path`, as `python -m venv --without-pip` makes it."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    return path


def _no_uv_env() -> dict[str, str]:
    """PATH without any uv: restore's auto choice is pip."""
    env = clean_env()
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if not (Path(p) / "uv").exists()
    )
    return env


@pytest.fixture(scope="module")
def tiny_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A torch-free venv with two tiny packages from the package index."""
    root = tmp_path_factory.mktemp("tiny") / "src"
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True)
    subprocess.run(
        [str(root / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", *TINY],
        check=True,
        env=clean_env(PIP_DISABLE_PIP_VERSION_CHECK="1"),
    )
    return root / "bin" / "python"


@pytest.fixture(scope="module")
def tiny_lock(tiny_venv: Path) -> Path:
    lock = tiny_venv.parent.parent.parent / "tiny.lock.toml"
    proc = run_envlock(
        ["lock", "--python", str(tiny_venv), "--hashes", "--no-torch-live", "-o", str(lock)]
    )
    assert proc.returncode == 0, proc.stderr
    return lock


@pytest.mark.venv
def test_lock_hashes_are_the_index_files_for_this_platform(tiny_lock: Path) -> None:
    import jsonschema

    from tests.conftest import REPO

    lock = read_lock(tiny_lock)
    assert lock.packages == {"six": "1.17.0", "idna": "3.10"}
    assert [f.name for f in lock.files["six"]] == ["six-1.17.0-py2.py3-none-any.whl"]
    assert all(len(f.sha256) == 64 for fs in lock.files.values() for f in fs)
    assert "pip" not in lock.files  # the installer's own tooling is not installed
    schema = json.loads((REPO / "schemas" / "envlock.lock.schema.json").read_text())
    jsonschema.validate(lock.to_dict(), schema, cls=jsonschema.Draft202012Validator)


@pytest.mark.venv
def test_pylock_export_installs_with_uv_pip_sync_and_verifies(
    tiny_lock: Path, tiny_venv: Path, tmp_path: Path
) -> None:
    from packaging.pylock import Pylock

    pylock = tmp_path / "pylock.envlock.toml"
    proc = run_envlock(["export", str(tiny_lock), "--format", "pylock", "-o", str(pylock)])
    assert proc.returncode == 0, proc.stderr
    Pylock.from_dict(tomllib.loads(pylock.read_text())).validate()
    target = tmp_path / "fresh"
    uv = str(_uv())
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(target)], check=True)
    sync = subprocess.run(
        [uv, "pip", "sync", "--python", str(target / "bin" / "python"), str(pylock)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert sync.returncode == 0, sync.stderr
    _verifies(tiny_lock, target)


@pytest.mark.venv
def test_hashes_from_a_resolvers_pylock_need_no_index(
    tiny_lock: Path, tiny_venv: Path, tmp_path: Path
) -> None:
    pylock = tmp_path / "pylock.toml"
    assert (
        run_envlock(["export", str(tiny_lock), "--format", "pylock", "-o", str(pylock)]).returncode
        == 0
    )
    out = tmp_path / "from-pylock.toml"
    args = ["lock", "--python", str(tiny_venv), "--no-torch-live", "-o", str(out), "--hashes"]
    # the index is unreachable: every file must come from the pylock
    offline = clean_env(PIP_INDEX_URL="http://127.0.0.1:9/simple")
    proc = run_envlock([*args, "--hashes-from", str(pylock)], env=offline)
    assert proc.returncode == 0, proc.stderr
    assert read_lock(out).files == read_lock(tiny_lock).files
    # a pylock without idna: idna is asked of the (unreachable) index
    import tomli_w

    doc = tomllib.loads(pylock.read_text())
    doc["packages"] = [p for p in doc["packages"] if p["name"] != "idna"]
    partial = tmp_path / "partial.toml"
    partial.write_text(tomli_w.dumps(doc))
    proc = run_envlock([*args, "--hashes-from", str(partial)], env=offline)
    assert proc.returncode == 3 and "is unreachable" in proc.stderr, proc.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text("not = [toml")
    proc = run_envlock([*args, "--hashes-from", str(bad)], env=offline)
    assert proc.returncode == 3 and "not a valid pylock file" in proc.stderr, proc.stderr


@pytest.mark.venv
def test_restore_with_uv_builds_a_venv_that_verifies(tiny_lock: Path, tmp_path: Path) -> None:
    target = tmp_path / "with-uv"
    proc = run_envlock(["restore", str(tiny_lock), "--venv", str(target)], env=_uv_env())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "$ uv pip sync" in proc.stderr
    assert _leftovers(tmp_path) == []
    _runs(target)
    _verifies(tiny_lock, target)


@pytest.mark.venv
@pytest.mark.slow
def test_a_failed_install_leaves_the_existing_venv_as_it_was(
    tiny_lock: Path, tmp_path: Path
) -> None:
    target = tmp_path / "keep"
    _bare_venv(target)
    (_site(target) / "marker.py").write_text("mine")
    before = tree(target)
    bad_hash = tmp_path / "bad-hash.toml"
    six = read_lock(tiny_lock).files["six"][0].sha256
    bad_hash.write_text(tiny_lock.read_text().replace(six, "f" * 64))
    proc = run_envlock(
        ["restore", str(bad_hash), "--venv", str(target), "--installer", "pip"],
        env=_no_uv_env(),
    )
    assert proc.returncode == 3, proc.stderr
    assert "pip failed" in proc.stderr and "nothing changed" in proc.stderr
    assert "HASH" in proc.stderr.upper()
    assert tree(target) == before
    assert _leftovers(tmp_path) == []


# ------------------------------------------------- issue 19: restore never hurts the user
def _site(venv: Path) -> Path:
    (site,) = (venv / "lib").glob("python3.*/site-packages")
    return site


def _leftovers(*places: Path) -> list[str]:
    """What a restore may leave: its working directories, envlock 0.1's beside DIR."""
    found: list[str] = []
    for place in places:
        for here, dirs, files in os.walk(place):
            found += [
                os.path.join(here, n)
                for n in dirs + files
                if n.startswith((".envlock-restore-", "envlock-restore-")) or ".envlock-" in n
            ]
    return sorted(found)


def _restore(
    lock: Path,
    venv: str,
    *more: str,
    cwd: Path | None = None,
    uv: bool = False,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """restore --venv with pip, or with uv (seconds instead of pip's tens: for the tests
    where the installer is not the point)."""
    return run_envlock(
        ["restore", str(lock), "--venv", venv, "--installer", "uv" if uv else "pip", *more],
        env=_uv_env() if uv else _no_uv_env(),
        cwd=cwd,
        timeout=timeout,
    )


def _runs(venv: Path) -> None:
    """The restored venv works where it is: pip starts, six imports from DIR."""
    if (venv / "bin" / "pip").exists():  # uv's venvs have none
        pip = subprocess.run(
            [str(venv / "bin" / "pip"), "--version"], capture_output=True, text=True
        )
        assert pip.returncode == 0, pip.stderr
        assert f"from {venv}/lib/" in pip.stdout
    six = subprocess.check_output(
        [str(venv / "bin" / "python"), "-c", "import six; print(six.__file__)"], text=True
    )
    assert six.startswith(f"{venv}/lib/")
    for path in [venv / "pyvenv.cfg", *(p for p in (venv / "bin").iterdir() if not p.is_symlink())]:
        assert b".envlock-restore-" not in path.read_bytes(), path


@pytest.mark.venv
def test_a_project_dir_with_a_venv_in_it_is_refused_and_left_whole(
    tiny_lock: Path, tmp_path: Path
) -> None:
    """The issue's case: `python3 -m venv . && echo code > train.py && git init &&
    envlock restore L --venv .` removed train.py and .git."""
    proj = tmp_path / "proj"
    _bare_venv(proj)
    (proj / "train.py").write_text("code\n")
    subprocess.run(["git", "init", "-q"], cwd=proj, check=True)
    before = tree(proj)
    proc = _restore(tiny_lock, ".", cwd=proj)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert ".git, train.py" in line and "--force" in line, line
    assert tree(proj) == before


@pytest.mark.venv
def test_a_venv_holding_notes_is_refused_and_force_keeps_the_notes(
    tiny_lock: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "v"
    _bare_venv(venv)
    (venv / "NOTES.md").write_text("mine")
    before = tree(venv)
    refused = _restore(tiny_lock, str(venv), uv=True)
    assert refused.returncode == 3 and "NOTES.md" in refused.stderr, refused.stderr
    assert tree(venv) == before
    forced = _restore(tiny_lock, str(venv), "--force", uv=True)
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert (venv / "NOTES.md").read_text() == "mine"
    _runs(venv)
    assert _leftovers(tmp_path) == []


@pytest.mark.venv
def test_a_mount_point_is_restored_in_place(tiny_lock: Path, tmp_path: Path) -> None:
    """A Docker volume or k8s emptyDir as DIR: the mount cannot be renamed (was exit 4)."""
    vol = tmp_path / "vol"
    vol.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(vol)], capture_output=True)
    need(mounted.returncode == 0, f"cannot mount a tmpfs: {mounted.stderr.decode().strip()}")
    try:
        _bare_venv(vol)
        (_site(vol) / "old.py").write_text("old")
        proc = _restore(tiny_lock, str(vol), uv=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert os.path.ismount(vol)
        assert not (_site(vol) / "old.py").exists()  # the old venv was replaced
        _runs(vol)
        assert _leftovers(tmp_path) == []
    finally:
        subprocess.run(["umount", str(vol)], check=True)


@pytest.mark.venv
@pytest.mark.slow
def test_what_a_kill_9_left_is_removed_by_the_next_run(tiny_lock: Path, tmp_path: Path) -> None:
    """kill -9 in the middle of the install (an index that never answers holds pip there):
    the half-built venv and the requirements' temp dir are the next run's to remove."""
    import signal
    import socket

    venv, tmp = tmp_path / "v", tmp_path / "tmp"
    tmp.mkdir()
    env = {k: v for k, v in _no_uv_env().items() if not k.startswith("PIP_")}
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(240)
        hang = {
            **env,
            "TMPDIR": str(tmp),
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_INDEX_URL": f"http://127.0.0.1:{server.getsockname()[1]}/simple",
        }
        args = ["restore", str(tiny_lock), "--venv", str(venv), "--installer", "pip"]
        with subprocess.Popen(
            [sys.executable, "-m", "envlock", *args],
            env=hang,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ) as proc:
            conn, _ = server.accept()  # pip asks the index: the venv is built
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            conn.close()
    assert _leftovers(tmp_path)  # what the killed run left: the venv being built
    again = run_envlock(args, env={**_no_uv_env(), "TMPDIR": str(tmp)})
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"killed restore (pid {proc.pid})" in again.stderr
    assert _leftovers(tmp_path) == []
    _runs(venv)


@pytest.mark.venv
def test_a_symlinked_venv_stays_a_link_and_leaves_nothing(tiny_lock: Path, tmp_path: Path) -> None:
    real, link = tmp_path / "real", tmp_path / "link"
    _bare_venv(real)
    link.symlink_to(real)
    proc = _restore(tiny_lock, str(link), uv=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert sorted(os.listdir(tmp_path)) == ["link", "real"]
    _runs(real)
    assert _leftovers(tmp_path) == []


@pytest.mark.venv
@pytest.mark.slow
def test_relative_dirs_end_as_their_absolute_path_in_every_script(
    tiny_lock: Path, tmp_path: Path
) -> None:
    """`--venv ../DIR` left shebangs naming the deleted build directory: bin/pip died.
    ../DIR's name is as long as a plain `#!DIR/bin/python` allows (127 bytes): pip writes
    its /bin/sh trampoline for the longer build path, and DIR's scripts get the plain
    shebang back, as `python -m venv DIR` would have written them."""
    work = tmp_path / "work"
    work.mkdir()
    # the venv names its interpreter after the base's (python, python3): room for python3.11
    up = "u" * (124 - len(f"{tmp_path}//bin/python3.11"))
    need(len(up) > 5, f"{tmp_path} is too long for this test")
    for given, final in ((f"../{up}", tmp_path / up), ("./rel v", work / "rel v")):
        proc = _restore(tiny_lock, given, cwd=work)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        _runs(final)
        if given.startswith("../"):
            first = (final / "bin" / "pip").read_text().splitlines()[0]
            assert re.fullmatch(rf"#!{re.escape(str(final))}/bin/python[0-9.]*", first), first
        assert f'VIRTUAL_ENV="{final}"' in (final / "bin" / "activate").read_text()
        assert f'setenv VIRTUAL_ENV "{final}"' in (final / "bin" / "activate.csh").read_text()
        cfg = (final / "pyvenv.cfg").read_text()
        assert f" {final}\n" in cfg and "prompt = " in cfg, cfg
    assert _leftovers(tmp_path) == []


@pytest.mark.venv
def test_a_new_venv_that_does_not_verify_puts_the_old_one_back(
    tiny_lock: Path, tmp_path: Path
) -> None:
    """The lock records an environment variable this shell lacks: the install succeeds,
    verify fails (exit 1), the old venv is back as it was and a new DIR is not left."""
    lock = tmp_path / "env.lock.toml"
    lock.write_text(tiny_lock.read_text() + '\n[env]\nENVLOCK_TEST_RESTORE_FLAG = "1"\n')
    venv = tmp_path / "v"
    _bare_venv(venv)
    (_site(venv) / "old.py").write_text("old")
    before = tree(venv)
    proc = _restore(lock, str(venv), uv=True)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "env.ENVLOCK_TEST_RESTORE_FLAG" in proc.stdout
    assert f"the new venv did not verify: {venv} is as it was" in proc.stderr
    assert tree(venv) == before
    fresh = _restore(lock, str(tmp_path / "fresh"), uv=True)
    assert fresh.returncode == 1 and not (tmp_path / "fresh").exists()
    assert _leftovers(tmp_path) == []
    # what restore knowingly cannot install (an editable, a local path) does not count:
    # verify reports it missing, and the new venv stays
    local = tmp_path / "local.lock.toml"
    local.write_text(
        tiny_lock.read_text().replace('six = "1.17.0"\n', 'six = "1.17.0"\nmine = "1.0"\n', 1)
        + '\n[sources.mine]\nkind = "editable"\n'
    )
    kept = _restore(local, str(venv), uv=True)
    assert kept.returncode == 1 and "packages.mine" in kept.stdout, kept.stdout + kept.stderr
    assert not (_site(venv) / "old.py").exists()
    _runs(venv)


@pytest.mark.venv
def test_bad_input_is_one_line_and_exit_3(tiny_lock: Path, tmp_path: Path) -> None:
    text = tiny_lock.read_text()
    empty = tmp_path / "empty.toml"
    empty.write_text(
        "\n".join(
            ln
            for ln in text.splitlines()
            if not ln.startswith(("six =", "idna =")) and ln != "[packages]"
        )
    )
    cases = {
        "no packages": ["restore", str(empty), "--venv", str(tmp_path / "v"), "--dry-run"],
        "unknown variant": [
            "restore",
            str(tiny_lock),
            "--venv",
            str(tmp_path / "v"),
            "--variant",
            "cu130",
            "--dry-run",
        ],
        "pylock without hashes": ["export", str(empty), "--format", "pylock"],
    }
    for what, args in cases.items():
        proc = run_envlock(args)
        assert proc.returncode == 3, (what, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1, (what, proc.stderr)
    assert not (tmp_path / "v").exists()


@pytest.mark.venv
@pytest.mark.slow
def test_restore_into_an_existing_interpreter_and_a_version_the_index_lacks(
    tiny_lock: Path, tmp_path: Path
) -> None:
    target = tmp_path / "existing"
    subprocess.run([sys.executable, "-m", "venv", str(target)], check=True)
    python = str(target / "bin" / "python")
    missing = tmp_path / "missing.toml"
    missing.write_text(
        "\n".join(ln for ln in tiny_lock.read_text().splitlines() if "[files" not in ln
                  and not ln.startswith(("name =", "url =", "sha256 =")))
        .replace('six = "1.17.0"', 'six = "0.0.1"')
    )  # fmt: skip
    before = _freeze(target / "bin" / "python")
    bad = run_envlock(
        ["restore", str(missing), "--python", python, "--installer", "pip"], env=_no_uv_env()
    )
    assert bad.returncode == 3, bad.stderr
    # the commands run are logged ("$ ..."), the progress too ("envlock restore: ...",
    # pip's own lines); what went wrong is one line
    (error,) = [
        ln for ln in bad.stderr.splitlines() if not ln.startswith(("$ ", "envlock restore: "))
    ]
    assert error.startswith("envlock: error: pip failed") and "six==0.0.1" in error
    assert _freeze(target / "bin" / "python") == before  # the dry run stopped it: nothing in
    ok = run_envlock(
        ["restore", str(tiny_lock), "--python", python, "--installer", "pip"], env=_no_uv_env()
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert {"six==1.17.0", "idna==3.10"} <= set(_freeze(target / "bin" / "python"))


@pytest.mark.venv
def test_unreachable_index_and_a_version_the_index_lacks(tiny_venv: Path, tmp_path: Path) -> None:
    out = tmp_path / "l.toml"
    args = ["lock", "--python", str(tiny_venv), "--hashes", "--no-torch-live", "-o", str(out)]
    # a closed port on loopback: refused at once
    proc = run_envlock(args, env=clean_env(PIP_INDEX_URL="http://127.0.0.1:9/simple"))
    assert proc.returncode == 3 and "is unreachable" in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not out.exists()

    from envlock.errors import RestoreError
    from envlock.install.index import files_for

    with pytest.raises(RestoreError, match=r"has no file of six==0\.0\.1 for this platform"):
        files_for("https://pypi.org/simple", "six", "0.0.1", {"py3-none-any"})


@pytest.mark.venv
@pytest.mark.slow
def test_torch_cpu_round_trip_with_pip(cpu_python: Path, tmp_path: Path) -> None:
    lock = tmp_path / "envlock.lock.toml"
    made = run_envlock(["lock", "--python", str(cpu_python), "-o", str(lock)], cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    target = tmp_path / "restored"
    proc = _restore(lock, str(target), "--torch-index", "none", timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    _verifies(lock, target)

    def job(lines: list[str]) -> list[str]:  # envlock: the checkout, editable, not the job's
        return [ln for ln in lines if "envlock" not in ln and not ln.startswith("-e ")]

    assert job(_freeze(target / "bin" / "python")) == job(_freeze(cpu_python))
    assert (target / "bin" / "pip").read_text().startswith(f"#!{target}/bin/python")
    shutil.rmtree(target)


def test_force_goes_with_venv_only(tmp_path: Path) -> None:
    proc = run_envlock(["restore", str(tmp_path / "l.toml"), "--python", "py", "--force"])
    assert proc.returncode == 2 and "--force goes with --venv" in proc.stderr, proc.stderr


@pytest.mark.venv
def test_a_dry_run_names_what_would_move_and_refuses_like_the_run(
    tiny_lock: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "v"
    _bare_venv(venv)
    before = tree(venv)
    proc = _restore(tiny_lock, str(venv), "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert f"# move {venv}'s own venv entries (bin, include, lib, lib64, pyvenv.cfg)" in proc.stdout
    (venv / "train.py").write_text("code")
    refused = _restore(tiny_lock, str(venv), "--dry-run")
    assert refused.returncode == 3 and "train.py" in refused.stderr
    assert tree(venv) == {**before, "train.py": tree(venv)["train.py"]}

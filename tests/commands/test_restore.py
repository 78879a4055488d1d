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
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from envlock.lock import read_lock
from tests.conftest import VENV_ROOT, clean_env, need, run_envlock

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

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

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
    verify = run_envlock(
        [
            "verify",
            str(tiny_lock),
            "--python",
            str(target / "bin" / "python"),
            "--scope",
            "software",
        ]
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr


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

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
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
    assert not list(tmp_path.glob(".with-uv.envlock-new-*"))
    again = run_envlock(
        [
            "verify",
            str(tiny_lock),
            "--python",
            str(target / "bin" / "python"),
            "--scope",
            "software",
        ]
    )
    assert again.returncode == 0, again.stdout


@pytest.mark.venv
def test_a_failed_install_leaves_the_existing_venv_as_it_was(
    tiny_lock: Path, tmp_path: Path
) -> None:
    target = tmp_path / "keep"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(target)], check=True)
    marker = target / "marker"
    marker.write_text("mine")
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
    assert marker.read_text() == "mine"
    assert not list(tmp_path.glob(".keep.envlock-new-*"))


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
    # the commands run are logged ("$ ..."); what went wrong is one line
    (error,) = [ln for ln in bad.stderr.splitlines() if not ln.startswith("$ ")]
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
def test_torch_cpu_round_trip_with_pip(cpu_python: Path, tmp_path: Path) -> None:
    lock = tmp_path / "envlock.lock.toml"
    made = run_envlock(["lock", "--python", str(cpu_python), "-o", str(lock)], cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    target = tmp_path / "restored"
    proc = run_envlock(
        [
            "restore",
            str(lock),
            "--venv",
            str(target),
            "--installer",
            "pip",
            "--torch-index",
            "none",
        ],
        env=_no_uv_env(),
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    verify = run_envlock(
        ["verify", str(lock), "--python", str(target / "bin" / "python"), "--scope", "software"]
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr

    def job(lines: list[str]) -> list[str]:  # envlock: the checkout, editable, not the job's
        return [ln for ln in lines if "envlock" not in ln and not ln.startswith("-e ")]

    assert job(_freeze(target / "bin" / "python")) == job(_freeze(cpu_python))
    assert (target / "bin" / "pip").read_text().startswith(f"#!{target}/bin/python")
    shutil.rmtree(target)

"""The lock records each extension file's sha256 (lock-version 1.1); verify reports a file
whose digest changed since the lock (a rebuilt or replaced extension)."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

from envlock.facts import ExtensionsFacts
from envlock.lock import build_lock
from envlock.lock.build import extension_key
from envlock.verify import verify
from tests.conftest import REPO, clean_env, run_envlock
from tests.ext_assets import nvcc_extension
from tests.lock.facts_fixtures import rich_facts


def test_lock_holds_the_recorded_extension_digests() -> None:
    facts = rich_facts()
    lock = build_lock(facts, created="2026-11-27T00:00:00Z")
    want = {
        extension_key(e.file, e.distribution): e.sha256 for e in facts.extensions.items if e.sha256
    }
    assert want and lock.extensions == want
    assert all(v.startswith("sha256:") for v in lock.extensions.values())


def test_extension_key_is_the_path_under_site_packages() -> None:
    path = "/opt/venv/lib/python3.11/site-packages/flash_attn_2_cuda.cpython-311.so"
    assert extension_key(path, "flash-attn") == "flash_attn_2_cuda.cpython-311.so"
    assert extension_key("/src/tv/torchvision/_C.so", "torchvision") == "torchvision:_C.so"


def test_verify_reports_a_changed_extension_digest() -> None:
    facts = rich_facts()
    lock = build_lock(facts, created="2026-11-27T00:00:00Z")
    assert not [f for f in verify(lock, facts) if "extensions." in json.dumps(f.evidence)]
    first = facts.extensions.items[0]
    rebuilt = dataclasses.replace(first, sha256="sha256:" + "0" * 64)
    changed = facts.replace(
        extensions=dataclasses.replace(
            facts.extensions, items=[rebuilt, *facts.extensions.items[1:]]
        )
    )
    drift = [f for f in verify(lock, changed) if f.check_id == "EL-VERIFY-DRIFT"]
    key = extension_key(first.file, first.distribution)
    (f,) = [f for f in drift if key in f.message]
    assert f.fix is not None and "reinstall the locked build" in f.fix
    # the same facts without the extension scan: reported as missing, not silently passed
    gone = facts.replace(extensions=ExtensionsFacts(items=[]))
    assert any(key in x.message for x in verify(lock, gone))


def _site(tmp_path: Path, so: Path) -> Path:
    """A site-packages directory with one distribution whose RECORD lists a CUDA
    extension, laid out as pip installs a wheel."""
    site = tmp_path / "site-packages"
    pkg = site / "envlock14_ext"
    info = site / "envlock14_ext-0.1.dist-info"
    pkg.mkdir(parents=True)
    info.mkdir()
    shutil.copyfile(so, pkg / "_k.so")
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: envlock14-ext\nVersion: 0.1\n")
    (info / "RECORD").write_text(
        "envlock14_ext/_k.so,,\nenvlock14_ext-0.1.dist-info/METADATA,,\n"
        "envlock14_ext-0.1.dist-info/RECORD,,\n"
    )
    return site


def test_verify_cli_reports_a_rebuilt_extension(tmp_path: Path, cpu_python: Path) -> None:
    site = _site(tmp_path, nvcc_extension("sm90-ptx90"))
    env = clean_env(PYTHONPATH=f"{REPO}:{site}", ENVLOCK_CACHE_DIR=str(tmp_path / "cache"))
    lock = tmp_path / "envlock.lock.toml"
    source = ["--python", str(cpu_python), "--no-torch-live"]
    proc = run_envlock(["lock", *source, "-o", str(lock)], env=env)
    assert proc.returncode == 0, proc.stderr
    assert "envlock14_ext/_k.so" in lock.read_text()
    args = ["verify", str(lock), *source, "--scope", "software", "--no-determinism"]
    proc = run_envlock([*args, "--format", "json"], env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # rebuilt for another target: same path, other bytes
    shutil.copyfile(nvcc_extension("sm80"), site / "envlock14_ext" / "_k.so")
    proc = run_envlock([*args, "--format", "json"], env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    findings = json.loads(proc.stdout)["findings"]
    (drift,) = [f for f in findings if "envlock14_ext/_k.so" in f["message"]]
    assert drift["id"] == "EL-VERIFY-DRIFT" and drift["severity"] == "error"

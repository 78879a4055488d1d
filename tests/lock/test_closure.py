"""The full closure (lock-version 1.1): every distribution, tooling apart, provenance,
the torch variant and its index from probed facts, and the 1.0 gate.

Real environments: the torch-cpu venv (torch 2.13.0+cpu, envlock installed editable
from the main checkout) and the torch-cuda venv's recording (2.14.1, untagged cu130).
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import venv
from pathlib import Path

import pytest

from envlock.facts import Facts, PackageSourceFacts
from envlock.lock import build_lock, read_lock
from envlock.lock.closure import DEFAULT_INDEX, torch_variant
from envlock.probe.packages import direct_url
from envlock.verify import verify
from tests.conftest import FIXTURES, run_envlock
from tests.lock.facts_fixtures import cuda_venv_facts

V1_0_LOCK = FIXTURES / "lock.torch-cpu-v1.0-written-by-main-7391dc9.toml"


def _freeze(python: Path) -> dict[str, str]:
    """pip's own view of the closure: name -> version (editables as their version too)."""
    out = subprocess.check_output(
        [str(python), "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
        text=True,
    )
    from packaging.utils import canonicalize_name

    return {canonicalize_name(d["name"]): d["version"] for d in json.loads(out)}


@pytest.fixture(scope="module")
def cpu_lock(cpu_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("closure") / "envlock.lock.toml"
    proc = run_envlock(["lock", "--python", str(cpu_python), "-o", str(out)], cwd=out.parent)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.mark.venv
def test_lock_holds_every_distribution_pip_lists(cpu_lock: Path, cpu_python: Path) -> None:
    lock = read_lock(cpu_lock)
    pip = _freeze(cpu_python)
    assert {**lock.packages, **lock.tools} == pip
    # torch's own requirements are locked, not only an allow-list
    assert {"sympy", "jinja2", "networkx", "torch"} <= lock.packages.keys()
    # the installer's tooling and envlock's own requirements are apart
    assert {"pip", "packaging", "nvidia-ml-py"} <= lock.tools.keys()
    assert {"envlock", "torch-envlock"} & lock.tools.keys()  # the venv's envlock, either name
    assert not lock.tools.keys() & lock.packages.keys()
    assert lock.torch is not None
    assert (lock.torch.variant, lock.torch.index) == (
        "cpu",
        "https://download.pytorch.org/whl/cpu",
    )
    assert str(lock.version) == "1.1"


@pytest.mark.venv
def test_a_fresh_lock_verifies_and_a_changed_dependency_is_drift(
    cpu_lock: Path, cpu_python: Path
) -> None:
    ok = run_envlock(["verify", str(cpu_lock), "--python", str(cpu_python), "--scope", "software"])
    assert ok.returncode == 0, ok.stdout + ok.stderr
    # a dependency outside the old allow-list is locked exactly now
    text = cpu_lock.read_text()
    sympy = read_lock(cpu_lock).packages["sympy"]
    bad = cpu_lock.with_name("sympy-drift.toml")
    bad.write_text(text.replace(f'sympy = "{sympy}"', 'sympy = "1.13.1"'))
    drift = run_envlock(
        ["verify", str(bad), "--python", str(cpu_python), "--scope", "software", "--format", "json"]
    )
    assert drift.returncode == 1, drift.stdout + drift.stderr
    fields = {f["field"] for f in json.loads(drift.stdout)["findings"]}
    assert "packages.sympy" in fields


@pytest.mark.venv
def test_a_lock_written_by_lock_version_1_0_still_verifies(cpu_python: Path) -> None:
    """The fixture was written by main at 7391dc9 (allow-list packages, no variant):
    the rest of the closure and the 1.1 fields are not drift for it."""
    lock = read_lock(V1_0_LOCK)
    assert str(lock.version) == "1.0" and set(lock.packages) == {"torch"}
    proc = run_envlock(
        [
            "verify",
            str(V1_0_LOCK),
            "--python",
            str(cpu_python),
            "--scope",
            "software",
            "--format",
            "json",
        ]
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    fields = {f["field"] for f in json.loads(proc.stdout)["findings"]}
    assert not any(f.startswith(("packages.", "torch.", "tools.", "sources.")) for f in fields)


def test_the_1_0_gate_still_reports_allow_listed_drift() -> None:
    """Under the gate an allow-listed package that changed is still drift."""
    facts = cuda_venv_facts()
    lock = build_lock(facts)
    old = dataclasses.replace(
        lock,
        envlock=dataclasses.replace(lock.envlock, lock_version=type(lock.version)(1, 0)),
        packages={"torch": "2.13.0"},
        tools={},
    )
    findings = verify(old, facts, scope="software")
    assert [f.field for f in findings if f.severity.name == "ERROR"] == ["packages.torch"]


def test_untagged_torch_from_the_default_index_is_its_cuda_variant() -> None:
    """torch 2.14.1 from the default index: distribution 2.14.1 (no tag), __version__
    2.14.1+cu130, torch.version.cuda 13.0 (recorded in the torch-cuda venv)."""
    facts = cuda_venv_facts()
    assert facts.packages.distributions["torch"] == "2.14.1"
    assert (facts.torch.version, facts.torch.cuda) == ("2.14.1+cu130", "13.0")
    lock = build_lock(facts)
    assert lock.torch is not None
    assert (lock.torch.variant, lock.torch.index) == ("cu130", DEFAULT_INDEX)
    assert torch_variant("2.13.0+cpu", None, None) == "cpu"
    assert torch_variant("2.6.0+rocm6.2.4", None, "6.2.4") == "rocm6.2.4"
    assert torch_variant("2.6.0", None, "6.2.41133") == "rocm6.2"
    assert torch_variant("2.9.0", None, None) == "cpu"


def test_provenance_is_recorded_and_a_local_path_is_not_committed() -> None:
    facts = cuda_venv_facts()
    sources = {
        "mypkg": PackageSourceFacts(kind="editable", url="file:///home/alice/src/mypkg"),
        "other": PackageSourceFacts(kind="vcs", url="https://github.com/o/other", commit="a" * 40),
    }
    facts = facts.replace(
        packages=dataclasses.replace(
            facts.packages,
            distributions={**facts.packages.distributions, "mypkg": "0.1", "other": "2.0"},
            sources=sources,
        )
    )
    lock = build_lock(facts)
    assert lock.sources["mypkg"].kind == "editable" and lock.sources["mypkg"].url is None
    assert lock.sources["other"].url == "https://github.com/o/other"
    assert "alice" not in json.dumps(lock.to_dict())
    # the editable install is a finding (not drift: it is what was locked)
    (note,) = verify(lock, facts, scope="software")
    assert (note.check_id, note.severity.name) == ("EL-LOCK-UNRESTORABLE", "INFO")
    assert "mypkg==0.1 is an editable install" in note.message
    # installed from the index now: the provenance changed
    moved = facts.replace(
        packages=dataclasses.replace(facts.packages, sources={"other": sources["other"]})
    )
    drift = [f for f in verify(lock, moved, scope="software") if f.severity.name == "ERROR"]
    assert [f.field for f in drift] == ["sources.mypkg.kind"]
    # a VCS install alone is restorable: no finding
    vcs_only = dataclasses.replace(lock, sources={"other": lock.sources["other"]})
    assert [f.check_id for f in verify(vcs_only, moved, scope="software")] == []


@pytest.mark.slow
def test_direct_url_json_of_a_real_editable_and_a_real_wheel(tmp_path: Path) -> None:
    """pip writes direct_url.json; the probe reads its kind (pip runs for real)."""
    env = tmp_path / "v"
    venv.EnvBuilder(with_pip=True).create(env)
    proj = tmp_path / "proj"
    (proj / "tinypkg").mkdir(parents=True)
    (proj / "tinypkg" / "__init__.py").write_text("")
    (proj / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "tinypkg"\nversion = "0.1"\n'
    )
    subprocess.run(
        [
            str(env / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            "-e",
            str(proj),
        ],
        check=True,
        capture_output=True,
    )
    site = next((env / "lib").glob("python3*/site-packages"))
    info = next(site.glob("tinypkg-0.1.dist-info"))
    assert direct_url(str(info)) == {
        "url": proj.as_uri(),
        "kind": "editable",
        "commit": None,
    }
    pip_info = next(site.glob("pip-*.dist-info"))
    assert direct_url(str(pip_info)) is None  # from ensurepip's bundled wheel: no file
    facts = run_envlock(
        ["probe", "--json", "--python", str(env / "bin" / "python"), "--no-torch-live"]
    )
    assert facts.returncode == 0, facts.stderr
    parsed = Facts.from_dict(json.loads(facts.stdout))
    assert parsed.packages.sources["tinypkg"].kind == "editable"

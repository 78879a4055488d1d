"""EL-FAMILY-MISMATCH: Requires-Dist (as pip check), the matrix pairings, local tags.

Unit cases edit the recorded venv facts with Requires-Dist lines read from the real
torchvision wheels' METADATA; the end-to-end cases run `envlock doctor --python` in the
provisioned venvs with a real torchvision wheel (unpacked as pip installs it) on the
path: 0.28.0 (built for torch 2.13) next to torch 2.14.1 names the mismatch and the
fix, 0.29.1 is quiet; 0.29.1 next to the CPU venv's torch 2.13 is a mismatch too.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from envlock.checks import run_checks
from envlock.facts import Facts, RequiresFacts
from envlock.findings import Finding, Severity
from envlock.matrix.family import load_family
from envlock.matrix.versions import Version
from envlock.probe import _dists
from tests.conftest import REPO, clean_env, run_envlock
from tests.ext_assets import torchvision_dir
from tests.facts_builders import cpu_venv, cuda_venv, edit


def _torchvision(facts: Facts, version: str, requires: list[str] | None = None) -> Facts:
    """`facts` with torchvision `version` installed; its Requires-Dist from the real wheel."""
    if requires is None:
        wheel = version.split("+", 1)[0]
        dist = _dists.distributions([str(torchvision_dir(wheel))])["torchvision"]
        requires = [r for r in dist.requires() if r.startswith("torch")]
    facts = edit(
        facts, "packages.distributions", {**facts.packages.distributions, "torchvision": version}
    )
    req = RequiresFacts(distribution="torchvision", version=version, requires=requires)
    return edit(facts, "packages.requires", [*facts.packages.requires, req])


def _family(facts: Facts) -> list[Finding]:
    return [f for f in run_checks(facts) if f.check_id == "EL-FAMILY-MISMATCH"]


def test_torchvision_for_torch_214_next_to_torch_213_fires() -> None:
    (f,) = _family(_torchvision(cpu_venv(), "0.29.1"))
    assert f.severity is Severity.ERROR
    assert "torchvision requires torch>=2.14.0, installed torch 2.13.0+cpu" in f.message
    assert f.fix is not None
    assert f.fix.startswith(
        'pip install "torchvision==0.28.*" "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu'
    )
    assert 'pip install "torch==2.14.*" "torchvision==0.29.*"' in f.fix
    assert f.evidence["found_by"] == ["Requires-Dist", "pairing"]


def test_matching_torchvision_is_quiet() -> None:
    assert _family(_torchvision(cuda_venv(), "0.29.1")) == []
    assert _family(cuda_venv()) == []  # as recorded: no torchvision


def test_pairing_catches_a_loose_pin() -> None:
    """torchvision 0.28 with a requirement that lets torch 2.14 in: the matrix row still
    names 0.29 for torch 2.14."""
    (f,) = _family(_torchvision(cuda_venv(), "0.28.0", ["torch>=2.13"]))
    assert f.evidence["found_by"] == ["pairing"]
    assert "torchvision 0.29.x is the release for torch 2.14" in f.message
    assert f.fix is not None and f.fix.startswith(
        'pip install "torchvision==0.29.*" "torch==2.14.1" --index-url https://download.pytorch.org/whl/cu130'
    )


def test_local_tag_disagreement_fires_even_when_versions_pair() -> None:
    (f,) = _family(_torchvision(cuda_venv(), "0.29.1+cu126", ["torch==2.14.1"]))
    assert "built for cu126, torch is +cu130" in f.message
    assert f.evidence["found_by"] == ["local tag"]
    assert _family(_torchvision(cuda_venv(), "0.29.1+cu130", ["torch==2.14.1"])) == []


def test_source_builds_git_hash_tags_are_not_variants() -> None:
    """A source build's local tag is its git hash (pytorch#44106: torch 1.7.0a0+9ddd3df,
    torchvision 0.8.0a0+a4736ea): different by design, not a variant mismatch."""
    facts = edit(cuda_venv(), "torch.version", "2.14.0a0+9ddd3df")
    assert _family(_torchvision(facts, "0.29.0a0+a4736ea", ["torch"])) == []
    # a variant tag against a hash-tagged torch names no variant either
    assert _family(_torchvision(facts, "0.29.0a0+cu126", ["torch"])) == []


def test_markers_and_extras_are_evaluated_like_pip_check() -> None:
    quiet = _torchvision(
        cuda_venv(),
        "0.29.1",
        [
            'torch==2.13.0; extra == "old"',
            'torch==2.13.0; platform_system == "Windows"',
            'torch>=2.14; python_version >= "3.8"',
        ],
    )
    assert _family(quiet) == []
    fires = _torchvision(cuda_venv(), "0.29.1", ['torch==2.13.0; platform_system == "Linux"'])
    assert len(_family(fires)) == 1


def test_torch_pin_on_triton_is_reported_on_triton() -> None:
    facts = edit(
        cuda_venv(),
        "packages.requires",
        [
            RequiresFacts(
                distribution="torch",
                version="2.14.1",
                requires=['triton~=3.8.0; platform_system == "Linux"'],
            )
        ],
    )
    assert _family(facts) == []  # triton 3.8.0 as recorded
    old = edit(facts, "packages.distributions", {**facts.packages.distributions, "triton": "3.5.0"})
    (f,) = _family(old)
    assert f.evidence["package"] == "triton"
    assert "torch requires triton~=3.8.0, installed triton 3.5.0" in f.message
    assert f.fix is not None and f.fix.startswith('pip install "triton==3.8.*"')


def test_package_requiring_another_torch_is_named() -> None:
    facts = edit(
        cuda_venv(),
        "packages.requires",
        [RequiresFacts(distribution="xformers", version="0.0.28", requires=["torch==2.5.1"])],
    )
    (f,) = _family(facts)
    assert "xformers 0.0.28" in f.message and "torch==2.5.1" in f.message


def test_every_family_row_is_sourced_and_the_pins_we_hold_agree() -> None:
    family = load_family()
    row = family.row_for_torch(Version.parse("2.14.1"))
    assert row is not None and row.members["torchvision"] == Version.parse("0.29")
    assert row.members["triton"] == Version.parse("3.8")
    for r in family.rows:
        assert r.source
    # the wheels' own pins say the same as the table
    dist = _dists.distributions([str(torchvision_dir("0.28.0"))])["torchvision"]
    assert "torch (==2.13.0)" in dist.requires()
    row213 = family.row_for_torch(Version.parse("2.13"))
    assert row213 is not None and row213.members["torchvision"] == Version.parse("0.28")
    dist = _dists.distributions([str(torchvision_dir("0.29.1"))])["torchvision"]
    assert "torch (>=2.14.0)" in dist.requires()


# ------------------------------------------------------------ end to end
def _doctor(python: Path, overlay: Path) -> dict[str, list[dict[str, object]]]:
    env = clean_env(PYTHONPATH=f"{REPO}:{overlay}")
    proc = run_envlock(["doctor", "--python", str(python), "--format", "json"], env=env)
    assert proc.returncode in (0, 1), proc.stderr
    out: dict[str, list[dict[str, object]]] = {}
    for finding in json.loads(proc.stdout)["findings"]:
        out.setdefault(str(finding["id"]), []).append(finding)
    return out


def test_doctor_in_cuda_venv_names_torchvision_of_another_release(cuda_python: Path) -> None:
    found = _doctor(cuda_python, torchvision_dir("0.28.0"))
    (fam,) = found["EL-FAMILY-MISMATCH"]
    assert "torchvision 0.28.0 does not match torch 2.14.1+cu130" in str(fam["message"])
    assert str(fam["fix"]).startswith(
        'pip install "torchvision==0.29.*" "torch==2.14.1" --index-url https://download.pytorch.org/whl/cu130'
    )
    abi = found["EL-EXT-TORCH-ABI"]
    assert {Path(str(f["evidence"]["extension.file"])).name for f in abi} >= {"_C.so"}  # type: ignore[index]


def test_doctor_in_cuda_venv_with_matching_torchvision_is_quiet(cuda_python: Path) -> None:
    found = _doctor(cuda_python, torchvision_dir("0.29.1"))
    for check_id in ("EL-FAMILY-MISMATCH", "EL-EXT-TORCH-ABI", "EL-EXT-CUDA-MAJOR"):
        assert check_id not in found


def test_doctor_in_cpu_venv_with_torchvision_for_214(cpu_python: Path) -> None:
    found = _doctor(cpu_python, torchvision_dir("0.29.1"))
    (fam,) = found["EL-FAMILY-MISMATCH"]
    assert "requires torch>=2.14.0" in str(fam["message"])


def test_probe_records_torchs_cxx11_abi_flag(cuda_python: Path) -> None:
    proc = run_envlock(["probe", "--python", str(cuda_python), "--json"])
    assert proc.returncode == 0, proc.stderr
    facts = Facts.from_json(proc.stdout)
    assert facts.torch.live is not None and facts.torch.live.cxx11_abi is True
    assert dataclasses.asdict(facts.extensions)["unavailable"] is None


def test_family_table_refuses_unsourced_or_unknown_rows() -> None:
    import pytest

    from envlock.matrix.family import parse_family
    from envlock.matrix.loader import MatrixError

    sources = {"V"}
    with pytest.raises(MatrixError, match=r"family\[0\].source"):
        parse_family({"family": [{"torch": "2.14", "torchvision": "0.29"}]}, sources)
    with pytest.raises(MatrixError, match="unknown source"):
        parse_family({"family": [{"torch": "2.14", "source": ["N99"]}]}, sources)
    with pytest.raises(MatrixError, match="unknown key"):
        parse_family({"family": [{"torch": "2.14", "torchdata": "0.1", "source": ["V"]}]}, sources)
    with pytest.raises(MatrixError, match="unverified"):
        parse_family(
            {"family": [{"torch": "2.14", "unverified": ["triton"], "source": ["V"]}]}, sources
        )

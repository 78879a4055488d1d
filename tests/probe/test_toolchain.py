"""collect_env parity in the probe: compilers, CPU ISA and NUMA nodes, conda packages,
pip/uv, and CUDA_HOME resolved to the real toolkit directory."""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from envlock.facts import Facts
from envlock.probe import cudalibs, toolchain


def test_compilers_match_what_the_tools_print() -> None:
    facts = toolchain.collect()
    for name in ("gcc", "cmake", "ninja"):
        exe = shutil.which(name)
        if exe is None:
            assert facts["compilers"][name] is None
            continue
        out = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
        assert facts["compilers"][name] is not None
        assert facts["compilers"][name] in out
    assert facts["unavailable"] is None


def test_cpu_isa_and_numa_nodes_from_this_machine() -> None:
    facts = toolchain.collect()
    cpuinfo = Path("/proc/cpuinfo").read_text()
    m = re.search(r"^(?:flags|Features)\s*:\s*(.*)$", cpuinfo, re.M)
    assert m is not None
    assert set(facts["cpu_isa"]) == set(toolchain.ISA_FLAGS) & set(m.group(1).split())
    assert facts["numa_nodes"] == (len(glob.glob("/sys/devices/system/node/node[0-9]*")) or None)


def test_cpu_isa_unreadable_is_not_observed() -> None:
    assert toolchain.cpu_isa(None) is None
    assert toolchain.cpu_isa("processor: 0\n") is None


def test_conda_packages_from_conda_meta_file_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    meta = tmp_path / "conda-meta"
    meta.mkdir()
    for name in (
        "pytorch-2.5.1-py3.11_cuda12.4_cudnn9.1.0_0.json",
        "libgcc-ng-13.2.0-h807b86a_5.json",
        "history",
    ):
        (meta / name).write_text("{}")
    monkeypatch.setenv("CONDA_PREFIX", str(tmp_path))
    facts = toolchain.collect()
    assert facts["conda_prefix"] == str(tmp_path)
    assert facts["conda_packages"] == {
        "pytorch": "2.5.1 py3.11_cuda12.4_cudnn9.1.0_0",
        "libgcc-ng": "13.2.0 h807b86a_5",
    }


def test_toolchain_section_reaches_facts() -> None:
    doc = {"facts_version": 1, "meta": {"envlock_version": "x", "collected_at": "now"}}
    assert Facts.from_dict(doc).toolchain.compilers == {}  # older facts: not observed
    doc["toolchain"] = toolchain.collect()
    assert Facts.from_dict(doc).toolchain.numa_nodes == doc["toolchain"]["numa_nodes"]


def test_cuda_home_is_the_real_toolkit_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tmp_path / "cuda-13.0"
    (real / "include").mkdir(parents=True)
    (real / "include" / "cuda.h").write_text("")
    (tmp_path / "cuda").symlink_to(real)
    monkeypatch.setenv("CUDA_HOME", str(tmp_path / "cuda"))
    monkeypatch.delenv("CUDA_PATH", raising=False)
    assert cudalibs.toolkit_facts()["cuda_home"] == str(real)


def test_nvcc_wrapper_resolves_to_the_toolkit_behind_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """This machine's nvcc is a /usr/local/bin shell wrapper; its parent is no toolkit."""
    nvcc = shutil.which("nvcc")
    if nvcc is None or not os.path.isdir("/usr/local/cuda"):
        pytest.skip("no nvcc / /usr/local/cuda here")
    monkeypatch.delenv("CUDA_HOME", raising=False)
    monkeypatch.delenv("CUDA_PATH", raising=False)
    home = cudalibs.toolkit_facts()["cuda_home"]
    assert home == os.path.realpath("/usr/local/cuda") or home == os.path.dirname(
        os.path.dirname(os.path.realpath(nvcc))
    )
    assert cudalibs.is_toolkit(home)


def test_probe_of_the_cuda_venv_has_xnnpack_and_toolchain(cuda_python: Path) -> None:
    import json

    from tests.conftest import run_envlock

    proc = run_envlock(["probe", "--json", "--python", str(cuda_python)])
    assert proc.returncode == 0, proc.stderr
    facts = Facts.from_dict(json.loads(proc.stdout))
    truth = subprocess.run(
        [str(cuda_python), "-c", "import torch.backends.xnnpack as x; print(x.enabled)"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert facts.torch.live is not None and str(facts.torch.live.xnnpack) == truth
    pip = subprocess.run(
        [str(cuda_python), "-m", "pip", "--version"], capture_output=True, text=True
    ).stdout.split()[1]
    assert facts.toolchain.pip == pip
    assert facts.toolchain.cpu_isa is not None

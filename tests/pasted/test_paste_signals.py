"""Everything a paste says (issue 21 item 4), each rule on a real report where it fires and
one where it does not: torch's own warnings (no driver; a capability warning pasted on
one line behind its `UserWarning:` prefix), "Is CUDA available: False" with the driver
"Could not collect", conda's build strings, and two torch installs (conda and pip).

The reports are in tests/fixtures/pasted_issue21/ (URLs in its sources.json) and the
tuning part of tests/fixtures/collect_env/ (never the held-out part)."""

from __future__ import annotations

import json

import pytest

from envlock.checks import run_checks
from envlock.findings import Finding
from envlock.matrix.builds import conda_torch, two_installs
from envlock.pasted import facts_from_texts
from envlock.pasted.draft import Draft
from envlock.pasted.torch_warnings import torch_warnings
from tests.conftest import REPO

HERE = REPO / "tests" / "fixtures" / "pasted_issue21"
TUNING = REPO / "tests" / "fixtures" / "collect_env"


def _findings(path: str) -> list[Finding]:
    folder = HERE if (HERE / path).exists() else TUNING
    return run_checks(facts_from_texts(collect_env=(folder / path).read_text()))


def _ids(path: str) -> set[str]:
    return {f.check_id for f in _findings(path)}


def test_every_report_here_names_its_public_thread() -> None:
    sources = json.loads((HERE / "sources.json").read_text())["reports"]
    assert set(sources) == {p.name for p in HERE.glob("*.txt")}
    assert all(url.startswith("https://github.com/") for url in sources.values())


def test_torchs_found_no_nvidia_driver_warning_is_no_driver() -> None:
    """pytorch#74733: torch 1.7.0+cu110 printed 'Found no NVIDIA driver on your system'
    into the report, which lists no GPU."""
    (f,) = [f for f in _findings("pytorch-74733.txt") if f.check_id == "EL-NO-DRIVER"]
    assert "Found no NVIDIA driver on your system" in f.message
    # torch 1.7.1's CPU wheel as pytorch.org's page installs it (matrix/indexes.toml [[release]])
    assert f.fix is not None
    assert '"torch==1.7.1+cpu" -f https://download.pytorch.org/whl/torch_stable.html' in f.fix


@pytest.mark.parametrize("quiet", ["pytorch-40682.txt", "lhotse-793.txt", "vllm-12762.txt"])
def test_no_driver_without_torchs_warning_or_with_gpus_listed(quiet: str) -> None:
    """Reports without the warning (lhotse#793 has torch's 'driver too old' one) and with
    their GPUs listed: no EL-NO-DRIVER."""
    assert "EL-NO-DRIVER" not in _ids(quiet)


def test_cuda_false_with_driver_could_not_collect_is_no_driver() -> None:
    """pytorch#77520: torch 1.10.2 (CUDA 11.3), 'Is CUDA available: False', GPU models and
    driver 'Could not collect': nvidia-smi did not run and torch found no device."""
    (f,) = [f for f in _findings("pytorch-77520.txt") if f.check_id == "EL-NO-DRIVER"]
    assert "Could not collect" in f.message and "is_available() is False" in f.message


def test_could_not_collect_on_a_jetson_with_cuda_available_is_quiet() -> None:
    """vllm#5640: a Jetson has no nvidia-smi ('Could not collect') and CUDA is available."""
    assert "EL-NO-DRIVER" not in _ids("vllm-5640-jetson.txt")
    # the same report with CUDA unavailable is still a Jetson: no nvidia-smi there either
    text = (TUNING / "vllm-5640-jetson.txt").read_text()
    text = text.replace("Is CUDA available: True", "Is CUDA available: False")
    ids = {f.check_id for f in run_checks(facts_from_texts(collect_env=text))}
    assert "EL-NO-DRIVER" not in ids


def test_capability_warning_behind_its_prefix_on_one_line() -> None:
    """voice-cloning-app#60 pasted torch's warning on one line, behind '`UserWarning: ':
    the GPU's name is what follows the prefix, and the supported list is read too."""
    d = Draft()
    torch_warnings(
        "`UserWarning: NVIDIA RTX A6000 with CUDA capability sm_86 is not compatible with the "
        "current PyTorch installation. The current PyTorch install supports CUDA capabilities "
        "sm_37 sm_50 sm_60 sm_61 sm_70 sm_75 compute_37.`",
        d,
    )
    assert d.warned_capabilities == {"NVIDIA RTX A6000": "8.6"}
    assert d.live.get("arch_flags") == [
        "sm_37",
        "sm_50",
        "sm_60",
        "sm_61",
        "sm_70",
        "sm_75",
        "compute_37",
    ]
    # SPICE#26: the prefix alone, the list on its own line
    d = Draft()
    for line in (HERE / "spice-26.txt").read_text().splitlines():
        torch_warnings(line, d)
    assert d.warned_capabilities == {"NVIDIA GeForce RTX 3090": "8.6"}


def test_capability_warning_without_a_prefix_is_read_as_before() -> None:
    """pytorch#150733: the warning on its own lines still names the GPU it lists."""
    (f,) = [f for f in _findings("pytorch-150733.txt") if f.check_id == "EL-ARCH-UNSUPPORTED"]
    assert "RTX 5090 D" in f.message


def test_conda_build_strings_are_kept_and_read() -> None:
    """pytorch#28321 and #33469: conda's list keeps each package's build, as the probe's
    conda-meta reading does ("version build"); the pytorch channel's build names its CUDA."""
    facts = facts_from_texts(collect_env=(HERE / "pytorch-28321.txt").read_text())
    conda = facts.toolchain.conda_packages
    assert conda["pytorch"] == "1.3.0 py3.7_cuda10.1.243_cudnn7.6.3_0"
    assert conda["torchvision"] == "0.4.1 py37_cu101"
    built = conda_torch(conda)
    assert built is not None and (built.channel, built.cuda, built.cpu) == (
        "pytorch",
        "10.1",
        False,
    )
    one = facts_from_texts(collect_env=(HERE / "pytorch-33469.txt").read_text())
    built = conda_torch(one.toolchain.conda_packages)
    assert built is not None and built.cuda == "10.0"
    # conda-forge's and the CPU builds (the build strings of pytorch#69202 and conda-forge)
    assert conda_torch({"pytorch": "1.9.0 py3.8_cpu_0"}) is not None
    forge = conda_torch({"pytorch": "2.1.2 cuda120_py311h25b6552_301"})
    assert forge is not None and (forge.channel, forge.cuda) == ("conda-forge", "12.0")
    assert conda_torch({"pytorch": "1.6.0"}) is None  # no build column: not said


def test_two_torch_installs_conda_and_pip() -> None:
    """pytorch#28321: conda's pytorch 1.3.0 and pip's torch 1.2.0 in one environment."""
    (f,) = [f for f in _findings("pytorch-28321.txt") if f.check_id == "EL-TORCH-TWO-INSTALLS"]
    assert "conda's pytorch 1.3.0 (the pytorch channel's CUDA 10.1 build)" in f.message
    assert "pip's torch 1.2.0" in f.message
    assert f.fix is not None and "pip uninstall -y torch" in f.fix


@pytest.mark.parametrize(
    "quiet",
    [
        "pytorch-33469.txt",  # conda's pytorch alone
        "pytorch-43058.txt",  # pip's torch, listed by conda as '<pip>'
        "vllm-18285.txt",  # pip's torch, listed by conda as 'pypi_0 pypi'
        "pytorch-40682.txt",  # pip alone
    ],
)
def test_one_torch_install_is_quiet(quiet: str) -> None:
    assert "EL-TORCH-TWO-INSTALLS" not in _ids(quiet)


def test_pip_lists_condas_pytorch_as_torch_of_the_same_version() -> None:
    # pip's list shows conda's pytorch 1.4.0 as torch 1.4.0: one install
    assert (
        two_installs({"pytorch": "1.4.0 py3.7_cuda10.0.130_cudnn7.6.3_0"}, {"torch": "1.4.0"})
        is None
    )
    both = two_installs({"pytorch": "1.4.0 py3.7_cpu_0", "torch": "1.4.0 pypi_0"}, {})
    assert both == ("1.4.0", "1.4.0")


def _cpu_only(folder_file: str) -> list[Finding]:
    return [f for f in _findings(folder_file) if f.check_id == "EL-TORCH-CPU-ONLY"]


def test_cpu_build_in_a_paste_without_gpu_lines() -> None:
    """pytorch#49325 (torch 1.7.1+cpu, cut before the GPU lines): a warning, the build alone
    says CUDA is unavailable; pytorch#108607 (the conda nightly's CPU build, cut before
    the GPU lines, a CUDA 11.8 toolkit installed): an error."""
    (warned,) = _cpu_only("pytorch-49325.txt")
    assert warned.severity.name == "WARNING" and "does not list the GPUs" in warned.message
    assert warned.fix is not None and "envlock matrix" in warned.fix
    (error,) = _cpu_only("pytorch-108607.txt")
    assert error.severity.name == "ERROR"
    assert "a CUDA toolkit (11.8.89) is installed" in error.message


def test_cpu_build_where_the_paste_says_no_gpu_or_on_a_live_probe_is_quiet() -> None:
    """pytorch#137846: a CPU machine ('No CUDA') with a CPU build: nothing to fix; a live
    probe of the CPU venv (no GPU): the GPU check's own rule, quiet."""
    from tests.facts_builders import cpu_venv

    assert _cpu_only("pytorch-137846.txt") == []
    assert [f for f in run_checks(cpu_venv()) if f.check_id == "EL-TORCH-CPU-ONLY"] == []

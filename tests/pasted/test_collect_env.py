"""The pasted-text parsers on real reports: each layout's fields, and what stays unobserved."""

from __future__ import annotations

import pytest

from envlock.checks import run_checks
from envlock.errors import FactsError
from envlock.pasted import MAX_PASTE_BYTES, facts_from_texts, text_of
from envlock.severity import Severity
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


def parse(name: str) -> object:
    return facts_from_texts(collect_env=(CE / name).read_text(), names={"collect_env": name})


def test_torch_2x_report_with_torchs_own_capability_warning() -> None:
    f = facts_from_texts(collect_env=(CE / "pytorch-150733.txt").read_text())
    assert (f.torch.installed, f.torch.version, f.torch.cuda, f.torch.build) == (
        True,
        "2.6.0+cu126",
        "12.6",
        "cu126",
    )
    assert f.torch.debug is False
    assert f.driver.version == "570.124.04"
    assert f.driver.source == "pasted"
    (gpu,) = f.driver.gpus or []
    assert (gpu.name, gpu.compute_capability) == ("NVIDIA GeForce RTX 5090 D", "12.0")
    assert f.torch.live is not None and f.torch.live.cuda_available is True
    # the arch list torch printed in its warning is the installed torch's own list
    assert f.torch.live.arch_flags == [
        "sm_50",
        "sm_60",
        "sm_70",
        "sm_75",
        "sm_80",
        "sm_86",
        "sm_90",
    ]
    assert f.system.glibc == "2.40"
    assert f.system.kernel == "6.11.0-21-generic"
    assert f.system.arch == "x86_64"
    assert f.system.os is not None and (f.system.os.id, f.system.os.version_id) == (
        "ubuntu",
        "24.10",
    )
    assert f.system.python is not None
    assert (f.system.python.version, f.system.python.implementation) == ("3.12.9", "CPython")
    assert "libcudnn.so.9.8.0" in f.cuda.ldconfig_libraries
    assert f.meta.partial is True


def test_vllm_banner_layout() -> None:
    f = facts_from_texts(collect_env=(CE / "vllm-21310.txt").read_text())
    assert (f.torch.version, f.torch.cuda) == ("2.5.1+cu124", "12.4")
    assert f.system.os is not None
    assert f.system.os.pretty_name == "Red Hat Enterprise Linux release 8.3 (Ootpa)"
    assert f.system.glibc == "2.28"
    # the excerpt ends in the Python section: no driver, no GPUs, nothing guessed
    assert f.driver.version is None and f.driver.gpus is None
    assert f.driver.unavailable == "not in the pasted text"
    assert not [x for x in run_checks(f) if x.severity.name != "INFO"]


def test_torch_1_0_layout_and_old_pip_format() -> None:
    f = facts_from_texts(collect_env=(CE / "maskrcnn-benchmark-141.txt").read_text())
    assert f.torch.version == "1.0.0.dev20181106"
    assert f.torch.cuda == "9.0.176" and f.torch.build == "cu90"
    assert f.packages.distributions == {"numpy": "1.15.1", "torch": "0.4.1"}
    assert [g.name for g in f.driver.gpus or []] == ["GeForce GTX 1080 Ti"] * 2
    assert f.cuda.toolkit is not None and f.cuda.toolkit.nvcc_version == "9.1.85"
    assert f.system.python is not None and f.system.python.implementation == "unknown"


def test_quoted_windows_report() -> None:
    f = facts_from_texts(collect_env=(CE / "pytorch-40682.txt").read_text())
    assert f.system.os is not None and f.system.os.id == "windows"
    assert f.torch.version == "1.5.0+cu101"
    assert [g.name for g in f.driver.gpus or []] == ["TITAN RTX", "TITAN RTX"]
    assert f.driver.version == "442.92"
    assert f.packages.distributions["torchvision"] == "0.6.0+cu101"
    assert "cudnn64_7.dll" in f.cuda.ldconfig_libraries


def test_hand_edited_report() -> None:
    """No colon after 'PyTorch version', full-width colons after 'GPU n'."""
    f = facts_from_texts(collect_env=(CE / "pytorch-37320.txt").read_text())
    assert (f.torch.version, f.torch.cuda) == ("1.5.0", "10.2")
    assert len(f.driver.gpus or []) == 4
    assert f.packages.distributions["torchvision"] == "0.6.0"


def test_could_not_collect_cuda_build_is_a_cpu_build() -> None:
    f = facts_from_texts(collect_env=(CE / "pytorch-122924.txt").read_text())
    assert f.torch.installed and f.torch.cuda is None and f.torch.build == "cpu"
    assert f.system.cpu_model == "13th Gen Intel(R) Core(TM) i9-13980HX"


def test_no_cuda_machine() -> None:
    f = facts_from_texts(collect_env=(CE / "vllm-18285.txt").read_text())
    assert f.torch.cuda is None and f.torch.build == "cpu"
    assert f.driver.gpus == []
    assert f.system.os is not None and f.system.os.id == "macos"


def test_torchs_driver_warning_gives_the_drivers_cuda() -> None:
    f = facts_from_texts(collect_env=(CE / "lhotse-793.txt").read_text())
    assert f.driver.cuda_version == "9.1"
    assert f.driver.version is None


def test_lscpu_block() -> None:
    f = facts_from_texts(collect_env=(CE / "vllm-12378.txt").read_text())
    assert f.system.cpu_count == 128
    assert f.system.cpu_model == "AMD EPYC 7713 64-Cor"  # the excerpt ends there


def test_environment_block_keeps_allowed_names_and_withholds_secrets() -> None:
    # vLLM prints the variables after its GPU topology (vllm-project/vllm#9293)
    text = (CE / "vllm-3842.txt").read_text() + (
        "\nVersions of relevant libraries:\n[pip3] torch==2.1.2\n"
        "ROCM Version: Could not collect\nvLLM Version: 0.4.0\n"
        "GPU Topology:\nGPU0\t X \t0-255\t0\t\tN/A\n\n"
        "NCCL_DEBUG=INFO\nHF_TOKEN=hf_abcdefghijklmnopqrstuvwx\n"
        "PIP_INDEX_URL=https://user:s3cret@pypi.example/simple\nHOME=/home/alice\n"
    )
    f = facts_from_texts(collect_env=text)
    assert f.env.variables["NCCL_DEBUG"] == "INFO"
    assert "HF_TOKEN" in f.env.redacted and "HF_TOKEN" not in f.env.variables
    assert "s3cret" not in f.env.variables["PIP_INDEX_URL"]


def test_a_commands_assignment_prefix_is_not_the_environment() -> None:
    # LlamaFactory-4236 (hiyouga/LlamaFactory#4236): the reporter's launch command
    # `CUDA_VISIBLE_DEVICES=1 llamafactory-cli train \` once read as the variable's value
    # '1 llamafactory-cli train \' (EL-VISIBLE-DEVICES-INVALID on a healthy report)
    f = parse("LlamaFactory-4236.txt")
    assert "CUDA_VISIBLE_DEVICES" not in f.env.variables
    assert not [x.check_id for x in run_checks(f) if x.severity is Severity.ERROR]
    # a value's own blanks stay: NVIDIA's image variable (vllm-16588) and an arch list
    f = parse("vllm-16588.txt")
    assert f.env.variables["NVIDIA_REQUIRE_CUDA"].startswith("cuda>=11.4 brand=tesla,")
    report = (CE / "pytorch-150733.txt").read_text()
    for line, value in (
        ("TORCH_CUDA_ARCH_LIST=7.0 7.5+PTX", "7.0 7.5+PTX"),
        ("CUDA_VISIBLE_DEVICES=0,1", "0,1"),
        ("CUDA_VISIBLE_DEVICES=0,1 torchrun --nproc-per-node 2 train.py", None),
        ("NCCL_DEBUG=INFO python -m torch.distributed.run train.py", None),
    ):
        got = facts_from_texts(collect_env=report + "\n" + line + "\n").env.variables
        assert got.get(line.split("=")[0]) == value, line

    assert "HOME" not in f.env.variables


def test_a_value_that_does_not_parse_is_not_observed() -> None:
    text = (
        (CE / "pytorch-43058.txt")
        .read_text()
        .replace("PyTorch version: 1.6.0", "PyTorch version: see below")
    )
    f = facts_from_texts(collect_env=text)
    assert f.torch.installed is False and f.torch.version is None
    assert f.torch.unavailable == "not in the pasted text"
    ids = {x.check_id for x in run_checks(f)}
    assert "EL-DRIVER-TOO-OLD" not in ids and "EL-TORCH-MISSING" not in ids


def test_cuda_build_unknown_is_not_guessed() -> None:
    """A version without +cuXY and no 'CUDA used to build' line (cut off): unknown."""
    f = facts_from_texts(collect_env="PyTorch version: 2.4.0\nIs debug build: False\n")
    assert f.torch.installed is False
    assert f.torch.unavailable == "the report does not say which CUDA torch was built with"
    assert "EL-TORCH-CPU-ONLY" not in {x.check_id for x in run_checks(f)}


def test_nvidia_smi_pasted_next_to_the_report_is_read() -> None:
    f = facts_from_texts(collect_env=(CE / "pytorch-43058.txt").read_text())
    assert f.driver.cuda_version == "10.1"
    assert any("nvidia-smi output found" in n for n in f.meta.notes)


def test_nvidia_smi_table_old_and_new() -> None:
    smi = FIXTURES / "nvidia_smi"
    f = facts_from_texts(nvidia_smi=(smi / "3d-sis-13.txt").read_text())
    assert (f.driver.version, f.driver.cuda_version) == ("418.67", "10.1")
    (gpu,) = f.driver.gpus or []
    assert gpu.name is None  # "Tesla P100-PCIE..." is cut by the table: not a model name
    assert (gpu.pci_bus_id, gpu.persistence_mode) == ("00000000:00:04.0", False)
    assert gpu.memory_total_bytes == 16280 * 2**20
    assert f.torch.unavailable == "not in the pasted text"
    g = facts_from_texts(nvidia_smi=(smi / "pytorch-45028.txt").read_text())
    (a100,) = g.driver.gpus or []
    assert (a100.name, a100.persistence_mode) == ("A100-SXM4-40GB", True)


def test_nvidia_smi_query_layout() -> None:
    text = (
        "==============NVSMI LOG==============\n\n"
        "Driver Version                            : 535.104.05\n"
        "CUDA Version                              : 12.2\n\n"
        "Attached GPUs                             : 1\n"
        "GPU 00000000:07:00.0\n"
        "    Product Name                          : NVIDIA A100-SXM4-80GB\n"
        "    Product Brand                         : NVIDIA\n"
        "    Persistence Mode                      : Enabled\n"
        "    MIG Mode\n"
        "        Current                           : Disabled\n"
        "        Pending                           : Disabled\n"
        "    GPU UUID                              : GPU-2b5c1d3e-aaaa-bbbb-cccc-0123456789ab\n"
        "    FB Memory Usage\n"
        "        Total                             : 81920 MiB\n"
    )
    f = facts_from_texts(nvidia_smi=text)
    assert (f.driver.version, f.driver.cuda_version) == ("535.104.05", "12.2")
    (gpu,) = f.driver.gpus or []
    assert gpu.name == "NVIDIA A100-SXM4-80GB"
    assert (gpu.persistence_mode, gpu.mig_mode) == (True, False)
    assert gpu.memory_total_bytes == 81920 * 2**20
    assert gpu.uuid == "GPU-2b5c1d3e-aaaa-bbbb-cccc-0123456789ab"


def test_pip_freeze_of_a_real_venv() -> None:
    f = facts_from_texts(pip_freeze=(FIXTURES / "pip_freeze" / "torch-cpu-venv.txt").read_text())
    assert f.packages.distributions["torch"] == "2.13.0+cpu"
    assert (f.torch.installed, f.torch.cuda, f.torch.build) == (True, None, "cpu")
    g = facts_from_texts(pip_freeze=(FIXTURES / "pip_freeze" / "torch-cuda-venv.txt").read_text())
    assert g.packages.distributions["torch"] == "2.14.1"
    # a plain 2.14.1 does not say its CUDA: not guessed
    assert g.torch.installed is False and g.torch.unavailable
    assert {w.name for w in g.cuda.wheels} >= {"nvidia-cudnn-cu13", "nvidia-cublas"}
    assert next(w for w in g.cuda.wheels if w.name == "nvidia-cudnn-cu13").cuda_major == 13


def test_sources_combine() -> None:
    f = facts_from_texts(
        collect_env=(CE / "vllm-3842.txt").read_text(),
        pip_freeze=(FIXTURES / "pip_freeze" / "torch-cuda-venv.txt").read_text(),
    )
    assert f.torch.version == "2.1.2+cu121"  # collect_env's, not the freeze's
    assert "triton" in f.packages.distributions
    assert "collect-env" in f.meta.target and "pip-freeze" in f.meta.target


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4, "not text (binary data)"),
        (bytes(range(128, 256)) * 64, "not text (not UTF-8)"),
        (b"x" * (MAX_PASTE_BYTES + 1), "larger than 16 MiB"),
    ],
)
def test_bad_bytes_are_one_line(data: bytes, message: str) -> None:
    with pytest.raises(FactsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        text_of(data, "--collect-env X")


def test_text_without_any_field_is_refused() -> None:
    with pytest.raises(FactsError, match="no collect_env fields found"):
        facts_from_texts(collect_env="hello\nworld\n")
    with pytest.raises(FactsError, match="no nvidia-smi output found"):
        facts_from_texts(nvidia_smi="Mon Jan  1 00:00:00 2024\n")
    with pytest.raises(FactsError, match="no 'name==version' lines"):
        facts_from_texts(pip_freeze="-e git+https://example/x.git#egg=x\n")


def test_utf16_paste_from_powershell() -> None:
    raw = (CE / "pytorch-51858.txt").read_text().encode("utf-16")
    f = facts_from_texts(collect_env=text_of(raw, "x"))
    assert f.torch.version == "2.0.1+cu117"


def test_every_prefix_of_a_report_parses_or_is_refused_in_one_line() -> None:
    """A report cut anywhere (mid-line too) gives partial facts or one FactsError."""
    text = (CE / "vllm-13497.txt").read_text()
    for cut in range(0, len(text), 7):
        try:
            facts_from_texts(collect_env=text[:cut])
        except FactsError as exc:
            assert "\n" not in str(exc)


def test_toolchain_from_the_report() -> None:
    """collect_env's GCC/Clang/CMake lines, lscpu's NUMA line and the [conda] list."""
    f = facts_from_texts(collect_env=(CE / "vllm-12378.txt").read_text())
    assert f.toolchain.compilers == {"gcc": "8.4.1", "cmake": "3.18.2"}
    assert f.toolchain.numa_nodes == 4
    g = facts_from_texts(collect_env=(CE / "pytorch-40682.txt").read_text())
    # "version build", as the probe records conda-meta's file names
    assert g.toolchain.conda_packages["mkl"] == "2019.4 245"
    assert g.toolchain.compilers == {"gcc": "9.2.0"}


def test_xnnpack_line() -> None:
    f = facts_from_texts(collect_env=(CE / "vllm-9293.txt").read_text())
    assert f.torch.live is not None and f.torch.live.xnnpack is True


@pytest.mark.parametrize(
    ("name", "version_id"), [("vllm-23153.txt", "10"), ("vllm-windows-71.txt", "11")]
)
def test_windows_read_from_python_platform_where_os_is_not_collected(
    name: str, version_id: str
) -> None:
    """vLLM's collect_env on Windows says 'OS : Could not collect' (it asks lsb_release), yet
    'Python platform : Windows-10-10.0.26100-SP0' names the system: read as Windows, so the
    fixes speak its shell (checks/shells.py)."""
    f = facts_from_texts(collect_env=(CE / name).read_text())
    assert f.system.os is not None and f.system.os.id == "windows"
    assert f.system.os.version_id == version_id


def test_a_collected_os_is_not_overridden_by_the_platform_line() -> None:
    text = (CE / "vllm-windows-71.txt").read_text()
    edited = text.replace("Could not collect\nGCC", "Microsoft Windows 11 Pro\nGCC", 1)
    assert edited != text
    f = facts_from_texts(collect_env=edited)
    assert f.system.os is not None and f.system.os.pretty_name == "Microsoft Windows 11 Pro"


def test_a_line_that_names_a_mac_is_macos() -> None:
    # textgen-552 (oobabooga/text-generation-webui#552): 'M1 MACOS' under System Info with
    # torch's 'Torch not compiled with CUDA enabled': no CUDA build of torch exists for
    # macOS, so no EL-TORCH-CPU-ONLY error (it once said "install a CUDA build of torch")
    f = parse("textgen-552.txt")
    assert f.system.os is not None and f.system.os.id == "macos"
    assert not [x.check_id for x in run_checks(f) if x.severity is Severity.ERROR]
    message = "AssertionError: Torch not compiled with CUDA enabled\n"
    for line, mac in (
        ("macOS 14.2 (Apple M3 Max)", True),
        ("- MacBook Pro M2", True),
        ("sys.platform: darwin", True),
        ("It works on my MacBook, not on the server", False),
        ("Is this fixed on macOS?", False),
        ("Ubuntu 22.04", False),
    ):
        f = facts_from_texts(collect_env=message + line + "\n")
        assert (f.system.os is not None and f.system.os.id == "macos") is mac, line
        errors = [x.check_id for x in run_checks(f) if x.severity is Severity.ERROR]
        assert errors == ([] if mac else ["EL-TORCH-CPU-ONLY"]), line
    # collect_env's own OS line wins over a Mac named elsewhere in the paste
    report = (CE / "pytorch-150733.txt").read_text()
    f = facts_from_texts(collect_env="MacBook Pro M2\n" + report)
    assert f.system.os is not None and f.system.os.id != "macos"

"""A line that starts with what a reader reads at a line's start is never a hard wrap's rest
(envlock/pasted/line_starts.py): the layout step keeps it a line of its own however wide
the line before it, where it used to join the two as a terminal's cut. Each case is a
tuning report's real line (the corpus file named) or a tool's own output; beside them, a
cut whose rest starts elsewhere is still joined."""

from __future__ import annotations

import pytest

from envlock.pasted.dsreport import read_ds_report
from envlock.pasted.layout import undo_layout
from envlock.pasted.line_starts import starts_line
from envlock.pasted.trainerenv import read_ultralytics
from tests.conftest import FIXTURES
from tests.pasted.test_framework_reports import DS_REPORT

CE = FIXTURES / "collect_env"


def _lines(name: str) -> list[str]:
    return undo_layout((CE / name).read_text()).text.split("\n")


@pytest.mark.parametrize(
    ("name", "line"),
    [
        # Ultralytics' device lines of two runs (the widest line's next)
        ("ultralytics-1495.txt", "Ultralytics YOLOv8.0.54 Python-3.10.6 torch-2.0.0+cpu CPU"),
        # checks()' line after the device line
        (
            "ultralytics-18218.txt",
            "Setup complete \u2705 (12 CPUs, 62.7 GB RAM, 287.8/456.3 GB disk)",
        ),
        (
            "ultralytics-16885.txt",
            "Setup complete \u2705 (12 CPUs, 31.8 GB RAM, 1621.3/1863.0 GB disk)",
        ),
        # nvidia-smi topo's legend and rows in collect_env's topology block
        (
            "vllm-16880.txt",
            "  PHB  = Connection traversing PCIe as well as a PCIe Host Bridge (typically the CPU)",
        ),
        ("sglang-25073.txt", "  X    = Self"),
        (
            "vllm-9556.txt",
            "GPU1    NODE     X      NODE    NODE    SYS     SYS     SYS     SYS     0-47,96-143     0               N/A",
        ),
        # a logger's rank and level, Python's exception and warning lines
        ("LlamaFactory-6878.txt", "[rank0]: KeyError: 'user'"),
        ("MiniGPT-4-50.txt", "AssertionError: Torch not compiled with CUDA enabled"),
        ("mmcv-2038.txt", "    RuntimeError:"),
        # nvcc -V's banner after the shell prompt that ran it
        ("gaussian-splatting-605.txt", "nvcc: NVIDIA (R) Cuda compiler driver"),
        # a whole line: a traceback frame's code after it, nvidia-smi's table after its rule
        ("LAVIS-91.txt", "    return func(*args, **kwargs)"),
        (
            "ONE-PEACE-60.txt",
            "    raise RuntimeError(CUDA_MISMATCH_MESSAGE.format(cuda_str_version, torch.version.cuda))",
        ),
        # torch's warning header, its message on the next line (was joined without a blank)
        (
            "ComfyUI-7127.txt",
            "NVIDIA GeForce RTX 5070 Ti with CUDA capability sm_120 is not compatible with the current PyTorch installation.",
        ),
        (
            "Fooocus-1313.txt",
            "| NVIDIA-SMI 470.86       Driver Version: 470.86       CUDA Version: 11.4",
        ),
    ],
)
def test_a_readers_line_start_is_never_a_wraps_rest(name: str, line: str) -> None:
    assert line in _lines(name)


def test_two_device_lines_stay_two_and_the_last_is_read() -> None:
    lines = _lines("ultralytics-1495.txt")
    assert lines[0].endswith("8192MiB)") and lines[1].startswith("Ultralytics YOLOv8.0.54 ")
    reading = read_ultralytics("\n".join(lines))
    assert reading is not None and reading.fields["PyTorch version"] == "2.0.0+cpu"


def test_ds_reports_heading_and_rows_are_never_a_wraps_rest() -> None:
    # DeepSpeed's accelerator log line above the general environment info, the widest line
    log = (
        "[2024-06-01 10:00:00,000] [INFO] [real_accelerator.py:203:get_accelerator] "
        "Setting ds_accelerator to cuda (auto detect)"
    )
    text = f"{log}\n{DS_REPORT}"
    assert undo_layout(text).text == text
    reading = read_ds_report(undo_layout(text).text)
    assert reading is not None and reading.fields["PyTorch version"] == "2.3.0+cu121"


@pytest.mark.parametrize(
    "line",
    [
        "DeepSpeed general environment info:",
        "shared memory (/dev/shm) size .... 125.77 GB",
        "cpu_adam ............... [YES] ...... [OKAY]",
        "Ultralytics 8.3.16 \U0001f680 Python-3.10.14 torch-2.0.1+cu118 CUDA:0 (NVIDIA GeForce RTX 4090, 24215MiB)",
        "Using torch 1.7.0 CUDA:0 (Tesla V100-SXM2-16GB, 16130MB)",
        "## Environment",
        "- GPU: NVIDIA A100",
        "NIC0: mlx5_0",
        "INFO:     Started server process [1]",
        "[WARNING]  async_io requires the dev libaio .so object and headers but these were not found.",
        "WARNING[XFORMERS]: xFormers can't load C++/CUDA extensions.",
        "22:47:27-892572 INFO     Torch 2.1.0+cu121",
        "Traceback (most recent call last):",
        '  File "/usr/lib/python3.10/runpy.py", line 196, in _run_module_as_main',
        "torch.cuda.OutOfMemoryError: CUDA out of memory.",
    ],
)
def test_what_starts_a_line(line: str) -> None:
    assert starts_line(line)


@pytest.mark.parametrize(
    "rest",
    [
        "4090, 24215MiB)",  # a device line's rest
        "n64_7.dll",  # a cuDNN file name cut at a column (pytorch-31876)
        "(clang-1500.1.0.2.5)] (64-bit runtime)",  # sys.version's own break (pytorch-121067)
        "rning: Failed to read commit hash",  # a warning cut mid-word
        "the CPU)",  # the legend's wrapped words
        "torch 2.3, cuda 12.1",
        "Error handling is done",
    ],
)
def test_a_cuts_rest_is_no_line_start(rest: str) -> None:
    assert not starts_line(rest)


def test_a_cut_whose_rest_starts_elsewhere_is_still_joined() -> None:
    banner = (CE / "ultralytics-18218.txt").read_text().split("\n")[1]
    assert banner.startswith("Ultralytics 8.3.16") and len(banner) > 80
    cut = "\n".join([banner[:80], banner[80:], banner[:80], banner[80:]])
    assert undo_layout(cut).text.split("\n") == [banner, banner]


def test_a_flattened_paste_is_split_before_each_readers_line_start() -> None:
    """Ultralytics' device line and checks()' 'Setup complete' flattened onto one line (an
    issue digest): split before each, so the device line ends where select_device ended it."""
    text = " ".join((CE / "ultralytics-18218.txt").read_text().split("\n")[:4])
    lines = undo_layout(text).text.split("\n")
    assert lines[1].startswith("Ultralytics 8.3.16 ") and lines[1].endswith("24215MiB)")
    assert lines[2].startswith("Setup complete ")
    reading = read_ultralytics(undo_layout(text).text)
    assert reading is not None and reading.gpus == {0: "NVIDIA GeForce RTX 4090"}


def test_a_windows_paths_double_underscore_is_a_folders() -> None:
    """Markdown escapes every "_": a backslash before two is a path's ('torch\\cuda\\__init__.py',
    GPT-SoVITS-2478's torch warning), one before one may be an escape ('cudnn64\\_7.dll')."""
    line = "D:\\app\\runtime\\lib\\site-packages\\torch\\cuda\\__init__.py:173: UserWarning:"
    assert undo_layout(line).text == line
    assert "torch\\cuda\\__init__.py:173:" in "\n".join(_lines("GPT-SoVITS-2478.txt"))
    escaped = "C:\\CUDA\\bin\\cudnn64\\_7.dll"
    assert undo_layout(escaped).text == "C:\\CUDA\\bin\\cudnn64_7.dll"

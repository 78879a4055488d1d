"""torch's own checks quoted in a paste beside a launcher's torch line (session 9's held-out
misses): torch/backends/cudnn/__init__.py's 'cuDNN version incompatibility: PyTorch was
compiled  against (8, 7, 0) but found runtime version (8, 2, 4)' inside kohya_ss's log
(kohya_ss-1096), read as the cuDNN torch loaded; beside each, a text where it must not fire."""

from __future__ import annotations

from envlock.checks import run_checks
from envlock.pasted.launchlog import read_launch_log
from envlock.pasted.trainerenv import read_lightning, read_ultralytics
from tests.conftest import FIXTURES
from tests.pasted.test_framework_reports import _errors, _facts, _top

CE = FIXTURES / "collect_env"

# torch >= 2.0's message (two spaces before 'against' are torch's own), and torch 1.x's
# 'but linked against' form, both with cuDNN's version as a tuple
CUDNN_NEW = (
    "RuntimeError: cuDNN version incompatibility: PyTorch was compiled  against (8, 9, 2) but "
    "found runtime version (8, 4, 0). PyTorch already comes bundled with cuDNN. One option to "
    "resolving this error is to ensure PyTorch can find the bundled cuDNN. Looks like your "
    "LD_LIBRARY_PATH contains incompatible version of cudnn. Please either remove it from the "
    "path or install cudnn (8, 9, 2)"
)
CUDNN_OLD = (
    "RuntimeError: cuDNN version incompatibility: PyTorch was compiled against (8, 3, 2) but "
    "linked against (8, 2, 1)"
)


def test_kohya_log_reads_torch_through_a_glued_line_and_the_cudnn_torch_found() -> None:
    text = (CE / "kohya_ss-1096.txt").read_text()
    reading = read_launch_log(text)
    assert reading is not None and reading.fields["PyTorch version"] == "2.0.1+cu118"
    facts = _facts(text)
    assert facts.torch.live is not None and facts.torch.live.cudnn_version == "8.2.4"
    assert _top(text) == "EL-CUDNN-INCOMPATIBLE"


def test_torch_cudnn_message_beside_a_torch_line_fires_in_both_forms() -> None:
    for message, runtime in ((CUDNN_NEW, "8.4.0"), (CUDNN_OLD, "8.2.1")):
        text = f"17:22:49-350014 INFO     Torch 2.1.0+cu121\n{message}\n"
        facts = _facts(text)
        assert facts.torch.live is not None and facts.torch.live.cudnn_version == runtime
        assert "EL-CUDNN-INCOMPATIBLE" in _errors(text)


def test_a_healthy_kohya_log_and_the_message_named_in_prose_read_no_cudnn() -> None:
    healthy = (
        "17:22:43-020113 INFO     Version: v21.7.16\n"
        "17:22:49-350014 INFO     Torch 2.0.1+cu118\n"
        "17:22:49-400000 INFO     Torch backend: nVidia CUDA 11.8 cuDNN 8700\n"
    )
    prose = (
        healthy
        + "I used to get 'cuDNN version incompatibility: PyTorch was compiled against' here\n"
    )
    for text in (healthy, prose):
        facts = _facts(text)
        assert facts.torch.version == "2.0.1+cu118"
        assert facts.torch.live is None or facts.torch.live.cudnn_version is None
        assert "EL-CUDNN-INCOMPATIBLE" not in _errors(text)


# ------------------------------------------------- torch's driver warning beside YOLOv5's banner
# YOLOv5 before 2021's 'Python-3.x torch-X' format (utils/torch_utils.select_device:
# f'YOLOv5 {git_describe() or date_modified()} torch {torch.__version__} ', then CPU or one
# 'CUDA:n (name, MB)' per device); torch's warning raised in c10/cuda from pytorch/builder's
# Linux wheel build root (/pytorch/): an untagged release there is PyPI's default variant
# (the finding, EL-DRIVER-TOO-OLD, waits on checks/driver.py: a 10.1 driver under CUDA 10.2 is
# judged minor-version compatible, which begins with CUDA 11: /work/notes/s9/H1-to-lead.txt)
def test_yolov5_old_banner_and_torch_driver_warning_read_a_cu102_wheel_and_a_cuda_10_1_driver() -> (
    None
):
    text = (CE / "yolov5-2389.txt").read_text()
    facts = _facts(text)
    assert facts.torch.version == "1.7.1" and facts.torch.cuda == "10.2"
    assert facts.driver.cuda_version == "10.1"
    driver = {f.check_id for f in run_checks(facts)} & {
        "EL-DRIVER-MINOR-COMPAT",
        "EL-DRIVER-TOO-OLD",
    }
    assert driver


WARNING_AT = (
    "UserWarning: CUDA initialization: The NVIDIA driver on your system is too old (found "
    "version 10010). Please update your GPU driver by downloading and installing a new version "
    "from the URL: http://www.nvidia.com/Download/index.aspx Alternatively, go to: "
    "https://pytorch.org to install a PyTorch version that has been compiled with your version "
    "of the CUDA driver. (Triggered internally at  {root}/c10/cuda/CUDAFunctions.cpp:100.)\n"
    "  return torch._C._cuda_getDeviceCount() > 0\n"
)


def test_a_conda_build_or_a_tagged_wheel_is_not_taken_for_pypis_default() -> None:
    conda = WARNING_AT.format(root="/opt/conda/conda-bld/pytorch_1607370117127/work")
    text = conda + "YOLOv5 v4.0-14-gb75c432 torch 1.7.1 CPU\n"
    facts = _facts(text)
    assert facts.torch.version == "1.7.1" and facts.torch.cuda is None
    # no build is guessed for the conda torch; torch's own word still says its CUDA is newer
    # than the 10.1 driver's, whichever build it is (session 13: mmdetection-6049's class)
    (driver,) = [f for f in run_checks(facts) if f.check_id == "EL-DRIVER-TOO-OLD"]
    assert "torch's own check says" in driver.message and "CUDA 10.2" not in driver.message
    tagged = WARNING_AT.format(root="/pytorch") + "YOLOv5 v4.0-14-gb75c432 torch 1.7.1+cu101 CPU\n"
    assert _facts(tagged).torch.cuda == "10.1"
    assert "EL-DRIVER-TOO-OLD" not in _errors(tagged)


def test_yolov5_old_banner_with_a_cuda_device_is_healthy() -> None:
    lead = "YOLOv5 v4.0-14-gb75c432 torch 1.7.1+cu110 "
    both = f"{lead}CUDA:0 (Tesla T4, 15079MB)\n{' ' * len(lead)}CUDA:1 (Tesla T4, 15079MB)\n"
    reading = read_ultralytics(both)
    assert reading is not None and reading.gpus == {0: "Tesla T4", 1: "Tesla T4"}
    text = f"{lead}CUDA:0 (Tesla T4, 15079MB)\n"
    facts = _facts(text)
    assert facts.torch.version == "1.7.1+cu110"
    assert [g.name for g in facts.driver.gpus or []] == ["Tesla T4"]
    assert _errors(text) == []


# ------------------------------------------- Lightning's list with its indentation collapsed
# (helper H3's patch to trainerenv.py: a rendered page's '- GPU: None' at column 0, a list
# bulleted or indented again; lightning-18803 under test_layouts' layouts)
def test_lightning_list_reads_without_its_tab_indentation_and_not_from_bare_keys() -> None:
    collapsed = (
        "* CUDA:\n- GPU: None\n- available: False\n- version: 11.8\n* Lightning:\n- torch: 2.1.0\n"
    )
    reading = read_lightning(collapsed)
    assert reading is not None
    assert reading.fields == {
        "PyTorch version": "2.1.0",
        "Is CUDA available": "False",
        "CUDA used to build PyTorch": "11.8",
    }
    assert read_lightning("Platform: docker\navailable: False\ntorch: 2.1.0\n") is None

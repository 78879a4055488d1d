"""Hand-filled environment checklists of PyTorch's old bug-report template and its copies
(envlock/pasted/templenv.py, issue 21), pasted to `doctor --collect-env`: the lines it states
are read as collect_env's, placeholders and ambiguous lines are not, and the checks judge them.

The lists are the threads' own text where the thread has one; where a thread's template section
is not recorded, the list is PyTorch's bug-report.md checklist filled with the facts the thread
states (said at each)."""

from __future__ import annotations

import pytest

from envlock.checks import run_checks
from envlock.errors import FactsError
from envlock.facts import Facts
from envlock.findings import Finding, Severity
from envlock.pasted import facts_from_texts
from envlock.pasted.templenv import read_template
from tests.conftest import FIXTURES

# facebookresearch/fairseq#4234 (its template, filled): the PyTorch line without its colon (a
# blank line's blank dropped here)
FAIRSEQ_4234 = """### Environment

 - fairseq Version: 0.10.2
 - PyTorch Version ('1.10.2+cu113')
 - OS : Windows 10

 - Python version: 3.9
 - CUDA/cuDNN version: 11.3
 - GPU models and configuration: rtx 3060ti
"""
# facebookresearch/fairseq#4326: "PyTorch Version 1.11"; the install line is fairseq's (its
# empty lines' trailing blanks dropped here)
FAIRSEQ_4326 = """### Environment

 - fairseq Version : main
 - PyTorch Version 1.11
 - OS (e.g., Linux): ubauntu20.04
 - How you installed fairseq (`pip`, source): pip
 - Build command you used (if compiling from source):
 - Python version:
 - CUDA/cuDNN version:
"""
# facebookresearch/fairseq#2769, pytorch/pytorch#46431: the template left as it came
FAIRSEQ_2769 = """### Environment

 - fairseq Version (e.g., 1.0 or master):
 - PyTorch Version (e.g., 1.0)
 - OS (e.g., Linux):
 - How you installed fairseq (`pip`, source):
 - Build command you used (if compiling from source):
 - Python version:
 - CUDA/cuDNN version:
 - GPU models and configuration:
 - Any other relevant information:
"""
PYTORCH_46431 = """## Environment

 - PyTorch Version (e.g., 1.0):
 - OS (e.g., Linux):
 - How you installed PyTorch (`conda`, `pip`, source):
 - Build command you used (if compiling from source):
 - Python version:
 - CUDA/cuDNN version:
 - GPU models and configuration:
 - Any other relevant information:
"""
# pytorch/pytorch#52736: its description (torch's own warning) and, below it, the template's
# checklist with the thread's facts: torch 1.7.1 (pip's, "installed with CUDA 10.2"), Python
# 3.6 (its site-packages path), a GeForce RTX 3070
PYTORCH_52736 = (
    (
        "PyTorch 1.7.1 installed with CUDA 10.2 on a Geforce RTX 3070 produces `CUDA error: "
        "no kernel image is available for execution on the device`\n"
    )
    + """
GeForce RTX 3070 with CUDA capability sm_86 is not compatible with the current PyTorch installation.
The current PyTorch install supports CUDA capabilities sm_37 sm_50 sm_60 sm_70 sm_75.

## Environment

 - PyTorch Version (e.g., 1.0): 1.7.1
 - OS (e.g., Linux):
 - How you installed PyTorch (`conda`, `pip`, source): pip
 - Build command you used (if compiling from source):
 - Python version: 3.6
 - CUDA/cuDNN version: 10.2
 - GPU models and configuration: GeForce RTX 3070
 - Any other relevant information:
"""
)


def _checklist(torch: str, install: str, os_name: str, gpus: str, cuda: str = "") -> str:
    """PyTorch's bug-report.md checklist, filled."""
    return f"""## Environment

 - PyTorch Version (e.g., 1.0): {torch}
 - OS (e.g., Linux): {os_name}
 - How you installed PyTorch (`conda`, `pip`, source): {install}
 - Build command you used (if compiling from source):
 - Python version: 3.7
 - CUDA/cuDNN version: {cuda}
 - GPU models and configuration: {gpus}
 - Any other relevant information:
"""


# yuhongtian17/Spatial-Transform-Decoupling#14: "GPU3090 ... pytorch: python=3.7
# pytorch==1.7.0 cudatoolkit=10.1 torchvision -c pytorch", then no kernel image on the device
STD_14_COMMAND = (
    "conda create -n std python=3.7 pytorch==1.7.0 cudatoolkit=10.1 torchvision -c pytorch"
)


def _facts(text: str) -> Facts:
    return facts_from_texts(collect_env=text)


def _findings(text: str) -> list[Finding]:
    return run_checks(_facts(text))


def _errors(text: str) -> list[str]:
    return [f.check_id for f in _findings(text) if f.severity is Severity.ERROR]


def test_fairseq_list_reads_torch_os_and_python_and_stays_quiet() -> None:
    # before templenv: 'no collect_env fields found'
    facts = _facts(FAIRSEQ_4234)
    assert facts.torch.version == "1.10.2+cu113"
    assert facts.torch.cuda == "11.3"  # from the version's own tag
    assert facts.system.os is not None and facts.system.os.id == "windows"
    assert facts.system.python is not None and facts.system.python.version == "3.9"
    # "rtx 3060ti" is no name the GPU table knows as written; pasted/prose reads it (a series
    # word glued to its number and suffix, session 11) beside the list's torch
    assert [g.name for g in facts.driver.gpus or []] == ["NVIDIA RTX 3060 Ti"]
    assert _errors(FAIRSEQ_4234) == []


def test_fairseq_list_without_colon_reads_torch_but_not_fairseqs_install() -> None:
    reading = read_template(FAIRSEQ_4326)
    assert reading is not None
    assert reading.fields == {"PyTorch version": "1.11"}  # 'ubauntu20.04' names no OS
    assert _errors(FAIRSEQ_4326) == []


@pytest.mark.parametrize("text", [FAIRSEQ_2769, PYTORCH_46431], ids=["fairseq", "pytorch"])
def test_placeholders_are_no_values(text: str) -> None:
    assert read_template(text) is None
    with pytest.raises(FactsError, match="no collect_env fields found"):
        _facts(text)


def test_torchs_warning_beside_the_list_names_the_torch_that_has_no_kernels() -> None:
    # pytorch-52736: the warning alone fires with "its version not given"; the list names 1.7.1
    arch = [f for f in _findings(PYTORCH_52736) if f.check_id == "EL-ARCH-UNSUPPORTED"]
    assert len(arch) == 1
    assert arch[0].evidence["torch.version"] == "1.7.1"
    facts = _facts(PYTORCH_52736)
    assert facts.system.python is not None and facts.system.python.version == "3.6"
    # "CUDA/cuDNN version: 10.2" written by hand is not torch's CUDA
    assert facts.torch.cuda is None


def test_pytorch_channel_cudatoolkit_on_linux_is_torchs_cuda_and_fires_on_a_3090() -> None:
    # Spatial-Transform-Decoupling#14's command and GPU (the thread names no OS: "Ubuntu 20.04"
    # is this test's, the Linux the rule asks for): the pytorch channel's 1.7.0 for cudatoolkit
    # 10.1 is its cu101 build (sm_37..sm_75), and the 3090 (sm_86) got no kernel image
    text = _checklist("1.7.0", STD_14_COMMAND, "Ubuntu 20.04", "RTX 3090", cuda="12.4")
    facts = _facts(text)
    assert facts.torch.cuda == "10.1"
    assert [g.name for g in facts.driver.gpus or []] == ["RTX 3090"]
    assert "EL-ARCH-UNSUPPORTED" in _errors(text)


def test_the_same_command_without_the_os_says_no_build() -> None:
    # conda's solver falls back to a CPU build where the variant is missing for the OS
    # (pytorch#92273, conda#11001): without the OS the command says no CUDA
    text = _checklist("1.7.0", STD_14_COMMAND, "", "RTX 3090", cuda="12.4")
    assert _facts(text).torch.cuda is None
    assert _errors(text) == []


def test_a_cu110_wheel_on_a_3090_is_quiet() -> None:
    # pytorch/pytorch#49161: malfet's fix, `pip install torch==1.7.1+cu110 ... -f
    # torch_stable.html`, after which the RTX 3090 ran
    command = (
        "pip install torch==1.7.1+cu110 torchvision==0.8.2+cu110 "
        "-f https://download.pytorch.org/whl/torch_stable.html"
    )
    text = _checklist("1.7.1", command, "Ubuntu 20.04", "RTX 3090")
    facts = _facts(text)
    assert facts.torch.version == "1.7.1"
    assert facts.torch.cuda == "11.0"
    assert _errors(text) == []


def test_a_source_build_written_as_a_release_is_not_read_as_pypis() -> None:
    reading = read_template(_checklist("1.8.0", "source", "Ubuntu 18.04", "V100"))
    assert reading is not None
    assert "PyTorch version" not in reading.fields
    assert reading.gpus == {0: "V100"}


@pytest.mark.parametrize(
    ("gpus", "named"),
    [
        ("2x RTX 3090 (24GB)", {0: "RTX 3090", 1: "RTX 3090"}),
        ("GTX 1080 Ti x 4", dict.fromkeys(range(4), "GTX 1080 Ti")),
        ("Tesla V100-SXM2-16GB, driver 450.80.02", {0: "Tesla V100-SXM2-16GB"}),
        ("3090", {}),  # RTX 3090 or RTX 3090 Ti: the table cannot say
        ("N/A", {}),
        ("AMD Radeon RX 6800", {}),
    ],
)
def test_gpu_line_names_only_what_the_table_knows(gpus: str, named: dict[int, str]) -> None:
    reading = read_template(_checklist("1.7.1", "pip", "Ubuntu 18.04", gpus))
    assert reading is not None
    assert reading.gpus == named


def test_two_versions_in_the_torch_line_say_none() -> None:
    reading = read_template(_checklist("1.7.1 (cuda 11.0)", "pip", "Ubuntu 18.04", "V100"))
    assert reading is not None
    assert "PyTorch version" not in reading.fields


def test_torchvision_template_reads_both_versions() -> None:
    text = (
        " - PyTorch / torchvision Version (e.g., 1.0 / 0.4.0): 1.7.1 / 0.8.2\n"
        " - How you installed PyTorch / torchvision (`conda`, `pip`, source): pip\n"
    )
    reading = read_template(text)
    assert reading is not None
    assert reading.fields == {"PyTorch version": "1.7.1"}
    assert reading.packages == {"torchvision": "0.8.2"}


def test_a_hugging_face_list_is_not_a_template() -> None:
    # accelerate-1700 (`transformers-cli env`): its "(GPU?)" is no template hint, and the
    # list is envlock/pasted/hfenv.py's
    text = (FIXTURES / "collect_env" / "accelerate-1700.txt").read_text()
    assert "PyTorch version (GPU?)" in text
    assert read_template(text) is None


# Lightning-AI/pytorch-lightning .github/ISSUE_TEMPLATE/1_bug_report.yaml's list, commented out
LIGHTNING_LIST = """```
#- Lightning Component (e.g. Trainer, LightningModule, LightningApp, LightningWork, LightningFlow):
#- PyTorch Lightning Version (e.g., 1.5.0):{lightning}
#- Lightning App Version (e.g., 0.5.2):
#- PyTorch Version (e.g., 1.10):{torch}
#- Python version (e.g., 3.9):{python}
#- OS (e.g., Linux):
#- CUDA/cuDNN version:
#- GPU models and configuration:{gpus}
#- How you installed Lightning(`conda`, `pip`, source):{install}
#- Running environment of LightningApp (e.g. local, cloud):
```
"""


def test_lightnings_commented_list_is_read_and_its_install_line_is_lightnings() -> None:
    empty = LIGHTNING_LIST.format(lightning="", torch="", python="", gpus="", install="")
    assert read_template(empty) is None
    filled = LIGHTNING_LIST.format(
        lightning=" 1.9.0", torch=" 1.13.1", python=" 3.10", gpus=" 2x A100", install=" source"
    )
    reading = read_template(filled)
    assert reading is not None
    # "source" is how Lightning was installed: torch's release version stays read
    assert reading.fields == {"PyTorch version": "1.13.1", "Python version": "3.10"}
    assert reading.gpus == {0: "A100", 1: "A100"}

"""`pip show` output read as the versions it states (envlock/pasted/pipshow.py through
envlock/pasted/pipout.py, issue 21): sdnext-3531's two blocks (torch 2.4.0+cu121 beside
torchvision 0.20.1+cu124) are a family mismatch; a matching pair is not; an untagged torch's
build is read only from the NVIDIA runtime wheels its Requires names (exllamav2-319: CUDA 11,
PyPI's 2.0 default cu117); a torch without them says no build. The other texts are real
`pip show` outputs from issue threads and notes (pip's, uv's), cut to their blocks."""

from __future__ import annotations

from envlock.pasted import facts_from_texts
from envlock.pasted.pipout import read_pip_output
from envlock.pasted.pipshow import cuda_major_required, read_show
from tests.pasted.test_tool_reports import _errors, _report, _top

# a conda env on Linux, pip show of torch and torchvision, pip's one blank line between them
CENTERTRACK = """\
my pytorch and vision version is as follows:

pip show torch
Name: torch
Version: 1.7.0+cu110
Summary: Tensors and Dynamic neural networks in Python with strong GPU acceleration
Home-page: https://pytorch.org/
Author: PyTorch Team
Author-email: packages@pytorch.org
License: BSD-3
Location: /home/xuewei/anaconda3/envs/CenterTrack/lib/python3.6/site-packages
Requires: numpy, dataclasses, future, typing-extensions
Required-by: torchvision, torchaudio


pip show torchvision
Name: torchvision
Version: 0.8.1+cu110
Summary: image and video datasets and models for torch deep learning
Home-page: https://github.com/pytorch/vision
"""
# PyPI's torch 2.6.0 on a cluster: its Requires names CUDA 12's NVIDIA wheels
HPC = """\
(test_depRL_gymversion) eddlai.be10@login:~/Downloads$ pip show torch
Name: torch
Version: 2.6.0
Summary: Tensors and Dynamic neural networks in Python with strong GPU acceleration
Home-page: https://pytorch.org/
Author: PyTorch Team
Author-email: packages@pytorch.org
License: BSD-3-Clause
Location: /home/aa0463/eddlai.be10/.conda/envs/test_depRL_gymversion/lib/python3.9/site-packages
Requires: filelock, fsspec, jinja2, networkx, nvidia-cublas-cu12, nvidia-cuda-cupti-cu12, \
nvidia-cuda-nvrtc-cu12, nvidia-cuda-runtime-cu12, nvidia-cudnn-cu12, nvidia-cufft-cu12, \
nvidia-curand-cu12, nvidia-cusolver-cu12, nvidia-cusparse-cu12, nvidia-cusparselt-cu12, \
nvidia-nccl-cu12, nvidia-nvjitlink-cu12, nvidia-nvtx-cu12, sympy, triton, typing-extensions
Required-by: deprl, sconegym
"""
# `uv pip show`: Name, Version, Location, Requires, Required-by only
UV = """\
uv pip show torch
Name: torch
Version: 2.9.0.dev20250805+cu129
Location: /home/qyht/projects/Quantization/.venv/lib/python3.12/site-packages
Requires: filelock, fsspec, jinja2, networkx, nvidia-cublas-cu12, nvidia-nccl-cu12, \
pytorch-triton, setuptools, sympy, typing-extensions
Required-by: torchaudio, torchvision
"""
# ROCm's wheel in a venv (pip 25.0.1)
ROCM = """\
(.venv) git:(main | \u0394) \u03bb pip show torch
Name: torch
Version: 2.6.0+rocm6.2.4
Summary: Tensors and Dynamic neural networks in Python with strong GPU acceleration
Home-page: https://pytorch.org/
Author: PyTorch Team
Author-email: packages@pytorch.org
License: BSD-3-Clause
Location: /mnt/valerie/public/mini/.venv/lib/python3.12/site-packages
Requires: filelock, fsspec, jinja2, networkx, pytorch-triton-rocm, setuptools, sympy, \
typing-extensions
Required-by:\x20
"""
# torch 1.12.1 in a user site (a cluster's module beside it): 1.x bundled its CUDA libraries
USER_SITE = """\
[sjayaramannaga@login01 AI-ForestWatch-Srinath]$ python -m pip show torch
Name: torch
Version: 1.12.1
Summary: Tensors and Dynamic neural networks in Python with strong GPU acceleration
Home-page: https://pytorch.org/
Author: PyTorch Team
Author-email: packages@pytorch.org
License: BSD-3
Location: /scratch/sjayaramannaga/.local/lib/python3.8/site-packages
Requires: typing-extensions
Required-by: torchvision
"""


def test_sdnext_3531_two_blocks_are_a_family_mismatch() -> None:
    text = _report("sdnext-3531.txt")
    facts = facts_from_texts(collect_env=text)
    assert facts.torch.version == "2.4.0+cu121"
    assert facts.packages.distributions["torchvision"] == "0.20.1+cu124"
    assert _top(text) == "EL-FAMILY-MISMATCH"


def test_a_matching_pair_is_no_error() -> None:
    facts = facts_from_texts(collect_env=CENTERTRACK)
    assert facts.torch.version == "1.7.0+cu110" and facts.torch.cuda == "11.0"
    assert facts.packages.distributions["torchvision"] == "0.8.1+cu110"
    assert _errors(CENTERTRACK) == []


def test_requires_names_the_cuda_major_of_pypis_untagged_wheel() -> None:
    # exllamav2-319: torch 2.0.1 requiring nvidia-*-cu11 is PyPI's cu117 build
    facts = facts_from_texts(collect_env=_report("exllamav2-319.txt"))
    assert facts.torch.version == "2.0.1" and facts.torch.cuda == "11.7"
    reading = read_pip_output(HPC)
    assert reading is not None and reading.fields["CUDA used to build PyTorch"] == "12.4"
    assert _errors(HPC) == []


def test_no_nvidia_wheel_says_no_build() -> None:
    # the distribution's version alone, as a pip list's: a package, torch's build unread
    reading = read_pip_output(USER_SITE)
    assert reading is not None and reading.packages["torch"] == "1.12.1"
    assert reading.fields == {}
    assert facts_from_texts(collect_env=USER_SITE).torch.version is None
    # a Requires of another major than the matrix's default variant says nothing either
    cu11_on_26 = HPC.replace("-cu12", "-cu11")
    reading = read_pip_output(cu11_on_26)
    assert reading is not None and reading.fields == {}


def test_torchs_own_version_beside_pip_show_keeps_its_tag() -> None:
    # yolov5-3360: `pip show torch` says 1.8.1 (a conda env), YOLOv5's line torch 1.8.1+cu102
    facts = facts_from_texts(collect_env=_report("yolov5-3360.txt"))
    assert facts.torch.version == "1.8.1+cu102" and facts.torch.cuda == "10.2"
    assert facts.packages.distributions["torch"] == "1.8.1"


def test_a_tagged_version_is_its_build() -> None:
    assert facts_from_texts(collect_env=UV).torch.cuda == "12.9"
    rocm = facts_from_texts(collect_env=ROCM).torch
    assert rocm.version == "2.6.0+rocm6.2.4" and rocm.hip is not None
    assert _errors(ROCM) == []


def test_a_block_needs_its_version_line_next() -> None:
    # conda list's header and a hand list's 'Name:' are not pip show's blocks
    assert read_show("Name: torch\nSummary: x\nVersion: 2.0.1\n") == {}
    assert read_show("# Name  Version  Build  Channel\ntorch  2.0.1  pypi_0  pypi\n") == {}
    assert read_show("Name: torch\n\nVersion: 2.0.1\n") == {}


def test_fields_are_read_inside_the_block_only() -> None:
    text = "Name: torch\nVersion: 2.0.1\n\nRequires: nvidia-cublas-cu11\n"
    assert read_show(text)["torch"].requires == ()
    assert cuda_major_required(("nvidia-cublas-cu11", "nvidia-nccl-cu12")) is None
    assert cuda_major_required(("nvidia-cublas-cu11", "sympy")) == 11

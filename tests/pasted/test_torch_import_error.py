r"""torch's own import failure in a paste (envlock/pasted/torch_import.py): read as torch not
importing, with the cause; an extension's import error, a pip build's missing torch, or a
report that printed torch's version, are not. Real pastes, cut at whole lines, each with its
thread; the formats are torch/__init__.py's (_load_dll_libraries: 'Error loading "{dll}" or
one of its dependencies.'; `from torch._C import *`) and Python's own import errors.
"""

from __future__ import annotations

import pytest

from envlock.pasted.torch_import import (
    ImportFailure,
    failure_in_notes,
    find_import_failure,
    import_failure_words,
    read_torch_import,
)
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


def _lines(*lines: str) -> str:
    return "\n".join(lines) + "\n"


# pytorch/pytorch#133397: torch 2.4.0 from PyPI on Windows 11, Python 3.12
WIN_FBGEMM = _lines(
    'File "C:\\Users\\USER\\Downloads\\pytorch\\main.py", line 3, in <module>',
    "    import torch",
    '  File "C:\\Users\\USER\\AppData\\Local\\Programs\\Python\\Python312\\Lib\\site-packages\\torch\\__'
    'init__.py", line 148, in <module>',
    "    raise err",
    'OSError: [WinError 126] The specified module could not be found. Error loading "C:\\Users'
    '\\USER\\AppData\\Local\\Programs\\Python\\Python312\\Lib\\site-packages\\torch\\lib\\fbgemm.dll" or'
    " one of its dependencies.",
)
# pytorch/pytorch#7323: torch 0.4 in Anaconda on Windows 10
WIN_DLL_C = _lines(
    ">>> import torch",
    "Traceback (most recent call last):",
    '  File "<stdin>", line 1, in <module>',
    '  File "C:\\Users\\conner\\Anaconda3\\lib\\site-packages\\torch\\__init__.py", line 76, in <mod'
    "ule>",
    "    from torch._C import *",
    "ImportError: DLL load failed: The specified module could not be found.",
)
# pytorch/pytorch#28363: the same in IPython's traceback layout
WIN_DLL_C_IPYTHON = _lines(
    "ImportError                               Traceback (most recent call last)",
    "<ipython-input-3-eb42ca6e4af3> in <module>",
    "----> 1 import torch",
    "",
    "~\\.conda\\envs\\py3\\lib\\site-packages\\torch\\__init__.py in <module>",
    "     79 del _dl_flags",
    "     80 ",
    "---> 81 from torch._C import *",
    "     82 ",
    "     83 __all__ += [name for name in dir(_C)",
    "",
    "ImportError: DLL load failed: The specified module could not be found.",
)
# pytorch/pytorch#104259: pip's torch 2.0.1 in a poetry venv without its nvidia-cudnn wheel
LINUX_CUDNN = _lines(
    "Traceback (most recent call last):",
    '  File "<stdin>", line 1, in <module>',
    '  File "/home/anne/.cache/pypoetry/virtualenvs/transformers-test-hTrBSg_k-py3.8/lib/pyth'
    'on3.8/site-packages/torch/__init__.py", line 229, in <module>',
    "    from torch._C import *  # noqa: F403",
    "ImportError: libcudnn.so.8: cannot open shared object file: No such file or directory",
)
# wokaikaixinxin/ai4rs#2: conda's pytorch beside MKL 2024.1+
LINUX_IJIT = _lines(
    "Traceback (most recent call last):",
    '  File "<string>", line 1, in <module>',
    '  File "/root/miniconda3/envs/ai4rs/lib/python3.10/site-packages/torch/__init__.py", lin'
    "e 235, in <module>",
    "    from torch._C import *  # noqa: F403",
    "ImportError: /root/miniconda3/envs/ai4rs/lib/python3.10/site-packages/torch/lib/libtorch"
    "_cpu.so: undefined symbol: iJIT_NotifyEvent",
)
# RootKit-Org/AI-Aimbot#67
ABSENT = _lines(
    "C:\\AI\\AI-Aimbot-main>python main.py",
    "Traceback (most recent call last):",
    '  File "C:\\AI\\AI-Aimbot-main\\main.py", line 2, in <module>',
    "    import torch",
    "ModuleNotFoundError: No module named 'torch'",
)

# facebookresearch/pytorch3d#1515: pytorch3d's own _C, torch imported
PYTORCH3D_C = _lines(
    '  File "D:\\_programsLarge\\envs\\hybrik\\lib\\site-packages\\pytorch3d-0.7.2-py3.8-win-amd64.'
    'egg\\pytorch3d\\renderer\\blending.py", line 10, in <module>',
    "    from pytorch3d import _C",
    "ImportError: DLL load failed while importing _C: 找不到指定的程序。",
)
# megvii-research/DPGN#18: torchvision's _C wants another CUDA's runtime, torch imported
TORCHVISION_SO = _lines(
    '  File "/home/amax/anaconda3/envs/wuti_py35/lib/python3.5/site-packages/torchvision/ops/'
    'boxes.py", line 2, in <module>',
    "    from torchvision import _C",
    "ImportError: libcudart.so.9.0: cannot open shared object file: No such file or directory",
)
# Dao-AILab/flash-attention#1691: flash-attn's extension against another torch's ABI
FLASH_ATTN_SYMBOL = _lines(
    "Traceback (most recent call last):",
    '  File "<stdin>", line 1, in <module>',
    '  File "/data/user/qxiao183/xqf/miniconda3/envs/quanllm/lib/python3.10/site-packages/fla'
    'sh_attn/__init__.py", line 3, in <module>',
    "    from flash_attn.flash_attn_interface import (",
    '  File "/data/user/qxiao183/xqf/miniconda3/envs/quanllm/lib/python3.10/site-packages/fla'
    'sh_attn/flash_attn_interface.py", line 15, in <module>',
    "    import flash_attn_2_cuda as flash_attn_gpu",
    "ImportError: /data/user/qxiao183/xqf/miniconda3/envs/quanllm/lib/python3.10/site-package"
    "s/flash_attn_2_cuda.cpython-310-x86_64-linux-gnu.so: undefined symbol: _ZN3c105ErrorC2EN"
    "S_14SourceLocationENSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEE",
)
# Dao-AILab/flash-attention#1920: torch is missing from pip's isolated build environment
PIP_BUILD = _lines(
    "$ pip install flash_attn",
    "Collecting flash_attn",
    "  Using cached flash_attn-2.8.3.tar.gz (8.4 MB)",
    "  Installing build dependencies ... done",
    "  Getting requirements to build wheel ... error",
    "  error: subprocess-exited-with-error",
    '      File "/tmp/pip-build-env-gwmgwy1l/overlay/lib/python3.12/site-packages/setuptools/'
    'build_meta.py", line 331, in get_requires_for_build_wheel',
    "      ModuleNotFoundError: No module named 'torch'",
)


@pytest.mark.parametrize(
    "text,want",
    [
        ((CE / "sd-scripts-1597.txt").read_text(), ImportFailure("dll", "fbgemm.dll", "126")),
        (WIN_FBGEMM, ImportFailure("dll", "fbgemm.dll", "126")),
        (WIN_DLL_C, ImportFailure("dll-c")),
        (WIN_DLL_C_IPYTHON, ImportFailure("dll-c")),
        (LINUX_CUDNN, ImportFailure("so", "libcudnn.so.8")),
        (LINUX_IJIT, ImportFailure("symbol", "libtorch_cpu.so", "iJIT_NotifyEvent")),
        (ABSENT, ImportFailure("absent")),
    ],
)
def test_torchs_own_import_failure_is_read(text: str, want: ImportFailure) -> None:
    assert find_import_failure(text) == want
    reading = read_torch_import(text)
    assert reading is not None and reading.fields == {"PyTorch version": "N/A"}
    assert failure_in_notes(reading.notes) == want


@pytest.mark.parametrize(
    "text", [PYTORCH3D_C, TORCHVISION_SO, FLASH_ATTN_SYMBOL, PIP_BUILD], ids=lambda t: t[:30]
)
def test_an_import_error_that_is_not_torchs_is_not_read(text: str) -> None:
    assert find_import_failure(text) is None
    assert read_torch_import(text) is None


def test_a_report_that_printed_torchs_version_is_not_read() -> None:
    """collect_env or an environment list that printed torch's version imported it: an import
    error beside it is another moment's (the report wins)."""
    for shown in ("PyTorch version: 2.4.0+cu121\n", "- PyTorch version (GPU?): 2.4.0 (True)\n"):
        assert read_torch_import(shown + WIN_FBGEMM) is None


def test_a_wrapped_dll_error_is_read_and_an_unwrapped_lookalike_is_not() -> None:
    """kohya's log wraps after 'Error loading'; a DLL outside torch\\lib is not torch's."""
    assert find_import_failure(WIN_FBGEMM.replace('loading "', 'loading\n     "')) is not None
    other = WIN_FBGEMM.replace(r"\torch\lib\fbgemm.dll", r"\torchaudio\lib\libtorchaudio.pyd")
    assert find_import_failure(other) is None


@pytest.mark.parametrize(
    "text,words",
    [
        (WIN_FBGEMM, ("libomp140.x86_64.dll", "torch==2.4.1", '"torchvision==0.19.*"')),
        (WIN_DLL_C, ("vc_redist.x64.exe", "pip install torch")),
        (LINUX_CUDNN, ("nvidia-* wheels", "pip install torch")),
        (LINUX_IJIT, ("mkl==2024.0", "pip install torch")),
        (ABSENT, ("pip install torch",)),
    ],
    ids=["fbgemm", "dll-c", "cudnn", "ijit", "absent"],
)
def test_each_cause_has_its_own_fix(text: str, words: tuple[str, ...]) -> None:
    reading = read_torch_import(text)
    assert reading is not None
    named = import_failure_words(reading.notes, "python")
    assert named is not None
    said, fix = named
    assert said and all(w in fix for w in words), fix
    # the re-check (tests/checks/test_fixes_recheck.py) installs torch where the fix says so
    assert "pip install torch" in fix


def test_no_note_no_words() -> None:
    assert (
        import_failure_words(["PyTorch version: N/A: collect_env could not import torch"], "p")
        is None
    )


def test_a_name_its_note_cannot_carry_back_is_not_read() -> None:
    """The note's tail carries the library back to the check (failure_in_notes): a DLL or
    library name with other characters is not read rather than read wrong."""
    odd = WIN_FBGEMM.replace("fbgemm.dll", "fb gemm.dll")
    assert find_import_failure(odd) is None and read_torch_import(odd) is None

"""EL-NVCC-ARCH-TOO-NEW, EL-EXT-GLIBC-TOO-OLD and EL-SHM-PERMISSION (checks/buildenv.py) on the
refusals' own words in real pasted texts (pasted/nvccarch.py, pasted/glibcneed.py,
pasted/nccl_log.py): each fires where nvcc, the dynamic loader or NCCL said it, with the fix
computed from the matrix, and is quiet where the words say another cause (an architecture a
newer toolkit dropped, libstdc++'s GLIBCXX_, a full /dev/shm), a placeholder, or a glibc the
facts show new enough; and on every healthy report of the corpus."""

from __future__ import annotations

import dataclasses
import json

import pytest

from envlock.checks.registry import run_checks
from envlock.errors import FactsError
from envlock.facts import Facts
from envlock.findings import Finding, Severity
from envlock.pasted import facts_from_texts
from envlock.pasted.glibcneed import glibc_refusals
from envlock.pasted.nccl_log import shm_denied
from envlock.pasted.nvccarch import nvcc_refusals
from tests.conftest import FIXTURES
from tests.pasted import nccl_logs

NVCC = "EL-NVCC-ARCH-TOO-NEW"
GLIBC = "EL-EXT-GLIBC-TOO-OLD"
SHM = "EL-SHM-PERMISSION"
MINE = (NVCC, GLIBC, SHM)
CE = FIXTURES / "collect_env"

# inducer/pycuda#440 (Windows 11, CUDA 11.6): `nvcc --version`, then PyCUDA's -arch sm_89
PYCUDA_440 = """\
nvcc: NVIDIA (R) Cuda compiler driver
Copyright (c) 2005-2022 NVIDIA Corporation
Built on Tue_Mar__8_18:36:24_Pacific_Standard_Time_2022
Cuda compilation tools, release 11.6, V11.6.124
Build cuda_11.6.r11.6/compiler.31057947_0

When I run hello_gpu.py, an error appears.

nvcc fatal   : Value 'sm_89' is not defined for option 'gpu-architecture'
"""
# kokkos/kokkos#7108: CI builds with a CUDA before 11.8 on a Hopper runner
KOKKOS_7108 = """\
We are seeing
```
nvcc fatal   : Value 'sm_90' is not defined for option 'gpu-architecture'
```
in some builds so we have to restrict existing builds using `Cuda` version earlier than 11.8
"""
# HazyResearch/butterfly#23 (CUDA 11.2): an architecture the toolkit dropped, not one it
# predates
BUTTERFLY_23 = """\
"nvcc fatal   : Value 'sm_30' is not defined for option 'gpu-architecture'
error: command '/usr/local/cuda/bin/nvcc' failed with exit status 1
"""
# jytime/Mask_RCNN_Pytorch#15 and multimodallearning/pytorch-mask-rcnn#38: placeholders
PLACEHOLDERS = """\
nvcc fatal : value 'arch' is not defined for option 'gpu-architecture'
nvcc fatal   : Value '[sm_61]' is not defined for option 'gpu-architecture'
"""
# CUDA 12's nvcc (compute_35 dropped after 11.8), its version shown: not a toolkit too old
DROPPED_WITH_VERSION = """\
Cuda compilation tools, release 12.1, V12.1.105
nvcc fatal   : Unsupported gpu architecture 'compute_35'
"""

# KumaTea/pytorch-aarch64#16 (Ubuntu 18.04, glibc 2.27): torch's own library
TORCH_AARCH64 = (
    "ImportError: /lib/aarch64-linux-gnu/libc.so.6: version `GLIBC_2.28' not found (required "
    "by /www/miniconda3/envs/vits/lib/python3.7/site-packages/torch/lib/libtorch_python.so)\n"
)
# pyg-team/pyg-lib#548 (Ubuntu 20.04): a library directly in site-packages
PYG_548 = (
    "OSError: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.33' not found (required by "
    "/home/ee615/anaconda3/envs/qcnet/lib/python3.10/site-packages/libpyg.so)\n"
)
# pytorch/pytorch#129555: ldd's two lines for one file
LDD_129555 = """\
ldd libtorch_cpu.so
./libtorch_cpu.so: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.28' not found (required by ./libtorch_cpu.so)
./libtorch_cpu.so: /lib/x86_64-linux-gnu/libm.so.6: version `GLIBC_2.29' not found (required by ./libtorch_cpu.so)
"""
# ai4d-iasc/trixie#97 (libstdc++'s version, another library) and mlverse/torch#1360
# (GLIBC_PRIVATE: a mixed-up librt, not an old glibc)
NOT_GLIBC = (
    "/gpfs/home/xxx/anaconda3/envs/xxx/bin/../lib/libstdc++.so.6: version `GLIBCXX_3.4.29' "
    "not found (required by /x/site-packages/torch/lib/libtorch_python.so)\n"
    "/lib/x86_64-linux-gnu/libpthread.so.0: version `GLIBC_PRIVATE' not found (required by "
    "/home/jordi/R/x86_64-pc-linux-gnu-library/4.5/torch/lib/librt.so.1)\n"
)

# NCCL 2.23 on (src/misc/shmutils.cc's format, "error: %s (%d)") refused for permission
NCCL_223_DENIED = (
    "node1:1:2 [0] NCCL WARN Error while creating shared memory segment /dev/shm/nccl-1YsMbG "
    "(size 7340384), error: Permission denied (13)\n"
)


def _facts(text: str) -> Facts:
    return facts_from_texts(collect_env=text)


def _found(facts: Facts, check_id: str) -> list[Finding]:
    return [f for f in run_checks(facts) if f.check_id == check_id]


def _text(name: str) -> str:
    return (CE / name).read_text(encoding="utf-8")


def test_deepspeed_3299_nvcc_refusing_compute_89_is_a_toolkit_older_than_11_8() -> None:
    (f,) = _found(_facts(_text("DeepSpeed-3299.txt")), NVCC)
    assert f.severity is Severity.ERROR
    assert "compute capability 8.9" in f.message and "CUDA 11.8" in f.message
    assert f.fix is not None and "CUDA toolkit 11.8 or newer" in f.fix
    # sm_86's SASS runs on an 8.9 GPU and an nvcc before 11.8 builds it
    assert 'TORCH_CUDA_ARCH_LIST="8.6"' in f.fix


def test_pycuda_440_states_the_nvcc_version_the_paste_shows() -> None:
    facts = _facts(PYCUDA_440)
    assert facts.cuda.toolkit is not None and facts.cuda.toolkit.nvcc_version == "11.6.124"
    (f,) = _found(facts, NVCC)
    assert f.message.startswith("nvcc 11.6.124 does not know compute capability 8.9")


def test_kokkos_7108_hopper_without_a_same_major_sass_gets_ptx_of_the_newest_known() -> None:
    (f,) = _found(_facts(KOKKOS_7108), NVCC)
    assert "CUDA 11.8" in f.message
    assert f.fix is not None and 'TORCH_CUDA_ARCH_LIST="8.6+PTX"' in f.fix


@pytest.mark.parametrize("text", [BUTTERFLY_23, DROPPED_WITH_VERSION])
def test_an_architecture_a_newer_toolkit_dropped_is_not_called_too_new(text: str) -> None:
    assert nvcc_refusals(text)  # read: the check decides, from the matrix
    assert _found(_facts(text), NVCC) == []


def test_a_placeholder_is_no_architecture() -> None:
    assert nvcc_refusals(PLACEHOLDERS) == []


def test_an_arch_list_that_leaves_the_gpu_out_quiets_it() -> None:
    facts = _facts(_text("DeepSpeed-3299.txt"))
    env = facts.env.variables | {"TORCH_CUDA_ARCH_LIST": "8.0;8.6"}
    quiet = dataclasses.replace(facts, env=dataclasses.replace(facts.env, variables=env))
    assert _found(quiet, NVCC) == []
    loud = {"TORCH_CUDA_ARCH_LIST": "8.6 8.9+PTX"}
    asked = dataclasses.replace(facts, env=dataclasses.replace(facts.env, variables=loud))
    assert len(_found(asked, NVCC)) == 1


def test_colossalai_2402_prebuilt_kernels_need_glibc_2_29() -> None:
    (f,) = _found(_facts(_text("ColossalAI-2402.txt")), GLIBC)
    assert f.severity is Severity.ERROR
    assert f.message.startswith("colossalai's module ") and "glibc 2.29 or newer" in f.message
    assert "/lib64/libm.so.6" in f.message
    assert f.fix is not None
    assert "pip install --force-reinstall --no-binary colossalai colossalai" in f.fix
    assert "glibc 2.29 or newer" in f.fix


def test_torch_own_library_gets_a_reinstall_by_pip_here() -> None:
    (f,) = _found(_facts(TORCH_AARCH64), GLIBC)
    assert f.message.startswith("torch's own library ") and "glibc 2.28" in f.message
    assert f.fix is not None and f.fix.startswith("reinstall torch with pip on this machine")


def test_a_library_directly_in_site_packages_names_no_pip_package() -> None:
    (f,) = _found(_facts(PYG_548), GLIBC)
    assert f.fix is not None and "--no-binary" not in f.fix and "libpyg.so" in f.fix


def test_ldd_lines_of_one_file_are_one_finding_at_the_newest_version() -> None:
    assert len(glibc_refusals(LDD_129555)) == 2
    (f,) = _found(_facts(LDD_129555), GLIBC)
    assert "glibc 2.29" in f.message and "libm.so.6" in f.message


def test_libstdcxx_and_glibc_private_are_not_an_old_glibc() -> None:
    assert glibc_refusals(NOT_GLIBC) == []


def test_a_glibc_the_report_shows_new_enough_quiets_it() -> None:
    text = "Libc version: glibc-2.31\n" + _text("ColossalAI-2402.txt")
    facts = _facts(text)
    assert facts.system.glibc == "2.31"
    assert _found(facts, GLIBC) == []
    older = _facts("Libc version: glibc-2.17\n" + _text("ColossalAI-2402.txt"))
    (f,) = _found(older, GLIBC)
    assert "(glibc 2.17)" in f.message


def test_pytorch_37004_shm_open_permission_denied() -> None:
    facts = _facts(_text("pytorch-37004.txt"))
    assert facts.system.shm_failure is None  # not a full /dev/shm: EL-SHM-SMALL stays out
    (f,) = _found(facts, SHM)
    assert f.severity is Severity.ERROR
    assert "Call to shm_open failed : Permission denied" in f.message
    assert f.fix is not None and "chmod 1777 /dev/shm" in f.fix


def test_nccl_2_23_names_the_permission_error_in_its_segment_line() -> None:
    seen = shm_denied(NCCL_223_DENIED)
    assert seen is not None and seen.endswith("Permission denied (13)")
    assert len(_found(_facts(NCCL_223_DENIED), SHM)) == 1


@pytest.mark.parametrize("text", [*nccl_logs.ROOM, *nccl_logs.NOT_ROOM])
def test_nccl_logs_of_other_causes_are_no_permission_refusal(text: str) -> None:
    assert shm_denied(text) is None


def _healthy() -> list[str]:
    corpus = json.loads((CE / "corpus.json").read_text(encoding="utf-8"))
    return [r["file"] for r in corpus["reports"] if r.get("category") == "fine"]


def test_no_healthy_report_of_the_corpus_gets_any_of_them() -> None:
    names = _healthy()
    assert len(names) > 200
    for name in names:
        try:
            facts = _facts(_text(name))
        except FactsError:
            continue  # unreadable: nothing to fire on
        fired = [f.check_id for f in run_checks(facts) if f.check_id in MINE]
        assert fired == [], (name, fired)


def test_vllm_6486_own_warning_wraps_the_loader_refusal_in_its_import_error() -> None:
    """vLLM's "Failed to import from vllm._C with ImportError("/lib/...: version `GLIBC_2.32'
    not found (required by .../vllm/_C.abi3.so)")" beside collect_env's glibc 2.31: its
    compiled module does not load; the driver too old for torch stays the first error."""
    facts = _facts(_text("vllm-6486.txt"))
    (f,) = _found(facts, GLIBC)
    assert "this system's /lib/x86_64-linux-gnu/libc.so.6 (glibc 2.31)" in f.message
    assert f.fix is not None and "--no-binary vllm vllm" in f.fix

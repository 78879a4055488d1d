"""OpenMMLab's collect_env printed as a dict or OrderedDict repr (envlock/pasted/mmrepr.py,
issue 21): mmcv-3071's dict broken over lines by the terminal, mmpose-2478's one-line
OrderedDict cut inside its compiling details, and a note's OrderedDict wrapped inside a string
are read as the collect_env facts they hold, never evaluated; source code that names the keys,
a repr without torch's version and a string of the wrong key are not read."""

from __future__ import annotations

from envlock.pasted import facts_from_texts
from envlock.pasted.mmrepr import env_pairs, read_mm_repr
from tests.pasted.test_tool_reports import _errors, _report

# a note's example of `print(collect_env())` (mmcv 2.2 on mmengine), wrapped by its editor,
# once inside the Python string; cut inside the compiling details
WRAPPED = "".join(
    line + "\n"
    for line in (
        "OrderedDict([('sys.platform', 'linux'), ",
        "('Python', '3.10.12 (main, Aug 31 2026, 10:18:17) ",
        "[GCC 11.4.0]'), ('CUDA available', True), ",
        "('MUSA available', False), ('numpy_random_seed', 2147483648), ",
        "('GPU 0', 'NVIDIA GeForce RTX 2070'), ('CUDA_HOME', '/usr/local/cuda'),",
        " ('NVCC', 'Cuda compilation tools, release 12.1, V12.1.105'), ",
        "('GCC', 'x86_64-linux-gnu-gcc (Ubuntu 11.4.0-1ubuntu1~22.04.3) 11.4.0'), ",
        "('PyTorch', '2.3.1+cu121'), ",
        "('PyTorch compiling details', ",
        "'PyTorch built with:\\n  ",
        "- GCC 9.3\\n  ",
    )
)
# a script that reads the keys (not a repr of them)
SOURCE = """\
    print(f"  PyTorch: {torch.__version__}")
    return checks.get('CUDA available', False)
"""


def test_mmcv_3071_dict_broken_over_lines_is_read() -> None:
    facts = facts_from_texts(collect_env=_report("mmcv-3071.txt"))
    assert facts.torch.version == "1.10.1"
    assert [g.name for g in (facts.driver.gpus or [])] == ["NVIDIA A100-SXM4-80GB MIG 3g.40gb"]
    assert _errors(_report("mmcv-3071.txt")) == []


def test_mmpose_2478_one_line_ordereddict_is_read() -> None:
    reading = read_mm_repr(_report("mmpose-2478.txt"))
    assert reading is not None
    assert reading.fields["PyTorch version"] == "1.13.1+cu116"
    assert reading.fields["Is CUDA available"] == "True"
    assert reading.fields["CUDA runtime version"] == "11.6.55"
    assert reading.fields["OS"] == "Microsoft Windows"
    assert reading.gpus == {0: "NVIDIA GeForce RTX 3090", 1: "NVIDIA GeForce RTX 3090"}
    facts = facts_from_texts(collect_env=_report("mmpose-2478.txt"))
    assert facts.torch.cuda == "11.6" and _errors(_report("mmpose-2478.txt")) == []


def test_a_string_wrapped_by_the_paste_is_joined() -> None:
    reading = read_mm_repr(WRAPPED)
    assert reading is not None
    assert reading.fields["Python version"].startswith("3.10.12 (main")
    assert reading.fields["Python version"].endswith("[GCC 11.4.0]")
    assert reading.fields["PyTorch version"] == "2.3.1+cu121"
    assert reading.gpus == {0: "NVIDIA GeForce RTX 2070"}
    assert _errors(WRAPPED) == []


def test_what_is_not_a_repr_is_not_read() -> None:
    assert read_mm_repr(SOURCE) is None
    no_torch = WRAPPED.replace("('PyTorch', '2.3.1+cu121')", "('PyTorch', 'x')")
    assert read_mm_repr(no_torch) is None
    # a key that is the value of another pair is no key
    assert env_pairs("{'a': 'PyTorch', 'b': '1.0'}") == {"a": "PyTorch", "b": "1.0"}


def test_nothing_is_evaluated() -> None:
    pairs = env_pairs("{'PyTorch': __import__('os').system('x'), 'GCC': 'n/a', 'n': 12}")
    assert "PyTorch" not in pairs and pairs["GCC"] == "n/a" and pairs["n"] == 12


# mmdetection3d-1806's environment (mmdet 2.x's collect_env: 'nvcc -V | tail -n1', CUDA 11.4's
# last line) as `print(collect_env())` writes it
TAIL_N1 = (
    "{'sys.platform': 'linux', 'Python': '3.8.3 | packaged by conda-forge | (default, Jun  1 "
    "2020, 17:43:00) [GCC 7.5.0]', 'CUDA available': True, 'GPU 0,1': 'NVIDIA GeForce GTX "
    "1080 Ti', 'CUDA_HOME': '/usr/local/cuda', 'NVCC': 'Build cuda_11.4.r11.4/compiler."
    "30521435_0', 'PyTorch': '1.7.0', 'PyTorch compiling details': 'PyTorch built with:\\n  - "
    "GCC 7.3\\n  - CUDA Runtime 10.2\\n  - CuDNN 7.6.5\\n'}\n"
)


def test_nvcc_s_last_line_and_torch_s_cuda_runtime_are_read() -> None:
    reading = read_mm_repr(TAIL_N1)
    assert reading is not None
    assert reading.fields["CUDA runtime version"] == "11.4"
    assert reading.fields["CUDA used to build PyTorch"] == "10.2"
    facts = facts_from_texts(collect_env=TAIL_N1)
    assert facts.torch.cuda == "10.2"
    assert facts.cuda.toolkit is not None and facts.cuda.toolkit.nvcc_version == "11.4"
    from envlock.checks import run_checks

    assert "EL-NVCC-MISMATCH" in {f.check_id for f in run_checks(facts)}
    # CUDA 11.0's last line ('Build cuda_11.0_bu.TC445_37.28845127_0') beside a CUDA 11.0
    # torch: the same major, quiet
    same = TAIL_N1.replace(
        "Build cuda_11.4.r11.4/compiler.30521435_0", "Build cuda_11.0_bu.TC445_37.28845127_0"
    ).replace("CUDA Runtime 10.2", "CUDA Runtime 11.0")
    assert read_mm_repr(same).fields["CUDA runtime version"] == "11.0"  # type: ignore[union-attr]
    assert "EL-NVCC-MISMATCH" not in {
        f.check_id for f in run_checks(facts_from_texts(collect_env=same))
    }

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

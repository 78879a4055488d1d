"""torch's own statements in every release's wording and in every wrapper a paste puts around
them (issue 21, session 12): pasted/torch_warnings.py, pasted/hearsay.py.

- torch 2.8-2.10's _check_capability ('Found GPU0 Tesla V100-SXM2-16GB which is of cuda
  capability 7.0.' / 'Minimum and Maximum cuda capability supported by this version of
  PyTorch is' / '(7.5) - (12.0)', torch/cuda/__init__.py of the 2.8.0, 2.9.0 and 2.10.0
  wheels): the least CC of its arch list is its floor (sd-webui-forge-classic-583); above the
  greatest it warns for a GPU its major's SASS runs (sglang-13198, a GB10 beside sm_120:
  healthy), so nothing is read from the greatest;
- torch's cuDNN check (torch/backends/cudnn/__init__.py, the same words from 1.13 to 2.10)
  as a debugger, a notebook, a logger or a reporter's words put it (Co-GAT-2: VS Code's
  'Exception has occurred: RuntimeError' on the line before), and not where a sentence
  quotes it (pytorch-104757, a PR that fixes it).
"""

from __future__ import annotations

import pytest

from envlock.checks.archsaid import _warns
from envlock.matrix import ArchTarget, Version
from envlock.pasted import facts_from_texts
from envlock.pasted.hearsay import not_this_machines
from envlock.pasted.torch_warnings import TORCH_CUDNN_COMPILED
from tests.conftest import FIXTURES
from tests.pasted.test_prose_controls import _errors, _facts

CE = FIXTURES / "collect_env"
CONTROLS = FIXTURES / "prose_controls"

# torch 2.9's warning as Python's warnings module prints it (the 2.8-2.10 template)
RANGE_WARNING = (
    "/venv/lib/python3.12/site-packages/torch/cuda/__init__.py:283: UserWarning: \n"
    "    Found GPU0 {name} which is of cuda capability {cc}.\n"
    "    Minimum and Maximum cuda capability supported by this version of PyTorch is\n"
    "    ({least}) - ({greatest})\n"
    "    \n"
    "  warnings.warn(\n"
)
CUDNN = (
    "cuDNN version incompatibility: PyTorch was compiled  against (8, 5, 0) but found runtime "
    "version (8, 3, 3). PyTorch already comes bundled with cuDNN. One option to resolving this "
    "error is to ensure PyTorch can find the bundled cuDNN."
)


def _floor(text: str) -> str | None:
    live = facts_from_texts(collect_env=text).torch.live
    return live.min_capability if live else None


# ------------------------------------------------------- torch 2.8-2.10's capability range
def test_a_gpu_below_the_range_torch_28_states_has_no_kernels() -> None:
    text = (CE / "sd-webui-forge-classic-583.txt").read_text()
    facts = facts_from_texts(collect_env=text)
    assert facts.torch.live is not None and facts.torch.live.min_capability == "7.5"
    gpus = [(g.name, g.compute_capability) for g in facts.driver.gpus or []]
    assert gpus == [("Tesla V100-SXM2-16GB", "7.0")]
    assert _errors(text)[:1] == ["EL-ARCH-UNSUPPORTED"]


@pytest.mark.parametrize(
    ("name", "cc", "least"),
    [("NVIDIA GeForce MX350", "6.1", "7.0"), ("Tesla P100-PCIE-16GB", "6.0", "7.5")],
)
def test_the_range_on_its_own_line_or_flattened_is_the_floor(
    name: str, cc: str, least: str
) -> None:
    text = RANGE_WARNING.format(name=name, cc=cc, least=least, greatest="12.0")
    flat = " ".join(line.strip() for line in text.splitlines())
    for pasted in (text, flat):
        assert _floor(pasted) == least
        assert "EL-ARCH-UNSUPPORTED" in _errors(pasted)


def test_a_gpu_above_the_greatest_of_the_range_is_quiet() -> None:
    # sglang-13198: a GB10 (12.1) beside torch 2.9.1+cu130's sm_120, healthy
    text = (CE / "sglang-13198.txt").read_text()
    assert _floor(text) == "8.0"
    assert _errors(text) == []
    made = RANGE_WARNING.format(name="NVIDIA GB10", cc="12.1", least="8.0", greatest="12.0")
    assert _errors(made) == []


def test_a_range_without_torch_s_warning_before_it_is_no_floor() -> None:
    text = "Tesla P100-PCIE-16GB\n    (7.5) - (12.0)\n"
    assert _facts(text) is None  # nothing read: no report
    assert _floor("PyTorch version: 2.9.0+cu130\n(7.5) - (12.0)\n") is None


# ------------------------------------------------------------------- torch's cuDNN check
WRAPPED = {
    "VS Code's debugger (Co-GAT-2)": (CE / "Co-GAT-2.txt").read_text(),
    "a Jupyter cell": (
        "RuntimeError                              Traceback (most recent call last)\n"
        "Cell In[3], line 2\n----> 2 model = model.cuda()\n\nRuntimeError: " + CUDNN + "\n"
    ),
    "a logger's prefix": f"ERROR:root:{CUDNN}\n",
    "the reporter's words": f"When I train I get the following error: {CUDNN}\n",
    "a full-width colon": f"\u8fd0\u884c\u65f6\u62a5\u9519\uff1a{CUDNN}\n",
    "a fence": f"```\n{CUDNN}\n```\n",
    "quoted at the line's start": f"> {CUDNN}\n",
}


@pytest.mark.parametrize("text", WRAPPED.values(), ids=WRAPPED.keys())
def test_the_cudnn_check_in_any_wrapper_is_the_cause(text: str) -> None:
    facts = facts_from_texts(collect_env=text)
    assert f"{TORCH_CUDNN_COMPILED}8.5.0 and found 8.3.3 at run time" in facts.meta.notes
    assert _errors(text) == ["EL-CUDNN-INCOMPATIBLE"]


QUOTED = {
    "a PR that fixes it (pytorch-104757)": (CONTROLS / "pytorch-104757.txt").read_text(),
    "another thread's": f"In #80637 people saw '{CUDNN}' but my torch loads its own cuDNN.\n",
    "asked about": f"Is `{CUDNN}` what I will see with conda's cudnn 8.3?\n",
    "the old server's": f"On the old server {CUDNN}\nPyTorch version: 2.0.1+cu117\n",
}


@pytest.mark.parametrize("text", QUOTED.values(), ids=QUOTED.keys())
def test_the_cudnn_check_a_sentence_quotes_is_not_read(text: str) -> None:
    facts = _facts(text)
    notes = facts.meta.notes if facts is not None else []
    assert not any(n.startswith(TORCH_CUDNN_COMPILED) for n in notes)
    assert "EL-CUDNN-INCOMPATIBLE" not in _errors(text)


# ------------------------------------------------------------------------ pasted/hearsay.py
MESSAGE = "NVIDIA GeForce RTX 3090 with CUDA capability sm_86 is not compatible"
TOLD = {
    # (the line, whether it is another machine's, asked about, or gone)
    "as printed": (f"UserWarning: {MESSAGE}", False),
    "in quotes at the line's start": (f'"{MESSAGE}.', False),
    "after words that say the reporter got it": (f"I got this warning: '{MESSAGE}'", False),
    "after 'the following error:'": (f"I get the following error: {MESSAGE}", False),
    "after an apostrophe": (f"torch's {MESSAGE}", False),
    # a whole report flattened onto one line (tests/pasted/test_layouts.py's 'flattened')
    "after a fence": (
        f"stuck. ```bash /x/torch/cuda/__init__.py:104: UserWarning: {MESSAGE}",
        False,
    ),
    "after a frame's path": (
        f'File "/x/cuda/__init__.py", line 172, in _lazy_init {MESSAGE}',
        False,
    ),
    "after a frame cut short": (
        f'main() File "/data/x/cuda/__init() RuntimeError: {MESSAGE}',
        False,
    ),
    "a code span after a question": (f"Is CUDA 13 needed? `UserWarning: {MESSAGE}", False),
    "another thread's": (f"In #45028 people saw '{MESSAGE}'", True),
    "asked about": (f"Is '{MESSAGE}' something I will see?", True),
    "gone": (f"The warning '{MESSAGE}' went away after the upgrade.", True),
    "gone, unquoted": (f"{MESSAGE} -- that was on my old PC", True),
    "a PR's": (f'This would prevent: "{MESSAGE}" messages', True),
}


@pytest.mark.parametrize(("line", "told"), TOLD.values(), ids=TOLD.keys())
def test_a_message_is_this_machines_unless_its_line_tells_otherwise(line: str, told: bool) -> None:
    at = line.index(MESSAGE)
    assert not_this_machines(line, at, at + len(MESSAGE)) is told


def test_a_count_a_flattened_log_left_before_the_gpu_name_is_not_the_names() -> None:
    # MONAILabel-1015: '... - Total Records for Validation: 0 NVIDIA GeForce RTX 3090 with CUDA
    # capability sm_86 is not compatible ...' (a log line and torch's warning on one line)
    facts = _facts((CE / "MONAILabel-1015.txt").read_text())
    assert facts is not None
    assert [g.name for g in facts.driver.gpus or []] == ["NVIDIA GeForce RTX 3090"]


# torch/cuda/__init__.py's _check_cubins by release (the 1.5.0, 1.6.0, 1.7.0 and 2.9.0 wheels)
@pytest.mark.parametrize(
    ("release", "flags", "gpu", "warns"),
    [
        ("1.5", "sm_37 sm_50 sm_60 sm_70", "8.6", False),  # no check before 1.6
        ("1.6", "sm_37 sm_50 sm_60 sm_70", "7.5", True),  # 1.6: 7.5 beside sm_70 warns
        ("1.6", "sm_37 sm_50 sm_60 sm_70", "6.1", False),  # 6.1 beside sm_60 does not
        ("1.7", "sm_37 sm_50 sm_60 sm_70 sm_75 sm_80", "8.6", False),  # pytorch#45130's rule
        ("1.7", "sm_37 sm_50 sm_60 sm_70 sm_75", "8.6", True),
        ("2.9", "sm_75 sm_80 sm_86 sm_90 sm_100 sm_120 compute_120", "12.1", False),
        ("2.9", "sm_50 sm_60 sm_70 sm_75 sm_80 sm_86 sm_90 compute_90", "12.0", True),
    ],
)
def test_each_releases_own_check_decides_which_builds_warn(
    release: str, flags: str, gpu: str, warns: bool
) -> None:
    targets = [t for f in flags.split() if (t := ArchTarget.from_flag(f)) is not None]
    assert _warns(Version.parse(release), targets, Version.parse(gpu)) is warns


def test_an_rtx_3090s_sm_86_line_alone_is_arch_unsupported() -> None:
    # only builds without sm_8x warn for an 8.6 GPU (1.7.0 on), and none of them runs it
    for name in ("mmdetection-9876.txt", "MONAILabel-1015.txt"):
        assert _errors((CE / name).read_text())[:1] == ["EL-ARCH-UNSUPPORTED"]

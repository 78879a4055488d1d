"""torch's own messages wherever a reporter puts them (issue 21, session 13, H13): lower-cased
and joined to the word before it in another language's prose (ControlNet-15), quoted after a
sentence that opens with 'When' (jetson-inference-1848), retold in the reporter's words
(kaolin-17); each is read as the fact it states unless its line tells it as another
machine's, gone or asked about (pasted/hearsay.py).

torch/cuda/__init__.py raises "Torch not compiled with CUDA enabled" where torch._C has no CUDA
(_check_driver before 1.5, _lazy_init since: the same words), and "The NVIDIA driver on your
system is too old (found version 10000)" where the driver's CUDA is older than its own
(_check_driver before 1.5, c10/cuda's device count since: the same words): a build without
CUDA (checks/cpubuild.py), the driver's CUDA (pasted/driverneed.py's stated need)."""

from __future__ import annotations

import pytest

from envlock.pasted.hearsay import not_this_machines
from envlock.pasted.libmessages import TORCH_NOT_COMPILED
from envlock.pasted.torch_warnings import TORCH_DRIVER_TOO_OLD
from tests.conftest import FIXTURES
from tests.pasted.test_prose_controls import _errors, _facts

CE = FIXTURES / "collect_env"

NOT_COMPILED_SAID = {
    "lower-cased after 'AssertionError:' in Chinese prose (ControlNet-15)": (
        CE / "ControlNet-15.txt"
    ).read_text(),
    "quoted after 'When I run ..., I get' (jetson-inference-1848)": (
        CE / "jetson-inference-1848.txt"
    ).read_text(),
    "wrapped by the paste": "AssertionError: Torch not compiled with\nCUDA enabled\n",
    "a why-question of the reporter's own": (
        "Why do I get 'torch not compiled with CUDA enabled'? I installed it with pip.\n"
    ),
}
NOT_COMPILED_TOLD = {
    "asked about": "Is 'torch not compiled with cuda enabled' something I will see on a Mac?\n",
    "gone": "The 'Torch not compiled with CUDA enabled' error went away after the reinstall.\n",
    "another thread's": 'In #30664 people saw "torch not compiled with CUDA enabled" there.\n',
}


@pytest.mark.parametrize("text", NOT_COMPILED_SAID.values(), ids=NOT_COMPILED_SAID.keys())
def test_torchs_cpu_build_message_anywhere_is_the_cpu_build(text: str) -> None:
    facts = _facts(text)
    assert facts is not None and TORCH_NOT_COMPILED in facts.meta.notes
    assert _errors(text)[:1] == ["EL-TORCH-CPU-ONLY"]


@pytest.mark.parametrize("text", NOT_COMPILED_TOLD.values(), ids=NOT_COMPILED_TOLD.keys())
def test_torchs_cpu_build_message_told_otherwise_is_not_read(text: str) -> None:
    facts = _facts(text)
    assert facts is None or TORCH_NOT_COMPILED not in facts.meta.notes
    assert "EL-TORCH-CPU-ONLY" not in _errors(text)


DRIVER_SAID = {
    "retold: 'my system', no blank before '(' (kaolin-17)": (
        (CE / "kaolin-17.txt").read_text(),
        "10.0",
    ),
    "torch 1.4's AssertionError, the message on the next line": (
        "AssertionError: \nThe NVIDIA driver on your system is too old (found version 10000).\n"
        "Please update your GPU driver by downloading and installing a new\n",
        "10.0",
    ),
    "lower-cased by the reporter": (
        "the error says: the nvidia driver on your system is too old (found version 11040)\n",
        "11.4",
    ),
}
DRIVER_TOLD = {
    "another thread's": (
        "In #9999 people saw 'The NVIDIA driver on your system is too old (found version "
        "10000)' with CUDA 10.1 wheels.\n"
    ),
    "gone": "The NVIDIA driver on my system is too old (found version 10000) -- used to get it\n",
    "no version found": "I think the NVIDIA driver on my system is too old for CUDA 12.\n",
}


@pytest.mark.parametrize(("text", "cuda"), DRIVER_SAID.values(), ids=DRIVER_SAID.keys())
def test_torchs_driver_message_anywhere_states_the_drivers_cuda(text: str, cuda: str) -> None:
    facts = _facts(text)
    assert facts is not None and facts.driver.cuda_version == cuda
    assert any(n.startswith(TORCH_DRIVER_TOO_OLD) for n in facts.meta.notes)
    assert _errors(text)[:1] == ["EL-DRIVER-TOO-OLD"]


@pytest.mark.parametrize("text", DRIVER_TOLD.values(), ids=DRIVER_TOLD.keys())
def test_torchs_driver_message_told_otherwise_is_not_read(text: str) -> None:
    facts = _facts(text)
    assert facts is None or facts.driver.cuda_version is None
    assert "EL-DRIVER-TOO-OLD" not in _errors(text)


MESSAGE = "AssertionError: Torch not compiled with CUDA enabled"
QUESTIONS = {
    # (the line, whether it is another machine's, asked about, or gone)
    "a 'When' clause, no question": (
        f'When I run "python3 x.py --dir=m", it loads, but then I get "{MESSAGE}" which is '
        "triggered on line 293 of torch/cuda/__init__.py.  I have torch 2.2.0 installed.",
        False,
    ),
    "why the reporter gets it": (f"Why do I get '{MESSAGE}'?", False),
    "how the reporter fixes it": (f"How do I fix `{MESSAGE}` on my laptop?", False),
    "whether one will see it": (f"Is '{MESSAGE}' something I will see?", True),
    "when one will see it": (f"When will I see '{MESSAGE}'?", True),
    "why someone else gets it": (f"Why would anyone get '{MESSAGE}'?", True),
}


@pytest.mark.parametrize(("line", "told"), QUESTIONS.values(), ids=QUESTIONS.keys())
def test_a_sentence_is_a_question_only_where_it_ends_in_one(line: str, told: bool) -> None:
    at = line.index(MESSAGE)
    assert not_this_machines(line, at, at + len(MESSAGE)) is told

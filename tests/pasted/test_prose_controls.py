"""The session's readers of prose and messages never raise a false error (issue 21, session 11).

pasted/prose.py (torch versions and GPUs in the reporter's own words), pasted/precmsg.py (a
library's bf16/tf32 refusal anywhere in a line), pasted/line_starts.py (the layout step's line
starts), pasted/torch_warnings.py, pasted/driverneed.py, pasted/libmessages.py and
checks/archsaid.py (torch's own statements judged on their own) read text nobody tuned them on.

1. Real controls (tests/fixtures/prose_controls/, index.json): issue-thread texts as the
   issues corpus returned them. A 'healthy' one (the thread's problem was outside the
   torch/driver/GPU stack, or no machine is reported) gets no error finding through
   `doctor --collect-env`'s path; a 'diagnosed' one gets its established cause or nothing,
   never another error.
2. Lines a careful expert reads (a question, a plan, a fix someone else proposes, a quote of a
   message from another machine or a linked thread, "no longer", "was", "before the fix"), per
   reader: what they conclude, asserted. Where the readers still conclude otherwise the case is
   a strict xfail naming the finding in /work/notes/s11/V1-findings.md (F1-F6): it fails the
   day the owner's fix lands, and the mark goes then.
"""

from __future__ import annotations

import json
import textwrap

import pytest

from envlock.checks import run_checks
from envlock.errors import FactsError
from envlock.facts import Facts
from envlock.findings import Severity
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CONTROLS = FIXTURES / "prose_controls"
INDEX = json.loads((CONTROLS / "index.json").read_text())["controls"]
HEALTHY = [e for e in INDEX if e["kind"] == "healthy"]
DIAGNOSED = [e for e in INDEX if e["kind"] == "diagnosed"]


def _facts(text: str) -> Facts | None:
    """The facts `doctor --collect-env` reads; None where it reads nothing (exit 3, no finding)."""
    try:
        return facts_from_texts(collect_env=text)
    except FactsError:
        return None


def _errors(text: str) -> list[str]:
    facts = _facts(text)
    if facts is None:
        return []
    return [f.check_id for f in run_checks(facts) if f.severity is Severity.ERROR]


def _gpus(text: str) -> list[str | None]:
    facts = _facts(text)
    return [g.name for g in ((facts.driver.gpus if facts else None) or [])]


def _torch(text: str) -> str | None:
    facts = _facts(text)
    return facts.torch.version if facts else None


def _xfail(finding: str, why: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(strict=True, reason=f"V1-findings.md {finding}: {why}")


# ------------------------------------------------------------------------- the real controls
def test_the_index_names_every_control_once_and_no_other_file() -> None:
    files = sorted(p.name for p in CONTROLS.glob("*.txt"))
    assert sorted(e["file"] for e in INDEX) == files
    assert len(HEALTHY) >= 20 and len(DIAGNOSED) >= 10
    assert all(e["url"].startswith("https://github.com/") and e["basis"] for e in INDEX)


@pytest.mark.parametrize("entry", HEALTHY, ids=[e["file"] for e in HEALTHY])
def test_a_healthy_thread_gets_no_error(entry: dict[str, str]) -> None:
    # pytorch-45130 (a PR quoting the sm_86 warning) and pytorch-104757 (a PR fixing CI's cuDNN
    # message) are quiet at 236d1ca and get an error with H8's uncommitted readers (F3, F6)
    assert _errors((CONTROLS / entry["file"]).read_text()) == []


@pytest.mark.parametrize("entry", DIAGNOSED, ids=[e["file"] for e in DIAGNOSED])
def test_a_diagnosed_thread_gets_its_cause_or_nothing(entry: dict[str, str | None]) -> None:
    errors = _errors((CONTROLS / str(entry["file"])).read_text())
    assert set(errors) <= ({entry["cause"]} if entry["cause"] else set())


def test_the_refusals_that_name_their_gpu_find_it() -> None:
    # the cause is found where the thread itself names the GPU beside the refusal
    for name, gpu in (("FastChat-399.txt", "V100"), ("dolly-11.txt", "V100")):
        text = (CONTROLS / name).read_text()
        assert _errors(text) == ["EL-BF16-UNSUPPORTED"]
        assert _gpus(text) == [gpu]


def test_a_torch_warning_with_its_arch_list_is_the_arch_cause() -> None:
    assert _errors((CONTROLS / "WPFS-3.txt").read_text()) == ["EL-ARCH-UNSUPPORTED"]
    assert _errors((CONTROLS / "ptlflow-41.txt").read_text()) == ["EL-ARCH-UNSUPPORTED"]


def test_a_fix_someone_proposes_is_not_the_installed_torch() -> None:
    # WPFS-3: the arch list sm_37..sm_70 is the cu102 wheel's; 1.10.1+cu111 has sm_80
    assert _torch((CONTROLS / "WPFS-3.txt").read_text()) != "1.10.1+cu111"


@pytest.mark.parametrize(
    ("name", "gpu"),
    [("ptlflow-41.txt", "NVIDIA GeForce RTX 3090"), ("nerfacc-80.txt", "RTX A6000")],
)
def test_the_warning_gpu_name_is_the_name_alone(name: str, gpu: str) -> None:
    # ptlflow-41: '"NVIDIA GeForce RTX 3090'; nerfacc-80: the sentence before it, joined
    assert _gpus((CONTROLS / name).read_text()) == [gpu]


def test_a_gpu_a_commenter_asks_about_is_not_the_reporters() -> None:
    assert _gpus((CONTROLS / "stanford_alpaca-133.txt").read_text()) != ["V100"]


# -------------------------------------------------------------------------- pasted/prose.py
PROSE_QUIET = {
    "a question": "Should I use torch 2.1.0+cpu with my RTX 3090?\n",
    "another's proposal": (
        "Someone suggested torch 2.1.0+cpu, but on my RTX 3090 torch 2.1.0+cu118 works.\n"
    ),
    "a command in the docs": (
        "The docs say `pip install torch==2.1.0+cpu` for CPU machines; I have an RTX 4090.\n"
    ),
    "a condition": "If you have an RTX 3090, torch 1.7.0+cu101 will not work.\n",
    "two builds compared": (
        "it works with torch 2.1.0+cu118 but not with torch 2.1.0+cpu on the RTX 3090\n"
    ),
    "a healthy statement": (
        "torch 1.7.1+cu110 works fine on my RTX 3090 now, the crash was in my loss function.\n"
    ),
    "Chinese, solved": "我的环境是 torch 2.1.0+cu118\uff0c显卡 RTX 3090\uff0c问题已解决\uff0c是数据集路径写错了。\n",
    "an upgrade told": (
        "I upgraded from torch 1.6.0 to 1.7.0+cu110 on my RTX 3090 and memory use went up.\n"
    ),
    "a maintainer's machine": (
        "Our test environment: V100 + CUDA 10.2 + pytorch 1.4. You have an RTX 3090, so please "
        "check.\n"
    ),
}
PROSE_PAST = {
    "used to": "I used to have torch 2.0.1+cpu on my RTX 3060, that was fixed by reinstalling.\n",
    "no longer": "torch 2.0.1+cpu is no longer installed, the RTX 3060 works now.\n",
    "before the fix": (
        "Before the fix torch was 2.0.1+cpu. My GPU is an RTX 3060 and training runs now.\n"
    ),
    "a colleague's laptop": (
        "My colleague's laptop has torch 2.1.0+cpu; mine has an RTX 4090 and runs fine.\n"
    ),
}


@pytest.mark.parametrize("text", PROSE_QUIET.values(), ids=PROSE_QUIET.keys())
def test_prose_that_states_nothing_wrong_gets_no_error(text: str) -> None:
    assert _errors(text) == []


@pytest.mark.parametrize("text", PROSE_PAST.values(), ids=PROSE_PAST.keys())
def test_prose_of_the_past_or_another_machine_gets_no_error(text: str) -> None:
    assert _errors(text) == []


def test_a_requirements_diff_that_moves_to_cuda_is_quiet() -> None:
    text = "```diff\n-torch==2.6.0+cpu\n+torch==2.5.1+cu121\n```\nTested on my RTX 3090.\n"
    assert _errors(text) == []


def test_a_requirements_diff_for_the_cpu_runner_is_not_this_machine() -> None:
    text = (
        "```diff\n-torch==2.5.1+cu121\n+torch==2.6.0+cpu\n```\nThis is for the CPU CI runner; "
        "the GPU runner keeps its RTX 3090 build.\n"
    )
    assert _errors(text) == []


def test_a_cpu_wheel_the_requirements_pulled_in_is_cpu_only() -> None:
    text = (
        "The CPU wheel (torch 2.1.0+cpu) got pulled in by requirements.txt on my RTX 4090 box, so "
        "cuda was not available.\n"
    )
    assert _errors(text) == ["EL-TORCH-CPU-ONLY"]


def test_prose_that_states_a_cpu_build_beside_a_gpu_is_cpu_only() -> None:
    text = "I have torch 2.1.0+cpu and an RTX 3090, torch.cuda.is_available() is False.\n"
    assert _errors(text) == ["EL-TORCH-CPU-ONLY"]
    assert _torch(text) == "2.1.0+cpu" and _gpus(text) == ["NVIDIA RTX 3090"]


def test_an_upgrade_told_reads_no_version() -> None:
    assert _torch(PROSE_QUIET["an upgrade told"]) is None


def test_a_maintainers_environment_is_not_the_reporters() -> None:
    assert _torch(PROSE_QUIET["a maintainer's machine"]) is None


# ------------------------------------------------------------------------- pasted/precmsg.py
BF16_QUIET = {
    "a linked thread's V100": (
        "My A100 runs bf16 fine. The error 'Your setup doesn't support bf16/gpu' in #456 was on "
        "a V100.\n"
    ),
    "a question": "Should I pass --bf16 on an RTX 4090, or does it only work on an A100?\n",
    "previously, another GPU": (
        'Previously I got "ValueError: Your setup doesn\'t support bf16/gpu" on the T4; after '
        "moving to an NVIDIA A100-SXM4-80GB it works.\n"
    ),
    "the README's words": (
        "The README says bf16 is only supported on A100+ GPUs, and I have an RTX 3090, so is "
        "that fine?\n"
    ),
    "tf32 working": "With --tf32 True on the RTX 3090 everything trains; tf32 is supported.\n",
    "a question quoting tf32's refusal": (
        "Does --tf32 requires Ampere or a newer GPU arch mean my RTX 3090 can't use it?\n"
    ),
    "a refusal on an Ampere GPU named": (
        "ValueError: Your setup doesn't support bf16/gpu. You need torch>=1.10, using Ampere GPU "
        "with cuda>=11.0\nMy GPU is an RTX 3090.\n"
    ),
    "autocast quoted from a T4 thread": (
        "In the linked thread a T4 user hit 'Current CUDA Device does not support bfloat16. "
        "Please switch dtype to float16.' but my NVIDIA A100-SXM4-80GB runs bf16.\n"
    ),
    "xFormers' words from the docs": (
        "xformers prints 'bf16 is only supported on A100+ GPUs' for the T4 in the docs example; "
        "on my RTX 4090 everything works.\n"
    ),
}
BF16_GONE = {
    "no longer seen": (
        "We no longer see 'Your setup doesn't support bf16/gpu' since we switched --bf16 to "
        "--fp16 on the V100.\n"
    ),
    "Colab's T4, not mine": (
        "vLLM on the Colab T4 said: Bfloat16 is only supported on GPUs with compute capability "
        "of at least 8.0. Your Tesla T4 GPU has compute capability 7.5. On my own RTX 4090 the "
        "same command works.\n"
    ),
}
BF16_REFUSED = {
    "vLLM's own words": (
        "ValueError: Bfloat16 is only supported on GPUs with compute capability of at least 8.0. "
        "Your Tesla T4 GPU has compute capability 7.5.\n",
        "Tesla T4",
    ),
    "lower-cased in Chinese": (
        "运行时报错 your setup doesn't support bf16/gpu\uff0c我的显卡是 Tesla V100。\n",
        "V100",
    ),
    "Accelerate with the GPU listed": (
        "ValueError: bf16 mixed precision requires PyTorch >= 1.10 and a supported device.\n"
        "GPU: Tesla V100-SXM2-32GB\n",
        "V100",
    ),
}


def test_xformers_refusal_beside_the_gpu_named_is_the_cause() -> None:
    text = (
        "NotImplementedError: No operator found for `memory_efficient_attention_forward`\n"
        "    `cutlassF` is not supported because:\n"
        "        bf16 is only supported on A100+ GPUs\n"
        "My GPU is a Tesla T4.\n"
    )
    assert _errors(text) == ["EL-BF16-UNSUPPORTED"]


@pytest.mark.parametrize("text", BF16_QUIET.values(), ids=BF16_QUIET.keys())
def test_bf16_words_that_refuse_nothing_here_get_no_error(text: str) -> None:
    assert _errors(text) == []


@pytest.mark.parametrize("text", BF16_GONE.values(), ids=BF16_GONE.keys())
def test_a_bf16_refusal_that_is_gone_gets_no_error(text: str) -> None:
    assert _errors(text) == []


@pytest.mark.parametrize(("text", "gpu"), BF16_REFUSED.values(), ids=BF16_REFUSED.keys())
def test_a_bf16_refusal_on_a_pre_ampere_gpu_is_the_cause(text: str, gpu: str) -> None:
    assert _errors(text) == ["EL-BF16-UNSUPPORTED"]
    assert _gpus(text) == [gpu]


# --------------------------------------- pasted/torch_warnings.py, checks/archsaid.py (arch)
ARCH_QUIET = {
    "someone else's RTX 5090": (
        "A user on Discord with an RTX 5090 sees the sm_120 warning; my RTX 4090 with torch "
        "2.5.1+cu124 is fine.\n"
    ),
    "another machine's warning, then this one": (
        "GeForce RTX 3090 with CUDA capability sm_86 is not compatible with the current PyTorch "
        "installation.\nThat was on the old server. Now I run torch 2.1.0+cu121 on the RTX 4090 "
        "and it works.\n"
    ),
    "a README's quote, gone with the new torch": (
        "> NVIDIA GeForce RTX 5090 with CUDA capability sm_120 is not compatible with the current "
        "PyTorch installation.\nThe README says you will see this with torch 2.6; I use torch "
        "2.7.0+cu128 and it is gone.\n"
    ),
}
ARCH_GONE = {
    "a linked thread's RTX 3080": (
        "In #45028 people saw 'GeForce RTX 3080 with CUDA capability sm_86 is not compatible with "
        "the current PyTorch installation.' My GPU is a GTX 1080 Ti with torch 1.7.1+cu110 and "
        "training works.\n"
    ),
    "went away after the upgrade": (
        "The warning 'NVIDIA GeForce RTX 3090 with CUDA capability sm_86 is not compatible with "
        "the current PyTorch installation.' went away after upgrading to torch 1.8.0+cu111.\n"
    ),
    "a question": (
        "Is 'NVIDIA GeForce RTX 4090 with CUDA capability sm_89 is not compatible with the "
        "current PyTorch installation' something I will see with torch 1.12.1+cu113?\n"
    ),
}
ARCH_PAST = {
    "the old PC's GTX 770": (
        "Found GPU0 GeForce GTX 770 which is of cuda capability 3.0. PyTorch no longer supports "
        "this GPU because it is too old. -- this was on my old PC, the new one has an RTX 3060 "
        "with torch 2.1.0+cu118.\n"
    ),
}
ARCH_REFUSED = {
    "RTX 3080 beside a cu102 list (torch 1.6-1.7's)": (
        "GeForce RTX 3080 with CUDA capability sm_86 is not compatible with the current PyTorch "
        "installation.\nThe current PyTorch install supports CUDA capabilities sm_37 sm_50 sm_60 "
        "sm_61 sm_70 sm_75 compute_37.\n",
        ["EL-ARCH-UNSUPPORTED"],
    ),
    "RTX 4090 beside torch 1.12.1+cu102": (
        "torch 1.12.1+cu102\nUserWarning:\nNVIDIA GeForce RTX 4090 with CUDA capability sm_89 is "
        "not compatible with the current PyTorch installation.\n",
        ["EL-ARCH-UNSUPPORTED"],
    ),
    "A100 beside a list without sm_8x": (
        "UserWarning:\nNVIDIA A100-SXM4-40GB with CUDA capability sm_80 is not compatible with "
        "the current PyTorch installation.\nThe current PyTorch install supports CUDA "
        "capabilities sm_37 sm_50 sm_60 sm_70.\n",
        ["EL-ARCH-UNSUPPORTED"],
    ),
    "RTX 5090 beside a list up to sm_90": (
        "UserWarning: \nNVIDIA GeForce RTX 5090 with CUDA capability sm_120 is not compatible "
        "with the current PyTorch installation.\nThe current PyTorch install supports CUDA "
        "capabilities sm_50 sm_60 sm_70 sm_75 sm_80 sm_86 sm_90.\n",
        ["EL-ARCH-UNSUPPORTED"],
    ),
    "torch < 1.8's GTX 770 below the floor": (
        "Found GPU0 GeForce GTX 770 which is of cuda capability 3.0.\n    PyTorch no longer "
        "supports this GPU because it is too old.\n    The minimum cuda capability that we "
        "support is 3.5.\n",
        ["EL-GPU-UNSERVABLE"],
    ),
}


@pytest.mark.parametrize("text", ARCH_QUIET.values(), ids=ARCH_QUIET.keys())
def test_an_arch_warning_of_another_machine_beside_this_ones_torch_is_quiet(text: str) -> None:
    assert _errors(text) == []


@pytest.mark.parametrize("text", ARCH_GONE.values(), ids=ARCH_GONE.keys())
def test_an_arch_warning_quoted_asked_or_gone_gets_no_error(text: str) -> None:
    # quiet at 236d1ca; the uncommitted checks/archsaid.py (H8) makes each EL-ARCH-UNSUPPORTED
    # (V1-findings.md F3): should it land before its fix, these take F3's strict xfail mark
    assert _errors(text) == []


@pytest.mark.parametrize("text", ARCH_PAST.values(), ids=ARCH_PAST.keys())
def test_an_old_gpu_warning_of_the_old_pc_gets_no_error(text: str) -> None:
    assert _errors(text) == []


@pytest.mark.parametrize(("text", "errors"), ARCH_REFUSED.values(), ids=ARCH_REFUSED.keys())
def test_torchs_own_arch_warning_is_the_cause(text: str, errors: list[str]) -> None:
    assert _errors(text) == errors


# ------------------------ driver and cuDNN: torch_warnings, driverneed, libmessages (NGC)
DRIVER_QUIET = {
    "asked beside a newer driver": (
        "nvidia-smi shows Driver Version: 535.104.05 and torch 2.1.0+cu121 runs on the RTX 3090; "
        "can 'The NVIDIA driver on your system is too old' still appear? It has not.\n"
    ),
    "another's 'Found no NVIDIA driver'": (
        "torch 2.1.0+cu121, RTX 4090, driver 535.104.05. Someone in #123 got 'Found no NVIDIA "
        "driver on your system' but I do not.\n"
    ),
    "the message only with another wheel": (
        "The NVIDIA driver on your system is too old (found version 11080) appeared only with the "
        "cu121 wheel; torch 2.1.2+cu118 works with it.\n"
    ),
    "a question from a Mac": (
        "Does 'Found no NVIDIA driver on your system' also happen on a MacBook with torch 2.1.0? "
        "I have no NVIDIA GPU there.\n"
    ),
}
DRIVER_GONE = {
    "torch's message before the driver update": (
        "RuntimeError: The NVIDIA driver on your system is too old (found version 11040).\nThat "
        "was before I updated the driver to 535.104.05; now torch 2.1.0+cu121 works on the RTX "
        "3090.\n"
    ),
    "NGC's banner on the old server": (
        "On the old server we saw 'This container was built for NVIDIA Driver Release 450.36 or "
        "later, but version 440.100 was detected and compatibility mode is UNAVAILABLE'; after "
        "upgrading to 535.104.05 the container starts.\n"
    ),
    "cuDNN from LD_LIBRARY_PATH, unset since": (
        "RuntimeError: cuDNN version incompatibility: PyTorch was compiled  against (8, 9, 2) but "
        "found runtime version (8, 5, 0).\nThat was the system cuDNN on LD_LIBRARY_PATH; after "
        "unsetting it torch 2.1.0+cu121 runs on the RTX 3090.\n"
    ),
}
DRIVER_REFUSED = {
    "torch < 1.5's AssertionError wording": (
        "AssertionError: \nThe NVIDIA driver on your system is too old (found version 10010).\n"
        "Please update your GPU driver by downloading and installing a new\nversion from the URL: "
        "http://www.nvidia.com/Download/index.aspx\n",
        ["EL-DRIVER-TOO-OLD"],
    ),
    "NGC's banner after ERROR:": (
        "ERROR: This container was built for NVIDIA Driver Release 530.30 or later, but version "
        "470.182.03 was detected and compatibility mode is UNAVAILABLE.\n",
        ["EL-DRIVER-TOO-OLD"],
    ),
    "torch's driver message": (
        "RuntimeError: The NVIDIA driver on your system is too old (found version 11040). Please "
        "update your GPU driver by downloading and installing a new version from the URL: "
        "http://www.nvidia.com/Download/index.aspx Alternatively, go to: https://pytorch.org to "
        "install a PyTorch version that has been compiled with your version of the CUDA driver.\n",
        ["EL-DRIVER-TOO-OLD"],
    ),
    "NGC's banner": (
        "This container was built for NVIDIA Driver Release 450.36 or later, but version 440.100 "
        "was detected and compatibility mode is UNAVAILABLE.\n",
        ["EL-DRIVER-TOO-OLD"],
    ),
}


@pytest.mark.parametrize("text", DRIVER_QUIET.values(), ids=DRIVER_QUIET.keys())
def test_a_driver_message_not_this_machines_gets_no_error(text: str) -> None:
    assert _errors(text) == []


_NEXT = _xfail("F5/F6", "a driver or cuDNN message the next sentence says is fixed is still judged")
GONE = [
    pytest.param(text, id=name, marks=[] if name == "NGC's banner on the old server" else _NEXT)
    for name, text in DRIVER_GONE.items()
]


@pytest.mark.parametrize("text", GONE)
def test_a_driver_or_cudnn_message_fixed_since_gets_no_error(text: str) -> None:
    assert _errors(text) == []


@pytest.mark.parametrize(("text", "errors"), DRIVER_REFUSED.values(), ids=DRIVER_REFUSED.keys())
def test_a_driver_or_cudnn_message_alone_is_the_cause(text: str, errors: list[str]) -> None:
    assert _errors(text) == errors


# ------------------------------- pasted/line_starts.py: prose hard-wrapped at a paste's width
WRAPPED = [
    "I run torch 2.1.0+cu118 on an RTX 3090 and training works; the problem was - as the "
    "maintainer said - a wrong path in the dataset config, nothing else.",
    "After reading the logs I found that the ERROR lines came from my own script, not from "
    "torch 2.0.1+cu117 which works fine on the NVIDIA GeForce RTX 3080.",
    "My setup is torch 1.13.1+cu117 with an RTX 3060 and the Traceback below is from the data "
    "loader; GPU 0: is used at 100% during the epochs.",
    "We compared runs and # of workers matters more than the torch version; torch 2.2.0+cu121 "
    "on the RTX 4090 is fine and WARNING messages are harmless.",
    "With torch 2.3.1+cu121 and the NVIDIA RTX A6000 the model trains; the [rank0] lines just "
    "print the loss, so there is no CUDA problem here.",
    "My torch 2.4.0+cu124 on the RTX 4070 Ti and the NVIDIA driver 550.54 work; the File "
    '"train.py" frame in the traceback is my code, and Setup complete is printed too.',
    "The environment is healthy: torch 2.0.0+cu118 with the RTX 3070, and the CUDA it was built "
    "with matches what I installed; the bug was in the tokenizer.",
    "nvcc: NVIDIA (R) Cuda compiler says 12.1 but that is not used by torch 2.1.0+cu121 on my "
    "RTX 3080 Ti, which works for training and inference alike.",
    "- torch 2.5.1+cu124 - RTX 4080 - everything works, the issue is the tokenizer's padding "
    "side which the maintainer fixed in the last release.",
    "In my run with torch 2.6.0+cu126 on the RTX 4090 CUDA is available and used; the slow "
    "part is the CPU-side augmentation, as the maintainer confirmed.",
]


_LOST = _xfail("F7", "the layout step joins this word wrap without its blank: a fact is lost")
WRAPS = [pytest.param(p, marks=_LOST) if i in (1, 3, 6, 9) else p for i, p in enumerate(WRAPPED)]


@pytest.mark.parametrize("paragraph", WRAPS, ids=[f"wrapped-{i}" for i in range(len(WRAPPED))])
def test_healthy_prose_reads_the_same_and_quiet_at_any_wrap_width(paragraph: str) -> None:
    whole = paragraph + "\n"
    read = (_torch(whole), _gpus(whole))
    assert read[0] is not None  # each states its torch build
    assert _errors(whole) == []
    for width in (36, 48, 60, 72, 80):
        wrapped = textwrap.fill(paragraph, width=width) + "\n"
        assert (_torch(wrapped), _gpus(wrapped)) == read, width
        assert _errors(wrapped) == [], width

"""A number format a library refused on a GPU too old for it, whoever words it
(envlock/pasted/precmsg.py, EL-BF16-UNSUPPORTED in envlock/checks/precision.py; issue 21,
session 11): vLLM's refusal names the GPU and its capability, the others are held to the GPU
the paste shows (or the one it names in prose); the fix is the refusing library's own option."""

from __future__ import annotations

import pytest

from envlock.checks import run_checks
from envlock.checks.triage import top_finding
from envlock.errors import FactsError
from envlock.facts import Facts
from envlock.findings import Finding, Severity
from envlock.pasted import facts_from_texts
from envlock.pasted.precmsg import read_precision_refusals
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"

# vllm/worker/worker.py's _check_if_gpu_supports_dtype (0.2.2 on), as raised on a T4
VLLM_T4 = (
    "ValueError: Bfloat16 is only supported on GPUs with compute capability of at least 8.0. "
    "Your Tesla T4 GPU has compute capability 7.5. You can use float16 instead by explicitly "
    "setting the`dtype` flag in CLI, for example: --dtype=half."
)
# vllm/platforms/cuda.py's check_if_supports_dtype (the V1 engine's log prefix)
VLLM_V1_P100 = (
    "(EngineCore_0 pid=212) ValueError: Bfloat16 is only supported on GPUs with compute "
    "capability of at least 8.0. Your Tesla P100-PCIE-16GB GPU has compute capability 6.0. You "
    "can use float16 instead by explicitly setting the `dtype` flag in CLI, for example: "
    "--dtype=half."
)
# torch.cuda.get_device_properties(0) (torch 2.0's repr), the GPU line a refusal is held to
V100_PROPS = (
    "_CudaDeviceProperties(name='Tesla V100-SXM2-16GB', major=7, minor=0, "
    "total_memory=16160MB, multi_processor_count=80)"
)
A100_PROPS = (
    "_CudaDeviceProperties(name='NVIDIA A100-SXM4-40GB', major=8, minor=0, "
    "total_memory=40396MB, multi_processor_count=108)"
)
# each library's refusal as its source words it, and what its fix must name
REFUSALS = {
    "transformers 4.21+": (
        "ValueError: Your setup doesn't support bf16/gpu. You need torch>=1.10, using Ampere "
        "GPU with cuda>=11.0",
        "--fp16 True",
    ),
    "transformers 4.11": (
        "ValueError: Your setup doesn't support bf16. You need Ampere GPU, torch>=1.10, cuda>=11.0",
        "--fp16 True",
    ),
    "transformers tf32": (
        "ValueError: --tf32 requires Ampere or a newer GPU arch, cuda>=11 and torch>=1.7",
        "--tf32 False",
    ),
    "torch autocast": (
        "RuntimeError: Current CUDA Device does not support bfloat16. Please switch dtype to "
        "float16.",
        "dtype=torch.float16",
    ),
    "xformers": (
        "NotImplementedError: No operator found for `memory_efficient_attention_forward` with "
        "inputs:\n     query       : shape=(2, 4096, 8, 40) (torch.bfloat16)\n"
        "`cutlassF` is not supported because:\n    bf16 is only supported on A100+ GPUs",
        "torch.float16",
    ),
    "flash-attn 1.x": (
        "RuntimeError: bfloat16 is only supported on Ampere GPUs or newer",
        "torch.float16",
    ),
    "accelerate": (
        "ValueError: bf16 mixed precision requires PyTorch >= 1.10 and a supported device.",
        "--mixed_precision fp16",
    ),
}


def _read(text: str) -> Facts:
    return facts_from_texts(collect_env=text)


def _bf16(facts: Facts) -> Finding | None:
    found = [f for f in run_checks(facts) if f.check_id == "EL-BF16-UNSUPPORTED"]
    return found[0] if found else None


def _top(facts: Facts) -> str | None:
    top = top_finding(run_checks(facts))
    return top.check_id if top else None


def test_vllms_refusal_alone_states_the_gpu_and_its_capability() -> None:
    facts = _read(f"I'm getting this error:\n\n{VLLM_T4}\n\nHow do I pass the dtype?\n")
    gpu = (facts.driver.gpus or [])[0]
    assert (gpu.name, gpu.compute_capability) == ("Tesla T4", "7.5")
    found = _bf16(facts)
    assert found is not None and found.severity is Severity.ERROR
    assert "vLLM" in found.message and "--dtype half" in (found.fix or "")
    assert _top(facts) == "EL-BF16-UNSUPPORTED"


@pytest.mark.parametrize(
    "text",
    [
        VLLM_T4.lower(),  # a reporter who lower-cases (OpenBuddy-45)
        "2.5版本启动后报错" + VLLM_T4 + "\uff0c2.2版本没有问题",  # glued mid-line in Chinese prose
        VLLM_T4.replace("compute capability of at", "compute capability of at\n  "),  # wrapped
        f"> `{VLLM_T4}`",  # quoted, backquoted
    ],
    ids=["lower-cased", "mid-line", "wrapped", "quoted"],
)
def test_vllms_refusal_is_read_however_pasted(text: str) -> None:
    facts = _read(text)
    gpu = (facts.driver.gpus or [])[0]
    assert gpu.name.lower() == "tesla t4" and gpu.compute_capability == "7.5"
    assert _top(facts) == "EL-BF16-UNSUPPORTED"


def test_vllm_v1s_refusal_below_tensor_cores_says_fp32() -> None:
    found = _bf16(_read(VLLM_V1_P100))
    assert found is not None and found.severity is Severity.ERROR
    assert "--dtype float32" in (found.fix or "") and "fp32" in (found.fix or "")


@pytest.mark.parametrize("name", list(REFUSALS))
def test_each_librarys_refusal_on_a_v100_is_the_error_with_its_own_option(name: str) -> None:
    refusal, option = REFUSALS[name]
    facts = _read(f"torch.__version__ = 2.0.1+cu117\n{V100_PROPS}\n{refusal}\n")
    found = _bf16(facts)
    assert found is not None and found.severity is Severity.ERROR, name
    assert option in (found.fix or "") and "fp16" in (found.fix or ""), found.fix
    assert _top(facts) == "EL-BF16-UNSUPPORTED"


@pytest.mark.parametrize("name", list(REFUSALS))
def test_the_same_refusal_on_an_a100_is_no_bf16_finding(name: str) -> None:
    facts = _read(f"torch.__version__ = 2.0.1+cu117\n{A100_PROPS}\n{REFUSALS[name][0]}\n")
    assert _bf16(facts) is None


def test_a_refusal_lower_cased_with_a_curly_apostrophe_is_read() -> None:
    refusal = REFUSALS["transformers 4.21+"][0].lower().replace("'", "\u2019")
    found = _bf16(_read(f"torch.__version__ = 2.0.1+cu117\n{V100_PROPS}\n{refusal}\n"))
    assert found is not None and found.severity is Severity.ERROR


def test_a_wrap_joined_without_its_blank_is_the_same_refusal() -> None:
    # a word wrap the layout step joined as a cut ("support\nbf16/gpu" -> "supportbf16/gpu"),
    # vLLM's "GPU\nhas" likewise
    refusal = REFUSALS["transformers 4.21+"][0].replace("support bf16", "supportbf16")
    found = _bf16(_read(f"torch.__version__ = 2.0.1+cu117\n{V100_PROPS}\n{refusal}\n"))
    assert found is not None and found.severity is Severity.ERROR
    facts = _read(VLLM_T4.replace("T4 GPU has", "T4 GPUhas"))
    gpu = (facts.driver.gpus or [])[0]
    assert (gpu.name, gpu.compute_capability) == ("Tesla T4", "7.5")


def test_the_one_gpu_named_in_prose_is_the_refused_one() -> None:
    # LMFlow-251: transformers' refusal glued after Chinese prose naming the GPU 'tsla T4'
    facts = _read((CE / "LMFlow-251.txt").read_text())
    gpu = (facts.driver.gpus or [])[0]
    assert (gpu.name, gpu.compute_capability) == ("T4", "7.5")
    assert _top(facts) == "EL-BF16-UNSUPPORTED"


def test_the_refusals_own_words_name_no_gpu() -> None:
    # xFormers' "A100+" is its wording, not a second GPU beside the T4 the reporter names
    # (V1-findings F8; x-flux-comfyui-24's title alone read an A100)
    text = f"{REFUSALS['xformers'][0]}\nMy GPU is a Tesla T4.\n"
    gpu = (_read(text).driver.gpus or [])[0]
    assert (gpu.name, gpu.compute_capability) == ("T4", "7.5")
    reading = read_precision_refusals(REFUSALS["xformers"][0])
    assert reading is not None and not reading.gpus


def test_a_gpu_named_only_in_a_question_is_not_read() -> None:
    # stanford_alpaca-133: transformers' refusal, then a commenter's "do you use v100?"
    text = (
        f"# {REFUSALS['transformers 4.21+'][0]}\n\nIs Ampere GPU with cuda 11.0 a necessary "
        "condition? How to solve this error?\n\ndo you use v100? It doesn't support bf16\n"
    )
    reading = read_precision_refusals(text)
    assert reading is not None and not reading.gpus
    stated = read_precision_refusals(text.replace("do you use v100?", "I use a V100."))
    assert stated is not None and stated.gpus == {0: "V100"}


def test_a_text_naming_two_gpus_names_none() -> None:
    text = f"it runs on my A100 but on the V100 box: {REFUSALS['transformers 4.21+'][0]}\n"
    reading = read_precision_refusals(text)
    assert reading is not None and reading.notes and not reading.gpus
    with pytest.raises(FactsError):
        _read(text)


def test_a_text_that_lists_its_gpus_gets_no_gpu_from_its_prose() -> None:
    text = (
        "PyTorch version: 2.0.1+cu117\nGPU models and configuration: GPU 0: Tesla T4\n"
        f"on the T4: {REFUSALS['accelerate'][0]}\n"
    )
    reading = read_precision_refusals(text)
    assert reading is not None and not reading.gpus


def test_a_gpu_named_without_a_refusal_is_not_read() -> None:
    assert read_precision_refusals("my T4 runs bf16 slowly; fp16 is fine") is None


def test_a_refusal_of_no_gpu_the_paste_shows_stays_unreadable() -> None:
    # Accelerate's words cover torch < 1.10 and a machine without a GPU too
    with pytest.raises(FactsError):
        _read(REFUSALS["accelerate"][0] + "\n")


def test_torchs_autocast_refusal_alone_is_the_device_it_ran_on() -> None:
    # LAVIS-91: BLIP-2's generate under torch.amp.autocast(dtype=torch.bfloat16), the
    # traceback alone; autocast refuses only on a CUDA device it found
    facts = _read((CE / "LAVIS-91.txt").read_text())
    found = _bf16(facts)
    assert found is not None and found.severity is Severity.ERROR
    assert "torch's autocast refused" in found.message and "no GPU" in found.message
    assert "dtype=torch.float16" in (found.fix or "") and "fp32 (no tensor" not in (found.fix or "")
    assert _top(facts) == "EL-BF16-UNSUPPORTED"


# xFormers' dispatcher (xformers/ops/fmha/common.py's not_supported_reasons, 0.0.23 on) as it
# prints a bf16 query on a Turing card: the flash kernel's capability reason, then the format's
XFORMERS_TURING = (
    "NotImplementedError: No operator found for `memory_efficient_attention_forward` with "
    "inputs:\n     query       : shape=(1, 577, 16, 64) (torch.bfloat16)\n"
    "     key         : shape=(1, 577, 16, 64) (torch.bfloat16)\n"
    "     value       : shape=(1, 577, 16, 64) (torch.bfloat16)\n"
    "     attn_bias   : <class 'NoneType'>\n     p           : 0.0\n"
    "`fa2F@v2.5.6` is not supported because:\n"
    "    requires device with capability > (8, 0) but your GPU has capability (7, 5) (too old)\n"
    "    bf16 is only supported on A100+ GPUs\n"
    "`cutlassF-pt` is not supported because:\n    bf16 is only supported on A100+ GPUs\n"
)


@pytest.mark.parametrize(
    "text",
    [
        (CE / "mistral-finetune-107.txt").read_text(),  # caret-garbled, capability (7, 0)
        XFORMERS_TURING,
        " ".join(XFORMERS_TURING.split()),  # flattened onto one line (MistoControlNet#13)
        XFORMERS_TURING.replace("but your GPU", "but your\nGPU"),  # wrapped mid-reason
    ],
    ids=["mistral-finetune-107", "turing", "flattened", "wrapped"],
)
def test_xformers_bf16_refusal_with_the_capability_it_states_is_the_cause(text: str) -> None:
    # no GPU named: xFormers' own "your GPU has capability (7, 0)" is the GPU it ran on
    facts = _read(text)
    gpu = (facts.driver.gpus or [])[0]
    assert gpu.compute_capability in ("7.0", "7.5") and "xFormers" in gpu.name
    found = _bf16(facts)
    assert found is not None and found.severity is Severity.ERROR
    assert "torch.float16" in (found.fix or "")
    assert _top(facts) == "EL-BF16-UNSUPPORTED"


@pytest.mark.parametrize(
    "text",
    [
        # fp16 inputs: the flash kernel's need alone (a kernel's, not a format refused)
        XFORMERS_TURING.replace("torch.bfloat16", "torch.float16").replace(
            "    bf16 is only supported on A100+ GPUs\n", ""
        ),
        # a Blackwell card above the kernel's range (VOSR#5's 'too new'), no bf16 reason
        "NotImplementedError: No operator found for `memory_efficient_attention_forward`\n"
        "`fa3F@0.0.0` is not supported because:\n    requires device with capability <= (9, 0) "
        "but your GPU has capability (12, 0) (too new)\n",
        # FlashAttention 2's own floor (csrc/flash_attn/flash_api.cpp): any format, fp16 too
        "RuntimeError: FlashAttention only supports Ampere GPUs or newer.\n",
        # xFormers 0.0.16-0.0.22's flash kernel on a GPU other than the A100
        "`flshattF` is not supported because:\n    requires A100 GPU\n",
    ],
    ids=["fp16-kernel-need", "too-new", "flash-attn-2", "xformers-0.0.16"],
)
def test_a_kernels_capability_need_without_a_bf16_refusal_reads_nothing(text: str) -> None:
    assert read_precision_refusals(text) is None


def test_xformers_bf16_reason_for_an_input_off_the_gpu_is_no_refusal() -> None:
    # not_supported_reasons says "bf16 is only supported on A100+ GPUs" of any bf16 input not
    # on CUDA too: beside "device=cpu (supported: {'cuda'})" it refuses no GPU's format
    text = (
        XFORMERS_TURING.replace(
            "    requires device with capability > (8, 0) but your GPU has capability (7, 5) "
            "(too old)\n",
            "    device=cpu (supported: {'cuda'})\n",
        )
        + "My GPU is a Tesla T4.\n"
    )
    assert read_precision_refusals(text) is None


def test_xformers_capability_against_a_named_gpu_that_disagrees_names_none() -> None:
    # the RTX 4090 (8.9) named is not the GPU xFormers ran on (7.5): another machine's
    text = XFORMERS_TURING + "On my own RTX 4090 the same workflow runs.\n"
    reading = read_precision_refusals(text)
    assert reading is not None and not reading.gpus
    agrees = read_precision_refusals(XFORMERS_TURING + "My GPU is a GeForce RTX 2080 Ti.\n")
    assert agrees is not None and agrees.gpus == {0: "RTX 2080 Ti"}


def test_vllms_gpu_beside_another_gpu_that_works_is_not_read() -> None:
    # the refusal names the T4; the reporter's own RTX 4090 runs the job: not this machine's
    text = f"On Colab: {VLLM_T4}\nOn my own RTX 4090 the same command works.\n"
    reading = read_precision_refusals(text)
    assert reading is not None and reading.notes and not reading.gpus
    alone = read_precision_refusals(f"{VLLM_T4}\nI also have an RTX 4090 in another box.\n")
    assert alone is not None and alone.gpus == {0: "Tesla T4"}


GONE = {
    "no longer seen": "We no longer see '{}' on the V100.",
    "went away": "That '{}' error went away on the T4.",
    "is gone since": "Since we switched to fp16, '{}' is gone on the V100.",
}


@pytest.mark.parametrize("sentence", GONE.values(), ids=GONE.keys())
@pytest.mark.parametrize(
    "refusal", ["Your setup doesn't support bf16/gpu", "bf16 is only supported on A100+ GPUs"]
)
def test_a_refusal_its_sentence_says_is_gone_is_not_read(sentence: str, refusal: str) -> None:
    assert read_precision_refusals(sentence.format(refusal)) is None
    # the refusal, then the fix the next sentence tells: still the cause, it was refused
    fixed = f"{refusal}\nI set fp16 instead and it works on the V100 now.\n"
    assert read_precision_refusals(fixed) is not None

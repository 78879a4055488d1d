"""An extension's or a family member's own failure message, read as the mismatch it states
(issue 21, session 10): DeepSpeed's runtime check of its prebuilt ops (envlock/pasted/dscheck.py)
and ds_report's "compiled w." line beside an installed op (dsreport.py) are an extension built
for another torch release (EL-EXT-TORCH-ABI) or CUDA major (EL-EXT-CUDA-MAJOR); torch's
dispatcher refusing a torchvision/torchaudio operator on CUDA with no CUDA kernel listed
(envlock/pasted/dispatcher.py) is a member built without CUDA (EL-FAMILY-MISMATCH). Each case
fires from a real report or line, and a near case must not."""

from __future__ import annotations

from envlock.checks import run_checks
from envlock.findings import Finding
from envlock.pasted.dispatcher import read_dispatcher
from envlock.pasted.dscheck import read_ds_check
from envlock.pasted.dsreport import read_ds_report
from tests.pasted.test_framework_reports import DS_REPORT
from tests.pasted.test_tool_reports import _errors, _facts, _report, _top

# DeepSpeed's wordings (op_builder/builder.py validate_torch_version, validate_torch_op_version)
HEAD = (
    "RuntimeError: {what} version mismatch! DeepSpeed ops were compiled and installed with a "
    "different version than what is being used at runtime. Please re-install DeepSpeed or "
    "switch torch versions. "
)
# deepspeedai/DeepSpeed#6465: DeepSpeed's Windows wheel (built for torch 2.3) beside torch 2.2.1
DS_6465 = HEAD.format(what="PyTorch") + "Install torch version=2.3, Runtime torch version=2.2\n"
# DeepSpeed 0.3.x (assert_torch_info): both pairs in one message
DS_OLD = (
    "RuntimeError: PyTorch and CUDA version mismatch! DeepSpeed ops were compiled and installed "
    "with a different version than what is being used at runtime. Please re-install DeepSpeed "
    "or switch torch versions. DeepSpeed install versions: torch=1.7, cuda=11.0, runtime "
    "versions:torch=1.8, cuda=11.1\n"
)


def _cuda_check(built: str, runtime: str) -> str:
    return (
        "PyTorch version: 2.1.2+cu121\nCUDA used to build PyTorch: 12.1\n\n"
        + HEAD.format(what="CUDA")
        + f"Install CUDA version={built}, Runtime CUDA version={runtime}\n"
    )


def _only(findings: list[Finding], check_id: str) -> Finding:
    (found,) = [f for f in findings if f.check_id == check_id]
    return found


def test_deepspeed_refusing_another_torch_release_is_an_extension_built_for_it() -> None:
    # alltalk_tts-111: the prebuilt DeepSpeed wheel for torch 2.1 under text-generation-webui's 2.2
    text = _report("alltalk_tts-111.txt")
    facts = _facts(text)
    assert facts.torch.version == "2.2"
    (ext,) = facts.extensions.items
    assert (ext.distribution, ext.built_for_torch, ext.cuda_major) == ("deepspeed", "2.1", None)
    assert _top(text) == "EL-EXT-TORCH-ABI"
    finding = _only(run_checks(facts), "EL-EXT-TORCH-ABI")
    assert "built for torch 2.1" in finding.message and "torch here is 2.2" in finding.message
    assert "deepspeed build for torch 2.2" in (finding.fix or "")
    assert _top(DS_6465) == "EL-EXT-TORCH-ABI"


def test_deepspeed_0_3s_combined_message_reads_torch_its_cuda_and_the_ops() -> None:
    facts = _facts(DS_OLD)
    assert (facts.torch.version, facts.torch.cuda, facts.torch.installed) == ("1.8", "11.1", True)
    (ext,) = facts.extensions.items
    assert (ext.built_for_torch, ext.cuda_major) == ("1.7", 11)
    assert "EL-EXT-TORCH-ABI" in _errors(DS_OLD)


def test_deepspeed_refusing_another_cuda_major_is_ext_cuda_major_and_a_minor_a_note() -> None:
    major = _cuda_check("11.8", "12.1")
    (ext,) = _facts(major).extensions.items
    assert ext.cuda_major == 11 and ext.built_for_torch is None
    assert "EL-EXT-CUDA-MAJOR" in _errors(major)
    minor = _cuda_check("12.4", "12.1")
    facts = _facts(minor)
    assert facts.extensions.items == []
    assert any("built for CUDA 12.4" in n for n in facts.meta.notes)
    assert _errors(minor) == []
    # on ROCm: HIP's pair, torch's HIP read, a note
    hip = HEAD.format(what="HIP") + "Install HIP version=5.4, Runtime HIP version=5.6\n"
    reading = read_ds_check(hip)
    assert reading is not None and reading.fields == {"ROCM used to build PyTorch": "5.6"}
    assert any("built for HIP 5.4" in n for n in reading.notes) and reading.extensions == []


def test_deepspeed_words_without_the_versions_are_not_its_check() -> None:
    # the message cut before its pairs, or named in prose: nothing to read
    assert read_ds_check(HEAD.format(what="PyTorch") + "Install torch version=") is None
    assert read_ds_check("I get 'PyTorch version mismatch! DeepSpeed ops were compiled'") is None
    assert read_ds_check("Install torch version=2.1, Runtime torch version=2.2") is None


# the op table's rows (the 'installed' column: [YES] is a prebuilt op, checked at load)
OPS = """op name ................ installed .. compatible
--------------------------------------------------
cpu_adam ............... {cpu_adam} ...... [OKAY]
fused_adam ............. [NO] ....... [OKAY]
"""


def _ds_report(cpu_adam: str, compiled: str) -> str:
    report = DS_REPORT.replace("torch 0.0, cuda 0.0", compiled)
    return OPS.format(cpu_adam=cpu_adam) + "-" * 50 + "\n" + report


def test_ds_report_with_a_prebuilt_op_for_another_torch_is_an_extension_built_for_it() -> None:
    text = _ds_report("[YES]", "torch 2.1, cuda 12.1")
    reading = read_ds_report(text)
    assert reading is not None
    (ext,) = reading.extensions
    assert (ext.get("built_for_torch"), ext.get("cuda_major")) == ("2.1", 12)
    assert _top(text) == "EL-EXT-TORCH-ABI"


def test_ds_report_without_a_prebuilt_op_or_for_this_torch_is_healthy() -> None:
    # ops compiled at first use are built against the torch running then: nothing to check
    for text in (
        _ds_report("[NO]", "torch 2.1, cuda 12.1"),
        _ds_report("[YES]", "torch 0.0, cuda 0.0"),
    ):
        assert _facts(text).extensions.items == []
        assert _errors(text) == []
    # prebuilt for this very torch release (2.3.0+cu121): read, and it loads
    same = _ds_report("[YES]", "torch 2.3, cuda 12.1")
    assert [e.built_for_torch for e in _facts(same).extensions.items] == ["2.3"]
    assert _errors(same) == []


# torch's dispatcher (OperatorEntry::reportError), torch 1.9 and later
REFUSED = (
    "NotImplementedError: Could not run '{op}' with arguments from the 'CUDA' backend. This "
    "could be because the operator doesn't exist for this backend, or was omitted during the "
    "selective/custom build process (if using custom build). If you are a Facebook employee "
    "using PyTorch on mobile, please visit https://fburl.com/ptmfixes for possible "
    "resolutions. '{op}' is only available for these backends: [{backends}].\n"
)
# a Windows Detectron2 environment's torchvision (torch 1.13's key list)
NMS_KEYS = (
    "CPU, QuantizedCPU, BackendSelect, Python, FuncTorchDynamicLayerBackMode, Functionalize, "
    "Named, Conjugate, Negative, ZeroTensor, ADInplaceOrView, AutogradOther, AutogradCPU, "
    "AutogradCUDA, AutogradXLA, AutogradMPS, AutogradXPU, AutogradHPU, AutogradLazy, Tracer, "
    "AutocastCPU, AutocastCUDA, FuncTorchBatched, FuncTorchVmapMode, Batched, VmapMode, "
    "FuncTorchGradWrapper, PythonTLSSnapshot, FuncTorchDynamicLayerFrontMode, PythonDispatcher"
)
TORCH_113 = "PyTorch version: 1.13.1+cu117\nCUDA used to build PyTorch: 11.7\n\n"


def test_a_member_operator_without_a_cuda_kernel_is_a_member_built_without_cuda() -> None:
    # ComfyUI-SAM3-59: torch 2.9.1+cu128, an untagged torchvision 0.24.1 whose roi_align has none
    text = _report("ComfyUI-SAM3-59.txt")
    facts = _facts(text)
    assert facts.packages.distributions.get("torchvision") == "0.24.1"
    assert _top(text) == "EL-FAMILY-MISMATCH"
    finding = _only(run_checks(facts), "EL-FAMILY-MISMATCH")
    assert finding.evidence["package"] == "torchvision"
    assert "torchvision::roi_align" in finding.message and "+cu128" in finding.message
    assert "download.pytorch.org/whl/cu128" in (finding.fix or "")
    # the version unlisted: the member is still named, its version not made up
    nms = TORCH_113 + REFUSED.format(op="torchvision::nms", backends=NMS_KEYS)
    finding = _only(run_checks(_facts(nms)), "EL-FAMILY-MISMATCH")
    assert finding.evidence["package.version"] == "(its version is not in the paste)"
    assert "download.pytorch.org/whl/cu117" in (finding.fix or "")


def test_a_refusal_that_proves_no_cpu_member_is_not_read() -> None:
    def reads(text: str) -> bool:
        return read_dispatcher(text) is not None

    with_cuda = NMS_KEYS.replace("CPU, ", "CPU, CUDA, ", 1)
    assert not reads(REFUSED.format(op="torchvision::nms", backends=with_cuda))
    # a list the paste cut before CUDA's place says nothing
    assert not reads(REFUSED.format(op="torchvision::nms", backends="CPU, ..."))
    # an operator some CUDA builds leave without a CUDA kernel, another package's, CPU's refusal
    assert not reads(REFUSED.format(op="torchaudio::_lfilter_core_loop", backends=NMS_KEYS))
    assert not reads(REFUSED.format(op="flash_attn::_flash_attn_forward", backends=NMS_KEYS))
    cpu = REFUSED.format(op="torchvision::nms", backends=NMS_KEYS).replace(
        "'CUDA' backend", "'CPU' backend"
    )
    assert not reads(cpu)
    assert reads(REFUSED.format(op="torchvision::nms", backends=NMS_KEYS))


def test_the_refusal_beside_a_tagged_member_or_a_cpu_torch_adds_nothing() -> None:
    refusal = REFUSED.format(op="torchvision::roi_align", backends=NMS_KEYS)
    # a +cu117 torchvision has the kernel: the refusal is not about it
    tagged = (
        TORCH_113 + "Versions of relevant libraries:\n[pip3] torchvision==0.14.1+cu117\n" + refusal
    )
    assert "EL-FAMILY-MISMATCH" not in _errors(tagged)
    # a package list read without it: that torchvision is not installed now
    unlisted = TORCH_113 + "Versions of relevant libraries:\n[pip3] numpy==1.26.4\n" + refusal
    assert "EL-FAMILY-MISMATCH" not in _errors(unlisted)
    cpu_torch = "PyTorch version: 1.13.1+cpu\nCUDA used to build PyTorch: None\n\n" + refusal
    assert "EL-FAMILY-MISMATCH" not in _errors(cpu_torch)

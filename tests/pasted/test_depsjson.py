"""Versions printed as a JSON object or a dict (envlock/pasted/depsjson.py, issue 21 session
13): InvokeAI's "### Python dependencies" (InvokeAI-7934: torch 2.6.0+cu124 beside an RTX 5060
Ti is EL-ARCH-UNSUPPORTED) and the later route's every-distribution shape with "CUDA"; a
script's dict assigned to a name, a CUDA that is "N/A" or disagrees with torch's tag, and a
log's dict after its words are not read."""

from __future__ import annotations

from envlock.pasted.depsjson import read_versions_object
from tests.pasted.test_tool_reports import _errors, _facts, _report, _top

# InvokeAI 6.x's get_app_deps (invokeai/app/api/routers/app_info.py): every distribution by
# its metadata name, sorted without case, and "CUDA": torch.version.cuda ("N/A" for None)
EVERY_DISTRIBUTION = """\
### GPU model

RTX 5060 Ti

### Python dependencies

{
  "accelerate": "1.7.0",
  "CUDA": "12.8",
  "diffusers": "0.33.0",
  "invokeai": "6.0.0",
  "numpy": "1.26.4",
  "torch": "2.7.1+cu128",
  "torchvision": "0.22.1+cu128",
  "transformers": "4.52.4"
}
"""
# a script pasted with what it expects (openEuler's CANN check): wanted, not installed
ASSIGNED = 'expected = {"torch": "2.5.1", "torch_npu": "2.5.1", "torchvision": "0.20.1"}\n'


def test_invokeai_7934_dependencies_read_and_arch_unsupported() -> None:
    text = _report("InvokeAI-7934.txt")
    reading = read_versions_object(text)
    assert reading is not None
    assert reading.fields == {
        "PyTorch version": "2.6.0+cu124",
        "CUDA used to build PyTorch": "12.4",
        "Python version": "3.11.10",
    }
    assert reading.packages == {"torchvision": "0.21.0+cu124"}  # xformers is null: not read
    facts = _facts(text)
    assert facts.torch.cuda == "12.4" and facts.torch.installed
    assert [g.name for g in facts.driver.gpus or []] == ["NVIDIA RTX 5060 Ti"]
    assert _top(text) == "EL-ARCH-UNSUPPORTED"


def test_every_distribution_shape_with_a_blackwell_build_is_healthy() -> None:
    reading = read_versions_object(EVERY_DISTRIBUTION)
    assert reading is not None
    assert reading.fields["CUDA used to build PyTorch"] == "12.8"
    assert reading.packages == {"torchvision": "0.22.1+cu128"}
    assert _facts(EVERY_DISTRIBUTION).torch.version == "2.7.1+cu128"
    assert _errors(EVERY_DISTRIBUTION) == []


def test_the_same_dict_assigned_in_a_script_is_not_read() -> None:
    assert read_versions_object(ASSIGNED) is None
    assert read_versions_object("check(" + ASSIGNED.partition("= ")[2]) is None
    # the same pairs as data, a line of their own: read
    reading = read_versions_object(ASSIGNED.partition("= ")[2])
    assert reading is not None and reading.fields["PyTorch version"] == "2.5.1"


def test_a_cuda_that_is_none_or_another_build_is_not_read() -> None:
    na = EVERY_DISTRIBUTION.replace('"12.8"', '"N/A"').replace("+cu128", "")
    reading = read_versions_object(na)
    assert reading is not None and "CUDA used to build PyTorch" not in reading.fields
    other = EVERY_DISTRIBUTION.replace('"12.8"', '"12.6"')
    reading = read_versions_object(other)
    assert reading is not None and "CUDA used to build PyTorch" not in reading.fields


def test_torch_alone_or_a_range_is_no_versions_object() -> None:
    assert read_versions_object('{\n  "torch": "2.7.1+cu128"\n}\n') is None
    assert read_versions_object('{\n  "torch": ">=2.0", "torchvision": "0.22.1"\n}\n') is None


def test_a_log_line_s_dict_after_its_words_is_not_this_reader_s() -> None:
    # sdnext-3476: "System packages: {'torch': '2.4.1+cpu', ...}" (SD.Next's own, launchlog's)
    assert read_versions_object(_report("sdnext-3476.txt")) is None

"""An extension build's own words about the CUDA toolkit (torch.utils.cpp_extension's refusal
and minor-mismatch warning, ColossalAI's op_builder refusal and `colossalai check -i` table)
are read as the toolkit's CUDA and torch's (envlock/pasted/cppext.py) and judged by
EL-NVCC-MISMATCH: an error where the paste shows the build refused (session 10, H7)."""

from __future__ import annotations

from envlock.checks import run_checks
from envlock.facts import Facts
from envlock.findings import Finding, Severity
from envlock.pasted import facts_from_texts
from envlock.pasted.cppext import BUILD_REFUSED, BUILDS_HERE, read_cpp_extension
from tests.conftest import FIXTURES
from tests.pasted.test_tool_reports import _top

CE = FIXTURES / "collect_env"

# torch 2.x: CUDA_MISMATCH_MESSAGE's two pieces joined without a blank
TORCH2_REFUSAL = (
    "RuntimeError: The detected CUDA version (12.1) mismatches the version that was used to "
    "compilePyTorch (11.8). Please make sure to use the same CUDA versions."
)
# torch 1.x: any difference refused, the message on two lines
TORCH1_MINOR_REFUSAL = (
    "RuntimeError:\nThe detected CUDA version (10.1) mismatches the version that was used to "
    "compile\nPyTorch (10.2). Please make sure to use the same CUDA versions.\n"
)
MINOR_WARNING = (
    "/venv/lib/python3.10/site-packages/torch/utils/cpp_extension.py:388: UserWarning: The "
    "detected CUDA version (11.8) has a minor version mismatch with the version that was used "
    "to compile PyTorch (11.7). Most likely this shouldn't be a problem.\n"
    "  warnings.warn(CUDA_MISMATCH_WARN.format(cuda_str_version, torch.version.cuda))\n"
)
# colossalai check -i of 0.3 on (check_installation.py), AOT kernels not built
COLOSSAL_TABLE = """#### Installation Report ####

------------ Environment ------------
Colossal-AI version: 0.3.6
PyTorch version: 2.1.2
System CUDA version: {system}
CUDA version required by PyTorch: 12.1

------------ CUDA Extensions AOT Compilation ------------
Found AOT CUDA Extension: {aot}
PyTorch version used for AOT compilation: N/A
CUDA version used for AOT compilation: N/A
"""


def _nvcc(text: str) -> list[Finding]:
    facts: Facts = facts_from_texts(collect_env=text)
    return [f for f in run_checks(facts) if f.check_id == "EL-NVCC-MISMATCH"]


def test_torchs_refusal_is_the_toolkit_and_torchs_cuda_and_an_error() -> None:
    for name in ("DEReD-13.txt", "DroidCalib-5.txt", "ColossalAI-3002.txt"):
        found = _nvcc((CE / name).read_text())
        assert [f.severity for f in found] == [Severity.ERROR], name
        assert _top((CE / name).read_text()) == "EL-NVCC-MISMATCH", name


def test_the_wrapped_and_the_joined_wordings_state_the_same_versions() -> None:
    for text, nvcc, torch in (
        (TORCH2_REFUSAL, "12.1", "11.8"),
        (TORCH1_MINOR_REFUSAL, "10.1", "10.2"),
    ):
        reading = read_cpp_extension(text)
        assert reading is not None
        assert reading.fields == {
            "CUDA runtime version": nvcc,
            "CUDA used to build PyTorch": torch,
        }
        assert reading.notes == [BUILD_REFUSED]


def test_torch1s_refusal_of_a_minor_difference_is_still_the_failed_build() -> None:
    (found,) = _nvcc(TORCH1_MINOR_REFUSAL)
    assert found.severity is Severity.ERROR


def test_the_minor_mismatch_warning_is_no_finding() -> None:
    reading = read_cpp_extension(MINOR_WARNING)
    assert reading is not None and reading.notes == []
    assert _nvcc(MINOR_WARNING) == []


def test_colossalais_table_without_aot_kernels_warns_of_the_build_here() -> None:
    (found,) = _nvcc(COLOSSAL_TABLE.format(system="11.3", aot="x"))
    assert found.severity is Severity.WARNING
    reading = read_cpp_extension(COLOSSAL_TABLE.format(system="11.3", aot="x"))
    assert reading is not None and reading.notes == [BUILDS_HERE]
    assert reading.fields["PyTorch version"] == "2.1.2"
    assert _nvcc(COLOSSAL_TABLE.format(system="12.1", aot="x")) == []


def test_colossalais_bold_table_of_the_old_layout_is_read() -> None:
    text = (CE / "ColossalAI-2973.txt").read_text()
    (found,) = _nvcc(text)
    assert found.severity is Severity.WARNING
    assert _top(text) == "EL-NVCC-MISMATCH"


def test_a_text_without_the_messages_reads_nothing() -> None:
    assert read_cpp_extension("The detected CUDA version (12.1) is fine") is None
    assert read_cpp_extension("CUDA version: 12.1\nPyTorch version: 2.1.0") is None


# DeepSpeed's op builder (op_builder/builder.py's assert_no_cuda_mismatch): the refusal as
# deepspeed#3405 quotes it, and the accepted minor difference as a training log prints it
DEEPSPEED_REFUSAL = (
    "Exception: >- DeepSpeed Op Builder: Installed CUDA version 12.1 does not match the version "
    "torch was compiled with 11.8, unable to compile cuda/cpp extensions without a matching cuda "
    "version.\n"
)
DEEPSPEED_ACCEPTED = (
    "Installed CUDA version 12.6 does not match the version torch was compiled with 12.4 but "
    "since the APIs are compatible, accepting this combination\n"
    "Using /home/dengkn/.cache/torch_extensions/py39_cu124 as PyTorch extensions root...\n"
)


def test_deepspeeds_op_builder_refusal_is_a_refused_build() -> None:
    reading = read_cpp_extension(DEEPSPEED_REFUSAL)
    assert reading is not None
    assert reading.fields == {"CUDA runtime version": "12.1", "CUDA used to build PyTorch": "11.8"}
    assert BUILD_REFUSED in reading.notes
    assert _top((CE / "DeepSpeed-3405.txt").read_text()) == "EL-NVCC-MISMATCH"


def test_deepspeeds_accepted_minor_difference_refuses_nothing() -> None:
    reading = read_cpp_extension(DEEPSPEED_ACCEPTED)
    assert reading is not None and BUILD_REFUSED not in reading.notes
    assert reading.fields["CUDA runtime version"] == "12.6"
    facts = facts_from_texts(collect_env=DEEPSPEED_ACCEPTED)
    assert [f for f in run_checks(facts) if f.severity is Severity.ERROR] == []

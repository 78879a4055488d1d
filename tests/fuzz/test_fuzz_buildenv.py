"""nvcc's refused architectures (pasted/nvccarch.py), the loader's glibc refusals
(pasted/glibcneed.py) and NCCL's /dev/shm permission refusal (pasted/nccl_log.shm_denied) on
outside input: real lines in any order, mangled, random text end in Facts or one FactsError
line, never a traceback; what each reads stands in the text (an architecture nvcc names, a
glibc version, a system library and a file of the text, a refusal saying "permission
denied"); adversarial 1 MB lines of the patterns' fragments stay within the CPU bound."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st

from envlock.pasted.glibcneed import MAX_REFUSALS, glibc_refusals
from envlock.pasted.nccl_log import MAX_SEEN_CHARS, shm_denied
from envlock.pasted.nvccarch import nvcc_refusals
from tests.checks import test_buildenv as cases
from tests.conftest import FIXTURES
from tests.fuzz import pastes

pytestmark = pytest.mark.fuzz

CE = FIXTURES / "collect_env"
TEXTS = [
    (CE / "DeepSpeed-3299.txt").read_text(encoding="utf-8"),
    (CE / "ColossalAI-2402.txt").read_text(encoding="utf-8"),
    (CE / "pytorch-37004.txt").read_text(encoding="utf-8"),
    cases.PYCUDA_440,
    cases.KOKKOS_7108,
    cases.BUTTERFLY_23,
    cases.PLACEHOLDERS,
    cases.DROPPED_WITH_VERSION,
    cases.TORCH_AARCH64,
    cases.PYG_548,
    cases.LDD_129555,
    cases.NOT_GLIBC,
    cases.NCCL_223_DENIED,
]
LINES = pastes.lines_of(TEXTS)
PIECES = st.sampled_from(
    [
        "nvcc fatal   : Unsupported gpu architecture '",
        "compute_",
        "sm_9",
        "Value '",
        "' is not defined for option 'gpu-architecture'",
        ": version `GLIBC_2.",
        "' not found (required by ",
        "/site-packages/",
        "Call to shm_open failed : ",
        "Permission denied",
        "\n",
        "'",
        "I used to get ",
    ]
)


def _holds(text: str) -> None:
    low = text.lower()
    refused = nvcc_refusals(text)
    assert len(refused) <= 4
    for arch in refused:
        assert arch.startswith(("compute_", "sm_")) and arch in low, arch
    found = glibc_refusals(text)
    assert len(found) <= MAX_REFUSALS
    for version, lib, needer in found:
        assert f"glibc_{version}" in low and lib in text and needer in text
    denied = shm_denied(text)
    if denied is not None:
        assert len(denied) <= MAX_SEEN_CHARS
        assert "permission denied" in denied.lower() or denied.endswith("..."), denied


FUZZ = pastes.ReaderFuzz((nvcc_refusals, glibc_refusals, shm_denied), LINES, PIECES, holds=_holds)
test_real_lines_in_any_order_read_or_refuse = FUZZ.real_lines_test()
test_mangled_lines_never_raise = FUZZ.mangled_lines_test()
test_random_text_never_raises = FUZZ.any_text_test()

ADVERSARIAL = [
    ("", "version ", "x"),
    ("", "a: version `GLIBC_2.1' not found (required by ", "x"),
    ("x" * 300, ": version ", "`GLIBC_2.29' not found (required by /a/site-packages/b/c.so)"),
    ("", "Value 'sm_89' ", "x"),
    ("", "unsupported gpu architecture ", "'compute_89'"),
    ("", "value value ", "x"),
    ("", "Call to shm_open failed : ", "x"),
    ("", "permission denied ", "x"),
    ("", "Cuda compilation tools, release 11.8, V11.8.89 ", "x"),
]

test_a_long_adversarial_line_stays_in_bound = FUZZ.adversarial_test(ADVERSARIAL)

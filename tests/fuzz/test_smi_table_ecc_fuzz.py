"""The `nvidia-smi` table's Volatile Uncorr. ECC column, fuzzed (issue 21 item 5).

The recorded RTX PRO 6000 table (tests/fixtures/nvidia_smi/sirzzang-rtxpro6000-dbe.table.txt)
with each GPU row's ECC cell replaced at random, at the cell's own width as nvidia-smi
right-aligns it: a count is read as that count and nothing else, "N/A" or any other text
records nothing, and EL-GPU-ECC-UNCORRECTED names exactly the GPUs whose count is not 0.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envlock.checks import run_checks
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ

pytestmark = pytest.mark.fuzz

TABLE_ECC = settings(FUZZ, deadline=None, max_examples=max(30, EXAMPLES // 3))
TABLE = (FIXTURES / "nvidia_smi" / "sirzzang-rtxpro6000-dbe.table.txt").read_text()
# the two GPU rows' last cells as recorded: "                    0 " and "...2 "
ROWS = [line for line in TABLE.splitlines() if "00000000:5" in line]
CELL = 22  # the width of the Volatile Uncorr. ECC column between its bars

cells = st.one_of(
    st.integers(min_value=0, max_value=10**25).map(str),
    st.just("N/A"),
    st.text(
        alphabet=st.characters(blacklist_characters="|\n\r", blacklist_categories=("Cs",)),
        max_size=30,
    ),
)


def _with_cells(values: list[str]) -> str:
    text = TABLE
    for row, value in zip(ROWS, values, strict=True):
        head = row[: row.rindex("|", 0, len(row) - 1) + 1]
        text = text.replace(row, f"{head}{value.strip():>{CELL - 1}} |")
    return text


def _expected(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.isdigit() and len(value) < 19 else None


@TABLE_ECC
@given(values=st.lists(cells, min_size=2, max_size=2))
def test_each_ecc_cell_is_read_as_printed(values: list[str]) -> None:
    facts = facts_from_texts(nvidia_smi=_with_cells(values))
    gpus = facts.driver.gpus or []
    assert [g.pci_bus_id for g in gpus] == ["00000000:54:00.0", "00000000:55:00.0"]
    read = [g.health.ecc_volatile_uncorrected if g.health else None for g in gpus]
    assert read == [_expected(v) for v in values]
    ecc = [f for f in run_checks(facts) if f.check_id == "EL-GPU-ECC-UNCORRECTED"]
    named = {g.pci_bus_id for g, n in zip(gpus, read, strict=True) if n}
    assert bool(ecc) is bool(named)
    for finding in ecc:
        assert all(bus in finding.message for bus in named if bus)

"""GPU health from `nvidia-smi -q`, fuzzed two ways (issue 21 item 5).

Differential: the real recordings (tests/fixtures/nvidia_smi/*.q.txt) with their health
values replaced at random (Yes/No/N/A, counts, fabric states and statuses) are read by
envlock's pasted path (envlock/pasted/smi_health.py) and, as the NVML answers they print,
by the probe through the fake pynvml (tests/checks/smi_nvml.py): both readings must give
each GPU the same health and the doctor the same health findings. Hostile: deep nesting,
long lines and huge counts end in partial facts or one FactsError, within the 2 s of CPU per example (cpubound.py).
"""

from __future__ import annotations

import dataclasses
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envlock.checks import run_checks
from envlock.errors import FactsError
from envlock.facts import Facts
from envlock.pasted import facts_from_texts
from envlock.probe import nvml
from tests.checks.smi_nvml import recording_from_smi
from tests.conftest import FIXTURES
from tests.fuzz.test_fuzz import EXAMPLES, FUZZ
from tests.probe.fakes import build_fake_pynvml

# a failing recording is 40 kB: its repr is the report, not a warning to fail on
pytestmark = [
    pytest.mark.fuzz,
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning"),
]

HEALTH = settings(FUZZ, deadline=None, max_examples=max(30, EXAMPLES // 3))
RECORDED = [
    p for p in sorted((FIXTURES / "nvidia_smi").glob("*.q.txt")) if "GPU 0000" in p.read_text()
]
# the lines whose values are health answers, and what nvidia-smi may print there
_VALUES = {
    "Pending": ["Yes", "No", "N/A"],
    "Remapping Failure Occurred": ["Yes", "No", "N/A"],
    "Pending Page Blacklist": ["Yes", "No", "N/A"],
    "DRAM Uncorrectable": ["0", "1", "17", "N/A"],
    "SRAM Uncorrectable Parity": ["0", "3", "N/A"],
    "SRAM Uncorrectable SEC-DED": ["0", "2", "N/A"],
    "Uncorrectable Error": ["0", "4", "N/A"],
    "State": ["Completed", "In Progress", "Not Started", "N/A"],
    "Status": ["Success", "Insufficient Resources", "N/A"],
}
_LINE = re.compile(r"^(\s+)([A-Za-z][A-Za-z -]*?)(\s*): (.*)$")
_FIELDS = (
    "ecc_volatile_uncorrected",
    "remap_pending",
    "remap_failed",
    "retired_pages_pending",
    "fabric_state",
    "fabric_status",
)
_IDS = {"EL-GPU-ECC-UNCORRECTED", "EL-GPU-MEMORY-REPAIR-PENDING", "EL-FABRIC-MANAGER"}


@st.composite
def revalued(draw: st.DrawFn) -> str:
    """A recording with some of its health values replaced."""
    lines = draw(st.sampled_from(RECORDED)).read_text().splitlines()
    out = []
    for line in lines:
        m = _LINE.match(line)
        choices = _VALUES.get(m.group(2)) if m else None
        if m and choices and draw(st.booleans()):
            line = f"{m.group(1)}{m.group(2)}{m.group(3)}: {draw(st.sampled_from(choices))}"
        out.append(line)
    return "\n".join(out) + "\n"


def _replayed(text: str) -> Facts:
    doc = {"facts_version": 1, "meta": {"envlock_version": "t", "collected_at": "t"}}
    driver = nvml.collect(nvml_module=build_fake_pynvml(recording_from_smi(text)))
    facts = Facts.from_dict({**doc, "driver": driver})
    return dataclasses.replace(facts, driver=dataclasses.replace(facts.driver, fabric=None))


def _health(facts: Facts) -> list[tuple[object, ...]]:
    return [
        tuple(getattr(g.health, f) if g.health else None for f in _FIELDS)
        for g in facts.driver.gpus or []
    ]


@HEALTH
@given(revalued())
def test_the_pasted_and_the_replayed_readings_agree(text: str) -> None:
    pasted, replayed = facts_from_texts(nvidia_smi=text), _replayed(text)
    assert _health(pasted) == _health(replayed)
    ids = [{f.check_id for f in run_checks(x)} & _IDS for x in (pasted, replayed)]
    assert ids[0] == ids[1]


@HEALTH
@given(
    depth=st.integers(min_value=1, max_value=20_000),
    width=st.integers(min_value=1, max_value=50_000),
    count=st.sampled_from(["9" * 400, "-1", "1e9", "0x10", "18446744073709551616"]),
)
def test_hostile_q_text_is_partial_facts_or_one_line(depth: int, width: int, count: str) -> None:
    nested = "".join(f"{' ' * (4 + i % 64)}Group {i}\n" for i in range(min(depth, 2000)))
    text = (
        "Driver Version                            : 580.65.06\n"
        "GPU 00000000:42:00.0\n"
        f"{nested}"
        "    ECC Errors\n        Volatile\n"
        f"            DRAM Uncorrectable            : {count}\n"
        f"    Remapped Rows\n        Pending{' ' * width}: Yes\n"
        f"    Fabric\n        State                             : {'x' * width}\n"
    )
    try:
        facts = facts_from_texts(nvidia_smi=text)
    except FactsError as exc:
        assert "\n" not in str(exc)
        return
    (gpu,) = facts.driver.gpus or []
    if gpu.health is not None:
        count_read = gpu.health.ecc_volatile_uncorrected
        assert count_read is None or 0 <= count_read < 10**18
    run_checks(facts)

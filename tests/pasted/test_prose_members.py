"""Family members' versions in hand-written lists (envlock/pasted/prose.py, issue 21 session
13): torchvision, torchaudio and torchtext are read the way torch is, into packages, beside the
torch the report is read for (TTS-3313's 'torch-2.1.1' / 'torchaudio-2.0.1'); never from a
command or a plan, never from a text of two torches, never from two versions of one member."""

from __future__ import annotations

import pytest

from envlock.pasted.prose import read_prose
from tests.pasted.test_tool_reports import _facts, _report, _top


def _members(text: str) -> dict[str, str]:
    reading = read_prose(text)
    return dict(reading.packages) if reading else {}


def test_tts_3313_dash_joined_list_reads_torchaudio_into_packages() -> None:
    text = _report("TTS-3313.txt")
    assert _members(text) == {"torchaudio": "2.0.1"}
    facts = _facts(text)
    assert facts.packages.unavailable is None
    assert facts.packages.distributions.get("torchaudio") == "2.0.1"
    assert facts.torch.version == "2.1.1"


@pytest.mark.parametrize(
    ("line", "member"),
    [
        ("- torchvision: 0.15.2", ("torchvision", "0.15.2")),
        ("torchaudio-2.0.1", ("torchaudio", "2.0.1")),
        ("torchvision==0.16.0", ("torchvision", "0.16.0")),
        ("* torchvision 0.17", ("torchvision", "0.17")),
        ("- torchtext                  0.15.1", ("torchtext", "0.15.1")),
        ("- torchvision: 0.16.0+cu118", ("torchvision", "0.16.0+cu118")),
    ],
)
def test_a_list_s_member_line_beside_torch_is_read(line: str, member: tuple[str, str]) -> None:
    assert _members(f"Environment:\n- torch: 2.1.0\n{line}\n") == dict([member])


@pytest.mark.parametrize(
    "text",
    [
        # a command, a plan, a question: nothing of this machine
        "- torch: 2.1.0\nI will install torchvision 0.16.0 next\n",
        "- torch: 2.1.0\npip install torchvision==0.16.0\n",
        "- torch: 2.1.0\nshould I use torchaudio 2.1.0?\n",
        # an upgrade told from one version to another
        "- torch: 2.1.0\nI upgraded from torchvision 0.15.2 to 0.16.0\n",
        # two torches (two machines): no torch, so no member beside it
        "- torch: 2.1.0\n- torch: 2.0.1\n- torchvision: 0.16.0\n",
        # no torch at all
        "- torchvision: 0.16.0\n",
        # two versions of one member
        "- torch: 2.1.0\n- torchvision: 0.16.0\n- torchvision: 0.15.2\n",
        # the pins a line of words offers as a change
        "- torch: 2.1.0\nchange the requirements to:\ntorchvision==0.16.0\n",
    ],
)
def test_no_member_read(text: str) -> None:
    assert "torchvision" not in _members(text) and "torchaudio" not in _members(text)


def test_members_only_beside_the_torch_others_read() -> None:
    # a structured torch line of another release: the prose's members are of another torch
    from envlock.pasted.prose import supplement
    from envlock.pasted.toolreading import ToolReading

    prose = read_prose("torch 2.1.0\ntorchvision 0.16.0\n")
    same, other = ToolReading(), ToolReading()
    same.put("PyTorch version", "2.1.0+cu121")
    other.put("PyTorch version", "2.0.1+cu118")
    kept = supplement([same], prose)
    assert kept is not None and kept.packages == {"torchvision": "0.16.0"}
    assert supplement([other], prose) is None


def test_a_form_s_member_heading_and_its_answer_are_read() -> None:
    # DAMO-YOLO-57's issue form: '### PyTorch version' / '1.7.0', '### torchvision version' /
    # '0.8.0', each answer after a blank line (read alike when the form is flattened)
    text = _report("DAMO-YOLO-57.txt")
    assert _members(text) == {"torchvision": "0.8.0"}
    assert _facts(text).packages.distributions == {"torchvision": "0.8.0"}
    assert _top(text) == "EL-ARCH-UNSUPPORTED"  # its label: the member pairs with torch 1.7

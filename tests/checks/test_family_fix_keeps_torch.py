"""A family member's fix keeps the torch release that is installed (X3's review, session 8).

Every torchvision, torchaudio and torchtext wheel pins one torch patch release: torchvision
0.17.2 and torchtext 0.17.2 require torch==2.2.2 (their METADATA's Requires-Dist, read from
the PyPI wheels). vllm#4252 runs torch 2.2.1+cu121 (vLLM 0.4.0.post1 pins torch==2.2.1) with
NGC's torchvision 0.16.0a0 and torchtext 0.16.0a0 left over; the fix said
`pip install "torchvision==0.17.*" --index-url .../cu121`, and pip's resolver takes the newest
0.17.x, 0.17.2, and with it torch 2.2.2: the fix moves torch off the release vLLM pins. Naming
the installed release in the same line (`"torch==2.2.1"`, which the installed 2.2.1+cu121
satisfies, so pip leaves torch as it is) makes pip take the member built for it (0.17.1).
Not where the fix moves torch to another release, nor for a torch that is not a final release
(a nightly or a source build: no index holds that version under that name).
"""

from __future__ import annotations

import re

from envlock.checks.registry import run_checks
from envlock.findings import Finding
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


def _family(name: str, edit: tuple[str, str] | None = None) -> list[Finding]:
    text = (CE / name).read_text()
    if edit is not None:
        text = text.replace(*edit)
    found = run_checks(facts_from_texts(collect_env=text))
    return [f for f in found if f.check_id == "EL-FAMILY-MISMATCH"]


def _pip_lines(fix: str) -> list[str]:
    return [p.strip() for p in re.split(r"&&|;|\n", fix) if "pip install" in p]


def test_4252_member_lines_pin_the_installed_torch_release() -> None:
    fixes = [f.fix or "" for f in _family("vllm-4252.txt")]
    assert len(fixes) == 2
    for fix in fixes:
        for line in _pip_lines(fix):
            assert '"torch==2.2.1"' in line, line


def test_a_nightly_torch_is_not_pinned() -> None:
    # pytorch-47304: torchvision 0.7.0.dev20200610 beside torch 1.7.0: pinned; as a nightly
    # torch (1.7.0.dev20200901) no index holds it under that name: no torch pin
    (plain,) = _family("pytorch-47304.txt")
    first = (plain.fix or "").split("; or ")[0]
    assert '"torch==1.7.0"' in first, first
    edited = _family(
        "pytorch-47304.txt", ("PyTorch version: 1.7.0", "PyTorch version: 1.7.0.dev20200901")
    )
    for f in edited:
        assert '"torch==1.7.0' not in (f.fix or ""), f.fix


def test_the_road_that_moves_torch_names_no_installed_pin() -> None:
    (f, _) = _family("vllm-7772.txt")
    keep, move = (f.fix or "").split("; or ")
    assert '"torch==2.3.' in keep and '"torch==2.3.' not in move, f.fix
    assert '"torch==2.1.*"' in move

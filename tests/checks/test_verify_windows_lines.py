"""verify's fix lines on Windows: one command a line (X3, session 8; the checks' fixes did so
since session 7, checks/shells.py).

Where conda holds torch, verify's fix for a torch change removes conda's torch family first:
`conda remove --force pytorch ... && pip install 'torch==2.13.0' ...`. Windows PowerShell 5.1,
the one Windows opens, rejects `&&` ("The token '&&' is not a valid statement separator"), and
`;` is no separator in cmd: on a Windows machine the line is one command a line, as the doctor's
fixes are. Elsewhere the chain stays.
"""

from __future__ import annotations

import dataclasses

from envlock.facts import Facts, OsFacts
from envlock.lock import build_lock
from envlock.verify import verify
from tests.facts_builders import cpu_venv, edit


def _drifted(os_id: str) -> Facts:
    facts = cpu_venv()
    system = dataclasses.replace(facts.system, os=OsFacts(id=os_id, pretty_name=os_id))
    facts = edit(facts, "system", system)
    conda = {"pytorch": "2.7.1 py3.11_cuda12.6_cudnn9_0", "pytorch-cuda": "12.6 h0"}
    facts = edit(facts, "toolchain.conda_packages", conda)
    return edit(facts, "torch", dataclasses.replace(facts.torch, version="2.7.1"))


def _torch_fix(os_id: str) -> str:
    lock = build_lock(cpu_venv())
    fixes = [f.fix or "" for f in verify(lock, _drifted(os_id)) if "pip install" in (f.fix or "")]
    assert fixes, [f.fix for f in verify(lock, _drifted(os_id))]
    return fixes[0]


def test_windows_gets_one_command_a_line() -> None:
    fix = _torch_fix("windows")
    assert "&&" not in fix, fix
    assert "\nconda remove --force" in fix and "\npip install" in fix, fix


def test_linux_keeps_the_chain() -> None:
    fix = _torch_fix("ubuntu")
    assert "conda remove --force" in fix and " && pip install" in fix, fix

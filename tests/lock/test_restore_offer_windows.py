"""verify's offer to put the locked environment back (`envlock restore LOCK --python PY`) on a
Windows machine: one command a line and quoted for cmd and PowerShell (session 8, X3's review).

Where conda holds torch the offer removes conda's torch family first; chained with `&&`,
Windows PowerShell 5.1 (the one Windows opens) rejects the line ("The token '&&' is not a
valid statement separator"), and shlex's POSIX single quotes around a path are no quotes at
all in cmd. Elsewhere the chain and the POSIX quoting stay.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from envlock.facts import Facts, OsFacts
from envlock.lock import build_lock, dumps_lock
from envlock.usecases.verify import VerifyOptions, verify
from tests.facts_builders import cpu_venv, edit

WINDOWS_PY = r"C:\Users\Ada Lovelace\train\.venv\Scripts\python.exe"


def _facts(os_id: str, python: str) -> Facts:
    facts = cpu_venv()
    assert facts.system.python is not None
    py = dataclasses.replace(facts.system.python, executable=python)
    system = dataclasses.replace(facts.system, os=OsFacts(id=os_id, pretty_name=os_id), python=py)
    facts = edit(facts, "system", system)
    conda = {"pytorch": "2.7.1 py3.11_cuda12.6_cudnn9_0", "pytorch-cuda": "12.6 h0"}
    facts = edit(facts, "toolchain.conda_packages", conda)
    return edit(facts, "torch", dataclasses.replace(facts.torch, version="2.7.1"))


def _offer(tmp_path: Path, os_id: str, python: str, lock_name: str) -> str:
    lock = tmp_path / lock_name
    lock.write_text(dumps_lock(build_lock(cpu_venv())))
    options = VerifyOptions(determinism=False)
    report = verify(str(lock), None, facts=_facts(os_id, python), options=options).report
    offer = report.details.get("restore") if isinstance(report.details, dict) else None
    offer = offer or getattr(report.details, "restore", None)
    assert isinstance(offer, str), report.details
    return offer


def test_windows_gets_one_command_a_line_in_double_quotes(tmp_path: Path) -> None:
    offer = _offer(tmp_path, "windows", WINDOWS_PY, "env lock.toml")
    assert "&&" not in offer, offer
    lines = offer.splitlines()
    assert any(line.startswith("conda remove --force pytorch") for line in lines), offer
    restore = next(line for line in lines if line.startswith("envlock restore "))
    assert f'"{tmp_path / "env lock.toml"}"' in restore, restore
    assert f'--python "{WINDOWS_PY}"' in restore, restore
    assert "'" not in restore, restore


def test_linux_keeps_the_chain_and_posix_quotes(tmp_path: Path) -> None:
    offer = _offer(tmp_path, "ubuntu", "/home/ada/train/.venv/bin/python", "env lock.toml")
    assert " && envlock restore " in offer, offer
    assert f"'{tmp_path / 'env lock.toml'}'" in offer, offer

"""`envlock matrix`'s "not listed" lines name the variants each reason holds for (session
6 review, helper X): "torch 2.1, ..., 2.7, ..., 2.14: no kernels for compute capability
12.0" was said of an RTX 5090 though 2.7's cu128 build has sm_120 kernels (it is left out
for the driver); the line is true only of the cu118/cu12x builds whose list it quotes."""

from __future__ import annotations

import re

from tests.conftest import run_envlock


def _hidden(args: list[str]) -> list[str]:
    proc = run_envlock(["matrix", *args])
    text = proc.stdout
    assert "not listed (--all shows them):" in text, text
    return [
        ln
        for ln in text.split("not listed (--all shows them):")[1].splitlines()
        if ln.startswith("  torch ")
    ]


def test_each_reason_names_its_variants() -> None:
    lines = _hidden(["--gpu", "RTX 5090", "--driver", "535.104.05", "--python-version", "3.10"])
    for line in lines:
        assert re.match(r"  torch [0-9., ]+ \((cu\d+|cpu)(, (cu\d+|cpu))*\): ", line), line
    no_kernels = [ln for ln in lines if "no kernels for compute capability 12.0" in ln]
    assert no_kernels and all("cu128" not in ln for ln in no_kernels), no_kernels

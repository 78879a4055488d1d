"""`envlock matrix --collect-env FILE` judges the paste's Python, not envlock's (session 7
review, helper X2).

lhotse#793's paste (torch 1.12.1+cu102 on a driver for CUDA 9.1) names no Python version:
the matrix filtered every build by the Python envlock itself runs under (3.11 here), found
none (no torch 1.x wheel is built for 3.11), and answered "no official torch build runs
here" while the doctor, judging the same facts, names torch 1.1 cu90. A Python the facts do
not give is not known: the table is for every Python, and says so.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from envlock.api import matrix_advice
from envlock.collect import Source
from tests.conftest import FIXTURES, run_envlock

CE = FIXTURES / "collect_env"


def test_a_paste_without_python_is_not_judged_by_envlocks_python(tmp_path: Path) -> None:
    # lhotse#793 with its paths' python3.8 taken out: no Python at all in the paste
    text = (CE / "lhotse-793.txt").read_text().replace("/python3.8/", "/")
    (tmp_path / "paste.txt").write_text(text)
    advice = matrix_advice(Source(collect_env=str(tmp_path / "paste.txt")))
    assert advice.python is None, advice.python
    assert advice.best is not None and advice.best.variant == "cu90", advice.best


def test_a_paste_is_judged_by_the_python_its_paths_name() -> None:
    """lhotse#793 as pasted: its site-packages paths name Python 3.8 (pasted/python_paths.py,
    X3, session 8), for which torch 1.1 has no wheel (cp27, cp35-cp37) and the CUDA 9.2 builds
    need a newer driver than this CUDA 9.1 one: no official build runs here."""
    advice = matrix_advice(Source(collect_env=str(CE / "lhotse-793.txt")))
    assert advice.python == "3.8", advice.python
    assert advice.best is None, advice.best


def test_this_machine_is_still_judged_by_its_own_python() -> None:
    proc = run_envlock(["matrix", "--gpu", "H100", "--driver", "580.65.06", "--format", "json"])
    assert json.loads(proc.stdout)["python"] == f"{sys.version_info[0]}.{sys.version_info[1]}"

"""The Python version of a paste without a 'Python version' line, read from its
site-packages paths (X3's review, session 8).

lhotse#793 pastes torch's driver warning from /root/anaconda3/envs/foo/lib/python3.8/
site-packages/torch/cuda/__init__.py and no Python line: the doctor offered torch 1.1 cu90 for
the CUDA 9.1 driver, a release with no wheel for Python 3.8 (torch 1.1.0: cp27, cp35-cp37).
With Python 3.8 read from the path, the matrix offers no build this driver runs, and the driver
is the road. A 'Python version' line wins; paths naming two Pythons say nothing.
"""

from __future__ import annotations

from envlock.checks.registry import run_checks
from envlock.pasted import facts_from_texts
from envlock.pasted.python_paths import python_from_paths
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"
LHOTSE = (CE / "lhotse-793.txt").read_text()


def test_lhotse_python_is_read_from_its_paths() -> None:
    facts = facts_from_texts(collect_env=LHOTSE)
    assert facts.system.python is not None and facts.system.python.version == "3.8"


def test_lhotse_gets_no_torch_without_a_wheel_for_its_python() -> None:
    found = run_checks(facts_from_texts(collect_env=LHOTSE))
    (f,) = [f for f in found if f.check_id == "EL-DRIVER-TOO-OLD"]
    assert "torch==1.1.*" not in (f.fix or ""), f.fix
    assert (f.fix or "").startswith("upgrade the NVIDIA driver to >= 440.33"), f.fix


def test_a_python_line_wins_over_paths() -> None:
    text = LHOTSE + "\nPython version: 3.9.7 (default) [GCC 7.5.0] (64-bit runtime)\n"
    facts = facts_from_texts(collect_env=text)
    assert facts.system.python is not None and facts.system.python.version == "3.9.7"


def test_paths_of_two_pythons_say_nothing() -> None:
    text = "/usr/lib/python3.8/site-packages/a.py\n/opt/venv/lib/python3.10/site-packages/b.py\n"
    assert python_from_paths(text) is None
    assert (
        python_from_paths(r"C:\Users\me\AppData\Roaming\Python\Python311\site-packages\x") == "3.11"
    )
    assert python_from_paths("/usr/lib/python3/dist-packages/torch/__init__.py") is None

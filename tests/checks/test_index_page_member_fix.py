"""A member fix beside an old torch is pytorch.org's own pip line (R2, session 11; issue 21
item 6): beside torch 1.9.0+cu102 the page installs "torchvision==0.10.0+cu102" with
-f https://download.pytorch.org/whl/torch_stable.html (its previous-versions page,
matrix/indexes.toml [[release]]), a line pip runs, where the fix was prose before ("install
"torchvision==0.10.*" as their +cu102 builds from ..."): a local tag is legal only on an
exact pin. Beside PyPI's own build (torch 1.2.0, cu100) the pins are untagged, no option."""

from __future__ import annotations

import shlex

import pytest
from packaging.requirements import Requirement

from envlock.checks.registry import run_checks
from envlock.matrix import Version
from envlock.matrix.family import pip_line
from tests.checks.test_fixes_recheck import _pasted, _recheck_pasted

PAGE = "https://download.pytorch.org/whl/torch_stable.html"


def _fix(name: str) -> str:
    (f,) = [f for f in run_checks(_pasted(name)) if f.check_id == "EL-FAMILY-MISMATCH"]
    return f.fix or ""


@pytest.mark.parametrize(
    ("name", "line"),
    [
        # torchvision 0.11 beside torch 1.9.0+cu102 (detectron2#3351)
        (
            "detectron2-3351.txt",
            f'pip install "torchvision==0.10.0+cu102" "torch==1.9.0" -f {PAGE}',
        ),
        ("pytorch-47304.txt", f'pip install "torchvision==0.8.0+cu101" "torch==1.7.0" -f {PAGE}'),
        ("espnet-3639.txt", f'pip install "torchvision==0.10.1+cu102" "torch==1.9.1" -f {PAGE}'),
    ],
)
def test_the_member_fix_is_the_pages_pip_line(name: str, line: str) -> None:
    fix = _fix(name)
    assert fix == line, fix
    words = shlex.split(fix)
    pins = [Requirement(w) for w in words[2:] if not w.startswith(("-", "https:"))]
    assert [str(p) for p in pins] == [w for w in words[2:-2]], words
    assert _recheck_pasted(_pasted(name)), name  # followed, the mismatch is gone


def test_beside_pypis_own_build_the_pins_are_untagged_with_no_option() -> None:
    """pytorch#31876: torchvision 0.4.0+cu92 beside torch 1.2.0 (PyPI's cu100 build): the
    page's 'pip install torch==1.2.0 torchvision==0.4.0', the installed torchvision removed
    first (its 0.4.0+cu92 satisfies an untagged 0.4.0)."""
    fix = _fix("pytorch-31876.txt")
    lines = fix.splitlines()
    assert "pip uninstall -y torchvision" in lines, fix
    assert 'pip install "torchvision==0.4.0" "torch==1.2.0"' in lines, fix
    assert "torch_stable" not in fix and "--index-url" not in fix, fix


def test_a_member_the_pages_line_does_not_name_keeps_the_find_links_form() -> None:
    """torchtext is on no line of the page: no exact pin is made up for it."""
    line = pip_line({"torchtext": Version((0, 10))}, "cu111", "1.9.0+cu111")
    assert line.startswith('install "torchtext==0.10.*" as their +cu111 builds'), line

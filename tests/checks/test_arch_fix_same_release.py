"""An arch fix keeps the installed release where one of its builds has the GPUs' own
kernels and runs on this driver (session 6 review, helper X).

pytorch#57922: an A100 with torch 1.8.1+cu102 on driver 450.80.02. torch 1.8's cu111
build has sm_80 SASS and runs there through CUDA 11's minor-version compatibility (floor
450.80.02), yet the fix moved torch back to 1.7 cu110: the preference for a build's own
kernels over PTX JIT (checks/hints.remedy_for's own_kernels) dropped every build with a
caveat, the driver's minor-version compatibility included.
"""

from __future__ import annotations

from envlock.checks.registry import run_checks
from envlock.pasted import facts_from_texts
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"


def test_a100_on_450_keeps_torch_1_8() -> None:
    found = run_checks(facts_from_texts(collect_env=(CE / "pytorch-57922.txt").read_text()))
    (f,) = [f for f in found if f.check_id == "EL-ARCH-UNSUPPORTED"]
    assert f.evidence["fix.roads"][0] == {"torch": "1.8", "variant": "cu111"}, f.fix
    fix = f.fix or ""
    # pytorch.org's own line for 1.8's cu111 build: its newest release 1.8.1, tagged, from the
    # find-links page (its previous-versions page; matrix/indexes.toml [[release]])
    torch_line = '"torch==1.8.1+cu111" -f https://download.pytorch.org/whl/torch_stable.html'
    assert torch_line in fix, fix
    assert "minor-version compatibility" in fix, fix  # said, not hidden

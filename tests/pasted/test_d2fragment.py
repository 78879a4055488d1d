"""A fragment of detectron2's environment table (a few rows a reporter cut out, between its
dashed rules), read as the table it is (envlock/pasted/d2table.py): detectron2's rows give a
version and the path it was imported from ("1.4.0 @/.../site-packages/torch"), which no
other report prints, so those rows alone say the layout (detectron2-1574)."""

from __future__ import annotations

from envlock.checks import run_checks
from envlock.checks.triage import top_finding
from envlock.pasted import facts_from_texts
from envlock.pasted.d2table import looks_like_d2table
from tests.conftest import FIXTURES

FRAGMENT = (FIXTURES / "collect_env" / "detectron2-1574.txt").read_text()
RULE = "-" * 60


def test_three_rows_read_torch_and_the_torchvision_imported_beside_it() -> None:
    assert looks_like_d2table(FRAGMENT)
    facts = facts_from_texts(collect_env=FRAGMENT)
    assert facts.torch.version == "1.4.0"
    assert facts.packages.distributions["torchvision"] == "0.2.1"
    # the fragment has no torch config, NVCC or CUDA row: torch's CUDA build is not said (so
    # torch is not taken as observed); and torchvision before 0.3 is pure Python, which the
    # family table pairs with any torch (matrix/family.toml): the thread's diagnosis, 0.2.1
    # lacking torchvision.ops, is not the family check's, so detectron2-1574 stays a miss
    assert facts.torch.unavailable == "the report does not say which CUDA torch was built with"


def _fragment(torchvision: str) -> str:
    site = "/home/u/.conda/envs/d2/lib/python3.6/site-packages"
    return "\n".join(
        [
            RULE,
            f"PyTorch                1.4.0 @{site}/torch",
            f"torchvision            {torchvision} @{site}/torchvision",
            RULE,
            "PyTorch built with:",
            "  - CUDA Runtime 10.1",
        ]
    )


def test_a_fragment_with_torchs_cuda_is_held_against_the_family() -> None:
    """With torch's config below the rows (its CUDA said), the rows' versions are an
    installed torch's and its torchvision's: 0.3.0 (compiled, torch 1.1's) beside torch 1.4 is
    another release's, 0.5.0 its own."""
    for torchvision, fires in (("0.3.0", True), ("0.5.0", False)):
        facts = facts_from_texts(collect_env=_fragment(torchvision))
        assert (facts.torch.installed, facts.torch.version) == (True, "1.4.0")
        found = {f.check_id for f in run_checks(facts)}
        assert ("EL-FAMILY-MISMATCH" in found) is fires, torchvision
        if fires:
            top = top_finding(run_checks(facts))
            assert top is not None and top.check_id == "EL-FAMILY-MISMATCH"


def test_a_version_without_its_import_path_is_not_a_table_row() -> None:
    # a version with no import path after it, or a key of another report: other tools' lines
    assert not looks_like_d2table("PyTorch                1.4.0\ntorchvision            0.5.0")
    assert not looks_like_d2table("PyTorch 1.4.0 (@/home/u/torch)")
    assert not looks_like_d2table("PyTorch version: 1.4.0 @/home/u/torch")

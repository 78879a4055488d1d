"""detectron2's own environment table (`python -m detectron2.utils.collect_env`) read as the
collect_env facts it holds (envlock/pasted/d2table.py), on real pastes: the corpus's
detectron2 reports (tests/fixtures/collect_env, tuning part) and a recorded Colab log
(tests/fixtures/d2table). Its extensions' arch flags feed the live scan's arch check
(EL-EXT-ARCH-UNSUPPORTED), binary compatibility within a major included."""

from __future__ import annotations

from envlock.checks import run_checks
from envlock.checks.triage import top_finding
from envlock.facts import Facts
from envlock.findings import Severity
from envlock.pasted import facts_from_texts
from envlock.pasted.d2table import looks_like_d2table, rows
from tests.conftest import FIXTURES

CE = FIXTURES / "collect_env"
K80 = (FIXTURES / "d2table" / "yolof-colab-k80.txt").read_text()


def _facts(text: str) -> Facts:
    return facts_from_texts(collect_env=text)


def _corpus(name: str) -> Facts:
    return _facts((CE / name).read_text())


def test_a_whole_table_with_torchs_config_reads_as_collect_env_facts() -> None:
    facts = _facts(K80)
    t = facts.torch
    assert (t.installed, t.version, t.cuda, t.build) == (True, "1.9.0+cu102", "10.2", "cu102")
    assert t.live is not None and t.live.cuda_available is True
    # torch's own arch list, from its config's NVCC architecture flags
    assert t.live.arch_flags == ["sm_37", "sm_50", "sm_60", "sm_70"]
    assert facts.driver.version == "460.32.03"
    (gpu,) = facts.driver.gpus
    assert (gpu.name, gpu.compute_capability) == ("Tesla K80", "3.7")
    d2, tv = facts.extensions.items
    assert (d2.distribution, d2.version, d2.sass, d2.ptx) == ("detectron2", "0.5", ["sm_37"], [])
    assert d2.partial is not None and "PTX not listed" in d2.partial
    assert (tv.distribution, tv.version) == ("torchvision", "0.10.0+cu102")
    assert tv.sass == ["sm_35", "sm_50", "sm_60", "sm_70", "sm_75"]
    dists = facts.packages.distributions
    assert dists["numpy"] == "1.19.5" and dists["pillow"] == "7.1.2"
    # healthy: detectron2's sm_37 runs on the K80, torchvision's sm_35 too (same major)
    assert [f.check_id for f in run_checks(facts) if f.severity is Severity.ERROR] == []


def test_detectron2_built_for_sm_75_fails_on_titan_x_cards_and_torchvision_runs() -> None:
    facts = _corpus("detectron2-235.txt")
    assert [g.compute_capability for g in facts.driver.gpus] == ["5.2", "5.2"]
    found = [f for f in run_checks(facts) if f.check_id == "EL-EXT-ARCH-UNSUPPORTED"]
    # both GPUs, detectron2 only: torchvision's sm_50 SASS runs on sm_52
    assert {f.evidence["gpu.index"] for f in found} == {0, 1}
    assert {f.evidence["extension.distribution"] for f in found} == {"detectron2"}
    assert found[0].fix is not None and "TORCH_CUDA_ARCH_LIST=5.2" in found[0].fix


def test_sm_37_only_on_a_v100_is_the_top_finding() -> None:
    top = top_finding(run_checks(_corpus("detectron2-1621.txt")))
    assert top is not None and top.check_id == "EL-EXT-ARCH-UNSUPPORTED"
    assert "sm_37 only" in top.message and "compute capability 7.0" in top.message


def test_sm_80_code_runs_on_an_sm_86_gpu() -> None:
    facts = _corpus("detectron2-2910.txt")
    assert facts.driver.gpus[0].compute_capability == "8.6"
    assert not [f for f in run_checks(facts) if f.check_id.startswith("EL-EXT-ARCH")]
    # torch's CUDA, not in the excerpt: torchvision's sm_80 needs CUDA 11.0, torch 1.7's
    # only official build with it is cu110
    assert (facts.torch.cuda, facts.torch.build) == ("11.0", "cu110")
    assert any(
        "torchvision imports only beside a torch of its own CUDA" in n for n in facts.meta.notes
    )


def test_a_path_instead_of_flags_is_no_gpu_code_read() -> None:
    # cuobjdump found no device code: detectron2 prints the .so path (detectron2-2594)
    facts = _corpus("detectron2-2594.txt")
    assert facts.meta.partial and facts.extensions.items == []
    assert facts.packages.distributions["detectron2"] == "0.3"


def test_gpu_available_no_in_0_6s_words() -> None:
    text = K80.replace(
        "GPU available           Yes",
        "GPU available           No: torch.cuda.is_available() == False",
    )
    facts = _facts(text)
    assert facts.torch.live is not None and facts.torch.live.cuda_available is False


def test_rows_a_wrap_undoing_joined_are_split() -> None:
    assert rows("-------  -------sys.platform            linux") == [("sys.platform", "linux")]
    assert rows(
        "torchvision  0.6.0 @/x/site-packages/torchvisiontorchvision arch flags  3.5, 7.5"
    ) == [
        ("torchvision", "0.6.0 @/x/site-packages/torchvision"),
        ("torchvision arch flags", "3.5, 7.5"),
    ]
    assert rows("PyTorch  1.4.0 @/p/torch PyTorch debug build     False") == [
        ("PyTorch", "1.4.0 @/p/torch"),
        ("PyTorch debug build", "False"),
    ]


def test_torchs_own_collect_env_is_not_this_layout() -> None:
    assert looks_like_d2table(K80)
    assert not looks_like_d2table((CE / "pytorch-48200.txt").read_text())


def test_detectron2_is_rebuilt_from_its_repository_not_pypi() -> None:
    # detectron2 is not on PyPI: '--no-binary detectron2 detectron2==0.2.1' finds nothing
    (f, _) = [
        f
        for f in run_checks(_corpus("detectron2-235.txt"))
        if f.check_id == "EL-EXT-ARCH-UNSUPPORTED"
    ]
    assert f.fix is not None
    assert "'git+https://github.com/facebookresearch/detectron2.git@v0.2.1'" in f.fix
    assert "--no-binary" not in f.fix and "TORCH_CUDA_ARCH_LIST=5.2" in f.fix

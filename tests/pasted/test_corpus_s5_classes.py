"""The classes batch issue21-s5's tuning reports showed (never its held-out part), each on
the real report and on a variant where the rule must keep its old answer:

- conda's list names a torch pip installed into the conda environment while the
  interpreter's pip lists another torch: two installs (vllm#11705, vllm#18946);
- a family member whose version no release ever had (torchaudio 0.14.0 beside NGC's
  torch 1.14.0a0) is a build of its own, not a released wheel (pytorch#91351);
- vLLM's sectioned layout heads its library list with a heading between two banner
  lines: the closing banner must not end the block the heading opens (vllm#18946)."""

from __future__ import annotations

from envlock.checks import run_checks
from envlock.checks.triage import top_finding
from envlock.findings import Finding
from envlock.pasted import facts_from_texts
from tests.conftest import REPO

TUNING = REPO / "tests" / "fixtures" / "collect_env"


def _found(text: str, check_id: str) -> list[Finding]:
    facts = facts_from_texts(collect_env=text)
    return [f for f in run_checks(facts) if f.check_id == check_id]


def _top(text: str) -> str | None:
    top = top_finding(run_checks(facts_from_texts(collect_env=text)))
    return top.check_id if top else None


def test_conda_lists_another_pip_installed_torch_than_the_interpreter_imports() -> None:
    """vllm#11705: [pip3] torch==2.5.1 (the one imported, 2.5.1+cu124) while conda's list
    holds torch 2.5.0+cpu pypi_0 (pip-installed into the conda environment)."""
    found = _found((TUNING / "vllm-11705.txt").read_text(), "EL-TORCH-TWO-INSTALLS")
    assert len(found) == 1
    assert "2.5.0+cpu" in found[0].message and "2.5.1" in found[0].message


def test_conda_lists_an_older_pip_installed_torch() -> None:
    """vllm#18946: [pip3] torch==2.7.0 while conda's list holds torch 2.1.2+cu121 pypi_0."""
    found = _found((TUNING / "vllm-18946.txt").read_text(), "EL-TORCH-TWO-INSTALLS")
    assert len(found) == 1 and "2.1.2+cu121" in found[0].message
    assert _top((TUNING / "vllm-18946.txt").read_text()) == "EL-TORCH-TWO-INSTALLS"


def test_conda_and_pip_listing_the_same_torch_is_one_install() -> None:
    """The same report where conda's list names the torch pip lists: one install, seen twice."""
    text = (TUNING / "vllm-18946.txt").read_text()
    text = text.replace("torch                     2.1.2+cu121", "torch                     2.7.0")
    assert _found(text, "EL-TORCH-TWO-INSTALLS") == []


def test_a_member_version_no_release_had_is_not_a_released_wheel() -> None:
    """pytorch#91351, NGC's torch 1.14.0a0+410ce96: torchaudio 0.14.0 was never released
    (0.13.1, then 2.0.0), so it was built here against this torch, not PyPI's wheel."""
    text = (TUNING / "pytorch-91351.txt").read_text()
    assert _found(text, "EL-FAMILY-MISMATCH") == []


def test_a_released_member_beside_ngcs_torch_is_still_the_mismatch_it_is() -> None:
    """The same report with PyPI's torchaudio 0.13.1 (a release, built against torch
    1.13.1): beside NVIDIA's build it is the mismatch issue 21 item 3 names."""
    text = (TUNING / "pytorch-91351.txt").read_text()
    text = text.replace("torchaudio==0.14.0", "torchaudio==0.13.1")
    found = _found(text, "EL-FAMILY-MISMATCH")
    assert [f.evidence["package"] for f in found] == ["torchaudio"]


def test_the_sectioned_layouts_library_list_is_read() -> None:
    """vLLM's sectioned layout heads the list with a heading between two banner lines
    (vllm#18946): the closing banner must not end the block the heading opens."""
    facts = facts_from_texts(collect_env=(TUNING / "vllm-18946.txt").read_text())
    assert facts.packages.distributions.get("torch") == "2.7.0"
    assert facts.packages.distributions.get("torchvision") == "0.22.0"
    assert facts.toolchain.conda_packages.get("torch", "").startswith("2.1.2+cu121")


def test_a_banner_after_an_ordinary_line_still_ends_a_block() -> None:
    """The cuDNN list of the same report ends at the next section's banner: no library
    line is read into it, and the CPU section's keys are not libraries."""
    facts = facts_from_texts(collect_env=(TUNING / "vllm-18946.txt").read_text())
    assert "Architecture" not in facts.packages.distributions
    assert all(not name.startswith("vulnerability") for name in facts.packages.distributions)


def test_a_member_older_than_the_release_table_is_still_taken_for_a_release() -> None:
    """audio#307: torchaudio 0.3.0 beside a source build of torch 1.4.0a0. The release table
    starts after 0.3, so it cannot say 0.3.0 was never released: taken for PyPI's wheel, as
    before, and still the mismatch (a gap inside the table, as 0.14, is not)."""
    text = (TUNING / "audio-307.txt").read_text()
    found = _found(text, "EL-FAMILY-MISMATCH")
    assert "build origin" in found[0].evidence["found_by"]


def test_blank_lines_between_the_heading_and_its_banner_keep_the_block_open() -> None:
    """The same report pasted with a blank line after every line (a CR-only paste read as
    doubled line breaks): the banner after the heading still closes the heading only."""
    text = (TUNING / "vllm-18946.txt").read_text().replace("\n", "\n\n")
    facts = facts_from_texts(collect_env=text)
    assert facts.packages.distributions.get("torch") == "2.7.0"


def test_an_extension_that_cannot_load_another_cuda_majors_runtime() -> None:
    """vllm#7112: vLLM printed "Failed to import from vllm._C with ImportError('libcudart.so.12:
    cannot open shared object file ...')" beside torch 2.4.0+cu118: its compiled extension
    links the CUDA 12 runtime, torch's is CUDA 11 (the cu118 build of vLLM is the fix)."""
    text = (TUNING / "vllm-7112.txt").read_text()
    found = _found(text, "EL-EXT-CUDA-MAJOR")
    assert [(f.evidence["extension.file"], f.evidence["extension.cuda_major"]) for f in found] == [
        ("vllm._C", 12)
    ]
    assert _top(text) == "EL-EXT-CUDA-MAJOR"


def test_an_import_error_of_torchs_own_cuda_major_is_not_that_mismatch() -> None:
    """The same warning beside a cu121 torch (libcudart.so.12 missing is another problem),
    and vLLM's 'No module named vllm._C' (a source checkout): no EL-EXT-CUDA-MAJOR."""
    text = (TUNING / "vllm-7112.txt").read_text()
    same = text.replace("2.4.0+cu118", "2.4.0+cu121").replace("PyTorch: 11.8", "PyTorch: 12.1")
    assert _found(same, "EL-EXT-CUDA-MAJOR") == []
    assert _found((TUNING / "vllm-8007.txt").read_text(), "EL-EXT-CUDA-MAJOR") == []


def test_a_pre_release_of_an_older_series_beside_a_released_torch_is_a_mismatch() -> None:
    """pytorch#47304: torchvision 0.7.0.dev20200610 (a nightly of torch 1.6's cycle) beside
    the release torch 1.7.0+cu101; vllm#4252: NGC's torchvision 0.16.0a0 (torch 2.1's cycle)
    beside pip's torch 2.2.1. Built against an older torch: the mismatch, not a build of
    its own."""
    for name, member in (("pytorch-47304.txt", "torchvision"), ("vllm-4252.txt", "torchvision")):
        text = (TUNING / name).read_text()
        found = _found(text, "EL-FAMILY-MISMATCH")
        assert member in [f.evidence["package"] for f in found], name
        assert _top(text) == "EL-FAMILY-MISMATCH", name


def test_a_pre_release_of_the_same_series_or_beside_a_vendor_torch_is_quiet() -> None:
    """The same torchvision nightly beside torch 1.6.0 (its own cycle), NGC's members beside
    NGC's own torch (pytorch#91351), and a pre-release compiled here (a git local tag:
    vllm#8318's torchvision 0.19.0a0+d23a6e1 beside torch 2.5.0 in vLLM's TPU image):
    nothing the release table can say."""
    text = (TUNING / "pytorch-47304.txt").read_text().replace("1.7.0+cu101", "1.6.0+cu101")
    assert "torchvision" not in [f.evidence["package"] for f in _found(text, "EL-FAMILY-MISMATCH")]
    assert _found((TUNING / "pytorch-91351.txt").read_text(), "EL-FAMILY-MISMATCH") == []
    assert _found((TUNING / "vllm-8318.txt").read_text(), "EL-FAMILY-MISMATCH") == []

"""The gaps left in a plan's fixes (issue 24, third pass): a multi-line replacement printed
indented under "fix:" (JSON keeps it exact), `matrix --plan --facts-dir` refused with a
usage line, a conda torch line's fix, a PTX-only build never offered as one with the GPU's
kernels, and the pytorch/pytorch and nvidia/cuda tags a fix names, each one published."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, run_envlock
from tests.plan import hosts

CORPUS = FIXTURES / "plan"

MULTI_LINE = (
    "FROM ubuntu:22.04\n"
    "RUN pip install --no-cache-dir \\\n"
    "      torch==2.7.0 torchvision==0.22.0 \\\n"
    "      --index-url https://download.pytorch.org/whl/cu128\n"
)


@pytest.fixture(scope="module")
def host_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return hosts.write_three(tmp_path_factory.mktemp("hosts"))


def _findings(*args: str) -> list[dict[str, object]]:
    proc = run_envlock(["doctor", *args, "--format", "json"])
    assert proc.returncode in (0, 1), proc.stderr
    found = json.loads(proc.stdout)["findings"]
    assert isinstance(found, list)
    return found


def test_a_multi_line_fix_is_indented_under_fix_and_exact_in_json(
    tmp_path: Path, host_files: dict[str, Path]
) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(MULTI_LINE)
    text = run_envlock(["doctor", "--plan", str(dockerfile), "--facts", str(host_files["v100"])])
    assert text.returncode == 1, text.stderr
    lines = text.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("     fix: replace "))
    shown = lines[start + 1 : start + 4]
    # every line of the replacement sits under "fix:", its own indentation kept after that
    assert shown == [
        "          RUN pip install --no-cache-dir \\",
        "                torch==2.7.0 torchvision==0.22.0 \\",
        "                --index-url https://download.pytorch.org/whl/cu118",
    ], lines
    assert not any(line.startswith(("RUN ", "      torch", "      --index")) for line in lines)
    found = _findings("--plan", str(dockerfile), "--facts", str(host_files["v100"]))
    arch = next(f for f in found if f["id"] == "EL-ARCH-UNSUPPORTED")
    assert str(arch["fix"]).endswith(
        "-4 with:\nRUN pip install --no-cache-dir \\\n"
        "      torch==2.7.0 torchvision==0.22.0 \\\n"
        "      --index-url https://download.pytorch.org/whl/cu118"
    ), arch["fix"]


def test_matrix_plan_with_facts_dir_is_a_usage_error(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(MULTI_LINE)
    proc = run_envlock(["matrix", "--plan", str(dockerfile), "--facts-dir", str(tmp_path)])
    assert proc.returncode == 2
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and "matrix --plan holds a plan against one machine" in err[0], err
    assert "Traceback" not in proc.stderr
    helptext = " ".join(run_envlock(["matrix", "--help"]).stdout.split())
    assert "--facts-dir" in helptext and "envlock doctor --plan FILE --facts-dir" in helptext


def _sass_for(torch: str, variant: str, capability: str) -> bool:
    from envlock.matrix import Version, load_matrix

    matrix = load_matrix()
    release = matrix.torch_release(Version.parse(torch))
    row = release.variant(variant) if release is not None else None
    targets = row.targets if row is not None else None
    assert targets is not None, (torch, variant)
    return matrix.coverage(Version.parse(capability), targets).sass is not None


@pytest.mark.parametrize(
    "fixture", ["mmdetection/Dockerfile", "compvis-latent-diffusion/environment.yaml"]
)
def test_an_arch_fix_names_a_build_with_the_gpus_own_kernels(
    fixture: str, host_files: dict[str, Path]
) -> None:
    """H8's report: mmdetection's torch 1.6 cu101 on an H100 was told to 'install a torch
    build that includes sm_90' with the road torch 1.5 cu102, whose sm_90 is PTX JIT only
    (torch.toml's 1.5 cu102 arch list); the road must have sm_90 SASS."""
    path = CORPUS / fixture
    found = _findings("--plan", str(path), "--facts", str(host_files["h100"]))
    arch = [f for f in found if f["id"] == "EL-ARCH-UNSUPPORTED"]
    assert arch, found
    for f in arch:
        evidence = f["evidence"]
        assert isinstance(evidence, dict)
        roads = [r for r in evidence["fix.roads"] if r.get("torch") and r.get("variant")]
        assert roads, evidence
        for road in roads:
            assert _sass_for(road["torch"], road["variant"], "9.0"), road


def test_a_pytorch_image_fix_names_a_published_tag(host_files: dict[str, Path]) -> None:
    """mmdetection's FROM pytorch/pytorch:1.6.0-cuda10.1-cudnn7-devel on an H100: the nearest
    build with sm_90 kernels is torch 2.0 cu118, but 2.0's images were published for CUDA
    11.7 only (SBU-BMI/wsinfer#111; one CUDA version a release until pytorch#115949), so
    the fix names the next release that has one, its highest CUDA as the matrix orders
    builds: 2.1.0-cuda12.1-cudnn8-devel (uploaded after the release, pytorch#110643)."""
    found = _findings(
        "--plan", str(CORPUS / "mmdetection" / "Dockerfile"), "--facts", str(host_files["h100"])
    )
    arch = next(f for f in found if f["id"] == "EL-ARCH-UNSUPPORTED")
    evidence = arch["evidence"]
    assert isinstance(evidence, dict)
    assert evidence["plan.replacement"] == "FROM pytorch/pytorch:2.1.0-cuda12.1-cudnn8-devel"


def _named_tags(text: str) -> list[tuple[str, str]]:
    import re

    return re.findall(r"(pytorch/pytorch|nvidia/cuda):([\w.-]+)", text)


def test_every_image_a_corpus_fix_names_is_in_the_published_tables(
    host_files: dict[str, Path],
) -> None:
    """Over the corpus on the three hosts, each FROM/image a replacement writes is a tag of
    images.toml's published lists (pytorch/pytorch per release and CUDA; nvidia/cuda per
    version, cuDNN word and OS), never one built from the naming rule alone."""
    from envlock.plan.images import image_table

    table = image_table()
    named = 0
    for path in sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix != ".toml"):
        for host in host_files.values():
            for f in _findings("--plan", str(path), "--facts", str(host)):
                evidence = f["evidence"]
                assert isinstance(evidence, dict)
                for repo, tag in _named_tags(str(evidence.get("plan.replacement", ""))):
                    named += 1
                    assert table.published(f"docker.io/{repo}", tag), (path, repo, tag)
    assert named >= 3


def test_the_published_pytorch_images_from_2_2_are_the_releases_cuda_builds() -> None:
    """From 2.2 the docker release builds every CUDA version of the release's build matrix
    (IP3): the table's rows there hold torch.toml's variants of that release, cuDNN too."""
    from envlock.matrix import Version, load_matrix
    from envlock.plan.images import image_table

    matrix = load_matrix()
    for row in image_table().pytorch_images:
        for version in row.versions:
            release = matrix.torch_release(Version.parse(version))
            assert release is not None, version
            if release.release < Version.parse("2.2"):
                continue
            cudas = {f"{v.cuda.major}.{v.cuda.minor}" for v in release.variants}
            assert set(row.cuda) == cudas, (version, row.cuda, cudas)
            assert {v.cudnn.major for v in release.variants if v.cudnn} == {row.cudnn}, version


def test_the_same_releases_published_image_is_offered_first(
    tmp_path: Path, host_files: dict[str, Path]
) -> None:
    """A V100 plan of 2.7.1 cu128 (no sm_70 in 2.7's 12.8 builds): the same release's
    published 11.8 image, at the planned 2.7.1, is the fix."""
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime\n")
    found = _findings("--plan", str(dockerfile), "--facts", str(host_files["v100"]))
    arch = next(f for f in found if f["id"] == "EL-ARCH-UNSUPPORTED")
    evidence = arch["evidence"]
    assert isinstance(evidence, dict)
    assert evidence["plan.replacement"] == "FROM pytorch/pytorch:2.7.1-cuda11.8-cudnn9-runtime"


CONDA = (
    "FROM continuumio/miniconda3\n"
    "RUN conda install -y pytorch==2.0.1 torchvision==0.15.2 pytorch-cuda=11.7 "
    "-c pytorch -c nvidia\n"
)


def test_a_conda_torch_line_gets_a_conda_replacement_the_channel_published(
    tmp_path: Path, host_files: dict[str, Path]
) -> None:
    """torch 2.0.1 with pytorch-cuda=11.7 has no sm_90 kernels; the pytorch channel
    published 2.0.1 with pytorch-cuda 11.7 and 11.8 (CP1), and 2.0 cu118 has sm_90 SASS:
    the same conda line with pytorch-cuda=11.8, re-checked."""
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(CONDA)
    found = _findings("--plan", str(dockerfile), "--facts", str(host_files["h100"]))
    arch = next(f for f in found if f["id"] == "EL-ARCH-UNSUPPORTED")
    evidence = arch["evidence"]
    assert isinstance(evidence, dict)
    assert evidence["plan.replacement"] == (
        "RUN conda install -y pytorch==2.0.1 torchvision==0.15.2 pytorch-cuda=11.8 "
        "-c pytorch -c nvidia"
    )


def test_a_conda_line_no_channel_build_serves_says_why_it_has_no_replacement(
    tmp_path: Path, host_files: dict[str, Path]
) -> None:
    """An RTX 5090 (sm_120) needs torch 2.7 cu128 or later; the pytorch conda channel's
    last build is 2.5.1: the finding says so instead of a bare pip hint."""
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(CONDA)
    found = _findings("--plan", str(dockerfile), "--facts", str(host_files["rtx5090"]))
    arch = next(f for f in found if f["id"] == "EL-ARCH-UNSUPPORTED")
    evidence = arch["evidence"]
    assert isinstance(evidence, dict) and "plan.replacement" not in evidence
    assert "no conda replacement" in str(arch["fix"]), arch["fix"]
    assert "pytorch conda channel" in str(arch["fix"]) and "2.5" in str(arch["fix"])


def test_a_ptx_only_road_is_not_called_a_build_that_includes_the_gpus_kernels(
    tmp_path: Path,
) -> None:
    """A Jetson Orin (sm_87): no official build has sm_87 SASS; only torch 1.5 cu102 runs it,
    through PTX JIT, and that x86_64 wheel is not published for Arm (session 6: fixes on Arm
    name only Arm builds). The fix must not say 'a torch build that includes sm_87': it names
    NVIDIA's Arm builds."""
    orin = hosts._edited("NVIDIA Jetson AGX Orin", "8.7", "unknown", "580.65.06", "13.0")
    facts = hosts.write(orin, tmp_path / "orin.json")
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM pytorch/pytorch:2.0.0-cuda11.7-cudnn8-runtime\n")
    found = _findings("--plan", str(dockerfile), "--facts", str(facts))
    arch = next(f for f in found if f["id"] == "EL-ARCH-UNSUPPORTED")
    fix = str(arch["fix"])
    assert "includes sm_87" not in fix and "JetPack wheels" in fix, fix


def test_matrix_plan_says_the_build_its_replacement_names(
    tmp_path: Path, host_files: dict[str, Path]
) -> None:
    """matrix --plan's why-line named the build the matrix picks before the published
    filter (torch 2.0.0+cu118) above a replacement naming 2.1.0 cu121; and a conda line no
    channel build serves was 'already the build the matrix picks here'."""
    plan = str(CORPUS / "mmdetection" / "Dockerfile")
    image = run_envlock(["matrix", "--plan", plan, "--facts", str(host_files["h100"])])
    assert "torch 1.6.0+cu101 -> torch 2.1.0+cu121\n" in image.stdout, image.stdout
    assert "+ FROM pytorch/pytorch:2.1.0-cuda12.1-cudnn8-devel\n" in image.stdout
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(CONDA)
    conda = run_envlock(
        ["matrix", "--plan", str(dockerfile), "--facts", str(host_files["rtx5090"])]
    )
    assert conda.returncode == 1, conda.stdout
    assert "already" not in conda.stdout and "no conda replacement" in conda.stdout

"""`envlock doctor --plan` and `envlock matrix --plan` through the real CLI: a real
Dockerfile of the corpus caught on a host built from recorded facts, the fix as the
replacement text that the plan, patched, passes; bad and hostile input as one line and
exit 3 (usage: 2), never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, run_envlock
from tests.plan import hosts

CORPUS = FIXTURES / "plan"


@pytest.fixture(scope="module")
def host_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return hosts.write_three(tmp_path_factory.mktemp("hosts"))


def _doctor(*args: str) -> tuple[int, dict[str, object], str]:
    proc = run_envlock(["doctor", *args, "--format", "json"])
    return proc.returncode, json.loads(proc.stdout) if proc.stdout.strip() else {}, proc.stderr


def _copy(tmp_path: Path, fixture: str) -> Path:
    src = CORPUS / fixture
    dst = tmp_path / src.name
    dst.write_text(src.read_text())
    return dst


def test_a_real_dockerfile_is_caught_before_its_build_and_its_fix_passes(
    tmp_path: Path, host_files: dict[str, Path]
) -> None:
    # uzi0espil-llm-torch: FROM pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime on a V100
    dockerfile = _copy(tmp_path, "uzi0espil-llm-torch/Dockerfile")
    code, report, err = _doctor("--plan", str(dockerfile), "--facts", str(host_files["v100"]))
    assert code == 1, err
    findings = {f["id"]: f for f in report["findings"]}  # type: ignore[attr-defined]
    arch = findings["EL-ARCH-UNSUPPORTED"]
    line = next(
        i for i, text in enumerate(dockerfile.read_text().split("\n"), 1) if text.startswith("FROM")
    )
    assert arch["message"].startswith(f"{dockerfile}:{line}: ")
    replacement = arch["evidence"]["plan.replacement"]
    assert replacement.startswith("FROM pytorch/pytorch:2.7.1-cuda11.8-cudnn9-runtime")
    assert arch["fix"] == f"replace {dockerfile}:{line} with:\n{replacement}"
    # the replacement applied to the file: the finding is gone and no error is new
    lines = dockerfile.read_text().split("\n")
    lines[line - 1] = replacement
    dockerfile.write_text("\n".join(lines))
    code, report, err = _doctor("--plan", str(dockerfile), "--facts", str(host_files["v100"]))
    assert code == 0, (err, report)
    # the same file on the H100 it was written for: nothing to say
    code, report, _ = _doctor("--plan", str(dockerfile), "--facts", str(host_files["h100"]))
    assert code == 0 and report["findings"] == []


def test_a_multi_line_pip_install_is_replaced_whole(
    tmp_path: Path, host_files: dict[str, Path]
) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "FROM ubuntu:22.04\n"
        "RUN pip install --no-cache-dir \\\n"
        "      torch==2.7.0 torchvision==0.22.0 \\\n"
        "      --index-url https://download.pytorch.org/whl/cu128\n"
    )
    code, report, err = _doctor("--plan", str(dockerfile), "--facts", str(host_files["v100"]))
    assert code == 1, err
    arch = next(f for f in report["findings"] if f["id"] == "EL-ARCH-UNSUPPORTED")  # type: ignore[attr-defined]
    assert arch["evidence"]["plan.line"] == 2 and arch["evidence"]["plan.end_line"] == 4
    assert arch["evidence"]["plan.replacement"] == (
        "RUN pip install --no-cache-dir \\\n"
        "      torch==2.7.0 torchvision==0.22.0 \\\n"
        "      --index-url https://download.pytorch.org/whl/cu118"
    )
    text = run_envlock(["matrix", "--plan", str(dockerfile), "--facts", str(host_files["v100"])])
    assert text.returncode == 0, text.stderr
    assert "-       --index-url https://download.pytorch.org/whl/cu128\n" in text.stdout
    assert "+       --index-url https://download.pytorch.org/whl/cu118\n" in text.stdout


def test_build_args_and_target_reach_the_dockerfile(
    tmp_path: Path, host_files: dict[str, Path]
) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "ARG TAG=2.7.1-cuda12.8-cudnn9-runtime\nFROM pytorch/pytorch:${TAG} AS gpu\n"
        "FROM python:3.11 AS cpu\n"
    )
    code, report, err = _doctor(
        "--plan", str(dockerfile), "--facts", str(host_files["v100"]), "--target", "gpu"
    )
    assert code == 1 and {f["id"] for f in report["findings"]} >= {"EL-ARCH-UNSUPPORTED"}, err  # type: ignore[attr-defined]
    code, report, err = _doctor(
        "--plan", str(dockerfile), "--facts", str(host_files["v100"]), "--target", "gpu",
        "--build-arg", "TAG=2.7.1-cuda11.8-cudnn9-runtime",
    )  # fmt: skip
    assert code == 0, (err, report)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\x00\x01binary", "is not text (binary data)"),
        (b"FROM python:3.11\nRUN <<EOF\npip install torch\n", "unterminated heredoc"),
        (b"# escape=x\nFROM python\n", "invalid escape token"),
        (
            b"ARG A=${A:-${A:-${A:-${A:-${A:-${A:-${A:-${A:-${A:-${A}}}}}}}}}}\nFROM python\n",
            "nested more than",
        ),
    ],
)
def test_hostile_dockerfiles_are_one_line_and_exit_3(
    tmp_path: Path, host_files: dict[str, Path], content: bytes, message: str
) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(content)
    proc = run_envlock(["doctor", "--plan", str(path), "--facts", str(host_files["h100"])])
    assert proc.returncode == 3, proc.stderr
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_unreadable_and_unknown_plan_files_exit_3(
    tmp_path: Path, host_files: dict[str, Path]
) -> None:
    facts = ["--facts", str(host_files["h100"])]
    for path, message in (
        (tmp_path / "missing.txt", "not found"),
        (tmp_path, "is a directory"),
        (tmp_path / "notes.md", "not a plan file envlock reads"),
    ):
        if path.suffix == ".md":
            path.write_text("# just notes\n")
        proc = run_envlock(["doctor", "--plan", str(path), *facts])
        assert proc.returncode == 3 and message in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
    (tmp_path / "Dockerfile").write_text("FROM python AS base\n")
    proc = run_envlock(["doctor", "--plan", str(tmp_path / "Dockerfile"), *facts, "--target", "x"])
    assert proc.returncode == 3 and "no build stage named 'x'" in proc.stderr


def test_a_requirement_file_outside_the_plans_directory_is_not_read(
    tmp_path: Path, host_files: dict[str, Path]
) -> None:
    inner = tmp_path / "app"
    inner.mkdir()
    (tmp_path / "secret.txt").write_text("torch==2.7.0+cu128\n")
    (inner / "requirements.txt").write_text(
        "-r ../secret.txt\n--index-url https://example.org/simple\n"
    )
    code, report, err = _doctor(
        "--plan", str(inner / "requirements.txt"), "--facts", str(host_files["v100"])
    )
    assert code == 0, err
    assert any("-r ../secret.txt: not found" in n for n in report["details"]["not_checked"])  # type: ignore[index]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--build-arg", "A=1"], "--build-arg, --target and --probe-base apply to a --plan file"),
        (["--plan", "Dockerfile", "--build-arg", "NOEQUALS"], "expected NAME=VALUE"),
        (
            ["--plan", "Dockerfile", "--python", "python3"],
            "--plan is held against this host or --facts",
        ),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    proc = run_envlock(["doctor", *args])
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr


def test_a_host_without_gpus_says_what_the_plan_was_not_held_against(tmp_path: Path) -> None:
    from tests.conftest import FIXTURES as F

    dockerfile = _copy(tmp_path, "uzi0espil-llm-torch/Dockerfile")
    nodriver = F / "facts.cuda-venv-nodriver.json"  # recorded where no NVIDIA driver runs
    code, report, err = _doctor("--plan", str(dockerfile), "--facts", str(nodriver))
    assert code == 0, err
    notes = report["details"]["not_checked"]  # type: ignore[index]
    assert any(n.startswith("host: no NVIDIA driver or GPU in its facts") for n in notes), notes

"""The doctor's text shows the finding to read first at the top of its group (session 6
review, helper X): errors were listed by ID, so pytorch#31876's GeForce 210, which no
official build serves (EL-GPU-UNSERVABLE, the diagnosis), came after a torchvision
mismatch whose fix is moot on that GPU. A pasted report's interpreter has no path: the
line says so instead of printing "interpreter: (Python 3.7)"."""

from __future__ import annotations

from tests.conftest import FIXTURES, run_envlock

CE = FIXTURES / "collect_env"


def _text(name: str) -> list[str]:
    proc = run_envlock(["doctor", "--collect-env", str(CE / name)])
    assert proc.returncode == 1, proc.stderr
    return proc.stdout.splitlines()


def _marked(lines: list[str], mark: str) -> list[str]:
    return [ln.split("]")[0].split("[")[1] for ln in lines if ln.startswith(f" {mark} [")]


def test_the_root_cause_is_the_first_error() -> None:
    errors = _marked(_text("pytorch-31876.txt"), "✗")
    assert errors[0] == "EL-GPU-UNSERVABLE", errors
    assert sorted(errors) == [
        "EL-FAMILY-MISMATCH",
        "EL-GPU-UNSERVABLE",
        "EL-TORCH-CUDA-UNAVAILABLE",
    ]


def test_triton_before_the_nccl_wheels() -> None:
    """vllm#18580: the driver that loads no Triton kernel is the diagnosis."""
    assert _marked(_text("vllm-18580.txt"), "✗")[0] == "EL-TRITON-DRIVER-TOO-OLD"


def test_a_pasted_interpreter_line_says_its_path_is_not_given() -> None:
    lines = _text("pytorch-31876.txt")
    (line,) = [ln for ln in lines if ln.startswith("  interpreter:")]
    assert line == "  interpreter: Python 3.7 (its path is not in the pasted text)", line


def test_json_names_the_finding_to_read_first() -> None:
    import json

    proc = run_envlock(
        ["doctor", "--collect-env", str(CE / "pytorch-31876.txt"), "--format", "json"]
    )
    assert json.loads(proc.stdout)["details"]["read_first"] == "EL-GPU-UNSERVABLE"

"""The real probe in subprocesses: the torch venvs, an isolated interpreter, Python 3.8."""

from __future__ import annotations

import ast
import glob
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from envlock.facts import Facts
from tests.conftest import REPO, clean_env

PROBE_DIR = REPO / "envlock" / "probe"
SECRETS = {
    "HF_TOKEN": "hf_PlantedTokenValue123",
    "WANDB_API_KEY": "wandb-planted-key-456",
    "AWS_SECRET_ACCESS_KEY": "aws/planted/secret789",
    "PIP_INDEX_URL": "https://plantuser:plantpw@host/simple",
}


def _probe(python: Path | str, *args: str, **env: str) -> tuple[dict[str, Any], str]:
    proc = subprocess.run(
        [str(python), "-m", "envlock.probe", *args],
        capture_output=True,
        text=True,
        env=clean_env(**env),
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout), proc.stdout


@pytest.mark.venv
def test_cuda_venv_without_driver(cuda_python: Path) -> None:
    facts, text = _probe(cuda_python, **SECRETS)
    parsed = Facts.from_dict(facts)
    torch = parsed.torch
    assert torch.installed and torch.version == "2.14.1+cu130" and torch.build == "cu130"
    assert torch.cuda == "13.0"
    live = torch.live
    assert live is not None and live.unavailable is None
    assert live.cudnn_version == "9.24.0"
    assert live.nccl_version == "2.30.7"
    assert live.arch_flags == ["sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120"]
    assert live.cuda_available is False
    assert live.cuda_unavailable_reason is not None
    assert "no NVIDIA driver" in live.cuda_unavailable_reason
    assert live.device_count == 0 and live.devices == []
    assert live.flags is not None and live.flags.deterministic_algorithms is False
    loaded = {lib.name.split(".so")[0] for lib in live.loaded_libraries}
    assert {"libcudnn", "libnccl", "libcublas", "libcudart"} <= loaded
    assert live.import_seconds is not None and live.import_seconds > 0
    assert parsed.packages.distributions["nvidia-cudnn-cu13"] == "9.24.0.43"
    assert parsed.driver.unavailable is not None and parsed.driver.gpus is None
    assert set(parsed.meta.durations_ms) >= {"system", "driver", "cuda", "torch", "packages"}
    _assert_no_secrets(text, parsed)


@pytest.mark.venv
def test_cpu_venv(cpu_python: Path) -> None:
    facts, text = _probe(cpu_python, **SECRETS)
    parsed = Facts.from_dict(facts)
    assert parsed.torch.build == "cpu" and parsed.torch.cuda is None
    assert parsed.torch.version == "2.13.0+cpu"
    live = parsed.torch.live
    assert live is not None
    assert live.cuda_available is False
    assert live.cuda_unavailable_reason == "torch is a CPU-only build (+cpu)"
    assert live.arch_flags == [] and live.nccl_version is None
    _assert_no_secrets(text, parsed)


def _assert_no_secrets(text: str, parsed: Facts) -> None:
    for value in SECRETS.values():
        assert value not in text
    for fragment in ("plantuser", "plantpw", "hf_Planted", "wandb-planted", "aws/planted"):
        assert fragment not in text
    assert parsed.env.variables["PIP_INDEX_URL"] == "https://***@host/simple"
    assert {"HF_TOKEN", "WANDB_API_KEY", "AWS_SECRET_ACCESS_KEY"} <= set(parsed.env.redacted)


@pytest.mark.venv
def test_no_torch_live_skips_the_child(cuda_python: Path) -> None:
    facts, _ = _probe(cuda_python, "--no-torch-live", "--target", "image:test")
    assert facts["torch"]["version"] == "2.14.1+cu130"
    assert facts["torch"]["live"] is None
    assert facts["meta"]["target"] == "image:test"


@pytest.mark.venv
def test_the_caller_never_imports_torch(cuda_python: Path) -> None:
    code = (
        "import sys; from envlock.probe import probe_host; f = probe_host(); "
        "print(f['torch']['live']['cudnn_version'], 'torch' in sys.modules)"
    )
    proc = subprocess.run(
        [str(cuda_python), "-c", code], capture_output=True, text=True, env=clean_env(), timeout=120
    )
    assert proc.stdout.split() == ["9.24.0", "False"], proc.stderr


def test_every_probe_module_parses_as_python_3_8() -> None:
    files = [*sorted(glob.glob(str(PROBE_DIR / "*.py"))), str(REPO / "envlock" / "__init__.py")]
    assert len(files) >= 10
    for path in files:
        source = Path(path).read_text()
        ast.parse(source, filename=path, feature_version=(3, 8))
        tree = ast.parse(source)
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names]
                mod = getattr(node, "module", None) or ""
                for banned in ("envlock.facts", "envlock.findings", "rich", "packaging"):
                    assert not mod.startswith(banned), f"{path} imports {mod}"
                    assert not any(n.startswith(banned) for n in names), f"{path}: {names}"


def test_isolated_interpreter_without_site_packages() -> None:
    # -I -S: no site-packages (so no pynvml), no PYTHONPATH; only the repo on sys.path.
    code = (
        f"import sys, json; sys.path.insert(0, {str(REPO)!r}); "
        "from envlock.probe.__main__ import main; sys.exit(main(['--no-torch-live']))"
    )
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    facts = Facts.from_dict(json.loads(proc.stdout))
    assert facts.driver.unavailable is not None
    assert "pynvml is not installed" in facts.driver.unavailable
    assert facts.system.python is not None and facts.system.python.version


def _python38() -> str:
    for cand in [
        os.environ.get("ENVLOCK_TEST_PY38", ""),
        *sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.8*/bin/python3.8"))),
    ]:
        if cand and os.access(cand, os.X_OK):
            return cand
    pytest.skip("no Python 3.8 interpreter here (set ENVLOCK_TEST_PY38)")


def test_runs_under_a_real_python_3_8() -> None:
    py38 = _python38()
    code = (
        f"import sys, json; sys.path.insert(0, {str(REPO)!r}); "
        "from envlock.probe.__main__ import main; sys.exit(main(['--no-torch-live']))"
    )
    proc = subprocess.run([py38, "-I", "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    facts = Facts.from_dict(json.loads(proc.stdout))
    assert facts.system.python is not None
    assert facts.system.python.version.startswith("3.8.")


def test_unwritable_stdout_is_exit_3_with_one_line() -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "envlock.probe", "--no-torch-live"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=clean_env(),
            timeout=120,
        )
    assert proc.returncode == 3
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("envlock.probe: cannot write the facts")


def test_bad_timeout_is_a_usage_error() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "envlock.probe", "--timeout", "0"],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
    )
    assert proc.returncode == 2
    assert "--timeout must be a positive number" in proc.stderr
    assert "Traceback" not in proc.stderr

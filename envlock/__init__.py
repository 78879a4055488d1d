"""envlock: environment doctor and reproducibility lock file for PyTorch on NVIDIA GPUs.

This module stays importable by Python 3.8 with the standard library alone:
the probe package beneath it is copied into container images. The public API
(envlock/api.py) is loaded on first use. Its names are verbs that no module
shares (envlock.lock is the lock package, so writing one is write_lock).
"""

from __future__ import annotations

# The one place the version is written: pyproject reads it ([tool.setuptools.dynamic]).
__version__ = "0.1.0"
# The distribution on PyPI (`envlock` there is an unrelated project that also installs an
# `envlock` command): every install line and error message names this one, and
# tests/docs/test_install_lines.py holds it to pyproject's [project].name.
DISTRIBUTION = "torch-envlock"

_API = {
    "Source": "envlock.collect",
    "collect_facts": "envlock.api",
    "doctor": "envlock.api",
    "make_lock": "envlock.api",
    "write_lock": "envlock.api",
    "read_lock": "envlock.api",
    "verify_lock": "envlock.api",
    "verify_distributed": "envlock.api",
    "fleet_report": "envlock.api",
    "run_determinism": "envlock.api",
    "explain": "envlock.api",
    "check": "envlock.api",
    "preflight": "envlock.api",
    "EnvironmentDriftError": "envlock.api",
    "EnvlockError": "envlock.errors",
    "LockError": "envlock.errors",
    "Facts": "envlock.facts",
    "Lock": "envlock.lock",
    "Report": "envlock.findings",
    "Finding": "envlock.findings",
    "Severity": "envlock.findings",
}

__all__ = ["DISTRIBUTION", "__version__", *sorted(_API)]


def __getattr__(name: str) -> object:  # PEP 562: keep `import envlock` free of dependencies
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'envlock' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value

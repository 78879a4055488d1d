"""envlock: environment doctor and reproducibility lock file for PyTorch on NVIDIA GPUs.

This module stays importable by Python 3.8 with the standard library alone:
the probe package beneath it is copied into container images. The public API
is loaded on first use.
"""

from __future__ import annotations

__version__ = "0.1.0"

_API = {
    "doctor": "envlock.api",
    "lock": "envlock.api",
    "preflight": "envlock.api",
    "EnvironmentDriftError": "envlock.api",
    "EnvlockError": "envlock.errors",
    "LockError": "envlock.errors",
    "Facts": "envlock.facts",
    "Report": "envlock.findings",
    "Finding": "envlock.findings",
    "Severity": "envlock.findings",
}

__all__ = ["__version__", *sorted(_API)]


def __getattr__(name: str) -> object:  # PEP 562: keep `import envlock` free of dependencies
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'envlock' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value

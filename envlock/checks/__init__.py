"""Doctor checks: pure functions Facts (+ host Facts, + matrix) -> Findings.

Every check registers under a stable ID (`EL-...`, titled in envlock/catalog.py)
that users can --ignore.
Importing this package registers them all.
"""

from envlock.checks import (
    buildenv,
    container,
    driver,
    extensions,
    family,
    gpu,
    health,
    libraries,
    network,
    nvrtc,
    precision,
    runtime,
    triton,
)
from envlock.checks.context import EXPECTATIONS, CheckContext
from envlock.checks.registry import CHECKS, Check, check, run_checks

__all__ = [
    "CHECKS",
    "EXPECTATIONS",
    "Check",
    "CheckContext",
    "buildenv",
    "check",
    "container",
    "driver",
    "extensions",
    "family",
    "gpu",
    "health",
    "libraries",
    "network",
    "nvrtc",
    "precision",
    "run_checks",
    "runtime",
    "triton",
]

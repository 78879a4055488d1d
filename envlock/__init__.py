"""envlock: environment doctor and reproducibility lock file for PyTorch on NVIDIA GPUs."""

from __future__ import annotations

__version__ = "0.1.0"

"""The compatibility matrix: CUDA/driver/GPU/torch/cuDNN facts as sourced package data.

`load_matrix()` reads the TOML files beside this module once per process.
Every entry names its source (keys in sources.toml); values no source states
are marked UNVERIFIED in the data, never filled in.
"""

from envlock.matrix.loader import MatrixError, load_matrix, read_documents
from envlock.matrix.model import (
    Capability,
    Coverage,
    CudnnRange,
    DriverSupport,
    DriverVerdict,
    GpuModel,
    Matrix,
    TorchRelease,
    TorchVariant,
)
from envlock.matrix.versions import (
    ArchTarget,
    Version,
    cuda_variant,
    parse_arch_flags,
    variant_cuda,
)

__all__ = [
    "ArchTarget",
    "Capability",
    "Coverage",
    "CudnnRange",
    "DriverSupport",
    "DriverVerdict",
    "GpuModel",
    "Matrix",
    "MatrixError",
    "TorchRelease",
    "TorchVariant",
    "Version",
    "cuda_variant",
    "load_matrix",
    "parse_arch_flags",
    "read_documents",
    "variant_cuda",
]

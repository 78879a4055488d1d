"""Write the *constructed* GPU determinism fixtures (not a test; no GPU was available).

No GPU machine was lent when these were made, so the GPU contexts are built
by hand: context values from public specifications (CONTEXT_SOURCES: H100
SXM and H200 are sm_90 with 132 SMs; A100 SXM is sm_80 with 108 SMs; torch
2.14.1+cu130 ships cuDNN 9.24.0 and the nvidia-cublas 13.1.1 wheel), digests
derived from labels (same label = same bits, as the rules predict), and
summaries copied from the CPU recording (the suite's inputs are the same on
every device). Replace them with `record_fixture.py --device cuda` output on
real GPUs when one is available.

    python tests/determinism/construct_gpu_fixtures.py
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

CONTEXT_SOURCES = (
    "public specifications: compute capability from NVIDIA's CUDA GPUs page (develope"
    "r.nvidia.com/cuda-gpus); SM counts from NVIDIA's A100 and H100 Tensor Core GPU A"
    "rchitecture whitepapers (H200: the H100 SXM5 configuration, UNVERIFIED); cuDNN 9"
    ".24.0 from the Requires-Dist of torch 2.14 on PyPI (pypi.org/project/torch/2.14."
    "0/); same bits only for the same architecture and SM count per the cuBLAS docume"
    "ntation, Results reproducibility (docs.nvidia.com/cuda/cublas/#results-reproduci"
    "bility)"
)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BASE = "determinism.cpu-avx512-torch2.13-recorded.json"

GPUS = {
    # name: (gpu_name, capability, SMs, label per class: equal labels = equal digests)
    "h100-sxm": ("NVIDIA H100 80GB HBM3", "9.0", "132", "sm90-132"),
    "h200": ("NVIDIA H200", "9.0", "132", "sm90-132"),
    "a100-sxm": ("NVIDIA A100-SXM4-80GB", "8.0", "108", "sm80-108"),
}


def fake_digest(label: str) -> str:
    return "sha256:" + hashlib.sha256(label.encode()).hexdigest()


def main() -> None:
    base = json.loads((FIXTURES / BASE).read_text())["determinism"]
    for name, (gpu, cc, sms, arch) in GPUS.items():
        d = copy.deepcopy(base)
        d["device"] = "cuda"
        d["context"] = {
            "device_type": "cuda",
            "torch": "2.14.1+cu130",
            "machine": "x86_64",
            "gpu_name": gpu,
            "compute_capability": cc,
            "sm_count": sms,
            "driver": "580.95.05",
            "cuda": "13.0",
            "cudnn": "9.24.0",
            "cublas": "13.1.1",
            "cublas_source": "loaded library",
        }
        d["settings"]["cublas_workspace_config"] = "unset"
        for cls, entry in d["classes"].items():
            # rng streams are GPU-independent; everything else is per architecture.
            label = "torch2.14.1/rng" if cls == "rng" else f"torch2.14.1/{arch}/{cls}"
            entry["digest"] = fake_digest(label)
            entry["seconds"] = None
        d["seconds"] = None
        doc = {
            "constructed": {
                "why": "no GPU machine was available; see construct_gpu_fixtures.py",
                "context": CONTEXT_SOURCES,
                "digests": "sha256 of a label: equal where the rules say the bits are equal",
                "summaries": f"copied from {BASE}",
            },
            "determinism": d,
        }
        path = FIXTURES / f"determinism.{name}-torch2.14-constructed.json"
        path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()

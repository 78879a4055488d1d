"""The health answers a real GPU gave, from the NVML recording the kit writes.

benchmarks/gpu_truth.sh runs `python -m tests.gpu.nvml_health OUT` after the GPU tests:
for each nvml.*-recorded.json in OUT it appends to summary.md, per GPU, the
nvmlReturn_t of every health query envlock's probe makes (0 = NVML_SUCCESS; for a
query asked with arguments, per argument list), and names a query the recording lacks
as a PROBLEM (exit 1): those answers are what replaces the edited cases of
tests/checks/test_health.py with recorded ones.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

# The probe's health queries (envlock/probe/nvml.py: _read_gpu and _health).
HEALTH_QUERIES = (
    "nvmlDeviceGetMigMode",
    "nvmlDeviceGetEccMode",
    "nvmlDeviceGetTotalEccErrors",
    "nvmlDeviceGetRemappedRows",
    "nvmlDeviceGetRetiredPagesPendingStatus",
    "nvmlDeviceGetRetiredPages",
    "nvmlDeviceGetGpuFabricInfo",
)


def _code(answer: Any) -> Any:
    if isinstance(answer, dict) and "raise" in answer:
        return answer["raise"]
    if isinstance(answer, dict) and "by_args" in answer:
        return {args: _code(a) for args, a in answer["by_args"].items()}
    return 0


def return_codes(recording: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """Per device, each health query's nvmlReturn_t; and the queries a device lacks."""
    codes, missing = [], []
    for index, device in enumerate(recording.get("devices", [])):
        codes.append({q: _code(device[q]) for q in HEALTH_QUERIES if q in device})
        missing += [f"GPU {index}: {q} not recorded" for q in HEALTH_QUERIES if q not in device]
    return codes, missing


def main(out: Path) -> int:
    lines, problems = [], []
    for path in sorted(out.glob("nvml.*-recorded.json")):
        codes, missing = return_codes(json.loads(path.read_text())["nvml"])
        lines.append(f"- nvml health answers ({path.name}): {json.dumps(codes)}")
        problems += [f"{path.name}: {m}" for m in missing]
    with open(out / "summary.md", "a", encoding="utf-8") as fh:
        fh.write("".join(f"{line}\n" for line in lines))
        fh.write("".join(f"- PROBLEM: {p}\n" for p in problems))
    for p in problems:
        print(f"gpu_truth: PROBLEM: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))

"""One finding for GPUs that are the same model with the same problem and fix.

Checks judge each GPU; a node of identical GPUs would otherwise print one finding a GPU
with the same message and fix (sglang#6160: four RTX 5090, four EL-ARCH-UNSUPPORTED). A
merged finding names every GPU ("GPUs 0, 1, 2, 3 (...)") and lists them in its evidence
("gpu.indices"); a finding about one GPU is left as it is.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator

from envlock.findings import Finding


def once_per_model(findings: Iterable[Finding]) -> Iterator[Finding]:
    """`findings` (each about one GPU: evidence "gpu.index", a message that opens "GPU N (")
    with those of the same model, capability and fix merged, in first-seen order."""
    groups: dict[tuple[object, ...], list[Finding]] = {}
    for f in findings:
        key = (
            f.check_id,
            f.evidence.get("gpu.name"),
            f.evidence.get("gpu.compute_capability"),
            f.fix,
        )
        groups.setdefault(key, []).append(f)
    for group in groups.values():
        yield _merged(group)


def _merged(group: list[Finding]) -> Finding:
    first = group[0]
    indices = [f.evidence.get("gpu.index") for f in group]
    if len(group) == 1:
        return first
    head = f"GPU {indices[0]} ("
    message = first.message
    if message.startswith(head):
        message = f"GPUs {', '.join(str(i) for i in indices)} (" + message[len(head) :]
    return dataclasses.replace(
        first, message=message, evidence={**first.evidence, "gpu.indices": indices}
    )

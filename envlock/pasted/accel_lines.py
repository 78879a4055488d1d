"""Lines of a paste that name an accelerator other than NVIDIA's where its package lists do
not (habana-vllm-fork#666: "HPU devices: 8x HL-325L" beside PyPI's CUDA torch, no habana
package listed).

- vLLM's platform log line: "Automatically detected platform hpu." (neuron, tpu, xpu);
- the Gaudi vLLM fork's collect_env lines "HPU devices: ..." and "HPU driver version: ...";
- vllm-ascend's collect_env CANN block: "package_name=Ascend-cann-toolkit".

Each is kept as a note (pasted/draft.ACCELERATOR_SEEN, then the kind and the line) that
checks/accelerators reads. One anchored pattern a line (no backtracking).
"""

from __future__ import annotations

import re

from envlock.pasted.draft import ACCELERATOR_SEEN, Draft

_PLATFORM = re.compile(r"Automatically detected platform (hpu|neuron|tpu|xpu)\b")
_HPU = re.compile(r"\s*HPU (?:devices|driver version)\s*:\s*\S")
_ASCEND = "package_name=Ascend-cann-toolkit"


def accelerator_line(line: str, d: Draft) -> None:
    """Note the accelerator `line` names, if it names one."""
    m = _PLATFORM.search(line)
    kind = m.group(1) if m else None
    if kind is None and _HPU.match(line):
        kind = "hpu"
    if kind is None and _ASCEND in line:
        kind = "ascend"
    if kind is not None:
        d.note(f"{ACCELERATOR_SEEN}{kind}: {line.strip()[:80]}")

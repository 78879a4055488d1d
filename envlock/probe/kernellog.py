"""The kernel log's last OOM-killer line: what `envlock explain 137` promises to look at.

Collection, for this host only (the kernel of this machine, which also runs its
containers): a facts file or a pasted report from elsewhere never gets this machine's
log. `dmesg` under a short timeout; its absence or a refusal (it needs root on most
distributions) is said in words, never raised.
"""

from __future__ import annotations

import subprocess

_OOM = r"(?i)out of memory|oom-kill"  # re imported where it is used
_MAX_LINE = 4096  # a kernel log line is short; a longer one is not worth printing whole


def last_oom_line(timeout: float = 2.0) -> str:
    """The last OOM-killer line of the kernel log, or why there is none to show."""
    try:
        proc = subprocess.run(
            ["dmesg"],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "not available"
    if proc.returncode != 0:
        return "not readable (needs root)"
    import re

    hits = [ln for ln in proc.stdout.splitlines() if re.search(_OOM, ln[:_MAX_LINE])]
    return hits[-1].strip()[:_MAX_LINE] if hits else "no OOM-killer lines"

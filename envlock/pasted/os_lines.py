"""The operating system a collect_env report names: its `OS:` line ("Ubuntu 22.04.4 LTS
(x86_64)", "Microsoft Windows 11 Pro"), or, where that line says nothing, its `Python
platform:` line on Windows ("Windows-10-10.0.26100-SP0": vLLM's collect_env asks
lsb_release for the OS, which Windows lacks)."""

from __future__ import annotations

import re

from envlock.pasted.draft import Draft

_OS_IDS = (
    ("microsoft windows", "windows"),
    ("ubuntu", "ubuntu"),
    ("debian", "debian"),
    ("centos", "centos"),
    ("red hat", "rhel"),
    ("rocky", "rocky"),
    ("almalinux", "almalinux"),
    ("fedora", "fedora"),
    ("amazon linux", "amzn"),
    ("arch linux", "arch"),
    ("opensuse", "opensuse"),
    ("macos", "macos"),
    ("mac osx", "macos"),
)


def os_line(os_value: str | None, d: Draft) -> None:
    """ "Ubuntu 22.04.4 LTS (x86_64)": the OS, and the architecture in the last parentheses."""
    if not os_value:
        return
    arch = re.fullmatch(r"(.*)\(([A-Za-z0-9_]+)\)", os_value.rstrip(), flags=re.DOTALL)
    pretty = arch.group(1).strip() if arch else os_value
    d.system["os"] = {
        "pretty_name": pretty,
        "id": _os_id(pretty),
        "version_id": _os_version(pretty),
    }
    if arch:
        d.set_default(d.system, "arch", arch.group(2))


def windows_platform(plat: str, d: Draft) -> None:
    """'Windows-10-10.0.26100-SP0' (Python's platform.platform()) where the OS line said
    nothing: the system is Windows."""
    m = re.match(r"Windows-(\d+)-(\d+\.\d+\.\d+)", plat)
    if m and not d.system.get("os"):
        d.system["os"] = {
            "pretty_name": f"Windows {m.group(1)} ({m.group(2)})",
            "id": "windows",
            "version_id": m.group(1),
        }


_WSL1 = re.compile(r"\d+\.\d+\.\d+-\d+-Microsoft")


def wsl1(kernel: str | None) -> bool:
    """Whether `kernel` (a `uname -r` release) is WSL 1's: `4.4.0-19041-Microsoft` (the
    Windows build, a capital M), never WSL 2's `5.15.153.1-microsoft-standard-WSL2`. WSL 1
    has no GPU support at all (CUDA on WSL needs WSL 2: checks/wsl.py)."""
    return bool(kernel) and _WSL1.fullmatch(str(kernel)) is not None


def _os_id(pretty: str) -> str | None:
    low = pretty.lower()
    return next((i for prefix, i in _OS_IDS if low.startswith(prefix)), None)


def _os_version(pretty: str) -> str | None:
    m = re.search(r"\b(\d+(?:\.\d+)?)", pretty)
    return m.group(1) if m else None


# A line that is a Mac's name and nothing else ("M1 MACOS", "macOS 14.2 (Apple M3 Max)",
# "- MacBook Pro M2", "sys.platform: darwin"): a short label, no sentence around it.
_MAC = re.compile(
    r"\b(?:mac ?os(?: ?x)?|os ?x|darwin|macbook(?: (?:pro|air))?|mac ?(?:mini|studio)|imac"
    r"|apple silicon|apple m[1-5])\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(
    r"\b(?:i|my|we|our|on|in|works?|worked|tried|but|with|also|not|no|than|like|vs)\b|[?!]",
    re.IGNORECASE,
)
_LABEL_LINE = re.compile(r"[\w .,:;()/+\-]{1,60}")


def mac_line(line: str, d: Draft) -> None:
    """A line that names this machine a Mac, where no OS line said otherwise: macOS (torch
    has no CUDA build there). A sentence that mentions a Mac ("it works on my MacBook")
    says nothing: it may be another machine."""
    if d.system.get("os"):
        return
    label = line.strip().lstrip("-*>#` \t").rstrip("`")
    if not _LABEL_LINE.fullmatch(label):
        return
    if _MAC.search(label) and not _SENTENCE.search(label):
        d.system["os"] = {"pretty_name": label, "id": "macos", "version_id": None}

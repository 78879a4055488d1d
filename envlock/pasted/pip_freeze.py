"""`pip freeze` (or `pip list --format=freeze`, `uv pip freeze`) text -> a Draft."""

from __future__ import annotations

import re

from envlock.pasted.draft import Draft, normalize

_PINNED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*===?\s*([^\s;#]+)")
_DIRECT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*@\s*(\S+)")
# a wheel's file name at the end of a direct URL (PEP 427: name-version[-build]-py-abi-
# platform.whl), its "+" written %2B as PyG's index writes it ("torch-2.0.0%2Bcu118/
# torch_scatter-2.1.2%2Bpt20cu118-cp310-cp310-linux_x86_64.whl")
_WHEEL = re.compile(r"/([A-Za-z0-9][A-Za-z0-9._]*)-([0-9][A-Za-z0-9.!+_]*)(?:-[^/-]+){3,4}\.whl$")


def parse_pip_freeze(text: str, draft: Draft) -> int:
    """Pinned lines become packages, and `name @ url` lines whose URL names the wheel of that
    name (its version in the file name); other direct URLs and `-e` lines: noted."""
    found, unpinned = 0, []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _PINNED.match(line)
        if m:
            draft.add_package(m.group(1), m.group(2))
            found += 1
            continue
        direct = _DIRECT.match(line)
        version = _wheel_version(direct.group(1), direct.group(2)) if direct else None
        if direct and version:
            draft.add_package(direct.group(1), version)
            found += 1
        elif direct:
            unpinned.append(direct.group(1))
        elif line.startswith(("-e ", "--editable")):
            unpinned.append(
                line.split("#egg=")[-1][:60] if "#egg=" in line else "an editable install"
            )
    if unpinned:
        draft.note(
            f"pip freeze: {len(unpinned)} package(s) without a version (direct URL or "
            f"editable): {', '.join(unpinned[:8])}"
        )
    if found:
        draft.packages_complete = True
    return found


def _wheel_version(name: str, url: str) -> str | None:
    """The version of the wheel `url` ends in, where that wheel is `name`'s."""
    m = _WHEEL.search(url.replace("%2B", "+").replace("%2b", "+"))
    if m is None or normalize(m.group(1)) != normalize(name):
        return None
    return m.group(2)

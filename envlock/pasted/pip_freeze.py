"""`pip freeze` (or `pip list --format=freeze`, `uv pip freeze`) text -> a Draft."""

from __future__ import annotations

import re

from envlock.pasted.draft import Draft

_PINNED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*===?\s*([^\s;#]+)")
_DIRECT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*@\s*\S")


def parse_pip_freeze(text: str, draft: Draft) -> int:
    """Pinned lines become packages; `name @ url` and `-e` lines have no version: noted."""
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
        if direct:
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

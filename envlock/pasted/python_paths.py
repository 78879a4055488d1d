"""The Python version a paste shows only in its paths (lhotse#793: torch's warning from
.../lib/python3.8/site-packages/torch/cuda/__init__.py and no 'Python version' line).

A site-packages or dist-packages directory of a versioned interpreter names its minor version:
`lib/python3.8/site-packages` (POSIX venvs, conda, pyenv), `Python311\\site-packages` or
`Python311\\Lib\\site-packages` (Windows). Debian's `python3/dist-packages` names no minor
version and says nothing. Paths of two different Pythons say nothing either: which one ran
is not known. One linear pass (no backtracking pattern).
"""

from __future__ import annotations

import re

from envlock.pasted.draft import Draft

_POSIX = re.compile(r"python(3)\.(\d{1,2})[/\\](?:site|dist)-packages")
_WINDOWS = re.compile(r"Python(3)(\d{1,2})[/\\](?:Lib[/\\])?site-packages", re.IGNORECASE)


def python_from_paths(text: str) -> str | None:
    """'3.8' where every versioned site-packages path of `text` names Python 3.8, else None."""
    seen = {f"{m.group(1)}.{int(m.group(2))}" for p in (_POSIX, _WINDOWS) for m in p.finditer(text)}
    return seen.pop() if len(seen) == 1 else None


def python_from_paste_paths(text: str, d: Draft) -> None:
    """Set the draft's Python from its paths where no 'Python version' line gave one."""
    if "python" in d.system:
        return
    version = python_from_paths(text)
    if version is not None:
        d.system["python"] = {"version": version, "implementation": "unknown"}
        d.note(f"Python {version}: read from the site-packages paths in the paste")

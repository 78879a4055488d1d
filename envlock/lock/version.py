"""The lock-version gate, the one place that decides which locks this envlock reads.

The writer writes `lock-version = "MAJOR.MINOR"`. A minor bump adds fields
(older readers keep them as unknown keys and compare them as exact); a
major bump changes meaning. So: another major is refused (upgrade envlock,
or regenerate the lock); a newer minor is read, and verify warns about it
(EL-LOCK-NEWER-MINOR). Locks written before the string form hold the
integer 1, read as "1.0".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from envlock import __version__
from envlock.errors import LockError

LOCK_VERSION_MAJOR = 1
# 1.1: the full closure in [packages] (1.0: an allow-list), [tools], [sources], [files],
# torch.variant and torch.index (issue 13); [extensions] file digests (issue 14). A 1.0
# lock is verified as 1.0 wrote it (verify.py).
LOCK_VERSION_MINOR = 1

_FORM = re.compile(r"([0-9]{1,6})(?:\.([0-9]{1,6}))?")  # ASCII digits only (not Arabic-Indic ones)


@dataclass(frozen=True, order=True, slots=True)
class LockVersion:
    major: int
    minor: int = 0

    @classmethod
    def current(cls) -> LockVersion:
        return cls(LOCK_VERSION_MAJOR, LOCK_VERSION_MINOR)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"

    @property
    def newer_minor(self) -> bool:
        """Written by a newer envlock of the same major: readable, with fields we may not know."""
        return self > LockVersion.current()

    @classmethod
    def parse(cls, data: Any, where: str) -> LockVersion:
        """The version of a parsed lock document; LockError when it is absent or unreadable."""
        head = data.get("envlock") if isinstance(data, dict) else None
        if not isinstance(head, dict) or "lock-version" not in head:
            raise LockError(f"{where}: no [envlock] lock-version: not an envlock lock file")
        raw = head["lock-version"]
        m = None
        if isinstance(raw, str) or (isinstance(raw, int) and not isinstance(raw, bool)):
            m = _FORM.fullmatch(str(raw))
        if m is None:
            raise LockError(
                f"{where}: in 'envlock.lock-version': expected \"MAJOR.MINOR\" "
                f'(e.g. "{cls.current()}"), got {raw!r}'
            )
        version = cls(int(m.group(1)), int(m.group(2) or 0))
        if version.major != LOCK_VERSION_MAJOR:
            raise LockError(
                f"{where}: lock-version {raw} is not supported by envlock {__version__} "
                f"(reads lock-version {LOCK_VERSION_MAJOR}.x); "
                + (
                    "upgrade envlock"
                    if version.major > LOCK_VERSION_MAJOR
                    else "regenerate the lock"
                )
            )
        return version

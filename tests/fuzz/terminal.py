"""The terminal rich would see, for the fuzz tests that hold envlock's plain-text renderers
equal to rich's: a width (None: COLUMNS unset, rich's own default) and no forced colour."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest


@contextlib.contextmanager
def plain_terminal(columns: str | None) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        if columns is None:
            mp.delenv("COLUMNS", raising=False)
        else:
            mp.setenv("COLUMNS", columns)
        mp.delenv("FORCE_COLOR", raising=False)
        mp.delenv("TTY_COMPATIBLE", raising=False)
        yield

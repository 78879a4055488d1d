"""TOML as tomllib reads it (tomli on Python 3.10)."""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

TOMLDecodeError = tomllib.TOMLDecodeError


def loads(text: str) -> dict[str, object]:
    result: dict[str, object] = tomllib.loads(text)
    return result

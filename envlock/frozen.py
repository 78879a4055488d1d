"""Frozen value classes for the one path that cannot afford the dataclasses module: a
repeat `envlock restore LOCK --venv DIR` starts uv before it imports dataclasses (issue
23's restore row: dataclasses and the inspect, ast, dis and tokenize it loads are ~10-14
ms of a Python start on a busy 2-core machine, while `uv venv` takes ~30 ms in all).

The house writes its value types as frozen dataclasses; the types that path builds
before uv starts or while it runs (install/early.Started, install/venvdir.VenvTarget,
install/marker.Marker, install/plancache.Guess, install/quick.Begun, and
install/restore.py's Installation and Step: dataclasses' imports would take uv's CPU on
a busy machine) are Frozen instead: __slots__, an explicit typed keyword-only
__init__, and from here equality and hashing by the slots' values, a repr, no assignment
after __init__, replace(), and pickling by their slots (picklecache builds these as it
builds dataclasses: tests/install/test_frozen_records.py).
"""

from __future__ import annotations


class Frozen:
    """Values in __slots__, set once by the subclass's __init__ (through _set)."""

    __slots__: tuple[str, ...] = ()

    def _set(self, **values: object) -> None:
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Frozen)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._values()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"{type(self).__name__}({shown})"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: cannot assign {name}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: cannot delete {name}")

    def __getstate__(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__}

    def __setstate__(self, state: dict[str, object]) -> None:
        """Unpickling: every slot, nothing else (a foreign entry is an error: a miss)."""
        if not isinstance(state, dict) or set(state) != set(self.__slots__):
            raise TypeError(f"not a {type(self).__name__}")
        self._set(**state)

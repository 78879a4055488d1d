"""Version strings on the host side, read as PEP 440 through `packaging`.

Every version envlock compares goes through here (or through
`envlock.matrix.Version`, which wraps it): torch "2.14.1+cu130", NGC's
"2.6.0a0+ecf3bae40a", drivers "580.65.06", CUDA "12.4", cuDNN "9.10.2",
glibc "2.36". Release segments compare as integers ("12.10" > "12.9", never
floats), trailing zeros do not count ("12.0" == "12"), pre-releases sort
before their release ("2.6.0a0" < "2.6.0") and a local tag (+cu130) sorts
after the same public version (PEP 440), except in `at_least`, where it
names a build, not a newer release.

A string that is not PEP 440 ("12.4.r12.4", "550.54.14-custom") falls back
to the dotted integers it starts with; nothing here raises on odd input except
`parse`, whose callers ask for the error.

The probe (envlock/probe, stdlib only, copied into containers) and the child
scripts (probe/_torch_child.py, determinism/suite.py) cannot import this;
tests/test_versions.py holds their own small parsers to the same answers.
"""

from __future__ import annotations

import re

from packaging.version import InvalidVersion
from packaging.version import Version as Pep440

__all__ = ["Pep440", "at_least", "parse", "parse_or_none", "public", "read", "release"]

# ASCII digits, at most 40 per part: "²" and Arabic-Indic digits are not versions, and a
# 5,000-digit "version" must not reach int() (CPython refuses > 4,300 digits with ValueError).
_LEADING = re.compile(r"\s*[vV]?([0-9]{1,40}(?:\.[0-9]{1,40})*)(?![0-9])")
_TOO_LONG = re.compile(r"[0-9]{41}")


def read(text: str) -> tuple[Pep440, str]:
    """(version, the text it was read from): the whole stripped string when it is PEP 440,
    else the dotted integers it starts with ("12.4.r12.4" -> 12.4, "12.4"); ValueError if none."""
    s = str(text).strip()
    if _TOO_LONG.search(s) or not s.isascii():
        raise ValueError(f"not a version: {s[:40]!r}")
    try:
        return Pep440(s), s
    except InvalidVersion:
        pass
    m = _LEADING.match(s)
    if m is None:
        raise ValueError(f"not a version: {text!r}")
    return Pep440(m.group(1)), m.group(1)


def parse(text: str) -> Pep440:
    """The PEP 440 reading of `text`, else of its leading dotted integers; ValueError if none.

    "2.6.0a0+ecf3bae40a" keeps its pre-release and local tag; "12.4.r12.4" reads as 12.4.
    """
    return read(text)[0]


def parse_or_none(text: object) -> Pep440 | None:
    """parse(), or None for None, "", "unknown" and other text without a version."""
    if text is None:
        return None
    try:
        return parse(str(text))
    except ValueError:
        return None


def release(text: object) -> tuple[int, ...]:
    """The numeric release tuple: "2.6.0a0+ecf3bae40a" -> (2, 6, 0); () for no version."""
    v = parse_or_none(text)
    return v.release if v is not None else ()


def public(text: object) -> Pep440 | None:
    """The version without its local tag: "2.14.1+cu130" -> 2.14.1 (pre/dev/post kept)."""
    v = parse_or_none(text)
    return Pep440(v.public) if v is not None else None


def _strict(text: str) -> Pep440 | None:
    if _TOO_LONG.search(text) or not text.isascii():
        return None
    try:
        return Pep440(text.strip())
    except InvalidVersion:
        return None


def _trimmed(parts: tuple[int, ...]) -> tuple[int, ...]:
    while parts and parts[-1] == 0:
        parts = parts[:-1]
    return parts


def at_least(observed: str, locked: str) -> bool:
    """Is `observed` the locked version or newer? For verify's `at-least` rule.

    PEP 440 on both sides: the public versions compare, so a local tag is a
    build label, never a newer release ("2.14.1+cu126" is at least
    "2.14.1+cu130") and a pre-release is older than its release ("2.6.0a0" is
    not at least "2.6.0"). Otherwise the numeric release tuples compare
    ("2.36-ubuntu" is at least "2.35"); with no digits on a side, only equal
    text agrees. Never raises.
    """
    obs, lck = str(observed), str(locked)
    o, k = _strict(obs), _strict(lck)
    if o is not None and k is not None:
        return Pep440(o.public) >= Pep440(k.public)
    ro, rk = _LEADING.match(obs), _LEADING.match(lck)
    if ro is None or rk is None:
        return obs.strip() == lck.strip()
    return _trimmed(tuple(int(p) for p in ro.group(1).split("."))) >= _trimmed(
        tuple(int(p) for p in rk.group(1).split("."))
    )

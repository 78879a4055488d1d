"""What a lock's fields may hold: one definition for the reader, the builder and the
generators (export, restore). Pure.

A lock is committed and then read by CI as root, and its values end up in pip
requirements, TOML and Dockerfiles. A line break (including U+2028 and U+0085,
which str.splitlines() and so pip split on) or a stray backslash in a name would
add installer options or build steps, so every field has a grammar here: names are
PEP 508 names, versions PEP 440, index URLs http(s) in RFC 3986's characters,
hashes 64 lowercase hex digits, environment keys shell names, and free text holds
no control characters. Each check returns why a value is refused, or None.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# C0, DEL and C1 (U+0085 among them), the Unicode line and paragraph separators,
# and lone surrogates (which UTF-8 cannot hold).
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_NAME = re.compile(r"[A-Z0-9](?:[A-Z0-9._-]*[A-Z0-9])?", re.IGNORECASE)  # PEP 508
_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_LOCAL = re.compile(r"[a-z0-9]+(?:[-_.][a-z0-9]+)*", re.IGNORECASE)  # PEP 440 local label
_KIND = re.compile(r"[a-z][a-z0-9-]*")
# http(s), a host, then only RFC 3986 characters: no space, quote, backslash or brace
# (pip expands ${VAR} in requirement files), so nothing can end or extend the line.
_URL = re.compile(
    r"https?://[A-Za-z0-9\-._~!$&'()*+,;=:%@\[\]]+(?:[/?#][A-Za-z0-9\-._~!$&'()*+,;=:%@/?#\[\]]*)?",
    re.IGNORECASE,
)
# A repo digest as `docker inspect` gives it: name@algorithm:hex.
_REPO_DIGEST = re.compile(
    r"[a-z0-9][A-Za-z0-9._/:\[\]-]*@(?:sha256:[0-9a-f]{64}|sha384:[0-9a-f]{96}|sha512:[0-9a-f]{128})"
)
_MAX_URL = 4096


def _version_pattern() -> re.Pattern[str]:
    from packaging.version import VERSION_PATTERN

    # fullmatch on the raw text: Version() itself strips surrounding whitespace ("1.0\n")
    return re.compile(VERSION_PATTERN, re.VERBOSE | re.IGNORECASE)


_VERSION: list[re.Pattern[str]] = []


def show(value: str, limit: int = 60) -> str:
    """A value in an error message: repr (one line, escapes shown), cut to `limit`."""
    return repr(value[:limit]) + ("..." if len(value) > limit else "")


def escaped(text: str) -> str:
    """`text` with its control characters written as Python escapes (\\n, \\u2028)."""
    return CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def comment(text: str) -> str:
    """Text for the rest of a comment line in any target grammar (pip requirements, TOML,
    Dockerfile): control characters, line breaks of every kind among them, written as
    escapes; a trailing backslash (a line continuation) as well."""
    safe = escaped(text)
    return safe[:-1] + "\\x5c" if safe.endswith("\\") else safe


def text_problem(value: str) -> str | None:
    m = CONTROL.search(value)
    if m is None:
        return None
    return f"{show(value)} holds a control character ({m.group()!r})"


def name_problem(name: str) -> str | None:
    if _NAME.fullmatch(name):
        return None
    return f"{show(name)} is not a valid package name (PEP 508)"


def version_problem(version: str) -> str | None:
    if not _VERSION:
        _VERSION.append(_version_pattern())
    if _VERSION[0].fullmatch(version):
        return None
    return f"{show(version)} is not a PEP 440 version"


def url_problem(url: str) -> str | None:
    if len(url) <= _MAX_URL and _URL.fullmatch(url):
        return None
    return f"{show(url)} is not an http(s) URL"


def sha256_problem(digest: str) -> str | None:
    if _SHA256.fullmatch(digest):
        return None
    return f"expected 64 lowercase hex digits, got {show(digest)}"


def env_key_problem(key: str) -> str | None:
    if _ENV_KEY.fullmatch(key):
        return None
    return f"{show(key)} is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)"


def variant_problem(variant: str) -> str | None:
    if _LOCAL.fullmatch(variant):
        return None
    return f"{show(variant)} is not a torch variant (a local version label: cpu, cu130)"


def kind_problem(kind: str) -> str | None:
    if _KIND.fullmatch(kind):
        return None
    return f"{show(kind)} is not a source kind (url, vcs, editable, local)"


def file_name_problem(name: str) -> str | None:
    if name and name not in (".", "..") and not any(c in name for c in "/\\"):
        return text_problem(name)
    return f"{show(name)} is not a file name"


def repo_digest_problem(digest: str) -> str | None:
    if _REPO_DIGEST.fullmatch(digest):
        return None
    return f"{show(digest)} is not an image repo digest (name@sha256:<64 hex>)"


def prefixed_sha256_problem(digest: str) -> str | None:
    if digest.startswith("sha256:") and _SHA256.fullmatch(digest[7:]):
        return None
    return f"expected 'sha256:' and 64 lowercase hex digits, got {show(digest)}"


def text_problems(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(dotted path, why) for every string, key or value, in plain data that holds a
    control character. Iterative: a deep document cannot exhaust the stack."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            why = text_problem(item)
            if why:
                yield where, why
        elif isinstance(item, dict):
            for k, v in reversed(list(item.items())):
                key = str(k)
                why = text_problem(key)
                if why:
                    yield where or "<root>", f"key {why}"
                    continue
                stack.append((v, f"{where}.{key}" if where else key))
        elif isinstance(item, (list, tuple)):
            stack.extend((v, f"{where}[{i}]") for i, v in reversed(list(enumerate(item))))

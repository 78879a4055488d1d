"""What a lock may hold of an index's files (sha256, plain file names, http(s) URLs
without credentials: install/index.py says why), and which files fit the locked
platform: the wheels its Python, architecture and glibc accept, else the sdist."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator
from typing import TYPE_CHECKING

from envlock.errors import RestoreError
from envlock.install.indexurl import Index
from envlock.lock.model import LockedFile

if TYPE_CHECKING:
    from packaging.version import Version

MAX_URL = 4096
_SHA256 = re.compile(r"[0-9a-f]{64}")
# wheel and sdist names: PEP 427/625 with local versions (+cpu) and epochs (!)
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+!-]*")
# RFC 3986's characters: everything else in a file URL is percent-encoded
_URL_SAFE = "!$&'()*+,;=:@/?#[]%"


def sha256_hex(value: object) -> str:
    """A sha256 as the lock holds it (64 lowercase hex); RestoreError otherwise."""
    if isinstance(value, str) and value.isascii() and _SHA256.fullmatch(value.lower()):
        return value.lower()
    shown = repr(value)[:80] if isinstance(value, str) else type(value).__name__
    raise RestoreError(f"its sha256 is not 64 hex digits ({shown})")


def file_url(page_url: str | None, raw: object) -> str:
    """The absolute URL the lock records for a file listed at `raw` on the page at
    `page_url` (None: `raw` must be absolute; see the module's docstring); RestoreError
    says why not."""
    if not isinstance(raw, str) or not raw.isprintable() or any(c.isspace() for c in raw):
        raise RestoreError("its URL holds whitespace or control characters")
    try:
        joined = (urllib.parse.urljoin(page_url, raw) if page_url else raw).split("#", 1)[0]
        parts = urllib.parse.urlsplit(urllib.parse.quote(joined, safe=_URL_SAFE))
        parts.port  # noqa: B018 (raises ValueError for a bad port)
    except ValueError:
        raise RestoreError("its URL does not parse") from None
    if parts.scheme not in ("http", "https"):
        raise RestoreError(f"its URL is not http(s) ({parts.scheme or 'no'} scheme)")
    if not parts.hostname:
        raise RestoreError("its URL names no host")
    if parts.scheme == "http" and page_url and urllib.parse.urlsplit(page_url).scheme == "https":
        raise RestoreError("its URL is plain http, listed by an https index")
    netloc = parts.netloc.rpartition("@")[2]  # credentials never go into a lock
    url = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    if len(url) > MAX_URL:
        raise RestoreError(f"its URL is longer than {MAX_URL} characters")
    return url


def locked_file(name: str, page_url: str | None, url: object, sha256: object) -> LockedFile:
    """The file as the lock records it; RestoreError says why it cannot be."""
    from envlock.lock import valid

    if not _FILE_NAME.fullmatch(name):
        raise RestoreError("it is not a plain file name")
    found = LockedFile(name=name, url=file_url(page_url, url), sha256=sha256_hex(sha256))
    # the reader's own rules, last: what is written is what `read_lock` accepts
    for why in (
        valid.file_name_problem(found.name),
        valid.url_problem(found.url),
        valid.sha256_problem(found.sha256),
    ):
        if why:
            raise RestoreError(why)
    return found


def platform_tags(python: str, arch: str, glibc: str | None) -> set[str]:
    """Every wheel tag an installer would accept on the locked platform (CPython)."""
    from packaging import tags

    major, minor = _major_minor(python, "Python")
    platforms = []
    if glibc:
        g_major, g_minor = _major_minor(glibc, "glibc")
        for m in range(g_minor, -1, -1):
            platforms.append(f"manylinux_{g_major}_{m}_{arch}")
        legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
        platforms += [f"{name}_{arch}" for m, name in legacy.items() if g_minor >= m]
    platforms.append(f"linux_{arch}")
    found = set(tags.cpython_tags((major, minor), platforms=platforms))
    found |= set(tags.compatible_tags((major, minor), f"cp{major}{minor}", platforms))
    return {str(t) for t in found}


def _major_minor(version: str, what: str) -> tuple[int, int]:
    """(major, minor) of a locked Python or glibc version: small ASCII numbers only (a
    glibc minor of 10**9 would make as many platform tags)."""
    parts = version.split(".")[:2]
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() and len(p) <= 3 for p in parts):
        raise RestoreError(f"the lock's {what} version {version[:40]!r} is not MAJOR.MINOR")
    return int(parts[0]), int(parts[1])


def _kind(filename: str, name: str, want: Version, accepted: set[str]) -> str | None:
    """'wheel' or 'sdist' when `filename` is a file of name==want that fits the locked
    platform, else None."""
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        canonicalize_name,
        parse_sdist_filename,
        parse_wheel_filename,
    )

    if not _FILE_NAME.fullmatch(filename):  # not a file any installer would fetch
        return None
    try:
        if filename.endswith(".whl"):
            wname, wversion, _, wheel_tags = parse_wheel_filename(filename)
            fits = any(str(t) in accepted for t in wheel_tags)
            return (
                "wheel" if canonicalize_name(wname) == name and wversion == want and fits else None
            )
        sname, sversion = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return "sdist" if canonicalize_name(sname) == name and sversion == want else None


def _entries(page: dict[str, object]) -> Iterator[tuple[str, object, object]]:
    """(file name, url, sha256 or None) of each listed, unyanked file."""
    files = page.get("files")
    for entry in files if isinstance(files, list) else ():
        if not isinstance(entry, dict) or entry.get("yanked") not in (None, False):
            continue
        fname, hashes = entry.get("filename"), entry.get("hashes")
        if isinstance(fname, str):
            yield (
                fname,
                entry.get("url"),
                hashes.get("sha256") if isinstance(hashes, dict) else None,
            )


def select_files(
    page: dict[str, object],
    page_url: str,
    index: Index,
    name: str,
    version: str,
    accepted: set[str],
) -> tuple[LockedFile, ...]:
    """The files of name==version on a PEP 691 page that fit the locked platform: the
    wheels, else the sdist. A listed file that would be locked but holds a hash or URL
    the lock reader refuses is an error, not a file to skip."""
    from packaging.version import InvalidVersion, Version

    try:
        want = Version(version)
    except InvalidVersion:
        raise RestoreError(f"{name}=={version}: not a PEP 440 version") from None
    found: dict[str, list[LockedFile]] = {"wheel": [], "sdist": []}
    for fname, url, sha in _entries(page):
        kind = _kind(fname, name, want, accepted)
        if kind is None or sha is None:  # another file, or one the index gives no sha256
            continue
        try:
            found[kind].append(locked_file(fname, page_url, url, sha))
        except RestoreError as exc:
            raise RestoreError(
                f"index {index.shown}: file {fname} of {name}=={version}: {exc}"
            ) from None
    files = found["wheel"] or found["sdist"]
    if not files:
        raise RestoreError(
            f"index {index.shown} has no file of {name}=={version} for this platform"
        )
    return tuple(sorted(files, key=lambda f: f.name))

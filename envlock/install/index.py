"""File hashes for a lock from the package index's JSON simple API (PEP 691).

The index is the one the user's pip configuration names (PIP_INDEX_URL, else
`pip config list`'s index-url, else https://pypi.org/simple); a tagged torch build
(2.13.0+cpu) comes from its variant's index recorded in the lock. Only the files
that fit the locked platform are kept: wheels whose tags the locked Python, CPU
architecture and glibc accept (or the sdist when there is no wheel).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from envlock.errors import RestoreError, first_line
from envlock.lock.closure import DEFAULT_INDEX, INSTALLER_PACKAGES
from envlock.lock.model import Lock, LockedFile

ACCEPT = "application/vnd.pypi.simple.v1+json"
TIMEOUT_S = 30.0
MAX_PAGE_BYTES = 64 * 1024 * 1024  # torch's page on PyPI is a few MB
_WORKERS = 8


def pip_index_url(python: str | None = None) -> str:
    """The index pip installs from for this user: PIP_INDEX_URL, pip's configuration, or
    the default."""
    env = os.environ.get("PIP_INDEX_URL")
    if env:
        return env.split()[0]
    try:
        proc = subprocess.run(
            [python or sys.executable, "-m", "pip", "config", "list"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return DEFAULT_INDEX
    found: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.rsplit(".", 1)[-1] == "index-url":
            found[key.split(".", 1)[0]] = value.strip().strip("'\"")
    # pip's precedence: the environment, then the install command's section, then global
    for section in (":env:", "install", "global"):
        if found.get(section):
            return found[section].split()[0]
    return DEFAULT_INDEX


def platform_tags(python: str, arch: str, glibc: str | None) -> set[str]:
    """Every wheel tag an installer would accept on the locked platform (CPython)."""
    from packaging import tags

    major, minor = (int(p) for p in python.split(".")[:2])
    platforms = []
    if glibc:
        g_major, g_minor = (int(p) for p in glibc.split(".")[:2])
        for m in range(g_minor, -1, -1):
            platforms.append(f"manylinux_{g_major}_{m}_{arch}")
        legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
        platforms += [f"{name}_{arch}" for m, name in legacy.items() if g_minor >= m]
    platforms.append(f"linux_{arch}")
    found = set(tags.cpython_tags((major, minor), platforms=platforms))
    found |= set(tags.compatible_tags((major, minor), f"cp{major}{minor}", platforms))
    return {str(t) for t in found}


def _fits(filename: str, accepted: set[str]) -> bool:
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    try:
        _, _, _, wheel_tags = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        return False
    return any(str(t) in accepted for t in wheel_tags)


def _sdist_version(filename: str, name: str) -> str | None:
    from packaging.utils import InvalidSdistFilename, canonicalize_name, parse_sdist_filename

    try:
        sname, version = parse_sdist_filename(filename)
    except InvalidSdistFilename:
        return None
    return str(version) if canonicalize_name(sname) == name else None


def fetch_page(index: str, name: str) -> dict[str, object]:
    url = index.rstrip("/") + "/" + name + "/"
    request = urllib.request.Request(url, headers={"Accept": ACCEPT, "User-Agent": "envlock"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as resp:
            kind = resp.headers.get("Content-Type", "")
            body = resp.read(MAX_PAGE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise RestoreError(f"index {index} has no project {name!r}") from None
        raise RestoreError(f"index {index}: HTTP {exc.code} for {name!r}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise RestoreError(f"index {index} is unreachable: {first_line(reason)}") from None
    if len(body) > MAX_PAGE_BYTES:
        raise RestoreError(f"index {index}: the page of {name!r} is larger than the limit")
    if "json" not in kind:
        raise RestoreError(
            f"index {index} does not serve the JSON simple API (PEP 691) for {name!r}"
        )
    try:
        page = json.loads(body)
    except ValueError:
        raise RestoreError(f"index {index}: the page of {name!r} is not JSON") from None
    if not isinstance(page, dict) or not isinstance(page.get("files"), list):
        raise RestoreError(f"index {index}: the page of {name!r} lists no files")
    return page


def files_for(index: str, name: str, version: str, accepted: set[str]) -> tuple[LockedFile, ...]:
    """The files of name==version on `index` that fit the locked platform, with sha256."""
    from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
    from packaging.version import InvalidVersion, Version

    page = fetch_page(index, name)
    try:
        want = Version(version)
    except InvalidVersion:
        raise RestoreError(f"{name}=={version}: not a PEP 440 version") from None
    wheels: list[LockedFile] = []
    sdists: list[LockedFile] = []
    base = index.rstrip("/") + "/" + name + "/"
    listed = page["files"]
    assert isinstance(listed, list)  # fetch_page checked it
    for entry in listed:
        if not isinstance(entry, dict):
            continue
        fname, url, hashes = entry.get("filename"), entry.get("url"), entry.get("hashes")
        if not (isinstance(fname, str) and isinstance(url, str) and isinstance(hashes, dict)):
            continue
        sha = hashes.get("sha256")
        if not isinstance(sha, str) or entry.get("yanked") not in (None, False):
            continue
        url = urllib.parse.urljoin(base, url).split("#", 1)[0]
        if fname.endswith(".whl"):
            try:
                wname, wversion, _, _ = parse_wheel_filename(fname)
            except InvalidWheelFilename:
                continue
            if canonicalize_name(wname) == name and wversion == want and _fits(fname, accepted):
                wheels.append(LockedFile(name=fname, url=url, sha256=sha.lower()))
        elif _sdist_version(fname, name) is not None:
            try:
                if Version(_sdist_version(fname, name) or "") == want:
                    sdists.append(LockedFile(name=fname, url=url, sha256=sha.lower()))
            except InvalidVersion:
                continue
    found = wheels or sdists
    if not found:
        raise RestoreError(f"index {index} has no file of {name}=={version} for this platform")
    return tuple(sorted(found, key=lambda f: f.name))


def with_hashes(
    lock: Lock,
    *,
    index: str | None = None,
    python: str | None = None,
    known: dict[str, tuple[LockedFile, ...]] | None = None,
) -> Lock:
    """The lock with [files] filled for every package and tool an installer would fetch;
    `known` (from a resolver's lock) first, the index for the rest."""
    if lock.system is None or not lock.system.python or not lock.system.arch:
        raise RestoreError("the lock holds no Python version and architecture to choose files for")
    if not lock.packages:
        raise RestoreError("the lock holds no [packages]: no files to hash")
    accepted = platform_tags(lock.system.python, lock.system.arch, lock.system.glibc)
    default = index or DEFAULT_INDEX  # pip's configured index, asked only when needed
    torch_index = lock.torch.index if lock.torch else None
    # a tagged torch distribution (2.13.0+cpu) and its tagged companions come from the
    # variant's index; an untagged one (the default index's 2.14.1) from the default
    torch_tag = lock.packages.get("torch", "").partition("+")[2]
    wanted = {**lock.packages, **lock.tools}
    known = known or {}
    skip = INSTALLER_PACKAGES | {"envlock"} | set(lock.sources) | set(known)

    def one(item: tuple[str, str]) -> tuple[str, tuple[LockedFile, ...]]:
        name, version = item
        tagged = torch_tag and version.endswith("+" + torch_tag) and torch_index
        return name, files_for(torch_index if tagged else default, name, version, accepted)  # type: ignore[arg-type]

    todo: list[tuple[str, str]] = sorted((n, v) for n, v in wanted.items() if n not in skip)
    files = {n: f for n, f in known.items() if n in wanted and n not in INSTALLER_PACKAGES}
    if todo:
        if not index:
            default = pip_index_url(python)
        with ThreadPoolExecutor(_WORKERS) as pool:
            files.update(pool.map(one, todo))
    return dataclasses.replace(lock, files=dict(sorted(files.items())))


def files_from_pylock(path: str, lock: Lock) -> dict[str, tuple[LockedFile, ...]]:
    """[files] from a resolver's PEP 751 lock next to the project (pylock.*.toml): the
    files it names for exactly the locked versions; the rest come from the index."""
    from packaging.pylock import Pylock, PylockValidationError
    from packaging.utils import canonicalize_name

    from envlock.safeio import UnreadableFile, read_bounded

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    try:
        text = read_bounded(path).decode("utf-8")
        doc = Pylock.from_dict(tomllib.loads(text))
    except UnreadableFile as exc:
        raise RestoreError(f"{path}: {first_line(exc)}") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, PylockValidationError) as exc:
        raise RestoreError(f"{path}: not a valid pylock file: {first_line(exc)}") from None
    wanted = {**lock.packages, **lock.tools}
    out: dict[str, tuple[LockedFile, ...]] = {}
    for package in doc.packages:
        name = canonicalize_name(package.name)
        if name not in wanted or package.version is None:
            continue
        if str(package.version) != wanted[name]:
            continue
        files = [
            LockedFile(
                name=f.name or f.url.rsplit("/", 1)[-1], url=f.url, sha256=f.hashes["sha256"]
            )
            for f in [*(package.wheels or ()), *((package.sdist,) if package.sdist else ())]
            if f.url and "sha256" in f.hashes
        ]
        if files:
            out[name] = tuple(sorted(files, key=lambda f: f.name))
    return out

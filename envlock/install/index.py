"""File hashes for a lock from the package index's JSON simple API (PEP 691).

The index is the one the user's pip configuration names (PIP_INDEX_URL, else
`pip config list`'s index-url, else https://pypi.org/simple); a tagged torch build
(2.13.0+cpu) comes from its variant's index recorded in the lock. Only the files
that fit the locked platform are kept: wheels whose tags the locked Python, CPU
architecture and glibc accept (or the sdist when there is no wheel).

An index's answers are untrusted input:

- One deadline for every request of a command (ENVLOCK_INDEX_TIMEOUT seconds,
  default 120), shared by the workers: when it passes, every open connection is
  shut, so a server that drips a byte a second ends the command then. Each
  connect and read also has its own limit (30 s).
- Every failure is one RestoreError line (exit 3): HTTP that does not parse, a
  page over 64 MiB or nested deeper than 32 levels (checked before json.loads
  recurses), a timeout, an error status.
- Only http(s) indexes. `https://user:password@host/simple` (what pip accepts)
  is sent as an Authorization header to that host; messages show the URL with
  the password (or a lone user name, often a token) as ****, and no lock holds
  it. ~/.netrc is not read.
- Redirects are followed only to the same scheme, host and port, or from http
  to https on the same host; any other is refused, so credentials and the
  request stay with the index the user named.
- What is written is what the lock reader accepts: sha256 as 64 lowercase hex
  (upper-case is lowered, anything else refused), file names that are plain
  wheel or sdist names, file URLs http(s) with a host, without credentials
  (removed), fragment or whitespace and control characters, other characters
  percent-encoded. A file URL may name another host than the index: PyPI's
  pages point at files.pythonhosted.org, and the sha256 pins the bytes whoever
  serves them; a plain-http file listed by an https index is refused.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import functools
import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from envlock.errors import RestoreError, first_line
from envlock.lock.closure import DEFAULT_INDEX, INSTALLER_PACKAGES
from envlock.lock.model import Lock, LockedFile

if TYPE_CHECKING:
    from packaging.version import Version

ACCEPT = "application/vnd.pypi.simple.v1+json"
DEADLINE_S = 120.0  # all requests of one command together
TIMEOUT_S = 30.0  # one connect or read
MAX_PAGE_BYTES = 64 * 1024 * 1024  # torch's page on PyPI is a few MB
MAX_DEPTH = 32  # a PEP 691 page nests 4 deep, a pylock 5
MAX_REDIRECTS = 5
MAX_URL = 4096
_WORKERS = 8
_SHA256 = re.compile(r"[0-9a-f]{64}")
# wheel and sdist names: PEP 427/625 with local versions (+cpu) and epochs (!)
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+!-]*")
# RFC 3986's characters: everything else in a file URL is percent-encoded
_URL_SAFE = "!$&'()*+,;=:@/?#[]%"


def deadline_s() -> float:
    """The deadline of one command's index requests: ENVLOCK_INDEX_TIMEOUT seconds when it
    is a number in (0, 86400], else DEADLINE_S."""
    try:
        value = float(os.environ.get("ENVLOCK_INDEX_TIMEOUT", "").strip())
    except ValueError:
        return DEADLINE_S
    return value if 0 < value <= 86400 else DEADLINE_S  # nan and inf fail the test


# ------------------------------------------------------------------ the index URL
@dataclasses.dataclass(frozen=True, slots=True)
class Index:
    """An http(s) index: its URL without credentials, the URL as messages show it
    (password masked), and the Authorization header the credentials become."""

    url: str
    shown: str
    authorization: str | None = dataclasses.field(default=None, repr=False)

    @classmethod
    def parse(cls, url: str, *, where: str = "the index URL") -> Index:
        """The index `url` names; RestoreError (never quoting the URL, which may hold a
        password) when it is not an http(s) URL with a host."""
        if not url.isascii() or not url.isprintable() or " " in url:
            raise RestoreError(f"{where}: not an index URL (spaces or control characters)")
        try:
            parts = urllib.parse.urlsplit(url)
            parts.port  # noqa: B018 (raises ValueError for a bad port)
        except ValueError:
            raise RestoreError(f"{where}: not an index URL (it does not parse)") from None
        if parts.scheme not in ("http", "https"):
            raise RestoreError(f"{where}: envlock reads only http(s) indexes (PEP 691)")
        if not parts.hostname:
            raise RestoreError(f"{where}: the index URL names no host")
        userinfo, _, netloc = parts.netloc.rpartition("@")
        bare = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
        if not userinfo:
            return cls(bare, bare)
        user, colon, password = userinfo.partition(":")
        plain = f"{urllib.parse.unquote(user)}:{urllib.parse.unquote(password)}"
        token = base64.b64encode(plain.encode("utf-8")).decode("ascii")
        # pip's redaction: a user without a password is often a token itself
        masked = f"{user}:****" if colon else "****"
        shown = urllib.parse.urlunsplit(
            (parts.scheme, f"{masked}@{netloc}", parts.path, parts.query, "")
        )
        return cls(bare, shown, f"Basic {token}")


def pip_index_url(python: str | None = None, timeout: float = TIMEOUT_S) -> str:
    """The index pip installs from for this user: PIP_INDEX_URL, pip's configuration, or
    the default."""
    env = os.environ.get("PIP_INDEX_URL")
    if env and env.split():
        return env.split()[0]
    try:
        proc = subprocess.run(
            [python or sys.executable, "-m", "pip", "config", "list"],
            capture_output=True,
            text=True,
            timeout=max(timeout, 0.1),
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
        if found.get(section) and found[section].split():
            return found[section].split()[0]
    return DEFAULT_INDEX


def same_origin_or_upgrade(old: str, new: str) -> bool:
    """Whether a redirect from `old` to `new` stays with the index: the same scheme, host
    and port, or http to https on the same host; never to a URL with credentials."""
    a, b = urllib.parse.urlsplit(old), urllib.parse.urlsplit(new)
    default = {"http": 80, "https": 443}
    if a.scheme not in default or b.scheme not in default or "@" in b.netloc:
        return False
    try:
        ports = (a.port or default[a.scheme], b.port or default[b.scheme])
    except ValueError:
        return False
    if not a.hostname or a.hostname != b.hostname:
        return False
    if a.scheme == b.scheme:
        return ports[0] == ports[1]
    return (a.scheme, b.scheme) == ("http", "https")


# ---------------------------------------------------------- HTTP under one deadline
class _Budget:
    """One deadline for all requests of a command, and the open connections, so that
    they can all be cut at once (a dripping server never trips a per-read timeout)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.cut = False
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []

    def left(self) -> float:
        return self.end - time.monotonic()

    def op_timeout(self) -> float:
        """The time one connect or read may take; OSError once the deadline passed."""
        left = self.left()
        if left <= 0 or self.cut:
            raise TimeoutError("the deadline passed")
        return min(TIMEOUT_S, left)

    def register(self, sock: socket.socket) -> None:
        with self._lock:
            self._socks.append(sock)
            cut = self.cut
        if cut:
            _shut(sock)

    def cut_all(self) -> None:
        with self._lock:
            self.cut = True
            socks, self._socks = self._socks, []
        for sock in socks:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    """End a connection that another thread may be reading: its recv returns at once.
    socket.socket's shutdown, not SSLSocket's (which would drop the TLS state under the
    reader's feet)."""
    with contextlib.suppress(OSError):  # already closed
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _DeadlineConnection(http.client.HTTPConnection):
    def __init__(self, host: str, *, budget: _Budget, **kwargs: Any) -> None:
        super().__init__(host, **kwargs)
        self._budget = budget

    def connect(self) -> None:
        self.timeout = self._budget.op_timeout()
        super().connect()
        if self.sock is not None:
            self._budget.register(self.sock)


class _DeadlineHTTPSConnection(_DeadlineConnection, http.client.HTTPSConnection):
    pass


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, budget: _Budget) -> None:
        super().__init__()
        self._budget = budget

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(functools.partial(_DeadlineConnection, budget=self._budget), req)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The system's CAs (SSL_CERT_FILE too), loaded once: it takes 0.1 s."""
    return ssl.create_default_context()


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, budget: _Budget) -> None:
        super().__init__()
        self._budget = budget

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        connection = functools.partial(
            _DeadlineHTTPSConnection, context=_tls_context(), budget=self._budget
        )
        return self.do_open(connection, req)


class _Redirected(RestoreError):
    """A redirect away from the index's host (raised inside urllib's redirect handler)."""


class _SameHostRedirects(urllib.request.HTTPRedirectHandler):
    max_redirections = MAX_REDIRECTS

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        if not same_origin_or_upgrade(req.full_url, newurl):
            fp.close()
            host = urllib.parse.urlsplit(newurl).hostname or newurl
            raise _Redirected(
                f"redirects to another host ({host[:100]!r}); envlock follows redirects only "
                "within the index's host"
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)

    def http_error_302(
        self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any
    ) -> Any:
        # urllib leaves `fp` open when the Location does not parse (http://[::1/x) or the
        # redirect's own body is broken (bad chunking): the connection would leak
        try:
            return super().http_error_302(req, fp, code, msg, headers)
        except ValueError:
            fp.close()
            raise _Redirected("redirects to a URL that does not parse") from None
        except BaseException:
            fp.close()
            raise

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


def _opener(budget: _Budget) -> urllib.request.OpenerDirector:
    """http(s) only (no file:, ftp: or data:), the environment's proxies, the deadline,
    redirects within the host."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.UnknownHandler(),
        _HTTPHandler(budget),
        _HTTPSHandler(budget),
        urllib.request.HTTPDefaultErrorHandler(),
        _SameHostRedirects(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


def _why(exc: BaseException) -> str:
    """A failure in a few words, without quoting what the server sent."""
    if isinstance(exc, urllib.error.URLError):
        reason = exc.reason
        return _why(reason) if isinstance(reason, BaseException) else str(reason)[:200]
    if isinstance(exc, TimeoutError):  # socket.timeout too
        return f"no answer within {TIMEOUT_S:g} s"
    if isinstance(exc, (http.client.HTTPException, ValueError)):
        return f"not a valid HTTP answer ({type(exc).__name__})"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[:200]
    return first_line(exc, type(exc).__name__)[:200]


def _get(
    opener: urllib.request.OpenerDirector, budget: _Budget, index: Index, name: str
) -> tuple[bytes, str, str]:
    """(body, content type, final URL) of the project page of `name` on `index`."""
    url = index.url.rstrip("/") + "/" + urllib.parse.quote(name, safe="") + "/"
    request = urllib.request.Request(url, headers={"Accept": ACCEPT, "User-Agent": "envlock"})
    if index.authorization:  # kept on redirects, which stay on this host
        request.add_header("Authorization", index.authorization)
    where = f"index {index.shown}"
    try:
        with opener.open(request, timeout=budget.op_timeout()) as resp:
            kind = resp.headers.get("Content-Type", "")
            final = resp.geturl()
            chunks, total = [], 0
            while chunk := resp.read(1 << 16):
                total += len(chunk)
                if total > MAX_PAGE_BYTES:
                    raise RestoreError(f"{where}: the page of {name!r} is larger than 64 MiB")
                chunks.append(chunk)
    except _Redirected as exc:
        raise RestoreError(f"{where}: the page of {name!r} {exc}") from None
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 404:
            raise RestoreError(f"{where} has no project {name!r}") from None
        raise RestoreError(f"{where}: HTTP {exc.code} for {name!r}") from None
    except urllib.error.URLError as exc:
        raise RestoreError(f"{where} is unreachable: {_why(exc)}") from None
    except (http.client.HTTPException, OSError, ValueError) as exc:
        raise RestoreError(f"{where}: no answer for {name!r}: {_why(exc)}") from None
    return b"".join(chunks), kind, final


_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
_BRACKETS = bytes.maketrans(b"[]{}", b"()()")


def json_deeper_than(text: bytes, limit: int) -> bool:
    """Whether JSON arrays and objects nest deeper than `limit`, found without recursion
    (json.loads recurses once per level): strings dropped, brackets kept, innermost
    pairs peeled off once per level, each pass a linear C-speed replace."""
    skeleton = _JSON_STRING.sub(b"", text).translate(_BRACKETS, _NOT_BRACKETS)
    passes = 0
    while b"()" in skeleton:
        if passes == limit:
            return True
        skeleton = skeleton.replace(b"()", b"")
        passes += 1
    # what is left is unbalanced: json.loads would recurse into its open brackets
    return passes + skeleton.count(b"(") > limit


def fetch_page(
    opener: urllib.request.OpenerDirector, budget: _Budget, index: Index, name: str
) -> tuple[dict[str, Any], str]:
    """The PEP 691 page of `name` and the URL it came from (after redirects)."""
    body, kind, final = _get(opener, budget, index, name)
    where = f"index {index.shown}: the page of {name!r}"
    if "json" not in kind:
        raise RestoreError(
            f"index {index.shown} does not serve the JSON simple API (PEP 691) for {name!r}"
        )
    if json_deeper_than(body, MAX_DEPTH):
        raise RestoreError(f"{where} nests deeper than {MAX_DEPTH} levels: not a PEP 691 page")
    try:
        page = json.loads(body)
    except (ValueError, RecursionError):
        raise RestoreError(f"{where} is not JSON") from None
    if not isinstance(page, dict) or not isinstance(page.get("files"), list):
        raise RestoreError(f"{where} lists no files")
    return page, final


# --------------------------------------------------------- what a lock may hold
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


# ------------------------------------------------------------- choosing the files
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


def _entries(page: dict[str, Any]) -> Iterator[tuple[str, Any, Any]]:
    """(file name, url, sha256 or None) of each listed, unyanked file."""
    for entry in page["files"]:
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
    page: dict[str, Any], page_url: str, index: Index, name: str, version: str, accepted: set[str]
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


# ------------------------------------------------------- all requests, one deadline
@dataclasses.dataclass(frozen=True, slots=True)
class _Task:
    index: Index
    name: str
    version: str


def _gather(
    tasks: list[_Task], accepted: set[str], budget: _Budget
) -> dict[str, tuple[LockedFile, ...]]:
    """Every task's files, fetched by up to _WORKERS daemon threads under `budget`: the
    first failure, or the deadline, ends them all (open connections are shut)."""
    opener = _opener(budget)
    tasks = list({t.name: t for t in tasks}.values())  # one request per project
    results: dict[str, tuple[LockedFile, ...]] = {}
    errors: list[Exception] = []
    todo = list(reversed(tasks))
    in_flight: dict[str, _Task] = {}
    lock = threading.Lock()
    done = threading.Event()

    def work() -> None:
        while not done.is_set():
            with lock:
                if not todo:
                    return
                task = todo.pop()
                in_flight[task.name] = task
            try:
                page, final = fetch_page(opener, budget, task.index, task.name)
                found = select_files(page, final, task.index, task.name, task.version, accepted)
            except Exception as exc:  # the caller raises it
                with lock:
                    errors.append(exc)
                done.set()
                return
            with lock:
                results[task.name] = found
                del in_flight[task.name]
                if len(results) == len(tasks):
                    done.set()

    # daemon threads: one stuck in a DNS lookup cannot hold the process past the deadline
    for _ in range(min(_WORKERS, len(tasks))):
        threading.Thread(target=work, daemon=True, name="envlock-index").start()
    try:
        finished = done.wait(max(budget.left(), 0))
    finally:
        budget.cut_all()
    if not finished:
        with lock:
            late = sorted(in_flight.values(), key=lambda t: t.name) + todo[::-1] or tasks
        more = f" (and {len(late) - 1} more projects)" if len(late) > 1 else ""
        raise RestoreError(
            f"index {late[0].index.shown}: no complete answer for {late[0].name!r}{more} "
            f"within the {budget.seconds:g} s deadline of all index requests "
            "(ENVLOCK_INDEX_TIMEOUT sets it)"
        )
    if errors:
        raise errors[0]
    return results


def files_for(
    index: Index | str,
    name: str,
    version: str,
    accepted: set[str],
    *,
    timeout: float | None = None,
) -> tuple[LockedFile, ...]:
    """The files of name==version on `index` that fit the locked platform, with sha256."""
    from packaging.utils import canonicalize_name

    idx = index if isinstance(index, Index) else Index.parse(index)
    task = _Task(idx, canonicalize_name(name), version)
    budget = _Budget(deadline_s() if timeout is None else timeout)
    return _gather([task], accepted, budget)[task.name]


def _tasks(
    lock: Lock, todo: list[tuple[str, str]], index: str | None, python: str | None, left: float
) -> list[_Task]:
    """Which index each (name, version) is asked of: a tagged torch distribution
    (2.13.0+cpu) and its tagged companions the variant's index the lock names, everything
    else (the default index's untagged 2.14.1 too) `index` or pip's."""
    from packaging.utils import canonicalize_name

    where = "--index" if index else "PIP_INDEX_URL or pip's index-url"
    default = Index.parse(index or pip_index_url(python, left), where=where)
    tag = lock.packages.get("torch", "").partition("+")[2]
    variant = default
    if tag and lock.torch is not None and lock.torch.index:
        variant = Index.parse(lock.torch.index, where="the lock's torch.index")
    return [
        _Task(variant if tag and v.endswith("+" + tag) else default, canonicalize_name(n), v)
        for n, v in todo
    ]


def with_hashes(
    lock: Lock,
    *,
    index: str | None = None,
    python: str | None = None,
    known: dict[str, tuple[LockedFile, ...]] | None = None,
    timeout: float | None = None,
) -> Lock:
    """The lock with [files] filled for every package and tool an installer would fetch;
    `known` (from a resolver's lock) first, the index for the rest, all requests within
    `timeout` seconds together (default: deadline_s())."""
    if lock.system is None or not lock.system.python or not lock.system.arch:
        raise RestoreError("the lock holds no Python version and architecture to choose files for")
    if not lock.packages:
        raise RestoreError("the lock holds no [packages]: no files to hash")
    budget = _Budget(deadline_s() if timeout is None else timeout)
    accepted = platform_tags(lock.system.python, lock.system.arch, lock.system.glibc)
    wanted = {**lock.packages, **lock.tools}
    known = known or {}
    skip = INSTALLER_PACKAGES | {"envlock"} | set(lock.sources) | set(known)
    todo = sorted((n, v) for n, v in wanted.items() if n not in skip)
    files = {n: f for n, f in known.items() if n in wanted and n not in INSTALLER_PACKAGES}
    if todo:
        tasks = _tasks(lock, todo, index, python, budget.left())
        found = _gather(tasks, accepted, budget)
        files.update((n, found[t.name]) for (n, _), t in zip(todo, tasks, strict=True))
    return dataclasses.replace(lock, files=dict(sorted(files.items())))


# ---------------------------------------------------------------- --hashes-from
def _pylock_document(path: str) -> Any:
    """A pylock file read as hostile input: bounded size, bounded nesting, validated by
    packaging.pylock; RestoreError (one line) otherwise."""
    from packaging.pylock import Pylock, PylockValidationError

    from envlock.lock.model import _deeper_than
    from envlock.safeio import UnreadableFile, read_bounded

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    too_deep = f"{path}: not a valid pylock file: nested deeper than {MAX_DEPTH} levels"
    try:
        text = read_bounded(path).decode("utf-8")
        data = tomllib.loads(text)
    except UnreadableFile as exc:
        raise RestoreError(f"{path}: {first_line(exc)}") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RestoreError(f"{path}: not a valid pylock file: {first_line(exc)}") from None
    except RecursionError:  # tomllib recurses once per level of arrays and inline tables
        raise RestoreError(too_deep) from None
    if _deeper_than(data, MAX_DEPTH):
        raise RestoreError(too_deep)
    try:
        return Pylock.from_dict(data)
    except PylockValidationError as exc:
        raise RestoreError(f"{path}: not a valid pylock file: {first_line(exc)}") from None


def files_from_pylock(path: str, lock: Lock) -> dict[str, tuple[LockedFile, ...]]:
    """[files] from a resolver's PEP 751 lock next to the project (pylock.*.toml): the
    files it names for exactly the locked versions; the rest come from the index. A file
    whose hash or URL the lock reader would refuse makes the pylock an error."""
    from packaging.utils import canonicalize_name

    doc = _pylock_document(path)
    wanted = {**lock.packages, **lock.tools}
    out: dict[str, tuple[LockedFile, ...]] = {}
    for package in doc.packages:
        name = canonicalize_name(package.name)
        if name not in wanted or package.version is None:
            continue
        if str(package.version) != wanted[name]:
            continue
        files = []
        for f in [*(package.wheels or ()), *((package.sdist,) if package.sdist else ())]:
            if not f.url or "sha256" not in f.hashes:
                continue
            fname = f.name or f.url.rsplit("/", 1)[-1]
            try:
                # absolute URLs only: a pylock's relative ones are relative to its own file
                files.append(locked_file(fname, None, f.url, f.hashes["sha256"]))
            except RestoreError as exc:
                raise RestoreError(f"{path}: file {fname!r} of {name}: {exc}") from None
        if files:
            out[name] = tuple(sorted(files, key=lambda f: f.name))
    return out

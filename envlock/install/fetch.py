"""HTTP to a package index under one deadline (install/index.py says what is bounded and
why): every connection of a command registered with its Budget, cut at once when the
deadline passes; redirects only within the index's host; a page read to at most
MAX_PAGE_BYTES and checked for nesting before json.loads recurses."""

from __future__ import annotations

import contextlib
import functools
import http.client
import json
import re
import socket
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import IO

from envlock.errors import RestoreError, first_line
from envlock.install.indexurl import Index, same_origin_or_upgrade

ACCEPT = "application/vnd.pypi.simple.v1+json"
TIMEOUT_S = 30.0  # one connect or read
MAX_PAGE_BYTES = 64 * 1024 * 1024  # torch's page on PyPI is a few MB
MAX_DEPTH = 32  # a PEP 691 page nests 4 deep, a pylock 5
MAX_REDIRECTS = 5


class Budget:
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
    # urllib's do_open makes a connection as http_class(host, timeout=req.timeout)
    def __init__(self, host: str, *, budget: Budget, timeout: float | None = None) -> None:
        super().__init__(host, timeout=timeout)
        self._budget = budget

    def connect(self) -> None:
        self.timeout = self._budget.op_timeout()
        super().connect()
        if self.sock is not None:
            self._budget.register(self.sock)


class _DeadlineHTTPSConnection(_DeadlineConnection, http.client.HTTPSConnection):
    def __init__(
        self, host: str, *, budget: Budget, context: ssl.SSLContext, timeout: float | None = None
    ) -> None:
        # HTTPSConnection's own init (the TLS context), then HTTPConnection's through it
        http.client.HTTPSConnection.__init__(self, host, timeout=timeout, context=context)
        self._budget = budget


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, budget: Budget) -> None:
        super().__init__()
        self._budget = budget

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(functools.partial(_DeadlineConnection, budget=self._budget), req)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The system's CAs (SSL_CERT_FILE too), loaded once: it takes 0.1 s."""
    return ssl.create_default_context()


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, budget: Budget) -> None:
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
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
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
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
    ) -> object:
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


def opener(budget: Budget) -> urllib.request.OpenerDirector:
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
    opener: urllib.request.OpenerDirector, budget: Budget, index: Index, name: str
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
    opener: urllib.request.OpenerDirector, budget: Budget, index: Index, name: str
) -> tuple[dict[str, object], str]:
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

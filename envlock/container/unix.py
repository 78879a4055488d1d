"""The Engine API's transport on the local unix socket, with the standard library alone.

HTTP/1.1 over an AF_UNIX socket in a few lines: even http.client, with the email
package under it, costs ~14 ms, and `import docker` (requests, urllib3,
charset_normalizer) about 80 ms, more than a third of a bare `docker run`. So
`envlock probe --image` starts its container while the rest of envlock is still
loading. One kept-alive connection; every request has one overall deadline and
every buffer a bound (envlock.container.transport). Pulls go to the SDK, which
knows the registry credentials in ~/.docker/config.json.
"""

from __future__ import annotations

import json
import socket
import time
from typing import TYPE_CHECKING

from envlock.container.transport import (
    API_VERSION,
    MAX_BODY,
    MAX_HEADERS,
    MAX_LINE,
    Body,
    EngineUnreachable,
    OnEvent,
    check_length,
    quote,
    timeout_error,
    too_large,
)

if TYPE_CHECKING:
    from envlock.container.sdk import SdkTransport

DEFAULT_HOST = "unix:///var/run/docker.sock"


class _Disconnected(Exception):
    """A kept-alive connection the daemon had closed: the request may be retried."""


class _UnixHTTP:
    """One HTTP/1.1 connection over a unix socket: requests in turn, responses read
    whole (Content-Length, chunked, or until close), the connection kept alive.
    Every request has one overall deadline, and every buffer a bound."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.sock: socket.socket | None = None
        self.buf = b""
        self.deadline = 0.0
        self.max_body = MAX_BODY

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buf = None, b""

    def request(
        self,
        method: str,
        target: str,
        body: bytes | None,
        timeout: float,
        max_body: int = MAX_BODY,
    ) -> tuple[int, bytes]:
        self.deadline = time.monotonic() + timeout
        self.max_body = max_body
        fresh = self.sock is None
        if self.sock is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            try:
                sock.connect(self.path)
            except BaseException:
                sock.close()
                raise
            self.sock = sock
        self.sock.settimeout(timeout)
        head = f"{method} {target} HTTP/1.1\r\nHost: docker\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        elif method in ("POST", "PUT"):
            head += "Content-Length: 0\r\n"
        try:
            self.sock.sendall(head.encode("ascii") + b"\r\n" + (body or b""))
            status_line = self._line()
        except (BrokenPipeError, ConnectionResetError, _Disconnected):
            if fresh:
                raise ConnectionResetError("the daemon closed the connection") from None
            raise _Disconnected() from None
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise OSError(f"not an HTTP response from the daemon: {status_line[:60]!r}")
        try:
            return self._response(method, int(parts[1]))
        except _Disconnected:
            raise ConnectionResetError("the daemon closed the connection mid-response") from None

    def _response(self, method: str, status: int) -> tuple[int, bytes]:
        headers: dict[str, str] = {}
        while line := self._line():
            if len(headers) >= MAX_HEADERS:
                raise OSError(f"the daemon sent more than {MAX_HEADERS} header lines")
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            data = b""
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            data = self._chunks()
        elif "content-length" in headers:
            size = check_length(headers["content-length"].encode("latin-1"), 10)
            if size > self.max_body:
                raise OSError(too_large(self.max_body))
            data = self._exactly(size)
        else:  # delimited by the daemon closing the connection (a hijacked exec, too)
            data = self.buf + self._until_close()
            self.close()
            return status, data
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, data

    def _chunks(self) -> bytes:
        chunks, total = [], 0
        while size := check_length(self._line().split(b";", 1)[0].strip() or b"0", 16):
            total += size
            if total > self.max_body:
                raise OSError(too_large(self.max_body))
            chunks.append(self._exactly(size))
            self._line()  # the CRLF after each chunk
        while self._line():  # trailers, then the empty line
            pass
        return b"".join(chunks)

    def _recv(self) -> bytes:
        assert self.sock is not None
        left = self.deadline - time.monotonic()
        if left <= 0:  # a daemon that drips bytes does not extend the request's time
            raise TimeoutError()
        self.sock.settimeout(left)
        data = self.sock.recv(65536)
        if not data:
            raise _Disconnected()
        return data

    def _line(self) -> bytes:
        while (end := self.buf.find(b"\r\n")) < 0:
            if len(self.buf) > MAX_LINE:
                raise OSError(f"the daemon sent a line longer than {MAX_LINE} bytes")
            self.buf += self._recv()
        line, self.buf = self.buf[:end], self.buf[end + 2 :]
        return line

    def _exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            self.buf += self._recv()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def _until_close(self) -> bytes:
        chunks, total = [], len(self.buf)
        try:
            while data := self._recv():
                total += len(data)
                if total > self.max_body:
                    raise OSError(too_large(self.max_body))
                chunks.append(data)
        except _Disconnected:
            pass
        self.buf = b""
        return b"".join(chunks)


# Why a request failed, for the ways a socket fails (checked in this order).
_UNREACHABLE: tuple[tuple[type[BaseException], str], ...] = (
    (FileNotFoundError, "no daemon socket at that path"),
    (ConnectionRefusedError, "connection refused"),
    (PermissionError, "permission denied on the daemon socket"),
)


class UnixTransport:
    """The Engine API over a unix socket, standard library only; one kept-alive connection."""

    def __init__(self, host: str = DEFAULT_HOST, *, timeout: float = 60.0) -> None:
        self.host = host
        self.path = host[len("unix://") :]
        self.timeout = timeout
        self._conn: _UnixHTTP | None = None
        self._sdk: SdkTransport | None = None

    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: Body | None = None,
        timeout: float,
        max_body: int = MAX_BODY,
    ) -> tuple[int, bytes]:
        target = f"/v{API_VERSION}{path}"
        if query:
            target += "?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in query.items())
        payload = json.dumps(body).encode() if body is not None else None
        try:
            return self._send(method, target, payload, timeout, max_body)
        except BaseException as exc:
            # Whatever happened mid-request (Ctrl-C too), the connection is mid-response:
            # the next request (the cleanup's) needs a new one.
            self._drop()
            if isinstance(exc, TimeoutError):
                raise timeout_error(timeout) from None
            for kind, why in _UNREACHABLE:
                if isinstance(exc, kind):
                    raise EngineUnreachable(why) from None
            if isinstance(exc, (OSError, ValueError)):
                raise EngineUnreachable(str(exc) or type(exc).__name__) from None
            raise

    def _send(
        self, method: str, target: str, payload: bytes | None, timeout: float, max_body: int
    ) -> tuple[int, bytes]:
        if self._conn is not None:
            try:
                return self._conn.request(method, target, payload, timeout, max_body)
            except _Disconnected:
                # A kept-alive connection the daemon closed meanwhile: one fresh try.
                self._drop()
        self._conn = _UnixHTTP(self.path)
        try:
            return self._conn.request(method, target, payload, timeout, max_body)
        except _Disconnected:
            raise EngineUnreachable("the Docker daemon closed the connection") from None

    def pull(self, reference: str, on_event: OnEvent, *, idle_timeout: float) -> None:
        # the SDK knows registry credentials (~/.docker/config.json, credential helpers)
        if self._sdk is None:
            from envlock.container.sdk import SdkTransport

            self._sdk = SdkTransport(self.host, timeout=self.timeout)
        self._sdk.pull(reference, on_event, idle_timeout=idle_timeout)

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def close(self) -> None:
        self._drop()
        if self._sdk is not None:
            self._sdk.close()
